"""The store as pmdesk 0.1 made it before migrations: snapshots, reports, events, API weight.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "snapshots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("fetched_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("exchange_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("payloads_zjson", sa.LargeBinary(), nullable=False),
        sa.Column("base_snapshot_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["base_snapshot_id"],
            ["snapshots.id"],
            name="fk_snapshots_base_snapshot_id_snapshots",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_snapshots"),
    )
    op.create_table(
        "reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("snapshot_id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("data_time_ms", sa.BigInteger(), nullable=False),
        sa.Column("computed_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("positions_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("marks_source", sa.String(16), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.Column("uni_mmr", sa.Float(), nullable=False),
        sa.Column("adjusted_equity_usd", sa.Float(), nullable=False),
        sa.Column("actual_equity_usd", sa.Float(), nullable=False),
        sa.Column("maint_margin_usd", sa.Float(), nullable=False),
        sa.Column("um_maint_margin_usd", sa.Float(), nullable=False),
        sa.Column("cm_maint_margin_usd", sa.Float(), nullable=False),
        sa.Column("margin_maint_margin_usd", sa.Float(), nullable=False),
        sa.Column("status", sa.String(32), nullable=False),
        sa.Column("reported_uni_mmr", sa.Float(), nullable=True),
        sa.Column("reported_status", sa.String(32), nullable=True),
        sa.Column("liquidation_down_pct", sa.Float(), nullable=True),
        sa.Column("liquidation_up_pct", sa.Float(), nullable=True),
        sa.Column("btc_liquidation_down_usd", sa.Float(), nullable=True),
        sa.Column("btc_liquidation_up_usd", sa.Float(), nullable=True),
        sa.Column("top_up_target_uni_mmr", sa.Float(), nullable=False),
        sa.Column("top_up_usd", sa.Float(), nullable=False),
        sa.Column("detail_zjson", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["snapshot_id"],
            ["snapshots.id"],
            name="fk_reports_snapshot_id_snapshots",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_reports"),
        sa.UniqueConstraint("snapshot_id", name="uq_reports_snapshot_id"),
    )
    op.create_index("ix_reports_account_time", "reports", ["account", "data_time_ms"])
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("endpoint", sa.String(128), nullable=True),
        sa.Column("code", sa.Integer(), nullable=True),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_events"),
    )
    op.create_index("ix_events_account_time", "events", ["account", "at_ms"])
    op.create_table(
        "api_weight",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at_ms", sa.BigInteger(), nullable=False),
        sa.Column("used_json", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_api_weight"),
    )
    op.create_index("ix_api_weight_at_ms", "api_weight", ["at_ms"])


def downgrade() -> None:
    op.drop_table("api_weight")
    op.drop_table("events")
    op.drop_table("reports")
    op.drop_table("snapshots")
