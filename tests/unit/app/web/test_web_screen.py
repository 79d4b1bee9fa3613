"""What the desk screen prints, decided in Python: the bundled font covers every character the
screen can show; compact figures and the grids' number formats; one word for "no
liquidation"; what-if changes in their units, a bad line beside the good ones; the stress chart
past the level; times in the viewer's zone; CSV headers in ASCII with units."""

from __future__ import annotations

import math
from typing import Any

import pytest
from fontTools.ttLib import TTFont

from app.web.components import grid, num_col
from app.web.format import (
    NO_LIQUIDATION,
    UNI_SPEC,
    fmt_compact,
    fmt_grid,
    fmt_move,
    fmt_num,
    fmt_signed,
    fmt_spec,
    fmt_usd_short,
)
from app.web.layout import VIEWS, layout
from app.web.pages import history, stress
from app.web.pages.whatif import change_words, compare_rows, parse_change
from app.web.severity import liquidation_words
from app.web.times import datetime_text, offset_ms, zone_label
from risk.model import RiskRules
from risk.serialize import report_from_dict
from risk.whatif import FuturesTrade, Transfer, what_if_each
from scripts.build_font import FAMILY, used_characters
from tests.support.books import basis, market
from tests.support.paths import ROOT

FONTS = ROOT / "assets" / "fonts"
RULES = RiskRules()


def test_the_bundled_font_has_every_character_the_screen_shows() -> None:
    """Rebuild with ``python scripts/build_font.py`` when this fails: it names what is missing."""
    wanted = used_characters(ROOT)
    for face in ("pmdesk-sans.woff", "pmdesk-sans-bold.woff"):
        font = TTFont(FONTS / face)
        have = set(font.getBestCmap())
        missing = {c for c in wanted - have if not 0x2060 <= c <= 0x206F}  # invisible marks
        assert not missing, f"{face} lacks {' '.join(chr(c) for c in sorted(missing))}"
        assert {0x24C8, 0x1F50A} <= have  # Ⓢ and 🔊, which DejaVu lacks, drawn in
        assert font["name"].getDebugName(1) == FAMILY
        assert "Bitstream" in (font["name"].getDebugName(13) or "")  # the licence travels
    licence = (FONTS / "LICENSE-DejaVu.txt").read_text(encoding="utf-8")
    assert "Bitstream Vera" in licence and "Arev" in licence and "renamed" in licence
    css = (FONTS / "pmdesk-sans.css").read_text(encoding="utf-8")
    assert css.count("@font-face") == 2 and f'font-family: "{FAMILY}"' in css
    assert "font-weight: 700" in css and "U+24C8" in css and "U+1F50A" in css
    assert sum(p.stat().st_size for p in FONTS.glob("*.woff")) < 80_000


def test_compact_figures_and_the_grids_formats() -> None:
    # d3-format as the grids print it, with a true minus; "~" drops trailing zeros.
    assert fmt_spec(-1234.5, ",.2f") == "−1,234.50"
    assert fmt_spec(1234.5, "+,.2f") == "+1,234.50"
    assert fmt_spec(-0.0, "+,.2f") == "+0.00" and fmt_spec(-0.0, ",.2f") == "0.00"  # no "−0"
    assert fmt_spec(-19_000.0, "+,.4~f") == "−19,000" and fmt_spec(0.5, "+,.4~f") == "+0.5"
    assert fmt_spec(4.0, "d") == "4" and fmt_spec(12.5, ",.2f", " %") == "12.50 %"
    # From 1,000,000 on: the compact form (the full figure is in the cell's tooltip).
    assert fmt_grid(1_900_950.97, ",.2f") == "1.90 M"
    assert fmt_grid(-2_345_678_901.0, "+,.2f") == "−2.35 B"
    assert fmt_grid(999_999.99, ",.2f") == "999,999.99" and fmt_grid(None, ",.2f") == "—"
    # uniMMR in a grid (the scenarios): as fmt_uni_mmr says it, never a negative ratio.
    assert [fmt_grid(v, UNI_SPEC) for v in (-93.31, 0.0, None, 25.97)] == [
        "≤ 0",
        "≤ 0",
        "∞",
        "25.97",
    ]
    assert fmt_compact(1_995_585.14, signed=True) == "+2.00 M"
    assert fmt_usd_short(2_574_658.23) == "$2.57 M" and fmt_usd_short(-12.5) == "−$12.50"
    with pytest.raises(ValueError):
        fmt_compact(12.0)


