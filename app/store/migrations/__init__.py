"""Alembic migrations of the store; run by ``Store.upgrade()`` (``pmdesk db upgrade``)."""
