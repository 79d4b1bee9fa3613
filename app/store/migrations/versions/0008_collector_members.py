"""Several collectors on one PostgreSQL: the members sharing the accounts, with their heartbeat
(``app/store/leases.py``). The leases themselves are advisory locks and need no table.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "collector_members",
        sa.Column("collector_id", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("backend_pid", sa.Integer(), nullable=False),
        sa.Column("started_at_ms", sa.BigInteger(), nullable=False),
        sa.Column("heartbeat_at_ms", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("collector_id", name="pk_collector_members"),
    )


def downgrade() -> None:
    op.drop_table("collector_members")
