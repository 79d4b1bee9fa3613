"""The store: one engine, writes in single transactions, reads by indexed "latest" queries."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import logging
import math
import os
import shutil
import sqlite3
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command as alembic_command
from alembic.config import Config as AlembicConfig
from alembic.runtime.migration import MigrationContext
from sqlalchemy import (
    Connection,
    Engine,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    tuple_,
)
from sqlalchemy.engine import Inspector, make_url
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, aliased, defer, sessionmaker
from tenacity import Retrying, retry_if_exception, stop_after_attempt, wait_exponential

from app.store.alerts import AlertStore
from app.store.retention import DAY_MS, Pruned, Retention
from app.store.rollup import HOUR_S, PERIODS_S, Bucket, Sample, bucket_start_ms, fold, open_bucket
from app.store.schema import (
    AccountRow,
    ApiWeightRow,
    Base,
    EventRow,
    ReportAssetRow,
    ReportPositionRow,
    ReportRow,
    RollupRow,
    SnapshotRow,
    StatusChangeRow,
)
from risk.model import AssetEquity, PositionMargin, ReportedAccount, RiskReport
from risk.serialize import report_to_dict

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
FIRST_REVISION = "0001"
MIGRATION_LOCK = 0x706D6465736B  # "pmdesk": one process migrates at a time (PostgreSQL)
# What pmdesk made before migrations (revision 0001's tables): such a store is adopted as 0001.
UNVERSIONED_TABLES = ("snapshots", "reports", "events", "api_weight")
ADDED_SINCE_FIRST = frozenset(
    # Columns later migrations added to those tables (0006): a store from before migrations
    # is judged by the first revision's columns only.
    {
        "reports.state",
        "reports.unknown_reasons",
        "reports.reported_equity_usd",
        "reports.reported_maint_margin_usd",
        "reports.recon_uni_mmr_rel_diff",
        "reports.recon_agrees",
        "reports.recon_explained_by",
        "reports.collateral_table",
        "reports.loan_mmr_source",
        "reports.calibrated",
    }
)


class StoreSchemaError(Exception):
    """The store's tables do not match this version of pmdesk."""


@dataclass(frozen=True)
class CycleRecord:
    """What one successful collector cycle produced, ready to be written."""

    account: str
    fetched_at_ms: int
    exchange_time_ms: int
    simulated: bool
    payloads: dict[str, object]
    report: RiskReport
    reported: ReportedAccount | None
    # Between polls: the poll's snapshot these mark updates were applied to, and the source.
    base_snapshot_id: int | None = None
    marks_source: str = "poll"
    positions_at_ms: int | None = None  # None: this cycle's own fetch (an account poll)


@dataclass(frozen=True)
class Written:
    report_id: int
    snapshot_id: int


@dataclass(frozen=True)
class StoredReport:
    """The newest report as the web layer reads it."""

    id: int
    account: str
    data_time_ms: int
    computed_at_ms: int
    positions_at_ms: int
    marks_source: str
    simulated: bool
    uni_mmr: float
    adjusted_equity_usd: float
    maint_margin_usd: float
    status: str
    reported_uni_mmr: float | None
    reported_status: str | None
    liquidation_down_pct: float | None
    liquidation_up_pct: float | None
    btc_liquidation_down_usd: float | None
    btc_liquidation_up_usd: float | None
    top_up_target_uni_mmr: float
    top_up_usd: float
    # Fail closed: "UNKNOWN" with the reasons, figures above NaN where unknown.
    state: str = "OK"
    unknown_reasons: tuple[str, ...] = ()
    # Binance's own figures at the poll and how pmdesk's compare (None: not read).
    reported_equity_usd: float | None = None
    reported_maint_margin_usd: float | None = None
    recon_uni_mmr_rel_diff: float | None = None
    recon_agrees: bool | None = None
    recon_explained_by: str | None = None
    collateral_table: str | None = None
    loan_mmr_source: str | None = None
    calibrated: bool | None = None

    @property
    def unknown(self) -> bool:
        return self.state == "UNKNOWN"


@dataclass(frozen=True)
class ReportedPoint:
    """One account poll: pmdesk's uniMMR beside the one Binance reported for it."""

    at_ms: int
    uni_mmr: float | None  # pmdesk's (None: unknown)
    reported_uni_mmr: float | None  # Binance's (None: not reported; ∞: no MM)
    agrees: bool | None
    rel_diff: float | None


@dataclass(frozen=True)
class StoredStatusChange:
    at_ms: int
    from_status: str | None
    to_status: str
    uni_mmr: float


@dataclass(frozen=True)
class StoredEvent:
    at_ms: int
    kind: str
    endpoint: str | None
    code: int | None
    message: str


_SAMPLE_COLUMNS = (
    ReportRow.data_time_ms,
    ReportRow.id,
    ReportRow.uni_mmr,
    ReportRow.adjusted_equity_usd,
    ReportRow.maint_margin_usd,
    ReportRow.liquidation_down_pct,
    ReportRow.status,
)


