"""Index snapshots by their base: retention asks "does any snapshot still point at this poll?"

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_snapshots_base_snapshot_id", "snapshots", ["base_snapshot_id"], if_not_exists=True
    )


def downgrade() -> None:
    op.drop_index("ix_snapshots_base_snapshot_id", "snapshots")
