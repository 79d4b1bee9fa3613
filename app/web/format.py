"""Number formats for the desk screen: one format per unit, thousands separators, fixed decimals,
a true minus sign (−, as the grids' d3 formats print it) and +/− on PnL.

Fail closed, said one way everywhere: a figure pmdesk could not compute (NaN) reads as
``UNKNOWN_TEXT`` — never "nan", "$nan", "0.00" or "∞". ``None`` is a figure that does not exist
(not reported, no such move) and reads as "—" or the caller's word. A uniMMR ≤ 0 (adjusted
equity ≤ 0; −∞ when there is no MM to divide by) reads "≤ 0"; +∞ (no maintenance margin at
all) reads "∞". The grids print their numbers in the browser (assets/grids.js): ``grid_formatter``
is the same rule in JavaScript (``fmt_grid`` here), keyed on each row's ``unknown`` list
(``mark_unknown``); figures from ``COMPACT_FROM`` on read "1.90 M" with the full one beside.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from typing import Any

MINUS = "−"
NONE = "—"
UNKNOWN_TEXT = "unknown"
AT_MOST_ZERO = "≤ 0"
UNKNOWN_KEY = "unknown"  # a grid row's list of the fields whose value is unknown


def is_unknown(value: float | None) -> bool:
    """NaN: a figure that could not be computed (None is "does not exist", not unknown)."""
    return isinstance(value, float) and math.isnan(value)


def _minus(text: str) -> str:
    return text.replace("-", MINUS)


def fmt_uni_mmr(value: float | None) -> str:
    """uniMMR with two decimals; no maintenance margin at all reads as ∞; adjusted equity ≤ 0
    (uniMMR ≤ 0, −∞ when there is no MM to divide by) reads "≤ 0": the account is in
    liquidation and the ratio itself means nothing more; unknown reads "unknown"; None (not
    reported) "—"."""
    if value is None:
        return NONE
    if math.isnan(value):
        return UNKNOWN_TEXT
    if value == math.inf:
        return "∞"
    if value <= 0:
        return AT_MOST_ZERO
    return _minus(f"{value:,.2f}")


def uni_mmr_of(value: float | None, *, no_risk: bool, at_most_zero: bool) -> float:
    """A uniMMR read back from strict JSON (null for ±∞ and NaN) with the flags that tell them
    apart (``risk.serialize``: ``no_risk``, ``uni_mmr_at_most_zero``); otherwise unknown."""
    if value is not None:
        return float(value)
    if no_risk:
        return math.inf
    if at_most_zero:
        return -math.inf
    return math.nan


def fmt_num(value: float | None, decimals: int = 2) -> str:
    """A plain figure: ``d3.format(",.2f")`` in the grids."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return UNKNOWN_TEXT
    return _minus(f"{value + 0.0:,.{decimals}f}")  # + 0.0: −0.0 reads 0.00


def fmt_signed(value: float | None, decimals: int = 2) -> str:
    """A change or a PnL, always signed: ``d3.format("+,.2f")`` in the grids."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return UNKNOWN_TEXT
    return _minus(f"{value + 0.0:+,.{decimals}f}")  # + 0.0: −0.0 reads +0.00


def fmt_usd(value: float | None, decimals: int = 2) -> str:
    """A USD figure: "−$1,234.50" (``decimals`` places)."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return UNKNOWN_TEXT
    sign = MINUS if value < 0 else ""
    return f"{sign}${abs(value):,.{decimals}f}"


def fmt_signed_usd(value: float | None) -> str:
    """A difference in USD, always signed: +$1,234.50 / −$5.00."""
    if value is None:
        return NONE
    if not math.isfinite(value):
        return UNKNOWN_TEXT
    return f"{MINUS if value < 0 else '+'}${abs(value):,.2f}"


def fmt_share(fraction: float | None, decimals: int = 1) -> str:
    """A fraction of a whole as a percentage."""
    if fraction is None:
        return NONE
    if not math.isfinite(fraction):
        return UNKNOWN_TEXT
    return f"{100 * fraction:,.{decimals}f} %"


def fmt_rel(fraction: float | None, decimals: int = 1) -> str:
    """A relative difference (0.032 → "+3.2 %"), signed; None → "—"."""
    if fraction is None:
        return NONE
    if not math.isfinite(fraction):
        return UNKNOWN_TEXT
    return _minus(f"{100 * fraction:+,.{decimals}f} %")


