"""The kline cache's tables (``app/store/klines.py``), on the store's ``Base``; made by the
migration ``0009_klines``.

``kline_bars``: one bar per (venue, symbol, interval, open time), Binance's open / high / low /
close as floats. ``kline_series``: one row per series: the earliest bar Binance has (its listing,
once the cache asked from before it), the newest bar fetched, the time up to which every closed
bar has been asked, the bars missing between the first and the newest (gaps Binance has), when
it was refreshed. ``kline_checked``: the windows already asked, [from_ms, to_ms) of bar open
times, merged: a window asked is never asked again, whatever it held (a gap stays a gap, the
time before a listing stays empty)."""

from __future__ import annotations

from sqlalchemy import BigInteger, Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import Base


class KlineBarRow(Base):
    __tablename__ = "kline_bars"

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    open_time_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    o: Mapped[float] = mapped_column(Float)
    h: Mapped[float] = mapped_column(Float)
    l: Mapped[float] = mapped_column(Float)  # noqa: E741 (Binance's name: low)
    c: Mapped[float] = mapped_column(Float)


class KlineSeriesRow(Base):
    __tablename__ = "kline_series"

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    listing_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    newest_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    checked_to_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    gap_bars: Mapped[int] = mapped_column(Integer)
    updated_at_ms: Mapped[int] = mapped_column(BigInteger)


class KlineCheckedRow(Base):
    __tablename__ = "kline_checked"

    venue: Mapped[str] = mapped_column(String(16), primary_key=True)
    symbol: Mapped[str] = mapped_column(String(32), primary_key=True)
    interval: Mapped[str] = mapped_column(String(8), primary_key=True)
    from_ms: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    to_ms: Mapped[int] = mapped_column(BigInteger)
