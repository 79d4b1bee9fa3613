"""The store: SQLAlchemy 2.x over SQLite (WAL) or any SQLAlchemy URL."""
