"""Tables of the store (SQLAlchemy 2.x). Times are UTC epoch milliseconds.

``data_time_ms`` of a report is when the fetch of its data started (local clock): the age shown on
screen is measured from it. ``exchange_time_ms`` of a snapshot is the exchange's own time stamp of
its prices, kept to detect frozen prices.

The tables are made and changed only by the Alembic migrations in ``app/store/migrations``
(``pmdesk db upgrade``, also run at every start); a test checks they match these models.

A snapshot (the raw responses, compressed) and the report computed from it are written in one
transaction; ``reports.snapshot_id`` is NOT NULL and unique, so a report never exists alone.

A report's positions and asset balances are also rows (``report_positions``, ``report_assets``),
written in the same transaction and deleted with it (``ON DELETE CASCADE``): queryable over a
range without opening the compressed detail. ``accounts`` lists every account ever written.

A snapshot from an account poll holds every REST payload. One made between polls from mark-price
updates (stream, or the REST fallback) holds only those updates and points at the poll's snapshot
(``base_snapshot_id``): the base payloads parsed, then ``risk.remark.remark(updates)``,
reproduce what was evaluated.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.store.base import NAMING as NAMING
from app.store.base import Base as Base


class AccountRow(Base):
    """An account pmdesk has stored data for (registered with its first report)."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    first_seen_ms: Mapped[int] = mapped_column(BigInteger)
    simulated: Mapped[bool] = mapped_column(Boolean)


class SnapshotRow(Base):
    __tablename__ = "snapshots"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    fetched_at_ms: Mapped[int] = mapped_column(BigInteger)
    exchange_time_ms: Mapped[int] = mapped_column(BigInteger)
    simulated: Mapped[bool] = mapped_column(Boolean)
    payloads_zjson: Mapped[bytes] = mapped_column(LargeBinary)
    base_snapshot_id: Mapped[int | None] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), nullable=True, index=True
    )


class ReportRow(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_account_time", "account", "data_time_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("snapshots.id", ondelete="CASCADE"), unique=True
    )
    account: Mapped[str] = mapped_column(String(64))
    data_time_ms: Mapped[int] = mapped_column(BigInteger)
    computed_at_ms: Mapped[int] = mapped_column(BigInteger)
    # When the balances and positions behind it were read (the account poll).
    positions_at_ms: Mapped[int] = mapped_column(BigInteger)
    # The mark-price feed when it was made: "stream" (live), "rest" (stream down, REST
    # fallback) or "poll" (no stream: marks only with each account poll).
    marks_source: Mapped[str] = mapped_column(String(16))
    simulated: Mapped[bool] = mapped_column(Boolean)
    # NULL: unknown (state UNKNOWN); ±∞ are figures (∞: no MM; −∞: equity ≤ 0 with no MM).
    uni_mmr: Mapped[float | None] = mapped_column(Float, nullable=True)
    adjusted_equity_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    actual_equity_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    um_maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    cm_maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    margin_maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    status: Mapped[str] = mapped_column(String(32))
    # "OK" or "UNKNOWN"; the reasons a figure is unknown, one per line.
    state: Mapped[str] = mapped_column(String(16), server_default="OK")
    unknown_reasons: Mapped[str | None] = mapped_column(Text, nullable=True)
    reported_uni_mmr: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    # Binance's own figures at the poll, and how pmdesk's compare (risk/reconcile.py).
    reported_equity_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    reported_maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    recon_uni_mmr_rel_diff: Mapped[float | None] = mapped_column(Float, nullable=True)
    recon_agrees: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    recon_explained_by: Mapped[str | None] = mapped_column(Text, nullable=True)
    # The calibrated assumptions (risk/calibrate.py): which collateral table, the loan MMR's
    # source, and whether pmdesk's figures reproduce Binance's.
    collateral_table: Mapped[str | None] = mapped_column(String(16), nullable=True)
    loan_mmr_source: Mapped[str | None] = mapped_column(String(32), nullable=True)
    calibrated: Mapped[bool | None] = mapped_column(Boolean, nullable=True)
    # Uniform move of all non-stable assets to the liquidation level, in %; NULL = none found
    # (or unknown, when the state is UNKNOWN).
    liquidation_down_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    liquidation_up_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    btc_liquidation_down_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    btc_liquidation_up_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    top_up_target_uni_mmr: Mapped[float] = mapped_column(Float)
    top_up_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    detail_zjson: Mapped[bytes] = mapped_column(LargeBinary)


class ReportPositionRow(Base):
    """One futures position as a report valued it (``risk.model.PositionMargin``)."""

    __tablename__ = "report_positions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    venue: Mapped[str] = mapped_column(String(8))  # "UM" or "CM"
    symbol: Mapped[str] = mapped_column(String(32))
    position_side: Mapped[str] = mapped_column(String(8))
    asset: Mapped[str] = mapped_column(String(16))
    amount: Mapped[float] = mapped_column(Float)  # base quantity (UM) or contracts (CM), signed
    entry_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    mark_price: Mapped[float | None] = mapped_column(Float, nullable=True)
    notional_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    unrealized_pnl_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    maint_margin_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    maint_margin_ratio: Mapped[float | None] = mapped_column(Float, nullable=True)
    bracket: Mapped[int] = mapped_column(Integer)


class ReportAssetRow(Base):
    """One asset's equity as a report valued it (``risk.model.AssetEquity``)."""

    __tablename__ = "report_assets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"), index=True)
    asset: Mapped[str] = mapped_column(String(16))
    equity_qty: Mapped[float] = mapped_column(Float)
    index_price_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    actual_equity_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    adjusted_equity_usd: Mapped[float | None] = mapped_column(Float, nullable=True)
    stable: Mapped[bool] = mapped_column(Boolean)


