"""One alert per rule whatever its level: an alert's level (uniMMR 1 warn / 2 critical, Binance's
account status in Binance's order), the worst severity it reached, and the cool-down it is in
("recovering": until when, and to which severity — NULL when it clears).

Revision ID: 0007
Revises: 0006

Rows written before keep their key (``uni_mmr_warn``, ``uni_mmr_critical``,
``account_status:REDUCE_ONLY``…) and are given the level and peak they stood for, so the log reads
as it did; rows still open under those keys are merged into today's key by the alert watch when it
starts (``app.alerts.watch``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# Binance's accountStatus from the best to the worst (app.alerts.rules.STATUS_ORDER, copied: a
# migration must not change when the code does).
STATUS_ORDER = (
    "NORMAL",
    "MARGIN_CALL",
    "SUPPLY_MARGIN",
    "REDUCE_ONLY",
    "ACTIVE_LIQUIDATION",
    "FORCE_LIQUIDATION",
    "BANKRUPTED",
)


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("level", sa.Integer(), nullable=False, server_default="1"))
        batch.add_column(sa.Column("peak_severity", sa.String(16), nullable=True))
        batch.add_column(sa.Column("recovering_until_ms", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("recovering_to", sa.String(16), nullable=True))
    alerts = sa.table(
        "alerts",
        sa.column("key", sa.String),
        sa.column("severity", sa.String),
        sa.column("level", sa.Integer),
        sa.column("peak_severity", sa.String),
    )
    op.execute(alerts.update().values(peak_severity=alerts.c.severity))
    op.execute(
        alerts.update()
        .where(
            (alerts.c.key == "uni_mmr_critical")
            | ((alerts.c.key == "reconciliation") & (alerts.c.severity == "critical"))
        )
        .values(level=2)
    )
    for level, status in enumerate(STATUS_ORDER[1:], start=1):
        op.execute(
            alerts.update().where(alerts.c.key == f"account_status:{status}").values(level=level)
        )


def downgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        for name in ("recovering_to", "recovering_until_ms", "peak_severity", "level"):
            batch.drop_column(name)
