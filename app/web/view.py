"""What the overview shows, decided on the server from the store and the clock. Pure.

Fail closed: no report, or a report older than the staleness limit, is never shown green.
Staleness is decided here, on the server, because browsers throttle timers in background tabs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from app.collector.feed import FeedStatus
from app.store.store import StoredEvent, StoredReport
from app.web.format import fmt_age, fmt_pct, fmt_price, fmt_share, fmt_uni_mmr, fmt_usd
from connectors.binance.limits import LIMITS_PER_MINUTE
from risk.liquidation import MAX_UP_MOVE
from risk.model import MarginBand

BAND_TEXT: dict[str, tuple[str, str]] = {
    MarginBand.NORMAL: ("✔", "NORMAL — trade freely"),
    MarginBand.MARGIN_CALL: ("⚠", "MARGIN CALL — add funds, repay or reduce"),
    MarginBand.REDUCE_ONLY: ("✖", "REDUCE ONLY — new orders refused"),
    MarginBand.LIQUIDATION: ("☠", "LIQUIDATION"),
    MarginBand.LIQUIDATION_WITH_LOSS: ("☠", "LIQUIDATION — loss claim possible"),
}


BEYOND_UP = f"> +{100 * MAX_UP_MOVE:,.0f} %"
"""No liquidation up to the largest rally the root search tries."""


@dataclass(frozen=True)
class DeskView:
    uni_mmr: str
    band_class: str
    status_icon: str
    status_text: str
    adjusted_equity: str
    maint_margin: str
    reported_uni_mmr: str
    reported_status: str
    liquidation: str
    liquidation_note: str
    top_up: str
    top_up_note: str
    age: str
    stale: bool
    as_of: str
    feed_status: str
    feed_message: str
    simulated: bool
    marks_note: str = ""
    weight_note: str = ""
    margin_usage: str = "—"
    buffer: str = "—"
    buffer_note: str = ""


def utc_clock(ms: int) -> str:
    return time.strftime("%H:%M:%S UTC", time.gmtime(ms / 1000))


MARKS_TEXT = {
    "stream": "marks: live stream",
    "rest": "marks: REST fallback (stream down)",
    "poll": "marks: with each account poll",
}
WEIGHT_FRESH_MS = 120_000


def feed_state(
    report: StoredReport | None, event: StoredEvent | None, stale: bool
) -> tuple[FeedStatus, str]:
    """The newest event's status if it came after the newest account poll (reports between
    polls only move marks; they do not clear a failing poll), or if it explains stale data
    (frozen prices); DOWN when the data is stale with no failure on record (the collector
    itself has stopped); else OK."""

    def shown(e: StoredEvent) -> tuple[FeedStatus, str]:
        where = f" ({e.endpoint})" if e.endpoint else ""
        return FeedStatus(e.kind), f"{e.message}{where} at {utc_clock(e.at_ms)}"

    if event is not None and (report is None or event.at_ms > report.positions_at_ms):
        return shown(event)
    if report is None:
        return FeedStatus.DOWN, "waiting for the first data from the exchange"
    if stale:
        if event is not None and event.at_ms >= report.data_time_ms:
            return shown(event)
        return FeedStatus.DOWN, "no new data: is the collector running?"
    return FeedStatus.OK, ""


def weight_note(weight: tuple[int, dict[str, int]] | None, now_ms: int) -> str:
    """The API weight the exchange last reported, as a share of each family's minute budget."""
    if weight is None or now_ms - weight[0] > WEIGHT_FRESH_MS:
        return "API weight: —"
    used = weight[1]
    parts = [
        f"{fam} {100 * used[fam] / LIMITS_PER_MINUTE[fam]:.0f} %"
        for fam in sorted(used)
        if fam in LIMITS_PER_MINUTE
    ]
    return "API weight (1 min): " + " · ".join(parts)


def margin_usage(maint_margin_usd: float, adjusted_equity_usd: float) -> str:
    """Maintenance margin as a share of adjusted equity (= 1 / uniMMR): 100 % is insolvent."""
    if maint_margin_usd <= 0:
        return "0.0 %"
    if adjusted_equity_usd <= 0:
        return "> 100 %"
    return fmt_share(maint_margin_usd / adjusted_equity_usd)


def build_view(
    report: StoredReport | None,
    event: StoredEvent | None,
    now_ms: int,
    stale_after_s: float,
    weight: tuple[int, dict[str, int]] | None = None,
    buffer_usd: float | None = None,
) -> DeskView:
    if report is None:
        feed, feed_message = feed_state(None, event, stale=True)
        return DeskView(
            uni_mmr="—",
            band_class="band-stale",
            status_icon="…",
            status_text="NO DATA YET",
            adjusted_equity="—",
            maint_margin="—",
            reported_uni_mmr="—",
            reported_status="",
            liquidation="—",
            liquidation_note="",
            top_up="—",
            top_up_note="",
            age="—",
            stale=True,
            as_of="",
            feed_status=feed.value,
            feed_message=feed_message,
            simulated=False,
            weight_note=weight_note(weight, now_ms),
        )
    age_s = (now_ms - report.data_time_ms) / 1000
    stale = age_s > stale_after_s
    feed, feed_message = feed_state(report, event, stale)
    icon, text = BAND_TEXT[MarginBand(report.status)]
    reported = "—" if report.reported_uni_mmr is None else fmt_uni_mmr(report.reported_uni_mmr)
    return DeskView(
        uni_mmr=fmt_uni_mmr(report.uni_mmr),
        band_class="band-stale" if stale else f"band-{report.status.lower().replace('_', '-')}",
        status_icon="◷" if stale else icon,
        status_text=f"STALE — last {report.status.replace('_', ' ')}" if stale else text,
        adjusted_equity=fmt_usd(report.adjusted_equity_usd),
        maint_margin=fmt_usd(report.maint_margin_usd),
        reported_uni_mmr=reported,
        reported_status=f"accountStatus {report.reported_status or '—'}",
        liquidation=(
            f"↓ {fmt_pct(report.liquidation_down_pct, none='never')}   "
            f"↑ {fmt_pct(report.liquidation_up_pct, none=BEYOND_UP)}"
        ),
        liquidation_note=(
            f"BTC at {fmt_price(report.btc_liquidation_down_usd)} / "
            f"{fmt_price(report.btc_liquidation_up_usd)}"
        ),
        top_up=fmt_usd(report.top_up_usd),
        top_up_note=f"stablecoin to reach uniMMR {report.top_up_target_uni_mmr:g}",
        age=fmt_age(age_s),
        stale=stale,
        as_of=f"as of {utc_clock(report.data_time_ms)}",
        feed_status=feed.value,
        feed_message=feed_message,
        simulated=report.simulated,
        marks_note=(
            f"{MARKS_TEXT.get(report.marks_source, report.marks_source)} · positions "
            f"{fmt_age((now_ms - report.positions_at_ms) / 1000)} old"
        ),
        weight_note=weight_note(weight, now_ms),
        margin_usage=margin_usage(report.maint_margin_usd, report.adjusted_equity_usd),
        buffer="—" if buffer_usd is None else fmt_usd(buffer_usd),
        buffer_note=(
            "stablecoins in the account"
            if report.top_up_usd <= 0
            else f"add {fmt_usd(report.top_up_usd)} for uniMMR {report.top_up_target_uni_mmr:g}"
        ),
    )
