"""``pmdesk risk DIR --outlook`` (issue 20): the Outlook of a captured account, offline.

The model rests on the capture's hourly klines of the last ``[outlook] history_days`` (as the
collector reads its cache); a capture also holds each named episode's window of hourly bars
(``pmdesk capture``), which are cut out and replayed one episode at a time — kept out of the
model's sample, where years of forward-filled gaps between the windows would be zero returns
and make the tail look thinner than it is. The same ``OutlookModel`` as the collector's job.

Stable JSON keys: ``outlook: {horizon_h: {p_liquidation, p_warning, uni_mmr_q05, uni_mmr_q01,
es_equity_usd, stderr: {...}}}``, ``outlook_unknown``, ``outlook_data`` and
``outlook_replays: [{name, start_utc, interval, bars, min_uni_mmr, min_at_ms,
liquidation_at_ms, missing}]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
from pathlib import Path

from app.cli.common import CliError
from app.collector.outlook_model import Histories, OutlookModel
from app.config import Settings
from app.episodes import load_episodes
from connectors.binance.capture import KLINES_DIR, CaptureError, read_klines
from connectors.binance.klines import account_series
from risk.episodes import Episode
from risk.market_history import INTERVAL_MS, SPOT, KlineSeries
from risk.model import AccountSnapshot, MarketState, RiskRules
from risk.outlook import OutlookSettings
from risk.outlook_result import GBM, Outlook, ReplayResult

DAY_MS = 86_400_000


def parse_vols(items: list[str] | None) -> dict[str, float]:
    """``--vol ASSET=ANNUALISED`` (0.8 is 80 % a year), repeatable."""
    out: dict[str, float] = {}
    for item in items or []:
        asset, _, value = item.partition("=")
        try:
            vol = float(value)
        except ValueError:
            vol = math.nan
        if not asset or not (vol >= 0.0 and math.isfinite(vol)):
            raise CliError(f"--vol {item}: expected ASSET=ANNUALISED, e.g. BTC=0.8")
        out[asset.upper()] = vol
    return out


def _captured(directory: Path, payloads: dict[str, object]) -> list[KlineSeries]:
    try:
        return read_klines(directory, account_series(payloads, "1h"))
    except CaptureError as exc:
        raise CliError(str(exc)) from None


def _histories(
    series: list[KlineSeries], now_ms: int, history_days: float, episodes: tuple[Episode, ...]
) -> Histories:
    """The model's window: ``history_days`` up to now, or up to the newest bar when the
    capture's own clock is earlier (the model then says how far the history is behind); and
    each episode's own window (from a bar before its start: the price the replay moves from)."""

    def cut(start_ms: int, end_ms: int) -> list[KlineSeries]:
        parts = [s.between(start_ms, end_ms) for s in series]
        return [s for s in parts if len(s.open_time_ms)]

    newest = max((int(s.open_time_ms[-1]) for s in series if len(s.open_time_ms)), default=0)
    end = max(now_ms, newest)
    recent = cut(end - int(history_days * DAY_MS), end)
    bars = {e.name: cut(e.start_ms - INTERVAL_MS["1h"], e.end_ms) for e in episodes}
    return Histories(recent, {name: found for name, found in bars.items() if found})


def risk_outlook(
    args: argparse.Namespace,
    settings: Settings,
    payloads: dict[str, object],
    snapshot: AccountSnapshot,
    market: MarketState,
    rules: RiskRules,
) -> Outlook:
    vols = parse_vols(args.vol)
    model_settings = OutlookSettings(
        n_paths=args.paths, model=args.model, vol_annualised=vols, seed=args.seed
    )
    if args.model != GBM:
        needed = [k for k in account_series(payloads, "1h") if k.venue == SPOT]
        missing = [
            args.dir / KLINES_DIR / k.file_name()
            for k in needed
            if k.symbol.removesuffix("USDT") not in vols
            and not (args.dir / KLINES_DIR / k.file_name()).exists()
        ]
        if missing:
            names = ", ".join(str(m) for m in missing)
            raise CliError(
                f"{names}: missing (the outlook needs 1 h klines; pmdesk capture writes them, "
                "or give --vol ASSET=ANNUALISED, or --model gbm with a --vol for every asset)"
            )
    episodes = load_episodes()
    now_ms = max(market.time_ms, snapshot.update_time_ms)
    series = _captured(args.dir, payloads)
    histories = _histories(series, now_ms, settings.outlook.history_days, episodes)
    if args.model == GBM:  # the reference model reads no history; the replays still do
        histories = Histories((), histories.episode_bars)
    model = OutlookModel(rules, model_settings, episodes)
    return model(snapshot, market, histories, now_ms)


