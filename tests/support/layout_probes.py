"""What a page looks like, measured in the browser: text that is cut (wider or taller than its
box, or ending in "…" inside a grid cell), a page wider than the screen, tiles below the fold,
glyphs the bundled font lacks. Shared by the layout tests and ``scripts/screens.py``."""

from __future__ import annotations

from typing import Any

from playwright.sync_api import Page

CUT_TEXT_JS = """
() => {
  const cut = [];
  const seen = new Set();
  const skip = "svg, .js-plotly-plot, .dash-dropdown-content, script, style, noscript, " +
               "[hidden], .ag-hidden, .ag-tooltip, .tip-bubble, .ag-aria-description-container";
  const shown = (el) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return false;
    const s = getComputedStyle(el);
    return s.visibility !== "hidden" && s.display !== "none" && Number(s.opacity) !== 0;
  };
  const describe = (el) => {
    const id = el.id ? "#" + el.id : "";
    const cls = typeof el.className === "string" && el.className
      ? "." + el.className.trim().split(/\\s+/).slice(0, 3).join(".") : "";
    const col = el.closest("[col-id]");
    const row = el.closest("[row-id]");
    const grid = el.closest(".grid");
    const where = grid ? ` in #${grid.id}` +
      (row ? ` row ${row.getAttribute("row-id")}` : "") +
      (col ? ` col ${col.getAttribute("col-id")}` : "") : "";
    return el.tagName.toLowerCase() + id + cls + where;
  };
  // An ancestor that clips (overflow hidden or clip, not a scroller) and leaves part of the
  // text outside it. A grid's own viewports scroll sideways on a phone: its cells are measured
  // themselves (a header label clipped by its cell included), and a desk-sized grid must not
  // scroll at all (grids_scrolling).
  const clippedBy = (el) => {
    const r = el.getBoundingClientRect();
    const cell = el.closest(".ag-cell, .ag-header-cell");  // a grid's text: up to its cell
    for (let a = el.parentElement; a && a !== document.body; a = a.parentElement) {
      if (a.closest(".ag-root-wrapper") && !(cell && cell.contains(a))) continue;
      const s = getComputedStyle(a);
      const clips = (v) => v === "hidden" || v === "clip";
      if (!clips(s.overflowX) && !clips(s.overflowY)) continue;
      const c = a.getBoundingClientRect();
      if ((clips(s.overflowX) && (r.left < c.left - 1 || r.right > c.right + 1)) ||
          (clips(s.overflowY) && (r.top < c.top - 1 || r.bottom > c.bottom + 1))) return a;
    }
    return null;
  };
  for (const el of document.querySelectorAll("#page *")) {
    if (el.closest(skip)) continue;
    const own = [...el.childNodes].some((n) => n.nodeType === 3 && n.textContent.trim());
    if (!own || !shown(el)) continue;
    // Inline text is measured on the box that holds it.
    let box = el;
    while (box && box !== document.body && getComputedStyle(box).display === "inline") {
      box = box.parentElement;
    }
    if (!box || seen.has(box)) continue;
    seen.add(box);
    const s = getComputedStyle(box);
    const text = box.innerText.trim();
    const wide = box.scrollWidth > box.clientWidth + 1;
    const clipsY = ["hidden", "clip"].includes(s.overflowY);
    const tall = clipsY && box.scrollHeight > box.clientHeight + 2;
    const dots = !!box.closest(".ag-cell, .ag-header-cell") && text.endsWith("…");
    const hidden = clippedBy(box);
    if (wide || tall || dots || hidden) {
      cut.push({
        where: describe(box),
        text: text.slice(0, 80),
        scroll: [box.scrollWidth, box.scrollHeight],
        client: [box.clientWidth, box.clientHeight],
        why: wide ? "wider than its box" : tall ? "taller than its box" :
             dots ? "ends in …" : `cut off by ${describe(hidden)}`,
      });
    }
  }
  return cut;
}
"""