def test_one_word_for_no_liquidation_on_every_view() -> None:
    assert NO_LIQUIDATION == "never" and fmt_move(None) == "never"
    assert fmt_move(-0.001) == "< 0.01 %" and fmt_move(-1.4567) == "−1.46 %"
    assert liquidation_words("NORMAL", 9.0, None, None, RULES) == "↓ never   ↑ never"
    assert liquidation_words("NORMAL", 9.0, -9.62, None, RULES) == "↓ −9.62 %   ↑ never"


def test_a_bad_what_if_line_leaves_the_good_ones() -> None:
    good, bad = Transfer("USDT", 10_000.0), FuturesTrade("UM", "NOSUCHUSDT", 1.0)
    result, errors = what_if_each(basis(), market(), RULES, [good, bad])
    assert errors == (None, "unknown USDⓈ-M symbol NOSUCHUSDT")
    rows = {r["figure"]: r for r in compare_rows(result)}
    # basis: 104,500 / 400 = 261.25; +10,000 USDT → 286.25 (the good line applied alone).
    assert (rows["uniMMR"]["before"], rows["uniMMR"]["after"]) == ("261.25", "286.25")
    assert rows["Adjusted equity"]["change"] == "+$10,000.00"


def test_every_what_if_change_has_its_unit() -> None:
    assert change_words("Liquidation ↓", ("−1.46 %", -1.46), ("−2.83 %", -2.83)) == (
        "1.37 pp further"
    )
    assert change_words("Liquidation ↑", ("+9.00 %", 9.0), ("+5.00 %", 5.0)) == "4.00 pp nearer"
    assert change_words("Liquidation ↓", ("never", None), ("−5.00 %", -5.0)) == "was never"
    assert change_words("Margin usage", ("20.0 %", 20.0), ("25.5 %", 25.5)) == "+5.50 pp"
    assert change_words("uniMMR", ("4.30", 4.30), ("2.93", 2.93)) == "−1.37 (−31.9 %)"
    assert change_words("Top-up", ("$0.00", 0.0), ("$12.00", 12.0)) == "+$12.00"
    assert change_words("uniMMR band", ("NORMAL", None), ("REDUCE ONLY", None)) == (
        "NORMAL → REDUCE ONLY"
    )
    assert change_words("uniMMR", ("unknown", math.nan), ("2.00", 2.0)) == "unknown"
    with pytest.raises(ValueError):
        parse_change("UM", "BTCUSDT", 0.0)


def _liquidated_detail() -> dict[str, Any]:
    """A report in liquidation, in its stored form (``risk.serialize``), the figures that matter."""
    return {
        "state": "OK",
        "status": "LIQUIDATION",
        "uni_mmr": 1.02,
        "stress": {"shock_pct": [-1, 0, 1], "uni_mmr": [0.9, 1.02, 1.1]},
        "liquidation_shock": {"down_pct": 0.0, "up_pct": 0.0},
    }


def test_stress_past_the_level_says_so_in_words() -> None:
    fig = stress.stress_figure(report_from_dict(_liquidated_detail()), RULES, "r")
    notes = [a["text"] for a in fig["layout"]["annotations"]]
    # (1.05 − 1.02) / 1.05 = 2.857 % past the level; never "liquidates at +0.00 %".
    assert [n.strip() for n in notes] == ["IN LIQUIDATION: 2.9 % past Binance's level"]
    assert fig["layout"]["shapes"] == []
    calm = {**_liquidated_detail(), "status": "NORMAL", "uni_mmr": 3.0}
    calm["liquidation_shock"] = {"down_pct": -12.345, "up_pct": None}
    notes = [
        a["text"].strip()
        for a in stress.stress_figure(report_from_dict(calm), RULES, "r")["layout"]["annotations"]
    ]
    assert notes == ["liquidates at −12.35 %"]


