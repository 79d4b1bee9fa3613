"""Writes assets/fonts/: "pmdesk Sans", the one typeface of the screen, in two weights.

DejaVu Sans (Book and Bold, /usr/share/fonts/truetype/dejavu/, Debian's fonts-dejavu-core)
subset to the characters pmdesk can show — printable ASCII, Latin-1, general punctuation, and
every other character written in the code the screen's words come from (app/, risk/,
connectors/, assets/) — plus two glyphs DejaVu lacks, drawn here in its own style:

- U+24C8 Ⓢ (Binance's "USDⓈ-M"): the ring of DejaVu's own ① with its S inside, scaled;
- U+1F50A 🔊 (the alarm's "enable sound" button): a speaker with three sound waves.

Renamed "pmdesk Sans" as the Bitstream Vera and Arev licences ask of a modified font; their text
(from the font's own name table) goes to assets/fonts/LICENSE-DejaVu.txt, and
assets/fonts/pmdesk-sans.css declares both faces with the exact ``unicode-range`` they cover.
Written as WOFF (zlib: no extra compressor needed); timestamps kept, so a rebuild from the same
DejaVu is byte-identical. Run after adding a character the font lacks (the unit test
``tests/unit/app/web/test_web_screen.py`` says which):

    .venv/bin/python scripts/build_font.py
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from pathlib import Path

from fontTools.pens.recordingPen import DecomposingRecordingPen
from fontTools.pens.transformPen import TransformPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.subset import Options, Subsetter
from fontTools.ttLib import TTFont

ROOT = Path(__file__).resolve().parents[1]
SOURCE = Path("/usr/share/fonts/truetype/dejavu")
OUT = ROOT / "assets" / "fonts"
FAMILY = "pmdesk Sans"
FACES = {  # file stem: (DejaVu file, CSS weight, style name)
    "pmdesk-sans": ("DejaVuSans.ttf", 400, "Regular"),
    "pmdesk-sans-bold": ("DejaVuSans-Bold.ttf", 700, "Bold"),
}
SCANNED = ("app", "risk", "connectors", "assets")
SCANNED_SUFFIXES = (".py", ".css", ".js")
CIRCLED_S, SPEAKER = 0x24C8, 0x1F50A
DRAWN = (CIRCLED_S, SPEAKER)


def used_characters(root: Path = ROOT) -> set[int]:
    """Every code point the screen may show: printable ASCII, Latin-1, general punctuation,
    and every non-ASCII character in the code the screen's words come from."""
    wanted = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    for folder in SCANNED:
        for path in sorted((root / folder).rglob("*")):
            if path.suffix in SCANNED_SUFFIXES and path.is_file():
                wanted |= {ord(c) for c in path.read_text(encoding="utf-8") if ord(c) > 0x7E}
    return {c for c in wanted if c >= 0x20 and not 0x7F <= c < 0xA0}


def _ring_and_s(
    font: TTFont,
) -> tuple[list[tuple[str, tuple[object, ...]]], DecomposingRecordingPen]:
    """The outline of ①'s ring (its two largest contours) and of S."""
    glyphs = font.getGlyphSet()
    one = DecomposingRecordingPen(glyphs)
    glyphs["uni2460"].draw(one)
    contours: list[list[tuple[str, tuple[object, ...]]]] = [[]]
    for op in one.value:
        contours[-1].append(op)
        if op[0] in ("closePath", "endPath"):
            contours.append([])

    def extent(contour: list[tuple[str, tuple[object, ...]]]) -> float:
        xs = [float(p[0]) for _, pts in contour for p in pts if isinstance(p, tuple)]
        return max(xs) - min(xs) if xs else 0.0

    ring = sorted((c for c in contours if c), key=extent, reverse=True)[:2]
    s = DecomposingRecordingPen(glyphs)
    glyphs["S"].draw(s)
    return [op for c in ring for op in c], s