def fmt_age(seconds: float) -> str:
    seconds = max(seconds, 0.0)
    if seconds < 120:
        return f"{seconds:.0f} s"
    if seconds < 7200:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def fmt_pct(value: float | None, *, none: str = "none") -> str:
    """A signed move in %, two decimals; None (no such move) reads as ``none``."""
    if value is None:
        return none
    if not math.isfinite(value):
        return UNKNOWN_TEXT
    sign = MINUS if value < 0 else "+"
    return f"{sign}{abs(value):,.2f} %"


def fmt_price(value: float | None) -> str:
    return NONE if value is None else fmt_num(value)


_NAN_WORD = re.compile(r"(?<![\w.])[-+]?nan(?![\w.])", re.IGNORECASE)


def plain_words(text: str) -> str:
    """Text from another layer (an unknown reason's problem) with a bare "nan" — Python's
    spelling of a missing number — said as "missing": the screen never shows "nan"."""
    return _NAN_WORD.sub("missing", text)


def mark_unknown(row: dict[str, Any], fields: Iterable[str]) -> dict[str, Any]:
    """``row`` with ``UNKNOWN_KEY`` listing those of ``fields`` whose value is missing (None, or
    NaN: then made None, as Dash's JSON sends it): the grid prints them as "unknown"
    (``grid_formatter``) instead of "—"."""
    unknown = [f for f in fields if _missing(row.get(f))]
    row.update(dict.fromkeys(unknown))
    row[UNKNOWN_KEY] = unknown
    return row


def _missing(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value))


UNAVAILABLE_KEY = "unavailable"  # a grid row's list of the fields whose source was not read
COMPACT_FROM = 1_000_000.0
"""From this size on a figure reads in the compact form ("1.90 M"), the full one in a tooltip:
a number cut off by its column is worse than none."""
_COMPACT = ((1e9, " B"), (1e6, " M"))
UNI_SPEC = "uni"
"""A grid column of uniMMR: two decimals, ≤ 0 reads "≤ 0", no margin (null) "∞"."""


def grid_formatter(spec: str, suffix: str = "") -> str:
    """The grids' value formatter (``pmdeskNum`` in assets/grids.js, the same rule as
    ``fmt_grid``): a value this row lists as unknown reads "unknown", as unavailable
    "unavailable", another null "—", a number as ``spec`` says (d3-format: ``,.2f``, ``+,.2f``,
    ``,.4f``, ``d``…) with a true minus, from ``COMPACT_FROM`` on compact."""
    return f"pmdeskNum(params, '{spec}', '{suffix}')"


def grid_full(spec: str, suffix: str = "") -> str:
    """The grids' tooltip for a compacted figure: the full figure (none below ``COMPACT_FROM``)."""
    return f"pmdeskFull(params, '{spec}', '{suffix}')"


_SPEC = re.compile(r"^(\+)?(,)?(?:\.(\d+))?(~)?([fd])$")


def fmt_spec(value: float, spec: str, suffix: str = "") -> str:
    """``value`` as the d3-format ``spec`` prints it (sign, grouping, precision, ``~`` for no
    trailing zeros), with a true minus: what a grid cell shows below ``COMPACT_FROM``."""
    m = _SPEC.match(spec)
    if m is None:
        raise ValueError(f"unsupported grid format {spec!r}")
    signed, grouped, digits, trim, kind = m.groups()
    places = 0 if kind == "d" else int(digits or 0)
    body = f"{abs(value):{',' if grouped else ''}.{places}f}"
    if trim and "." in body:  # "~": no trailing zeros
        body = body.rstrip("0").rstrip(".")
    # Exactly zero has no minus: −0.0 is an artefact of the arithmetic (−19,000 × 0 uPnL).
    sign = MINUS if value < 0 else ("+" if signed else "")
    return f"{sign}{body}{suffix}"


def fmt_compact(value: float, signed: bool = False, prefix: str = "", suffix: str = "") -> str:
    """A large figure in a few characters: 1,900,950.97 → "1.90 M" ("$1.90 M" with
    ``prefix="$"``, "+1.90 M" when ``signed``); only from ``COMPACT_FROM`` on."""
    for size, unit in _COMPACT:
        if abs(value) >= size:
            sign = MINUS if value < 0 else ("+" if signed else "")
            return f"{sign}{prefix}{abs(value) / size:,.2f}{unit}{suffix}"
    raise ValueError(f"{value} is below the compact form's {COMPACT_FROM:,.0f}")


