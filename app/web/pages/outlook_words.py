"""The Outlook in words (issue 20), one way for every surface: the Outlook view, the Overview's
probability and the alert rule. Pure.

A probability is said as odds a person can weigh ("1 in 40 over the next 24 h"), with the
percentage and its Monte-Carlo standard error beside it; a probability no simulated path
reached is "less than 1 in N" for N paths, never "0 %"; an unknown one is "unknown", in words,
never a number."""

from __future__ import annotations

import math

from app.web.format import UNKNOWN_TEXT, fmt_age
from risk.outlook_result import Driver, FanPoint, Outlook

DEFAULT_STALE_AFTER_S = 300.0  # an outlook older than this is shown STALE ([outlook] stale_after_s)


def _sig2(x: float) -> int:
    """x rounded to two significant figures (40.3 → 40, 2702 → 2700)."""
    if x < 100:
        return round(x)
    digits = math.floor(math.log10(x)) - 1
    return int(round(x / 10**digits) * 10**digits)


def odds_words(p: float, n_paths: int) -> str:
    """A probability as odds: "1 in 40"; none of ``n_paths`` paths: "less than 1 in 10,000";
    half or more: "55 in 100"; unknown: "unknown"."""
    if not math.isfinite(p) or p < 0 or p > 1:
        return UNKNOWN_TEXT
    if p == 0:
        return f"less than 1 in {max(n_paths, 1):,}"
    if p >= 1:
        return "every simulated path"
    if p >= 0.5:
        per100 = min(round(100 * p), 99)
        return f"{per100} in 100"
    return f"1 in {_sig2(1 / p):,}"


def pct_words(p: float, stderr: float) -> str:
    """The percentage and its Monte-Carlo standard error: "2.5 % ± 0.16 %"; never "0 %" nor
    "100 % ± 0.00 %" (at 0 or 1 the binomial error says nothing)."""
    if not math.isfinite(p):
        return UNKNOWN_TEXT
    if p == 0:
        return "no path touched it"
    if p >= 1:
        return "every path touched it"  # not "100 % ± 0.00 %": the error is no smaller than 1/n
    decimals = 2 if p < 0.01 else 1
    err = stderr if math.isfinite(stderr) else math.nan
    err_text = UNKNOWN_TEXT if math.isnan(err) else f"{100 * err:.{decimals + 1}f} %"
    return f"{100 * p:.{decimals}f} % ± {err_text} (1 s.e.)"


def chance_error_words(p: float, stderr: float, paths: str) -> str:
    """How sure a chance is, for the basis lines: "a Monte-Carlo s.e. of 0.16 points"; at 0 or 1
    the binomial error says nothing, so the words say what the paths did instead."""
    if not math.isfinite(p) or not math.isfinite(stderr):
        return f"its Monte-Carlo s.e. is {UNKNOWN_TEXT}"
    if p == 0:
        return f"none of the {paths} touched the level"
    if p >= 1:
        return f"all of the {paths} touched the level"
    return f"a Monte-Carlo s.e. of {100 * stderr:.2f} points"


def fan_stderr_words(fan: tuple[FanPoint, ...]) -> str:
    """The band edges' largest Monte-Carlo standard error, in uniMMR: "the 5 % and 95 % edges
    have a Monte-Carlo s.e. of at most 0.012"; unknown when none was computed."""
    errs = [e for p in fan for e in (p.q05_stderr, p.q95_stderr) if not math.isnan(e)]
    if not errs:
        return f"the band edges' Monte-Carlo s.e. is {UNKNOWN_TEXT}"
    worst = max(errs)
    if math.isinf(worst):
        return "a band edge's Monte-Carlo s.e. is unbounded (paths with no maintenance margin)"
    return f"the 5 % and 95 % edges have a Monte-Carlo s.e. of at most {worst:.3f} (uniMMR)"


def share_words(driver: Driver) -> str:
    """The driver's share and its error: 62 % ± 4 % of the tail's loss (one s.e.)."""
    err = driver.share_stderr
    if not math.isfinite(err):
        spread = f" ± {UNKNOWN_TEXT}"
    else:  # a lone driver is the whole loss: no error to state
        spread = "" if err == 0 else f" ± {100 * err:.0f} %"
    return f"{100 * driver.share:.0f} %{spread} of the tail's loss"


def horizon_words(hours: float) -> str:
    if math.isclose(hours, 1.0):
        return "the next hour"
    return f"the next {hours:g} h"


def unknown_words(outlook: Outlook | None) -> str | None:
    """Why the outlook has no figures, in words; None when it has them."""
    if outlook is None:
        return "no outlook computed yet"
    if outlook.unknown:
        return f"outlook unknown: {outlook.unknown}"
    if not outlook.horizons:
        return "outlook unknown: no horizon was computed"
    return None


def age_words(computed_at_ms: int, now_ms: int, stale_after_s: float) -> tuple[str, bool]:
    """(how old, stale?): "42 s old" or "STALE: 12 min old"."""
    age_s = (now_ms - computed_at_ms) / 1000
    stale = age_s > stale_after_s
    return (f"STALE: {fmt_age(age_s)} old" if stale else f"{fmt_age(age_s)} old"), stale


def method_words(outlook: Outlook) -> str:
    """What the figures rest on: the model, the paths, the half-life and the data window."""
    model = (
        "independent GBMs at the given volatilities (reference model)"
        if outlook.model == "gbm"
        else "filtered historical simulation (joint returns rescaled to today's volatility)"
    )
    data = outlook.data_words or "not stated"
    half_life = "" if "half-life" in data else f"EWMA half-life {outlook.half_life_h:g} h; "
    return f"{model}; {outlook.n_paths:,} paths; {half_life}data: {data}"