PAGE_WIDTH_JS = """
() => ({scroll: document.documentElement.scrollWidth, inner: window.innerWidth,
        wide: [...document.querySelectorAll("#page *")].filter((el) => {
          const r = el.getBoundingClientRect();
          return r.width > 0 && r.right > window.innerWidth + 1 &&
                 !el.closest(".ag-center-cols-viewport, .ag-header-viewport, .table-scroll, " +
                             ".ag-body-horizontal-scroll, .ag-center-cols-container, " +
                             ".ag-header-container, .ag-floating-top, .ag-floating-bottom, " +
                             ".ag-sticky-top, .ag-sticky-bottom, .tabs-scroll");
        }).slice(0, 12).map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
          (typeof el.className === "string" && el.className ? "." +
           el.className.trim().split(/\\s+/).slice(0, 2).join(".") : "") +
          " right=" + Math.round(el.getBoundingClientRect().right))})
"""

BELOW_FOLD_JS = """
(selector) => [...document.querySelectorAll(selector)].filter((el) => {
  const r = el.getBoundingClientRect();
  return r.width > 0 && (r.bottom > window.innerHeight + 1 || r.right > window.innerWidth + 1);
}).map((el) => (el.id || el.className) + " bottom=" + Math.round(el.getBoundingClientRect().bottom))
"""


def cut_text(page: Page) -> list[dict[str, Any]]:
    """Every visible piece of text wider (or, where clipped, taller) than its box, and every
    grid cell ending in "…"."""
    found: list[dict[str, Any]] = page.evaluate(CUT_TEXT_JS)
    return found


def page_width(page: Page) -> dict[str, Any]:
    """The document's scroll width, the window's width, and what sticks out past it."""
    found: dict[str, Any] = page.evaluate(PAGE_WIDTH_JS)
    return found


def below_fold(page: Page, selector: str) -> list[str]:
    """Elements matching ``selector`` not wholly inside the window."""
    found: list[str] = page.evaluate(BELOW_FOLD_JS, selector)
    return found


SIDEWAYS_JS = """
() => [...document.querySelectorAll(".view:not([hidden]) .grid")].filter((g) => {
  const v = g.querySelector(".ag-center-cols-viewport");
  return g.offsetWidth > 0 && v && v.scrollWidth > v.clientWidth + 1;
}).map((g) => g.id + " " + g.querySelector(".ag-center-cols-viewport").scrollWidth + " in " +
              g.querySelector(".ag-center-cols-viewport").clientWidth)
"""


def grids_scrolling(page: Page) -> list[str]:
    """The shown grids too wide for their panel (they scroll sideways: columns out of view)."""
    found: list[str] = page.evaluate(SIDEWAYS_JS)
    return found


VIEWS = {  # view: the account that fills it best (five presets running)
    "overview": "sim-directional",
    "hedges": "sim-coinm_hedger",
    "positions": "sim-coinm_hedger",
    "stress": "sim-near_liquidation",
    "history": "sim-directional",
    "reconcile": "sim-borrower",
    "whatif": "sim-directional",
    "classic": "sim-coinm_hedger",
    "alerts": "sim-near_liquidation",
    "liabilities": "sim-borrower",
    "outlook": "sim-near_liquidation",
}
READY = {  # a view is drawn when this holds
    "overview": "(document.querySelector('#uni-mmr')?.innerText || '—') !== '—'",
    "hedges": "document.querySelector('#hedge-grid .ag-row')",
    "positions": "document.querySelector('#balances-grid .ag-row')",
    "stress": "document.querySelector('#scenario-grid .ag-row')",
    "history": "document.querySelector('#history-chart .js-plotly-plot')?.data?.length > 0",
    "reconcile": "document.querySelector('#recon-figures tr')",
    "whatif": "document.querySelector('#whatif-grid .ag-row')",
    "classic": "document.querySelector('#classic-grid .ag-row')",
    "alerts": "document.querySelector('#alerts-grid .ag-row')",
    "liabilities": "document.querySelector('#liab-tiles .tile')",
    "outlook": "(document.querySelector('#outlook-headline')?.innerText || '') !== ''",
}