def fmt_grid(value: float | None, spec: str, suffix: str = "") -> str:
    """What a grid cell shows for ``value`` (``pmdeskNum`` in assets/grids.js): "—" for None,
    the compact form from ``COMPACT_FROM`` on, else ``fmt_spec``."""
    if spec == UNI_SPEC:  # uniMMR: None is no margin at all (∞), ≤ 0 is "≤ 0"
        if value is None:
            return "∞"
        if value <= 0:
            return AT_MOST_ZERO
        spec = ",.2f"
    if value is None:
        return NONE
    if abs(value) >= COMPACT_FROM:
        return fmt_compact(value, signed=spec.startswith("+"), suffix=suffix)
    return fmt_spec(value, spec, suffix)


def fmt_usd_short(value: float | None) -> str:
    """A USD figure for a tile: ``fmt_usd`` below ``COMPACT_FROM``, "$1.90 M" above."""
    if value is not None and math.isfinite(value) and abs(value) >= COMPACT_FROM:
        return fmt_compact(value, prefix="$")
    return fmt_usd(value)


GRID_UNKNOWN_CELL = (
    f"params.value == null && ((params.data && params.data.{UNKNOWN_KEY}) || [])"
    ".includes(params.colDef.field)"
)
"""The grids' cell-class rule for an unknown value (styled like the UNKNOWN band)."""

NO_LIQUIDATION = "never"
"""What a liquidation move that does not exist reads, on every view: no uniform move down to
−100 % (every coin at zero) or up to the largest rally the root search tries liquidates."""


def fmt_move(value: float | None) -> str:
    """A liquidating move, signed, in %; None (no such move) reads ``NO_LIQUIDATION``; a move
    too small to print is "< 0.01 %", never a reassuring "+0.00 %"."""
    if value is not None and math.isfinite(value) and abs(value) < 0.005:
        return "< 0.01 %"
    return fmt_pct(value, none=NO_LIQUIDATION)


# ---- Added for the severity model and the UTC/local time toggle (add-only below) -------------

UTC_LABEL = "UTC"


def fmt_clock(ms: int, zone: str | None = None, offset_min: int | None = None) -> str:
    """A time of day, always labelled with its zone: "12:34:56 UTC" (the default), or in the
    viewer's own zone when ``zone`` (an IANA name such as "Europe/Paris", as the browser
    reports it) is given: "13:34:56 CET"; with only the browser's ``offset_min`` (minutes east
    of UTC) "13:34:56 UTC+01:00". An unknown zone name falls back to the offset, then UTC."""
    import datetime as _dt
    import zoneinfo

    at = _dt.datetime.fromtimestamp(ms / 1000, tz=_dt.UTC)
    if zone:
        try:
            local = at.astimezone(zoneinfo.ZoneInfo(zone))
        except (zoneinfo.ZoneInfoNotFoundError, ValueError):
            local = None
        if local is not None:
            name = local.tzname() or ""
            if not name or name[0] in "+-":  # zones without an abbreviation: "+04"
                name = _utc_offset(local.utcoffset())
            return f"{local:%H:%M:%S} {name}"
    if offset_min is not None and zone is not None:
        local = at + _dt.timedelta(minutes=offset_min)
        return f"{local:%H:%M:%S} {_utc_offset(_dt.timedelta(minutes=offset_min))}"
    return f"{at:%H:%M:%S} {UTC_LABEL}"


def _utc_offset(delta: object) -> str:
    import datetime as _dt

    if not isinstance(delta, _dt.timedelta) or not delta:
        return UTC_LABEL
    minutes = int(delta.total_seconds() // 60)
    sign = "+" if minutes >= 0 else MINUS
    return f"UTC{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"


def fmt_distance(pct: float) -> str:
    """An unsigned distance in % (a move's size): 2 decimals under 1 %, 1 under 100 %, else
    whole; anything under 0.01 % reads "< 0.01 %" — never a reassuring "0.00 %"."""
    x = abs(pct)
    if not math.isfinite(x):
        return UNKNOWN_TEXT
    if x < 0.01:
        return "< 0.01 %"
    if x < 1:
        return f"{x:.2f} %"
    if x < 100:
        return f"{x:.1f} %"
    return f"{x:,.0f} %"


def fmt_leverage(ratio: float | None) -> str:
    """A gross leverage: "45.7×" (one decimal under 100, whole above); None: "n/a"."""
    if ratio is None:
        return "n/a"
    if not math.isfinite(ratio):
        return UNKNOWN_TEXT
    return f"{ratio:.1f}×" if ratio < 100 else f"{ratio:,.0f}×"


def fmt_usd_whole(value: float | None) -> str:
    """A USD figure rounded to the dollar, for words: "$52,767"."""
    return fmt_usd(value, 0)
