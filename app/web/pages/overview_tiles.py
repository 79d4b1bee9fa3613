"""The overview's account tiles (one per account, worst first, coloured and worded by its
severity) and the header's note on the other accounts. Pure but for the tile's HTML."""

from __future__ import annotations

from dataclasses import dataclass

from dash import html

from app.store.store import StoredReport
from app.web.figures import gross_leverage, leverage_text
from app.web.format import (
    fmt_age,
    fmt_uni_mmr,
)
from app.web.severity import (
    OK,
    RANK,
    WARNING,
    Severity,
    SeverityBands,
    liquidation_words,
    severity,
)
from risk.model import PositionMargin, RiskReport, RiskRules

MANY_ACCOUNTS = 9
"""From this many accounts on, the tiles are a compact grid (``tiles_class``): name, level word,
uniMMR, liquidation distance and age, each big enough to read from across the room; the reason
and the leverage are the hero's (a click on the tile shows that account there)."""


def tiles_class(count: int) -> str:
    """The account tiles' container class for ``count`` tiles."""
    compact = " account-tiles-compact" if count >= MANY_ACCOUNTS else ""
    return "account-tiles" + compact


def nbsp(text: str) -> str:
    """A figure and its "%" never split over two lines."""
    return text.replace(" %", "\u00a0%")


@dataclass(frozen=True)
class AccountTile:
    account: str
    uni_mmr: str
    icon: str
    status: str  # the level in a word or two: "CRITICAL", "STALE — LIQUIDATION"
    band_class: str
    age: str
    reason: str = ""  # the first reason in words: "1.8 % from liquidation ↓"
    distance: str = "—"  # "↓ −1.75 %   ↑ never" or "IN LIQUIDATION: …"
    leverage: str = "n/a"  # gross leverage
    brief: str = ""  # level and reason on one line (the tile's tooltip)


def account_tiles(
    latest: dict[str, StoredReport | None],
    now_ms: int,
    stale_after_s: float,
    rules: RiskRules | None = None,
    bands: SeverityBands | None = None,
    details: dict[str, RiskReport | None] | None = None,
) -> list[AccountTile]:
    """One tile per account, worst first (``view.RANK``: no data, UNKNOWN, in liquidation,
    critical, stale, warning, normal; then the lower uniMMR), coloured and worded by its
    severity. A stale account keeps its last figures, greyed, and says STALE."""
    rules = rules or RiskRules()
    details = details or {}
    sev = {
        name: severity(r, now_ms, stale_after_s=stale_after_s, rules=rules, bands=bands)
        for name, r in latest.items()
    }
    out = []
    for name in sorted(latest, key=lambda n: sev[n].order_key(n)):
        r, s = latest[name], sev[name]
        if r is None:
            out.append(AccountTile(name, "—", s.icon, s.short, s.css, "—", brief=s.brief))
            continue
        distance = liquidation_words(
            r.status,
            r.uni_mmr,
            r.liquidation_down_pct,
            r.liquidation_up_pct,
            rules,
            r.unknown,
        )
        reason = tile_reason(s)
        out.append(
            AccountTile(
                account=name,
                uni_mmr=fmt_uni_mmr(r.uni_mmr),
                icon=s.icon,
                status=s.short,
                band_class=s.css,
                age=fmt_age((now_ms - r.data_time_ms) / 1000),
                reason=reason,
                distance=distance,
                leverage=leverage_text(
                    gross_leverage(_positions(details.get(name)), r.adjusted_equity_usd)
                ),
                brief=s.brief,
            )
        )
    return out


def _positions(detail: RiskReport | None) -> tuple[PositionMargin, ...]:
    return () if detail is None else detail.positions


def tile_reason(s: Severity) -> str:
    """The reason a tile spells out under its level: the first one not already on the tile (its
    ↓/↑ line says the distance and IN LIQUIDATION; its name line says STALE's age)."""
    shown = s.last if s.last is not None else s
    if shown.level == OK:
        return ""
    for source, words in zip(shown.sources, shown.reasons, strict=True):
        if source not in ("distance", "stale") and not words.startswith("IN LIQUIDATION"):
            return words
    return ""


def tile_button(t: AccountTile, picked: str) -> html.Button:
    past = t.distance.startswith("IN LIQUIDATION")
    return html.Button(
        [
            html.Span(t.account, className="acct-name"),
            html.Span(t.uni_mmr, className="acct-uni"),
            html.Span(f"{t.icon}\u00a0{t.status}", className="acct-status"),
            html.Span(t.reason, className="acct-reason"),
            html.Span(nbsp(t.distance if past else f"liq {t.distance}"), className="acct-liq"),
            html.Span(f"lev {t.leverage}", className="acct-lev"),
            html.Span(t.age, className="acct-age"),
        ],
        id={"type": "account-tile", "account": t.account},
        className=f"acct-tile {t.band_class}" + (" acct-picked" if t.account == picked else ""),
        title=f"{t.account}: {t.brief}. Click to show this account.",
        n_clicks=0,
    )


def others_note(sev: dict[str, Severity], shown: str) -> tuple[str, str, str | None]:
    """(text, css class, account) for the header: the worst other account when it is at least
    a warning, so a screen on one account still sees another in trouble."""
    others = sorted(
        (n for n in sev if n != shown and sev[n].rank >= RANK[WARNING]),
        key=lambda n: sev[n].order_key(n),
    )
    if not others:
        return "", "top-others", None
    first = sev[others[0]]
    more = f" +{len(others) - 1} more" if len(others) > 1 else ""
    return f"{first.icon} {others[0]}: {first.short}{more}", f"top-others {first.css}", others[0]
