"""What the store writes and gives back: a collector cycle, the web's rows, and the NaN-to-NULL
rule (an unknown figure is stored as NULL and read back as NaN, never as a calm number)."""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from app.store.rollup import Bucket, Sample
from app.store.schema import ReportRow, RollupRow
from risk.model import ReportedAccount, RiskReport


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


def _known(value: float | None) -> float | None:
    """NaN (an unknown figure) is stored as NULL on every backend; ±∞ are figures."""
    return None if value is None or math.isnan(value) else value


def _unknown(value: float | None) -> float:
    """A stored NULL figure read back as NaN: unknown, never a number that looks safe."""
    return math.nan if value is None else value


def _known_row(row: dict[str, object]) -> dict[str, object]:
    return {k: _known(v) if isinstance(v, float) else v for k, v in row.items()}
