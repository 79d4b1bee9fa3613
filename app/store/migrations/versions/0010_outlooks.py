"""The Outlook (issue 20): each account's computed outlooks, newest read by one indexed query
(``app/store/outlooks.py``).

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "outlooks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account", sa.String(64), nullable=False),
        sa.Column("computed_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("unknown", sa.String(512), nullable=False),
        sa.Column("p_liquidation", sa.Float(), nullable=True),
        sa.Column("body_zjson", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_outlooks"),
    )
    op.create_index("ix_outlooks_account_time", "outlooks", ["account", "computed_at_ms"])


def downgrade() -> None:
    op.drop_index("ix_outlooks_account_time", table_name="outlooks")
    op.drop_table("outlooks")
