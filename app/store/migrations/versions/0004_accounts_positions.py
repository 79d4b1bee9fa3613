"""Accounts, and each report's positions and asset balances as rows.

``accounts`` is filled from the reports already stored. Reports stored before this revision keep
their positions and balances in their compressed detail only (no rows are back-filled: a large
store would be rewritten for little use; the detail is still read by every view).

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    accounts = op.create_table(
        "accounts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(64), nullable=False),
        sa.Column("first_seen_ms", sa.BigInteger(), nullable=False),
        sa.Column("simulated", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_accounts"),
        sa.UniqueConstraint("name", name="uq_accounts_name"),
    )
    op.create_table(
        "report_positions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("venue", sa.String(8), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("position_side", sa.String(8), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("amount", sa.Float(), nullable=False),
        sa.Column("entry_price", sa.Float(), nullable=False),
        sa.Column("mark_price", sa.Float(), nullable=False),
        sa.Column("notional_usd", sa.Float(), nullable=False),
        sa.Column("unrealized_pnl_usd", sa.Float(), nullable=False),
        sa.Column("maint_margin_usd", sa.Float(), nullable=False),
        sa.Column("maint_margin_ratio", sa.Float(), nullable=False),
        sa.Column("bracket", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_report_positions_report_id_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_positions"),
    )
    op.create_index("ix_report_positions_report_id", "report_positions", ["report_id"])
    op.create_table(
        "report_assets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("report_id", sa.Integer(), nullable=False),
        sa.Column("asset", sa.String(16), nullable=False),
        sa.Column("equity_qty", sa.Float(), nullable=False),
        sa.Column("index_price_usd", sa.Float(), nullable=False),
        sa.Column("actual_equity_usd", sa.Float(), nullable=False),
        sa.Column("adjusted_equity_usd", sa.Float(), nullable=False),
        sa.Column("stable", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["reports.id"],
            name="fk_report_assets_report_id_reports",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_report_assets"),
    )
    op.create_index("ix_report_assets_report_id", "report_assets", ["report_id"])
    reports = sa.table(
        "reports",
        sa.column("account", sa.String),
        sa.column("data_time_ms", sa.BigInteger),
        sa.column("simulated", sa.Boolean),
    )
    op.get_bind().execute(
        accounts.insert().from_select(
            ["name", "first_seen_ms", "simulated"],
            sa.select(
                reports.c.account,
                sa.func.min(reports.c.data_time_ms),
                sa.func.max(sa.cast(reports.c.simulated, sa.Integer)) > 0,
            ).group_by(reports.c.account),
        )
    )


def downgrade() -> None:
    op.drop_table("report_assets")
    op.drop_table("report_positions")
    op.drop_table("accounts")
