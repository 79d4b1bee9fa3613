"""Alembic environment: pmdesk passes its own connection (``config.attributes["connection"]``)."""

from __future__ import annotations

from alembic import context

from app.store.schema import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=connection.dialect.name == "sqlite",  # ALTER on SQLite copies the table
)
with context.begin_transaction():
    context.run_migrations()