def _finite(value: float | None) -> float | None:
    return value if value is not None and math.isfinite(value) else None


def _sample_of(r: Any) -> Sample:
    """A Sample from a row of ``_SAMPLE_COLUMNS`` (NULL figures: NaN, unknown)."""
    at, report_id, uni, equity, mm, liq, status = r
    return Sample(at, report_id, _unknown(uni), _unknown(equity), _unknown(mm), liq, status)


def _sample(row: ReportRow) -> Sample:
    return Sample(
        at_ms=row.data_time_ms,
        report_id=row.id,
        uni_mmr=_unknown(row.uni_mmr),
        equity_usd=_unknown(row.adjusted_equity_usd),
        maint_margin_usd=_unknown(row.maint_margin_usd),
        liquidation_down_pct=row.liquidation_down_pct,
        status=row.status,
    )


_BUCKET_FIELDS = tuple(f.name for f in dataclasses.fields(Bucket))


def _bucket(row: RollupRow) -> Bucket:
    return Bucket(**{name: getattr(row, name) for name in _BUCKET_FIELDS})


def _alembic(conn: Connection) -> AlembicConfig:
    """Alembic, told where pmdesk's migrations are and to work on this connection."""
    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["connection"] = conn
    return cfg


def _known(value: float | None) -> float | None:
    """NaN (an unknown figure) is stored as NULL on every backend; ±∞ are figures."""
    return None if value is None or math.isnan(value) else value


def _unknown(value: float | None) -> float:
    """A stored NULL figure read back as NaN: unknown, never a number that looks safe."""
    return math.nan if value is None else value


def _known_row(row: dict[str, object]) -> dict[str, object]:
    return {k: _known(v) if isinstance(v, float) else v for k, v in row.items()}


def _position_row(report_id: int, p: PositionMargin) -> dict[str, object]:
    return {
        "report_id": report_id,
        "venue": p.venue,
        "symbol": p.symbol,
        "position_side": p.position_side,
        "asset": p.asset,
        "amount": p.amount,
        "entry_price": p.entry_price,
        "mark_price": p.mark_price,
        "notional_usd": p.notional_usd,
        "unrealized_pnl_usd": p.unrealized_pnl_usd,
        "maint_margin_usd": p.maint_margin_usd,
        "maint_margin_ratio": p.maint_margin_ratio,
        "bracket": p.bracket,
    }


def _asset_row(report_id: int, a: AssetEquity) -> dict[str, object]:
    return {
        "report_id": report_id,
        "asset": a.asset,
        "equity_qty": a.equity_qty,
        "index_price_usd": a.index_price_usd,
        "actual_equity_usd": a.actual_equity_usd,
        "adjusted_equity_usd": a.adjusted_equity_usd,
        "stable": a.stable,
    }


def _deleted(result: Any) -> int:
    return int(getattr(result, "rowcount", 0) or 0)


def _zjson(body: object) -> bytes:
    return zlib.compress(json.dumps(body, separators=(",", ":")).encode())


