"""The Outlook: how likely this book is to touch Binance's liquidation and warning levels within
1 h, 8 h and 24 h, from simulated price paths revalued with the exact engine. Pure, no I/O.

    outlook = compute_outlook(snapshot, market, rules, history_1h, OutlookSettings(), now_ms)

- ``history_1h`` (``risk.outlook_data.history_from_series``) feeds the filtered historical
  simulation (``risk.outlook_paths``); ``OutlookSettings.model = GBM`` with a volatility for
  every asset needs none.
- Every path is revalued at every monitored step (every ``first_hour_step_min`` minutes in the
  first hour, then every ``step_h`` hours) by ``risk.outlook_value`` (exact: collateral tiers,
  brackets, COIN-M inverse PnL, loans). A touch between two monitored steps is not seen:
  the probabilities are those of the monitored grid (they understate continuous monitoring
  slightly; the finer the grid, the less).
- Warning level: the product's margin-call uniMMR (PM Pro 1.5); PM publishes none, so 1.2 x
  its liquidation level stands in (``WARNING_OVER_LIQUIDATION``).
- Fail closed: an account whose own figures are unknown, or an asset with neither history nor a
  given volatility, gives an Outlook whose ``unknown`` says why, with no horizon figures.
- ``episodes`` (``risk.episodes``) are replayed through ``history_1m`` where it covers them,
  else ``history_1h``.
- The correlation-break variant (``Outlook.correlation_break``) exists for FHS only (GBM's
  assets are independent by definition): empty for GBM.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from risk.book import Book, compile_book, with_collateral_table
from risk.calibrate import calibrate
from risk.episodes import Episode, replay
from risk.market import MarketState
from risk.market_history import NUMERAIRE, MarketHistory
from risk.outlook_data import JointReturns, joint_returns
from risk.outlook_figures import exposure_usd, horizon_figures
from risk.outlook_paths import (
    HOURS_PER_YEAR,
    PEGGED_TO,
    Fhs,
    draw_fhs,
    draw_gbm,
    ewma_correlation,
    pegged_mask,
    premium_draws,
    standardise,
    step_times,
)
from risk.outlook_result import FHS, GBM, HorizonOutlook, Outlook
from risk.outlook_value import (
    PathBook,
    Premiums,
    path_book,
    premium_source,
    value_paths,
)
from risk.rules import RiskRules
from risk.snapshot import AccountSnapshot
from risk.tiers import FloatArray

WARNING_OVER_LIQUIDATION = 1.2
STALE_AFTER_H = 2.0  # history ending longer ago than this is said in the data words


@dataclass(frozen=True)
class OutlookSettings:
    n_paths: int = 10_000
    horizons_h: tuple[float, ...] = (1.0, 8.0, 24.0)
    half_life_h: float = 72.0  # EWMA half-life of volatilities and correlations
    model: str = FHS  # FHS or GBM
    vol_annualised: Mapping[str, float] = field(default_factory=dict)  # overrides, per asset
    seed: int = 20
    first_hour_step_min: float = 5.0
    step_h: float = 1.0
    min_history_bars: int = 168  # a week of joint 1 h returns at least
    correlation_break: bool = True  # FHS only: also the correlation-break variant
    chunk_paths: int = 200  # paths valued at once (small enough to stay in cache)
    threads: int = 1  # chunks valued at once (the collector keeps 1: a core for the figures)


def warning_level(rules: RiskRules) -> float:
    if rules.margin_call_uni_mmr is not None:
        return rules.margin_call_uni_mmr
    return WARNING_OVER_LIQUIDATION * rules.liquidation_uni_mmr


def calibrated_book(snapshot: AccountSnapshot, market: MarketState, rules: RiskRules) -> Book:
    """The book ``evaluate`` values: the collateral table and loan MMRs it settles on."""
    book = compile_book(snapshot, market, rules)
    if rules.assumptions is not None:
        return book
    assumptions = calibrate(book, snapshot, market, rules)
    if assumptions.collateral_table != book.collateral_table:
        book = with_collateral_table(book, market, assumptions.collateral_table)
    loan_mmr = [assumptions.loan_mmr_of(a, rules.default_loan_mmr) for a in book.assets]
    return dataclasses.replace(book, loan_mmr=np.array(loan_mmr, dtype=np.float64))


@dataclass(frozen=True)
class _Model:
    fhs: Fhs | None
    gbm_vol: FloatArray | None
    vol_annualised: dict[str, float]
    words: str
    last_ms: int = 0  # the newest bar of the history it rests on (0: none)


def _unknown(settings: OutlookSettings, now_ms: int, rules: RiskRules, why: str) -> Outlook:
    return Outlook(
        computed_at_ms=now_ms,
        model=settings.model,
        n_paths=0,
        half_life_h=settings.half_life_h,
        data_words="",
        liquidation_uni_mmr=rules.liquidation_uni_mmr,
        warning_uni_mmr=warning_level(rules),
        unknown=why,
    )


def _model(
    book: Book, history: MarketHistory | None, settings: OutlookSettings, rules: RiskRules
) -> _Model | str:
    """The path model for this book, or why there is none (words)."""
    given = {a: float(v) for a, v in settings.vol_annualised.items()}
    bad = [a for a, v in given.items() if not (v >= 0.0 and math.isfinite(v))]
    if bad:
        return f"volatility for {', '.join(bad)} is not a number >= 0"
    assets = [a for a in book.assets if a != NUMERAIRE]
    if settings.model == GBM:
        missing = [a for a in assets if a not in given]
        if missing:
            return f"GBM needs a volatility for every asset; none for {', '.join(missing)}"
        vol = np.array([given.get(a, 0.0) for a in book.assets])
        words = "GBM (independent, driftless), annualised volatility " + ", ".join(
            f"{a} {100 * given[a]:.0f} %" for a in assets
        )
        return _Model(None, vol, {a: given[a] for a in assets}, words)
    have = set(history.price_usd) if history is not None else set()
    missing = [a for a in assets if a not in have and a not in given]
    if missing:
        return f"no 1 h price history and no volatility given for {', '.join(missing)}"
    listed = [a for a in assets if a in have]
    symbols = list(book.um_symbol) + list(book.cm_symbol)
    if history is None:
        joint = None
    else:
        joint = joint_returns(history, listed, symbols)
        if joint.bars < settings.min_history_bars:
            return (
                f"only {joint.bars} hours of joint price history for "
                f"{', '.join(listed)}; the model needs {settings.min_history_bars}"
            )
    return _fhs_model(book, joint, listed, symbols, given, settings, rules)


def _fhs_model(
    book: Book,
    joint: JointReturns | None,
    listed: list[str],
    symbols: list[str],
    given: dict[str, float],
    settings: OutlookSettings,
    rules: RiskRules,
) -> _Model:
    n_assets = book.n_assets
    bars = joint.bars if joint is not None else 1
    z = np.zeros((bars, n_assets))
    raw = np.zeros((bars, n_assets))
    vol_h = np.zeros(n_assets)
    basis = np.zeros((bars, len(symbols)))
    words = []
    if joint is not None and listed:
        cols = [book.index(a) for a in listed]
        zs, vol_now = standardise(joint.returns, settings.half_life_h)
        z[:, cols], raw[:, cols], vol_h[cols] = zs, joint.returns, vol_now
        # A mark's premium moves by the basis change over (1 + today's basis).
        basis = joint.basis_change / (1.0 + _today_basis(book))[None, :]
        no_basis = [s for s, col in zip(symbols, basis.T, strict=True) if not col.any()]
        words.append(
            f"FHS on {bars} joint 1 h returns, {_utc(joint.first_ms)} to {_utc(joint.last_ms)}"
            f" UTC, EWMA half-life {settings.half_life_h:g} h"
        )
        if no_basis:
            words.append(f"no basis history for {', '.join(no_basis)}: held at today's")
    normal = np.zeros(n_assets, dtype=bool)
    for a, v in given.items():
        if a in book.assets:
            i = book.index(a)
            vol_h[i] = v / math.sqrt(HOURS_PER_YEAR)
            normal[i] = a not in listed
    if given:
        words.append(
            "volatility given for " + ", ".join(f"{a} {100 * v:.0f} %" for a, v in given.items())
        )
    pegged = pegged_mask(book.assets, rules.stablecoins, NUMERAIRE)
    peg_base = np.array(
        [book.index(PEGGED_TO[a]) if PEGGED_TO.get(a) in book.assets else -1 for a in book.assets],
        dtype=np.intp,
    )
    exposure = exposure_usd(book)
    adverse = np.sign(-exposure)
    amounts = np.concatenate([book.um_amt_qty, book.cm_contracts])
    correlated = ~pegged & ~normal & (vol_h > 0.0)
    corr = ewma_correlation(z[:, correlated], settings.half_life_h)
    fhs = Fhs(
        z, vol_h, normal, raw, basis, pegged, peg_base, adverse, np.sign(-amounts), corr, correlated
    )
    used = {
        a: float(vol_h[book.index(a)] * math.sqrt(HOURS_PER_YEAR))
        for a in book.assets
        if a != NUMERAIRE
    }
    return _Model(fhs, None, used, "; ".join(words), joint.last_ms if joint is not None else 0)


def _today_basis(book: Book) -> FloatArray:
    um = book.um_mark * book.price_usd[book.um_quote] / book.price_usd[book.um_base] - 1.0
    cm = book.cm_mark / book.price_usd[book.cm_coin] - 1.0
    out: FloatArray = np.nan_to_num(np.concatenate([um, cm]))
    return out


def _utc(ms: int) -> str:
    return dt.datetime.fromtimestamp(ms / 1000, tz=dt.UTC).strftime("%Y-%m-%d %H:%M")


def _simulate(
    pb: PathBook,
    model: _Model,
    settings: OutlookSettings,
    t_h: FloatArray,
    broken: bool,
) -> tuple[FloatArray, FloatArray, FloatArray]:
    """(uniMMR (P, S), adjusted equity (P, S), price factor - 1 at each horizon (P, H, A)).
    Paths are drawn in chunks, each from its own seeded generator (the same figures whatever
    ``settings.threads``)."""
    dt_h = np.diff(np.concatenate([[0.0], t_h]))
    at = [int(np.searchsorted(t_h, h - 1e-9)) for h in settings.horizons_h]
    source = None
    if model.fhs is not None:
        draws = premium_draws(model.fhs, broken)
        if draws.any():
            source = premium_source(pb, draws)
    sizes = [settings.chunk_paths] * (settings.n_paths // settings.chunk_paths)
    if settings.n_paths % settings.chunk_paths:
        sizes.append(settings.n_paths % settings.chunk_paths)

    def chunk(i: int) -> tuple[FloatArray, FloatArray, FloatArray]:
        rng = np.random.default_rng([settings.seed, int(broken), i])
        prem = None
        if model.fhs is not None:
            logf, rows = draw_fhs(model.fhs, dt_h, sizes[i], rng, broken)
            if source is not None:
                prem = Premiums(source, rows, np.sqrt(dt_h))
        else:
            assert model.gbm_vol is not None
            logf = draw_gbm(model.gbm_vol, dt_h, sizes[i], rng)
        values = value_paths(pb, logf, prem)
        return values.uni_mmr(), values.equity_usd, np.expm1(logf[:, at, :])

    if settings.threads > 1:
        with ThreadPoolExecutor(settings.threads) as pool:  # numpy releases the GIL
            parts = list(pool.map(chunk, range(len(sizes))))
    else:
        parts = [chunk(i) for i in range(len(sizes))]
    uni = np.concatenate([part[0] for part in parts])
    equity = np.concatenate([part[1] for part in parts])
    return uni, equity, np.concatenate([part[2] for part in parts])


def compute_outlook(
    snapshot: AccountSnapshot,
    market: MarketState,
    rules: RiskRules,
    history_1h: MarketHistory | None,
    settings: OutlookSettings,
    now_ms: int,
    history_1m: MarketHistory | None = None,
    episodes: Sequence[Episode] = (),
) -> Outlook:
    book = calibrated_book(snapshot, market, rules)
    if book.reasons:
        why = "; ".join(f"{r.item or r.path}: {r.problem}" for r in book.reasons[:3])
        return _unknown(settings, now_ms, rules, f"the account's own figures are unknown ({why})")
    pb = path_book(book)
    now = value_paths(pb, np.zeros((1, 1, book.n_assets)))
    uni_now = float(now.uni_mmr()[0, 0])
    equity_now = float(now.equity_usd[0, 0])
    if not (math.isfinite(equity_now) and math.isfinite(float(now.mm_usd[0, 0]))):
        return _unknown(settings, now_ms, rules, "the account's own figures are not finite")
    model = _model(book, history_1h, settings, rules)
    if isinstance(model, str):
        return _unknown(settings, now_ms, rules, model)
    t_h = step_times(max(settings.horizons_h), settings.first_hour_step_min, settings.step_h)
    liq, warn = rules.liquidation_uni_mmr, warning_level(rules)
    exposure = exposure_usd(book)
    at = [int(np.searchsorted(t_h, h - 1e-9)) for h in settings.horizons_h]

    def figures(broken: bool) -> tuple[HorizonOutlook, ...]:
        uni, equity, moves = _simulate(pb, model, settings, t_h, broken)
        return tuple(
            horizon_figures(
                h,
                t_h,
                uni,
                equity[:, s] - equity_now,
                uni_now,
                liq,
                warn,
                moves[:, j, :],
                exposure,
                book.assets,
            )
            for j, (h, s) in enumerate(zip(settings.horizons_h, at, strict=True))
        )

    words = model.words
    behind_h = (now_ms - model.last_ms) / 3_600_000
    if model.last_ms and behind_h > STALE_AFTER_H:
        words += f"; the history ends {behind_h:,.0f} h before now"
    horizons = figures(False)
    broken = figures(True) if settings.correlation_break and model.fhs is not None else ()
    replays = tuple(replay(pb, e, history_1m, history_1h, liq) for e in episodes)
    return Outlook(
        computed_at_ms=now_ms,
        model=settings.model,
        n_paths=settings.n_paths,
        half_life_h=settings.half_life_h,
        data_words=words,
        liquidation_uni_mmr=liq,
        warning_uni_mmr=warn,
        horizons=horizons,
        correlation_break=broken,
        replays=replays,
        vol_annualised=model.vol_annualised,
    )
