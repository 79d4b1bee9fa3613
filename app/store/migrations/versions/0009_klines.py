"""The kline cache (issue 20): bars, one row per series, the windows already asked
(``app/store/kline_tables.py``).

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def _key() -> list[sa.Column[str]]:
    return [
        sa.Column("venue", sa.String(16), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "kline_bars",
        *_key(),
        sa.Column("open_time_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("o", sa.Float(), nullable=False),
        sa.Column("h", sa.Float(), nullable=False),
        sa.Column("l", sa.Float(), nullable=False),
        sa.Column("c", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint(
            "venue", "symbol", "interval", "open_time_ms", name="pk_kline_bars"
        ),
    )
    op.create_table(
        "kline_series",
        *_key(),
        sa.Column("listing_ms", sa.BigInteger(), nullable=True),
        sa.Column("newest_ms", sa.BigInteger(), nullable=True),
        sa.Column("checked_to_ms", sa.BigInteger(), nullable=True),
        sa.Column("gap_bars", sa.Integer(), nullable=False),
        sa.Column("updated_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("venue", "symbol", "interval", name="pk_kline_series"),
    )
    op.create_table(
        "kline_checked",
        *_key(),
        sa.Column("from_ms", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("to_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("venue", "symbol", "interval", "from_ms", name="pk_kline_checked"),
    )


def downgrade() -> None:
    op.drop_table("kline_checked")
    op.drop_table("kline_series")
    op.drop_table("kline_bars")