TOKYO = {"local": True, "zone": "Asia/Tokyo", "offset_min": 540}
T0 = 1_767_225_600_000  # 2026-01-01 00:00 UTC


def test_times_in_the_viewers_zone() -> None:
    assert datetime_text(T0) == "2026-01-01 00:00:00 UTC"
    assert datetime_text(T0, TOKYO) == "2026-01-01 09:00:00 JST"
    assert (offset_ms(T0, TOKYO), zone_label(T0, TOKYO), offset_ms(T0, None)) == (
        9 * 3_600_000,
        "JST",
        0,
    )
    paris = {"local": True, "zone": "Europe/Paris", "offset_min": 60}
    summer = T0 + 180 * 86_400_000  # DST: each point at its own offset
    assert offset_ms(T0, paris) == 3_600_000 and offset_ms(summer, paris) == 7_200_000
    fig = {
        "data": [{"x": [T0, None, T0 + 1000], "hovertemplate": "%{x} UTC: %{y}"}],
        "layout": {"xaxis": {"title": {"text": "UTC"}}, "shapes": [
            {"xref": "x", "x0": T0, "x1": T0 + 1000}, {"xref": "paper", "x0": 0, "x1": 1}
        ]},
    }  # fmt: skip
    shown = history.in_zone(fig, TOKYO, T0)
    nine = 9 * 3_600_000
    assert shown["data"][0]["x"] == [T0 + nine, None, T0 + 1000 + nine]
    assert shown["data"][0]["hovertemplate"] == "%{x} JST: %{y}"
    assert shown["layout"]["xaxis"]["title"]["text"] == "JST"
    assert shown["layout"]["shapes"][0]["x0"] == T0 + nine
    assert shown["layout"]["shapes"][1] == {"xref": "paper", "x0": 0, "x1": 1}
    assert history.in_zone(fig, None, T0) is fig


def _grids(node: Any) -> list[Any]:
    found = []
    if type(node).__name__ == "AgGrid":
        found.append(node)
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children]:
        if child is not None and not isinstance(child, str | int | float):
            found.extend(_grids(child))
    return found


def test_every_grid_exports_numbers_under_ascii_headers() -> None:
    grids = _grids(layout(["a"], 15.0))
    assert len(grids) >= 13
    for g in grids:
        params = g.csvExportParams
        assert params["processCellCallback"] == {"function": "pmdeskCsvCell(params)"}
        assert params["processHeaderCallback"] == {"function": "pmdeskCsvHeader(params)"}
        names = [c["context"]["csv"] for c in g.columnDefs]
        assert all(n.isascii() and " " not in n for n in names), (g.id, names)
        assert len(set(names)) == len(names), g.id
        for c in g.columnDefs:
            if c.get("type") == "rightAligned" and "valueFormatter" in c:
                assert c["useValueFormatterForExport"] is False, (g.id, c["field"])
    assert len(VIEWS) == 11
    with pytest.raises(ValueError, match="ASCII"):
        grid("x", [num_col("a", "A", "", csv="à")], "x")


def test_a_zero_never_reads_minus_zero() -> None:
    # −19,000 contracts × a zero price move is −0.0: the screen says 0, as the grids do.
    assert (fmt_num(-0.0), fmt_signed(-0.0)) == ("0.00", "+0.00")
    assert (fmt_num(-0.001), fmt_signed(-0.004)) == ("−0.00", "−0.00")  # a real loss, rounded


def test_every_view_has_its_key() -> None:
    # A key for every view, each named in its tab's tooltip (a view added past the keys fails).
    from app.web.layout import SHORTCUT_KEYS, _tab

    assert len(set(SHORTCUT_KEYS)) == len(SHORTCUT_KEYS) >= len(VIEWS)
    for i, (page, label) in enumerate(VIEWS):
        span = getattr(_tab(page, label, i), "label")  # noqa: B009 (Dash props are dynamic)
        assert span.title == f"{label} — keyboard shortcut: {SHORTCUT_KEYS[i]}"