def circled_s(font: TTFont) -> tuple[object, int]:
    """Ⓢ: ①'s ring around a smaller S, centred where ①'s digit sits."""
    ring, s = _ring_and_s(font)
    advance = font["hmtx"]["uni2460"][0]
    box = font["glyf"]["uni2460"]
    cx, cy = (box.xMin + box.xMax) / 2, (box.yMin + box.yMax) / 2
    pen = TTGlyphPen(font.getGlyphSet())
    for op, args in ring:
        getattr(pen, op)(*args)
    sbox = font["glyf"]["S"]
    scale = 0.56 * (box.yMax - box.yMin) / (sbox.yMax - sbox.yMin)
    sx, sy = (sbox.xMin + sbox.xMax) / 2, (sbox.yMin + sbox.yMax) / 2
    s.replay(TransformPen(pen, (scale, 0, 0, scale, cx - scale * sx, cy - scale * sy)))
    return pen.glyph(), advance


def _arc(cx: float, cy: float, r: float, a0: float, a1: float, n: int) -> list[tuple[int, int]]:
    return [
        (round(cx + r * math.cos(a)), round(cy + r * math.sin(a)))
        for a in (a0 + (a1 - a0) * i / n for i in range(n + 1))
    ]


def speaker(font: TTFont, bold: bool) -> tuple[object, int]:
    """🔊: a speaker (box and cone) and three sound waves, as tall as a capital letter."""
    cap = font["glyf"]["H"].yMax  # the capital height
    stroke = 190 if bold else 140
    mid = cap / 2
    pen = TTGlyphPen(None)
    body = [(120, mid - 0.2 * cap), (120, mid + 0.2 * cap), (420, mid + 0.2 * cap),
            (800, mid + 0.5 * cap), (800, mid - 0.5 * cap), (420, mid - 0.2 * cap)]  # fmt: skip
    pen.moveTo((round(body[0][0]), round(body[0][1])))
    for x, y in body[1:]:
        pen.lineTo((round(x), round(y)))
    pen.closePath()
    spread = math.radians(45)
    for k, r in enumerate((0.26 * cap, 0.45 * cap, 0.64 * cap)):
        outer = _arc(800, mid, r + stroke / 2 + 120, -spread, spread, 8 + 2 * k)
        inner = _arc(800, mid, r - stroke / 2 + 120, spread, -spread, 8 + 2 * k)
        points = outer + inner
        pen.moveTo(points[0])
        for p in points[1:]:
            pen.lineTo(p)
        pen.closePath()
    return pen.glyph(), round(800 + 0.64 * cap + stroke / 2 + 120 + 140)


def add_glyph(font: TTFont, name: str, code: int, glyph: object, advance: int) -> None:
    font["glyf"][name] = glyph
    glyph.recalcBounds(font["glyf"])  # type: ignore[attr-defined]
    font["hmtx"][name] = (advance, getattr(glyph, "xMin", 0))
    order = font.getGlyphOrder()
    if name not in order:
        font.setGlyphOrder([*order, name])
    for table in font["cmap"].tables:
        if table.isUnicode() and (code <= 0xFFFF or table.format == 12):
            table.cmap[code] = name
    if code > 0xFFFF and not any(t.format == 12 for t in font["cmap"].tables):
        from fontTools.ttLib.tables._c_m_a_p import cmap_format_12

        wide = cmap_format_12(12)
        wide.platformID, wide.platEncID, wide.language = 3, 10, 0
        wide.cmap = dict(font.getBestCmap())
        wide.cmap[code] = name
        font["cmap"].tables.append(wide)


def rename(font: TTFont, style: str) -> None:
    """Family "pmdesk Sans" everywhere a name says it; the copyright and licence kept."""
    postscript = f"pmdeskSans-{style}"
    names = {1: FAMILY, 2: style, 3: f"{postscript};subset of DejaVu Sans", 4: f"{FAMILY} {style}",
             6: postscript, 16: FAMILY, 17: style}  # fmt: skip
    table = font["name"]
    table.names = [n for n in table.names if n.nameID not in names]
    for name_id, text in names.items():
        table.setName(text, name_id, 3, 1, 0x409)
        table.setName(text, name_id, 1, 0, 0)


