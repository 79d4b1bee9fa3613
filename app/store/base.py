"""The declarative base every table of the store is defined on (``schema.py`` and the tables kept
beside their code: ``kline_tables.py``, ``outlooks.py``). Its own module, so those can define
tables without importing ``schema.py``, which imports them to register every table."""

from __future__ import annotations

from sqlalchemy import MetaData
from sqlalchemy.orm import DeclarativeBase

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    # Named constraints: migrations (app/store/migrations) can refer to them on every backend.
    metadata = MetaData(naming_convention=NAMING)