class EventRow(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_account_time", "account", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(32))
    endpoint: Mapped[str | None] = mapped_column(String(128), nullable=True)
    code: Mapped[int | None] = mapped_column(Integer, nullable=True)
    message: Mapped[str] = mapped_column(Text)


class ApiWeightRow(Base):
    """The API weight Binance reported (``X-MBX-USED-WEIGHT-1M``) after a poll, per family."""

    __tablename__ = "api_weight"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at_ms: Mapped[int] = mapped_column(BigInteger, index=True)
    used_json: Mapped[str] = mapped_column(Text)  # {"papi": 168, "sapi": 100, ...}


class RollupRow(Base):
    """One history bucket of an account (see ``app.store.rollup``): 1 min, 10 min or 1 hour."""

    __tablename__ = "rollups"
    __table_args__ = (
        UniqueConstraint("account", "period_s", "start_ms", name="uq_rollups_bucket"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    period_s: Mapped[int] = mapped_column(Integer)
    start_ms: Mapped[int] = mapped_column(BigInteger)
    n: Mapped[int] = mapped_column(Integer)
    uni_mmr_min: Mapped[float] = mapped_column(Float)
    uni_mmr_max: Mapped[float] = mapped_column(Float)
    uni_mmr_last: Mapped[float] = mapped_column(Float)
    equity_min_usd: Mapped[float] = mapped_column(Float)
    equity_max_usd: Mapped[float] = mapped_column(Float)
    equity_last_usd: Mapped[float] = mapped_column(Float)
    mm_min_usd: Mapped[float] = mapped_column(Float)
    mm_max_usd: Mapped[float] = mapped_column(Float)
    mm_last_usd: Mapped[float] = mapped_column(Float)
    liq_down_worst_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    liq_down_last_pct: Mapped[float | None] = mapped_column(Float, nullable=True)
    last_at_ms: Mapped[int] = mapped_column(BigInteger)
    worst_at_ms: Mapped[int] = mapped_column(BigInteger)
    worst_report_id: Mapped[int] = mapped_column(Integer)
    worst_status: Mapped[str] = mapped_column(String(32))


class StatusChangeRow(Base):
    """The account's margin status changed with this report (first report: from NULL)."""

    __tablename__ = "status_changes"
    __table_args__ = (Index("ix_status_changes_account_time", "account", "at_ms"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    at_ms: Mapped[int] = mapped_column(BigInteger)
    report_id: Mapped[int] = mapped_column(ForeignKey("reports.id", ondelete="CASCADE"))
    from_status: Mapped[str | None] = mapped_column(String(32), nullable=True)
    to_status: Mapped[str] = mapped_column(String(32))
    uni_mmr: Mapped[float | None] = mapped_column(Float, nullable=True)


class AlertRow(Base):
    """An alert (``app.alerts``): when it fired and cleared, what it said, who acknowledged."""

    __tablename__ = "alerts"
    __table_args__ = (
        Index("ix_alerts_account_time", "account", "triggered_at_ms"),
        Index("ix_alerts_cleared_at_ms", "cleared_at_ms"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(64))  # the rule, e.g. "asset_liquidation:BTC"
    severity: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str] = mapped_column(Text)  # the value in words (updated while active)
    action: Mapped[str] = mapped_column(Text)
    value: Mapped[float | None] = mapped_column(Float, nullable=True)
    triggered_at_ms: Mapped[int] = mapped_column(BigInteger)
    cleared_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    report_id: Mapped[int | None] = mapped_column(Integer, nullable=True)  # may be pruned
    acked_by: Mapped[str | None] = mapped_column(String(128), nullable=True)
    acked_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    # One alert per rule whatever its level (0007): the level now (uniMMR 1 warn / 2 critical,
    # Binance's status in its order), the worst severity it reached, and the cool-down it is in.
    level: Mapped[int] = mapped_column(Integer, server_default="1")
    peak_severity: Mapped[str | None] = mapped_column(String(16), nullable=True)
    recovering_until_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
    recovering_to: Mapped[str | None] = mapped_column(String(16), nullable=True)


class AlertDeliveryRow(Base):
    """One notification of an alert to one target (named by its scheme, never its URL)."""

    __tablename__ = "alert_deliveries"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # "trigger" | "clear"
    target: Mapped[str] = mapped_column(String(64))  # e.g. "json#1"
    attempts: Mapped[int] = mapped_column(Integer)
    ok: Mapped[bool] = mapped_column(Boolean)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    at_ms: Mapped[int] = mapped_column(BigInteger)


class CollectorMemberRow(Base):
    """A ``pmdesk collect`` process sharing the accounts on PostgreSQL (0008;
    ``app/store/leases.py``): who it is, and its last heartbeat by the database's clock. A
    member silent longer than ``store.lease_dead_after_s`` is dead; the fair share of accounts
    is counted over the live ones. The leases themselves are advisory locks, not rows."""

    __tablename__ = "collector_members"

    collector_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int] = mapped_column(Integer)
    backend_pid: Mapped[int] = mapped_column(Integer)  # its lease session (pg_backend_pid())
    started_at_ms: Mapped[int] = mapped_column(BigInteger)
    heartbeat_at_ms: Mapped[int] = mapped_column(BigInteger)


from app.store import kline_tables as _kline_tables  # noqa: E402, F401  (its tables on Base)
from app.store import outlooks as _outlooks  # noqa: E402, F401  (its table on Base)