def _number(x: float) -> float | str:
    """JSON has no NaN or infinity: the strings ``report_to_dict`` writes for them."""
    if math.isnan(x):
        return "NaN"
    if math.isinf(x):
        return "Infinity" if x > 0 else "-Infinity"
    return x


def outlook_body(outlook: Outlook) -> dict[str, object]:
    """The outlook's keys in ``pmdesk risk --json``."""
    return {
        "outlook": outlook_figures(outlook),
        "outlook_unknown": outlook.unknown,
        "outlook_data": outlook.data_words,
        "outlook_replays": [
            {
                "name": r.name,
                "start_utc": r.start_utc,
                "interval": r.interval,
                "bars": r.bars,
                "min_uni_mmr": _number(r.min_uni_mmr),
                "min_at_ms": r.min_at_ms,
                "liquidation_at_ms": r.liquidation_at_ms,
                "missing": r.missing,
            }
            for r in outlook.replays
        ],
    }


def outlook_figures(outlook: Outlook) -> dict[str, dict[str, object]]:
    """The stable ``outlook`` key: per horizon (``"1"``, ``"8"``, ``"24"``) the figures and
    their Monte-Carlo standard errors; empty when the outlook is unknown."""
    out: dict[str, dict[str, object]] = {}
    for h in outlook.horizons:
        out[f"{h.horizon_h:g}"] = {
            "p_liquidation": _number(h.p_liquidation),
            "p_warning": _number(h.p_warning),
            "uni_mmr_q05": _number(h.uni_mmr_q05),
            "uni_mmr_q01": _number(h.uni_mmr_q01),
            "es_equity_usd": _number(h.es_equity_usd),
            "stderr": {
                "p_liquidation": _number(h.stderr),
                "p_warning": _number(h.p_warning_stderr),
                "uni_mmr_q05": _number(h.uni_mmr_q05_stderr),
                "uni_mmr_q01": _number(h.uni_mmr_q01_stderr),
                "es_equity_usd": _number(h.es_equity_stderr_usd),
            },
        }
    return out


def _utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def _start(start_utc: str) -> str:
    """The episode's start as the other times are printed: 2020-03-12T00:00:00Z is
    2020-03-12 00:00 UTC."""
    return start_utc.replace("T", " ").removesuffix("Z").removesuffix(":00") + " UTC"


def _replay_line(r: ReplayResult, liquidation: float) -> str:
    if r.missing:
        return f"  replay {r.name} ({_start(r.start_utc)}): not replayed: {r.missing}"
    when = "" if r.min_at_ms is None else f" at {_utc(r.min_at_ms)}"
    liq = (
        f"liquidation (uniMMR <= {liquidation:g}) from {_utc(r.liquidation_at_ms)}"
        if r.liquidation_at_ms is not None
        else "never at the liquidation level"
    )
    return (
        f"  replay {r.name} ({_start(r.start_utc)}, {r.bars} {r.interval} bars): "
        f"minimum uniMMR {r.min_uni_mmr:.3f}{when}; {liq}"
    )


def describe_outlook(outlook: Outlook) -> str:
    if outlook.unknown:
        return f"Outlook: unknown ({outlook.unknown})"
    lines = [f"Outlook ({outlook.n_paths} paths; {outlook.data_words}):"]
    for h in outlook.horizons:
        lines.append(
            f"  {h.horizon_h:g} h: P(uniMMR <= {outlook.liquidation_uni_mmr:g}) "
            f"{100 * h.p_liquidation:.2f} % +/- {100 * h.stderr:.2f}, "
            f"P(<= {outlook.warning_uni_mmr:g}) {100 * h.p_warning:.2f} %, "
            f"path-minimum uniMMR 5 % {h.uni_mmr_q05:.3f}, 1 % {h.uni_mmr_q01:.3f}, "
            f"expected shortfall {h.es_equity_usd:,.0f} USD"
        )
    lines += [_replay_line(r, outlook.liquidation_uni_mmr) for r in outlook.replays]
    return "\n".join(lines)