def _sqlite_pragmas(
    max_mb: float | None, busy_timeout_ms: int | None = None
) -> Callable[[Any, Any], None]:
    busy_ms = BUSY_TIMEOUT_MS if busy_timeout_ms is None else int(busy_timeout_ms)

    def on_connect(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={busy_ms}")  # first: the pragmas below may wait too
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA foreign_keys=ON")
        if max_mb is not None:
            page = cur.execute("PRAGMA page_size").fetchone()[0]
            cur.execute(f"PRAGMA max_page_count={max(1, int(max_mb * 1e6 // page))}")
        cur.close()

    return on_connect


def owner_only_dir(path: Path) -> None:
    """Make ``path`` and any missing parent, each mode 0700 (issue 17: balances and positions
    are nobody else's business on a shared machine). Folders that exist are left as they are."""
    missing: list[Path] = []
    for folder in (path, *path.parents):
        if folder.exists():
            break
        missing.append(folder)
    for folder in reversed(missing):
        with contextlib.suppress(FileExistsError):  # another process made it meanwhile
            folder.mkdir(mode=0o700)
            folder.chmod(0o700)  # mkdir's mode is filtered by the umask


def owner_only_file(path: Path) -> None:
    """Create the SQLite store file mode 0600 (in a 0700 folder) before SQLite opens it;
    SQLite gives its -wal and -shm files the database file's mode. An existing store is left
    as it is, with a warning when others can read it."""
    owner_only_dir(path.parent)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    except FileExistsError:
        mode = path.stat().st_mode & 0o777
        if mode & 0o077:
            log.warning(
                "store %s can be read by other users (mode %03o): run chmod 600 %s*",
                path,
                mode,
                path,
            )
        return
    os.fchmod(fd, 0o600)
    os.close(fd)


def make_engine(
    url: str, max_mb: float | None = None, busy_timeout_ms: int | None = None
) -> Engine:
    """The store's engine; on SQLite a lock held by another connection is waited for up to
    ``busy_timeout_ms`` (default ``BUSY_TIMEOUT_MS``), then "database is locked"."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        uri = parsed.query.get("uri") == "true"  # "file:…?mode=ro": SQLite's own URI form
        if parsed.database and parsed.database != ":memory:" and not uri:
            owner_only_file(Path(parsed.database))
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas(max_mb, busy_timeout_ms))
        return engine
    return create_engine(url, pool_pre_ping=True)


BUSY_TIMEOUT_MS = 5000
BUSY_ATTEMPTS = 3
LOW_DISK_BYTES = 50_000_000


def describe_write_error(exc: BaseException) -> tuple[str, str]:
    """(kind, one clear line) for a failed store write: full, read-only, busy or other."""
    text = str(getattr(exc, "orig", None) or exc).lower()
    if "full" in text or "no space" in text:
        return "full", (
            "store full: new data cannot be saved — free disk space (or raise store_max_mb); "
            "collection retries every cycle"
        )
    if "readonly" in text or "read-only" in text or "read only" in text:
        return "read-only", (
            "store is read-only: new data cannot be saved — check the file's and its "
            "directory's permissions and the disk's mount; collection retries every cycle"
        )
    if "locked" in text or "busy" in text:
        return "busy", "store busy: another writer held it past the retries; next cycle retries"
    return "other", f"store write failed: {str(exc).splitlines()[0][:200]}"


def _is_busy(exc: BaseException) -> bool:
    return isinstance(exc, OperationalError) and describe_write_error(exc)[0] == "busy"


LOCKED_BY_OTHER = "the store is locked by another process"


def describe_lock(exc: BaseException, what: str = "new data cannot be saved") -> str | None:
    """The screen's line for a store that another process keeps locked past the busy timeout
    (SQLite's "database is locked" / "busy"), with SQLite's own words; None for any other
    error. ``what``: what the lock stops (saving, or the screen's reading)."""
    cause = str(getattr(exc, "orig", None) or exc).strip().splitlines()
    first = cause[0][:200] if cause else ""
    if "locked" not in first.lower() and "busy" not in first.lower():
        return None
    return (
        f"{LOCKED_BY_OTHER}: {what} until it lets go — is a sqlite3 shell, a backup or another "
        f"program holding a transaction on it? ({first})"
    )


class LockWatch:
    """Whether another process holds a SQLite store's write lock past the busy timeout.

    In WAL mode a writer never blocks readers: a store locked by, say, a sqlite3 shell holding
    ``BEGIN EXCLUSIVE`` reads fine while the collector cannot save, and the screen would only see
    its data go stale. So this probes the write lock the way the collector takes it (``BEGIN
    IMMEDIATE``, then ``ROLLBACK`` at once: nothing is written), waiting up to the busy timeout.
    The probe runs on its own thread — at most one at a time, at most every ``every_s`` — so
    asking (``trouble``) never waits: it gives what the last probe found."""

    def __init__(self, path: Path, busy_timeout_ms: int, every_s: float = 1.0) -> None:
        self.path = path
        self.busy_timeout_s = busy_timeout_ms / 1000
        self.every_s = every_s
        self._trouble: str | None = None
        self._running = threading.Lock()
        self._started = -math.inf  # monotonic time the last probe started

    def trouble(self) -> str | None:
        now = time.monotonic()
        if now - self._started >= self.every_s and self._running.acquire(blocking=False):
            self._started = now
            threading.Thread(target=self._probe, name="pmdesk-lock-probe", daemon=True).start()
        return self._trouble

    def probe(self) -> str | None:
        """One probe, on the caller's thread: the lock's line, or None when it could be had."""
        if not self.path.exists():
            return None
        try:  # mode=rw: never creates the file
            con = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=rw",
                uri=True,
                timeout=self.busy_timeout_s,
                isolation_level=None,
                check_same_thread=False,
            )
        except sqlite3.Error:
            return None  # not there or not readable: health's other checks say so
        try:
            con.execute("BEGIN IMMEDIATE")
            con.execute("ROLLBACK")
        except sqlite3.Error as exc:
            return describe_lock(exc)  # anything but a lock: health's other checks say it
        finally:
            con.close()
        return None

    def _probe(self) -> None:
        try:
            self._trouble = self.probe()
        finally:
            self._running.release()


class Store:
    def __init__(
        self, url: str, max_mb: float | None = None, busy_timeout_ms: int = BUSY_TIMEOUT_MS
    ) -> None:
        self.engine = make_engine(url, max_mb, busy_timeout_ms)
        self._session = sessionmaker(self.engine, expire_on_commit=False)
        self._max_mb = max_mb
        self.busy_timeout_ms = busy_timeout_ms
        self._registered: set[str] = set()  # accounts known to be in ``accounts``
        self.alerts = AlertStore(self.engine)
        file = self.sqlite_file()
        self._lock_watch = None if file is None else LockWatch(file, busy_timeout_ms)

    def sqlite_file(self) -> Path | None:
        """The SQLite store's file; None for PostgreSQL, in-memory and SQLite URI forms."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        if url.query.get("uri") == "true":
            return None
        return Path(url.database)

    def health(self) -> str | None:
        """Why new data may not be saved, as the screen says it; None when nothing is wrong.
        Checked from any process (web or collector): the file, its disk, its size cap, and a
        lock another process holds past the busy timeout (``LockWatch``)."""
        url = self.engine.url
        if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:":
            return None
        path = Path(url.database)
        if path.exists() and not (os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)):
            return describe_write_error(Exception("readonly"))[1]
        free = shutil.disk_usage(path.parent).free
        if free < LOW_DISK_BYTES:
            return f"disk almost full: {free / 1e6:.0f} MB left for the store at {path}"
        if self._max_mb is not None:
            try:
                with self.engine.connect() as conn:
                    used = conn.exec_driver_sql("PRAGMA page_count").scalar()
                    cap = conn.exec_driver_sql("PRAGMA max_page_count").scalar()
            except SQLAlchemyError as exc:  # locked even for reading: say so
                locked = describe_lock(exc, "the store cannot be read")
                if locked is None:
                    raise
                return locked
            if used is not None and cap is not None and used >= 0.98 * cap:
                return describe_write_error(Exception("full"))[1]
        if self._lock_watch is not None:
            return self._lock_watch.trouble()  # what the last probe found; never waits
        return None

    def create_schema(self) -> None:
        """Bring the store to this version's schema (``pmdesk db upgrade``, run at every start):
        Alembic migrations from whatever revision it is at. A store made before migrations
        existed is adopted when it has the first revision's columns, else refused with one clear
        message. Reports stored before the history buckets existed get their buckets rebuilt."""
        with self.engine.begin() as conn:
            if conn.dialect.name == "postgresql":  # collect and serve may start together
                conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({MIGRATION_LOCK})")
            found = inspect(conn)
            tables = set(found.get_table_names())
            if "alembic_version" not in tables and "reports" in tables:
                self._adopt_unversioned(conn, found)
            before = MigrationContext.configure(conn).get_current_revision()
            alembic_command.upgrade(_alembic(conn), "head")
        if before in (None, FIRST_REVISION):
            with Session(self.engine) as s:
                accounts = list(s.scalars(select(ReportRow.account).distinct()))
            for account in accounts:
                self.rebuild_rollups(account)

    def _adopt_unversioned(self, conn: Connection, found: Inspector) -> None:
        present = set(found.get_table_names())
        missing = [
            f"{table}.{column.name}"
            for table in UNVERSIONED_TABLES
            for column in Base.metadata.tables[table].columns
            if f"{table}.{column.name}" not in ADDED_SINCE_FIRST
            and (
                table not in present
                or column.name not in {c["name"] for c in found.get_columns(table)}
            )
        ]
        if missing:
            raise StoreSchemaError(
                f"store {self.engine.url.render_as_string(hide_password=True)} was made by an "
                f"older pmdesk (missing {', '.join(missing)}): move it aside or delete it, "
                "and pmdesk starts a new one"
            )
        alembic_command.stamp(_alembic(conn), FIRST_REVISION)

    def close(self) -> None:
        self.engine.dispose()

    def write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        """Snapshot + report in one transaction. A store locked by another writer beyond the
        busy timeout is retried a bounded number of times, then the error is raised."""
        for attempt in Retrying(
            retry=retry_if_exception(_is_busy),
            stop=stop_after_attempt(BUSY_ATTEMPTS),
            wait=wait_exponential(multiplier=0.25, max=1.0),
            reraise=True,
        ):
            with attempt:
                return self._write_cycle(cycle, computed_at_ms)
        raise AssertionError("unreachable: tenacity reraises")

    def _write_cycle(self, cycle: CycleRecord, computed_at_ms: int) -> Written:
        r = cycle.report
        rec = r.reconciliation
        zjson = _zjson(cycle.payloads)
        with self._session.begin() as s:
            snap = SnapshotRow(
                account=cycle.account,
                fetched_at_ms=cycle.fetched_at_ms,
                exchange_time_ms=cycle.exchange_time_ms,
                simulated=cycle.simulated,
                payloads_zjson=zjson,
                base_snapshot_id=cycle.base_snapshot_id,
            )
            s.add(snap)
            s.flush()
            row = ReportRow(
                snapshot_id=snap.id,
                account=cycle.account,
                data_time_ms=cycle.fetched_at_ms,
                computed_at_ms=computed_at_ms,
                positions_at_ms=(
                    cycle.fetched_at_ms if cycle.positions_at_ms is None else cycle.positions_at_ms
                ),
                marks_source=cycle.marks_source,
                simulated=cycle.simulated,
                uni_mmr=_known(r.uni_mmr),
                adjusted_equity_usd=_known(r.adjusted_equity_usd),
                actual_equity_usd=_known(r.actual_equity_usd),
                maint_margin_usd=_known(r.maint_margin.total_usd),
                um_maint_margin_usd=_known(r.maint_margin.um_usd),
                cm_maint_margin_usd=_known(r.maint_margin.cm_usd),
                margin_maint_margin_usd=_known(r.maint_margin.margin_usd),
                status=r.status.value,
                state=r.state,
                unknown_reasons="\n".join(map(str, r.unknown_reasons)) or None,
                reported_uni_mmr=cycle.reported.uni_mmr if cycle.reported else None,
                reported_status=cycle.reported.account_status if cycle.reported else None,
                reported_equity_usd=rec.binance_equity_usd if rec else None,
                reported_maint_margin_usd=rec.binance_mm_usd if rec else None,
                recon_uni_mmr_rel_diff=_finite(rec.rel_diff_uni_mmr) if rec else None,
                recon_agrees=rec.agrees if rec else None,
                recon_explained_by=rec.explained_by if rec else None,
                collateral_table=r.assumptions.collateral_table if r.assumptions else None,
                loan_mmr_source=r.assumptions.loan_mmr_source if r.assumptions else None,
                calibrated=r.assumptions.calibrated if r.assumptions else None,
                liquidation_down_pct=_known(r.liquidation_shock.down_pct),
                liquidation_up_pct=_known(r.liquidation_shock.up_pct),
                btc_liquidation_down_usd=_known(r.liquidation_shock.btc_down_price_usd),
                btc_liquidation_up_usd=_known(r.liquidation_shock.btc_up_price_usd),
                top_up_target_uni_mmr=r.top_up_target_uni_mmr,
                top_up_usd=_known(r.top_up_usd),
                detail_zjson=_zjson(report_to_dict(r)),
            )
            previous = s.scalar(
                select(ReportRow.status)
                .where(ReportRow.account == cycle.account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            )
            s.add(row)
            s.flush()
            self._register_account(s, cycle)
            if r.positions:
                s.execute(
                    insert(ReportPositionRow),
                    [_known_row(_position_row(row.id, p)) for p in r.positions],
                )
            if r.assets:
                s.execute(
                    insert(ReportAssetRow), [_known_row(_asset_row(row.id, a)) for a in r.assets]
                )
            if previous != row.status:
                s.add(
                    StatusChangeRow(
                        account=cycle.account,
                        at_ms=row.data_time_ms,
                        report_id=row.id,
                        from_status=previous,
                        to_status=row.status,
                        uni_mmr=row.uni_mmr,
                    )
                )
            sample = _sample(row)
            if sample.known:  # an UNKNOWN report is a gap in the history, not a low point
                self._fold_into_rollups(s, cycle.account, sample)
            written = Written(row.id, snap.id)
        self._registered.add(cycle.account)  # only once committed: a rollback registers nothing
        return written

    def _register_account(self, s: Session, cycle: CycleRecord) -> None:
        if cycle.account in self._registered:
            return
        if s.scalar(select(AccountRow.id).where(AccountRow.name == cycle.account)) is None:
            s.add(
                AccountRow(
                    name=cycle.account,
                    first_seen_ms=cycle.fetched_at_ms,
                    simulated=cycle.simulated,
                )
            )

    @staticmethod
    def _fold_into_rollups(s: Session, account: str, sample: Sample) -> None:
        for period_s in PERIODS_S:
            start = bucket_start_ms(sample.at_ms, period_s)
            found = s.scalars(
                select(RollupRow).where(
                    RollupRow.account == account,
                    RollupRow.period_s == period_s,
                    RollupRow.start_ms == start,
                )
            ).first()
            if found is None:
                s.add(RollupRow(account=account, **vars(open_bucket(sample, period_s))))
            else:
                for key, value in vars(fold(_bucket(found), sample)).items():
                    setattr(found, key, value)

    def rebuild_rollups(
        self, account: str, since_ms: int | None = None, chunk: int = 50_000
    ) -> int:
        """Recompute an account's history buckets from its reports (after a bulk import, or a
        store that predates them): all of them, or those from the hour holding ``since_ms`` on
        (every period divides an hour, so those buckets are whole); returns buckets written."""
        first = None if since_ms is None else bucket_start_ms(since_ms, HOUR_S)
        open_: dict[int, Bucket] = {}
        done: list[Bucket] = []
        with Session(self.engine) as s:
            query = select(*_SAMPLE_COLUMNS).where(ReportRow.account == account)
            if first is not None:
                query = query.where(ReportRow.data_time_ms >= first)
            rows = s.execute(
                query.order_by(ReportRow.data_time_ms, ReportRow.id).execution_options(
                    yield_per=chunk
                )
            )
            for r in rows:
                sample = _sample_of(r)
                if not sample.known:
                    continue
                for period_s in PERIODS_S:
                    b = open_.get(period_s)
                    if b is not None and b.start_ms == bucket_start_ms(sample.at_ms, period_s):
                        open_[period_s] = fold(b, sample)
                        continue
                    if b is not None:
                        done.append(b)
                    open_[period_s] = open_bucket(sample, period_s)
        done.extend(open_.values())
        with self._session.begin() as s:
            stale = delete(RollupRow).where(RollupRow.account == account)
            if first is not None:
                stale = stale.where(RollupRow.start_ms >= first)
            s.execute(stale)
            for i in range(0, len(done), chunk):
                s.execute(
                    insert(RollupRow),
                    [{"account": account, **vars(b)} for b in done[i : i + chunk]],
                )
        return len(done)

    def snapshot_payloads(self, snapshot_id: int) -> dict[str, object]:
        """What a snapshot row holds, decompressed (for a between-polls one: its updates)."""
        with Session(self.engine) as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise KeyError(snapshot_id)
            body = json.loads(zlib.decompress(row.payloads_zjson))
            assert isinstance(body, dict)
            return body

    def snapshot_base(self, snapshot_id: int) -> int | None:
        with Session(self.engine) as s:
            row = s.get(SnapshotRow, snapshot_id)
            if row is None:
                raise KeyError(snapshot_id)
            return row.base_snapshot_id

    def report_snapshot_id(self, report_id: int) -> int:
        with Session(self.engine) as s:
            snap = s.scalar(select(ReportRow.snapshot_id).where(ReportRow.id == report_id))
            if snap is None:
                raise KeyError(report_id)
            return int(snap)

    def record_weight(self, at_ms: int, used: dict[str, int]) -> None:
        with self._session.begin() as s:
            s.add(ApiWeightRow(at_ms=at_ms, used_json=json.dumps(used, sort_keys=True)))

    def latest_weight(self) -> tuple[int, dict[str, int]] | None:
        """(when, used weight by family) as last reported by the exchange."""
        with Session(self.engine) as s:
            row = s.scalars(
                select(ApiWeightRow).order_by(ApiWeightRow.at_ms.desc()).limit(1)
            ).first()
            if row is None:
                return None
            return row.at_ms, {str(k): int(v) for k, v in json.loads(row.used_json).items()}

    def record_event(
        self,
        account: str,
        at_ms: int,
        kind: str,
        message: str,
        endpoint: str | None = None,
        code: int | None = None,
    ) -> None:
        with self._session.begin() as s:
            s.add(
                EventRow(
                    account=account,
                    at_ms=at_ms,
                    kind=kind,
                    endpoint=endpoint,
                    code=code,
                    message=message,
                )
            )

    def latest_report(self, account: str) -> StoredReport | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(ReportRow)
                .options(defer(ReportRow.detail_zjson))
                .where(ReportRow.account == account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return StoredReport(
                id=row.id,
                account=row.account,
                data_time_ms=row.data_time_ms,
                computed_at_ms=row.computed_at_ms,
                positions_at_ms=row.positions_at_ms,
                marks_source=row.marks_source,
                simulated=row.simulated,
                uni_mmr=_unknown(row.uni_mmr),
                adjusted_equity_usd=_unknown(row.adjusted_equity_usd),
                maint_margin_usd=_unknown(row.maint_margin_usd),
                status=row.status,
                reported_uni_mmr=row.reported_uni_mmr,
                reported_status=row.reported_status,
                liquidation_down_pct=row.liquidation_down_pct,
                liquidation_up_pct=row.liquidation_up_pct,
                btc_liquidation_down_usd=row.btc_liquidation_down_usd,
                btc_liquidation_up_usd=row.btc_liquidation_up_usd,
                top_up_target_uni_mmr=row.top_up_target_uni_mmr,
                top_up_usd=_unknown(row.top_up_usd),
                state=row.state,
                unknown_reasons=tuple((row.unknown_reasons or "").splitlines()),
                reported_equity_usd=row.reported_equity_usd,
                reported_maint_margin_usd=row.reported_maint_margin_usd,
                recon_uni_mmr_rel_diff=row.recon_uni_mmr_rel_diff,
                recon_agrees=row.recon_agrees,
                recon_explained_by=row.recon_explained_by,
                collateral_table=row.collateral_table,
                loan_mmr_source=row.loan_mmr_source,
                calibrated=row.calibrated,
            )

    def latest_event(self, account: str) -> StoredEvent | None:
        with Session(self.engine) as s:
            row = s.scalars(
                select(EventRow)
                .where(EventRow.account == account)
                .order_by(EventRow.at_ms.desc(), EventRow.id.desc())
                .limit(1)
            ).first()
            if row is None:
                return None
            return StoredEvent(row.at_ms, row.kind, row.endpoint, row.code, row.message)

    def count_reports(self, account: str) -> int:
        with Session(self.engine) as s:
            count = s.scalar(
                select(func.count()).select_from(ReportRow).where(ReportRow.account == account)
            )
            return int(count or 0)

    def report_detail(self, report_id: int) -> dict[str, Any]:
        """The full report (``risk.serialize.report_to_dict``) as stored with it."""
        with Session(self.engine) as s:
            blob = s.scalar(select(ReportRow.detail_zjson).where(ReportRow.id == report_id))
            if blob is None:
                raise KeyError(report_id)
            body = json.loads(zlib.decompress(blob))
            assert isinstance(body, dict)
            return body

    def history_samples(self, account: str, since_ms: int) -> list[Sample]:
        """Every report of the account from ``since_ms`` on, oldest first."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(*_SAMPLE_COLUMNS)
                .where(ReportRow.account == account, ReportRow.data_time_ms >= since_ms)
                .order_by(ReportRow.data_time_ms, ReportRow.id)
            )
            return [_sample_of(r) for r in rows]

    def history_buckets(self, account: str, period_s: int, since_ms: int) -> list[Bucket]:
        """The account's ``period_s`` buckets that end after ``since_ms``, oldest first."""
        first = bucket_start_ms(since_ms, period_s)
        with Session(self.engine) as s:
            rows = s.execute(
                select(*(getattr(RollupRow, name) for name in _BUCKET_FIELDS))
                .where(
                    RollupRow.account == account,
                    RollupRow.period_s == period_s,
                    RollupRow.start_ms >= first,
                )
                .order_by(RollupRow.start_ms)
            )
            return [Bucket(*r) for r in rows]

    def reported_points(self, account: str, since_ms: int) -> list[ReportedPoint]:
        """The account's polls from ``since_ms`` on with Binance's uniMMR beside pmdesk's,
        oldest first (reports between polls only move marks and carry the poll's figures)."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    ReportRow.data_time_ms,
                    ReportRow.uni_mmr,
                    ReportRow.reported_uni_mmr,
                    ReportRow.recon_agrees,
                    ReportRow.recon_uni_mmr_rel_diff,
                )
                .join(SnapshotRow, SnapshotRow.id == ReportRow.snapshot_id)
                .where(
                    ReportRow.account == account,
                    ReportRow.data_time_ms >= since_ms,
                    SnapshotRow.base_snapshot_id.is_(None),
                )
                .order_by(ReportRow.data_time_ms, ReportRow.id)
            )
            return [ReportedPoint(*r) for r in rows]

    def status_changes(self, account: str, since_ms: int) -> list[StoredStatusChange]:
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    StatusChangeRow.at_ms,
                    StatusChangeRow.from_status,
                    StatusChangeRow.to_status,
                    StatusChangeRow.uni_mmr,
                )
                .where(StatusChangeRow.account == account, StatusChangeRow.at_ms >= since_ms)
                .order_by(StatusChangeRow.at_ms)
            )
            return [StoredStatusChange(at, was, now, _unknown(u)) for at, was, now, u in rows]

    def events_since(self, account: str, since_ms: int, limit: int = 1000) -> list[StoredEvent]:
        """The account's collector events from ``since_ms`` on, newest ``limit``, oldest first."""
        with Session(self.engine) as s:
            rows = s.execute(
                select(
                    EventRow.at_ms,
                    EventRow.kind,
                    EventRow.endpoint,
                    EventRow.code,
                    EventRow.message,
                )
                .where(EventRow.account == account, EventRow.at_ms >= since_ms)
                .order_by(EventRow.at_ms.desc(), EventRow.id.desc())
                .limit(limit)
            )
            return [StoredEvent(*r) for r in reversed(list(rows))]

    def accounts(self) -> list[str]:
        """Every account with stored data, in the order first seen."""
        with Session(self.engine) as s:
            return list(
                s.scalars(select(AccountRow.name).order_by(AccountRow.first_seen_ms, AccountRow.id))
            )

    def position_rows(self, account: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every stored position of the account's reports in [since, until), oldest first, each
        with its report's id and data time."""
        return self._report_children(ReportPositionRow, account, since_ms, until_ms)

    def asset_rows(self, account: str, since_ms: int, until_ms: int) -> list[dict[str, Any]]:
        """Every stored asset balance of the account's reports in [since, until), oldest first."""
        return self._report_children(ReportAssetRow, account, since_ms, until_ms)

    def _report_children(
        self,
        table: type[ReportPositionRow] | type[ReportAssetRow],
        account: str,
        since_ms: int,
        until_ms: int,
    ) -> list[dict[str, Any]]:
        columns = [c for c in table.__table__.columns if c.name not in ("id", "report_id")]
        with Session(self.engine) as s:
            rows = s.execute(
                select(ReportRow.id.label("report_id"), ReportRow.data_time_ms, *columns)
                .join(table, table.report_id == ReportRow.id)
                .where(
                    ReportRow.account == account,
                    ReportRow.data_time_ms >= since_ms,
                    ReportRow.data_time_ms < until_ms,
                )
                .order_by(ReportRow.data_time_ms, ReportRow.id, table.id)
            )
            return [dict(r._mapping) for r in rows]

    def latest_report_id(self, account: str) -> int | None:
        """The id of the account's newest report: what a viewer polls to know it must redraw."""
        with Session(self.engine) as s:
            found = s.scalar(
                select(ReportRow.id)
                .where(ReportRow.account == account)
                .order_by(ReportRow.data_time_ms.desc(), ReportRow.id.desc())
                .limit(1)
            )
            return None if found is None else int(found)

    # ---- retention ----------------------------------------------------------------------------
    def prune(self, keep: Retention, now_ms: int) -> Pruned:
        """Drop what ``keep`` no longer needs, in small transactions (the collector writes
        between them). Never drops a bucket's worst report, a status change's report, or a poll
        that a kept report was computed from; never leaves a report without its snapshot."""
        cutoff = now_ms - int(keep.raw_h * 3_600_000)
        total = Pruned()
        with Session(self.engine) as s:
            accounts = list(
                s.scalars(select(RollupRow.account).where(RollupRow.period_s == HOUR_S).distinct())
            )
        for account in accounts:
            protected = self._protected_reports(account, cutoff)
            for between_polls in (True, False):  # between-polls first: then their polls are free
                total += self._prune_reports(account, cutoff, protected, between_polls, keep.batch)
        with self._session.begin() as s:
            buckets = 0
            for period_s, days in keep.bucket_days().items():
                buckets += _deleted(
                    s.execute(
                        delete(RollupRow).where(
                            RollupRow.period_s == period_s,
                            RollupRow.start_ms < now_ms - int(days * DAY_MS),
                        )
                    )
                )
            events = _deleted(
                s.execute(
                    delete(EventRow).where(EventRow.at_ms < now_ms - keep.events_days * DAY_MS)
                )
            )
            weights = _deleted(
                s.execute(
                    delete(ApiWeightRow).where(
                        ApiWeightRow.at_ms < now_ms - int(keep.weight_h * 3_600_000)
                    )
                )
            )
        alerts = self.alerts.prune(now_ms - int(keep.events_days * DAY_MS))
        return total + Pruned(buckets=buckets, events=events, weights=weights, alerts=alerts)

    def _protected_reports(self, account: str, cutoff: int) -> set[int]:
        """Reports kept in full: each bucket's worst and each status change. (The polls they
        were computed from stay too: a poll goes only once nothing points at it.)"""
        with Session(self.engine) as s:
            kept = set(
                s.scalars(
                    select(RollupRow.worst_report_id).where(
                        RollupRow.account == account, RollupRow.worst_at_ms < cutoff
                    )
                )
            )
            kept |= set(
                s.scalars(
                    select(StatusChangeRow.report_id).where(
                        StatusChangeRow.account == account, StatusChangeRow.at_ms < cutoff
                    )
                )
            )
            return kept

    def _prune_reports(
        self, account: str, cutoff: int, protected: set[int], between_polls: bool, batch: int
    ) -> Pruned:
        child = aliased(SnapshotRow)
        dependents = select(child.id).where(child.base_snapshot_id == SnapshotRow.id)
        kind = (
            SnapshotRow.base_snapshot_id.is_not(None)
            if between_polls
            else SnapshotRow.base_snapshot_id.is_(None) & ~dependents.exists()
        )
        reports = snapshots = 0
        after = (-1, 0)  # keyset on the (account, time) index: each batch starts where one ended
        while True:
            with self._session.begin() as s:
                rows = s.execute(
                    select(ReportRow.id, ReportRow.snapshot_id, ReportRow.data_time_ms)
                    .join(SnapshotRow, SnapshotRow.id == ReportRow.snapshot_id)
                    .where(
                        ReportRow.account == account,
                        ReportRow.data_time_ms < cutoff,
                        tuple_(ReportRow.data_time_ms, ReportRow.id) > tuple_(*after),
                        kind,
                    )
                    .order_by(ReportRow.data_time_ms, ReportRow.id)
                    .limit(batch)
                ).all()
                if not rows:
                    return Pruned(reports=reports, snapshots=snapshots)
                after = (rows[-1][2], rows[-1][0])
                doomed = [(r, snap) for r, snap, _ in rows if r not in protected]
                if doomed:
                    reports += _deleted(
                        s.execute(delete(ReportRow).where(ReportRow.id.in_([r for r, _ in doomed])))
                    )
                    snapshots += _deleted(
                        s.execute(
                            delete(SnapshotRow).where(SnapshotRow.id.in_([x for _, x in doomed]))
                        )
                    )
