"""History buckets (1 min, 10 min, 1 h, each keeping its worst sample) and status changes.

Buckets for reports stored before this revision are rebuilt by ``Store.upgrade()``.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("period_s", sa.Integer(), nullable=False),
        sa.Column("start_ms", sa.BigInteger(), nullable=False),
        sa.Column("n", sa.Integer(), nullable=False),
        sa.Column("uni_mmr_min", sa.Float(), nullable=False),
        sa.Column("uni_mmr_max", sa.Float(), nullable=False),
        sa.Column("uni_mmr_last", sa.Float(), nullable=False),
        sa.Column("equity_min_usd", sa.Float(), nullable=False),
        sa.Column("equity_max_usd", sa.Float(), nullable=False),
        sa.Column("equity_last_usd", sa.Float(), nullable=False),
        sa.Column("mm_min_usd", sa.Float(), nullable=False),
        sa.Column("mm_max_usd", sa.Float(), nullable=False),
        sa.Column("mm_last_usd", sa.Float(), nullable=False),
        sa.Column("liq_down_worst_pct", sa.Float(), nullable=True),
        sa.Column("liq_down_last_pct", sa.Float(), nullable=True),
        sa.Column("last_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("worst_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("worst_report_id", sa.Integer(), nullable=False),
        sa.Column("worst_status", sa.String(32), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rollups"),
        sa.UniqueConstraint("account", "period_s", "start_ms", name="uq_rollups_bucket"),
    )
    op.create_table(
        "status_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("from_status", sa.String(32), nullable=True),
        sa.Column("to_status", sa.String(32), nullable=False),
        sa.Column("uni_mmr", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_status_changes_report_id_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_status_changes"),
    )
    op.create_index("ix_status_changes_account_time", "status_changes", ["account", "at_ms"])


def downgrade() -> None:
    op.drop_table("status_changes")
    op.drop_table("rollups")