def ranges(codes: Iterable[int]) -> str:
    """A CSS ``unicode-range`` for exactly these code points."""
    out: list[str] = []
    run: list[int] = []
    for c in sorted(codes):
        if run and c == run[-1] + 1:
            run.append(c)
            continue
        if run:
            out.append(f"U+{run[0]:X}" + (f"-{run[-1]:X}" if len(run) > 1 else ""))
        run = [c]
    if run:
        out.append(f"U+{run[0]:X}" + (f"-{run[-1]:X}" if len(run) > 1 else ""))
    return ", ".join(out)


def build(stem: str, source: str, style: str, wanted: set[int]) -> set[int]:
    font = TTFont(SOURCE / source, recalcTimestamp=False)
    present = set(font.getBestCmap())
    options = Options()
    options.drop_tables += ["FFTM"]
    options.hinting = False  # large type on screens: the outlines are enough
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    options.layout_features = ["kern", "liga", "tnum", "lnum", "ccmp", "locl", "mark", "mkmk"]
    original = TTFont(SOURCE / source, recalcTimestamp=False)
    subsetter = Subsetter(options)
    subsetter.populate(unicodes=sorted(wanted & present))
    subsetter.subset(font)
    add_glyph(font, "uni24C8", CIRCLED_S, *circled_s(original))
    add_glyph(font, "u1F50A", SPEAKER, *speaker(original, style == "Bold"))
    rename(font, style)
    font.flavor = "woff"
    font.save(OUT / f"{stem}.woff")
    return set(font.getBestCmap())


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    wanted = used_characters()
    base = set(range(0x20, 0x7F)) | set(range(0xA0, 0x100)) | set(range(0x2000, 0x2070))
    dejavu = set(TTFont(SOURCE / "DejaVuSans.ttf").getBestCmap())
    missing = sorted(wanted - base - dejavu - set(DRAWN))
    faces = []
    covered: set[int] = set()
    for stem, (source, weight, style) in FACES.items():
        covered = build(stem, source, style, wanted)
        faces.append(
            f'@font-face {{\n  font-family: "{FAMILY}";\n  font-style: normal;\n'
            f"  font-weight: {weight};\n  font-display: block;\n"
            f'  src: url("{stem}.woff") format("woff");\n'
            f"  unicode-range: {ranges(covered)};\n}}\n"
        )
    (OUT / "pmdesk-sans.css").write_text(
        "/* Written by scripts/build_font.py: DejaVu Sans subset to what pmdesk shows, renamed "
        "(see LICENSE-DejaVu.txt). */\n" + "\n".join(faces),
        encoding="utf-8",
    )
    licence = TTFont(SOURCE / "DejaVuSans.ttf")["name"].getDebugName(13) or ""
    (OUT / "LICENSE-DejaVu.txt").write_text(
        f"{FAMILY} (assets/fonts/pmdesk-sans*.woff) is DejaVu Sans and DejaVu Sans Bold from\n"
        "Debian's fonts-dejavu-core, subset to the characters pmdesk shows, with U+24C8 and\n"
        "U+1F50A added and renamed as the licences below ask of a modified font; built by\n"
        "scripts/build_font.py. The licence, as the fonts carry it:\n\n" + licence.strip() + "\n",
        encoding="utf-8",
    )
    for stem in FACES:
        size = (OUT / f"{stem}.woff").stat().st_size
        print(f"wrote {OUT / stem}.woff ({size:,} bytes, {len(covered)} characters)")
    if missing:
        print("not in DejaVu Sans, left to the browser:", " ".join(chr(c) for c in missing))


if __name__ == "__main__":
    main()
