"""Fail closed and reconcile: a report's state (OK / UNKNOWN) and why, figures that may be
unknown (NULL), Binance's own figures beside pmdesk's, and the calibrated assumptions.

Revision ID: 0006
Revises: 0005

On SQLite the altered tables are copied (batch mode): a one-off that takes about a minute per
few million reports.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

MAY_BE_UNKNOWN = {
    "reports": (
        "uni_mmr",
        "adjusted_equity_usd",
        "actual_equity_usd",
        "maint_margin_usd",
        "um_maint_margin_usd",
        "cm_maint_margin_usd",
        "margin_maint_margin_usd",
        "top_up_usd",
    ),
    "status_changes": ("uni_mmr",),
    "report_positions": (
        "entry_price",
        "mark_price",
        "notional_usd",
        "unrealized_pnl_usd",
        "maint_margin_usd",
        "maint_margin_ratio",
    ),
    "report_assets": ("index_price_usd", "actual_equity_usd", "adjusted_equity_usd"),
}
NEW_REPORT_COLUMNS: tuple[tuple[str, sa.types.TypeEngine[Any]], ...] = (
    ("unknown_reasons", sa.Text()),
    ("reported_equity_usd", sa.Float()),
    ("reported_maint_margin_usd", sa.Float()),
    ("recon_uni_mmr_rel_diff", sa.Float()),
    ("recon_agrees", sa.Boolean()),
    ("recon_explained_by", sa.Text()),
    ("collateral_table", sa.String(16)),
    ("loan_mmr_source", sa.String(32)),
    ("calibrated", sa.Boolean()),
)


def upgrade() -> None:
    for table, columns in MAY_BE_UNKNOWN.items():
        with op.batch_alter_table(table) as batch:
            for name in columns:
                batch.alter_column(name, existing_type=sa.Float(), nullable=True)
            if table == "reports":
                batch.add_column(
                    sa.Column("state", sa.String(16), nullable=False, server_default="OK")
                )
                for name, type_ in NEW_REPORT_COLUMNS:
                    batch.add_column(sa.Column(name, type_, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("reports") as batch:
        batch.drop_column("state")
        for name, _type in NEW_REPORT_COLUMNS:
            batch.drop_column(name)
