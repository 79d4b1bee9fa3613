"""Screenshots of every view at the desk, laptop, tablet and phone sizes, with what the layout
probes find (cut text, a page wider than the screen), against a running pmdesk:

    .venv/bin/pmdesk demo --port 0 --preset directional --preset borrower --preset basis \
        --preset coinm_hedger --preset near_liquidation &
    .venv/bin/python -m scripts.screens http://127.0.0.1:PORT/ [--sizes 1920x1080,390x844]

PNGs go to artifacts/screens/ (gitignored); the findings are printed, one line each.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

from tests.support.layout_probes import READY, VIEWS, cut_text, grids_scrolling, page_width

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "artifacts" / "screens"
SIZES = {"1920x1080": (1920, 1080), "1366x768": (1366, 768), "768x1024": (768, 1024),
         "390x844": (390, 844)}  # fmt: skip
SETTLED = "!document.querySelector('[data-dash-is-loading=\"true\"]')"


def show(page: Page, url: str, view: str, account: str) -> None:
    page.goto(f"{url}?account={account}&view={view}")
    page.wait_for_function(f"({READY[view]}) && {SETTLED}", timeout=30_000)
    if view == "whatif":
        page.locator("#whatif-name").fill("BTCUSDT")
        page.locator("#whatif-amount").fill("0.5")
        page.locator("#whatif-add").click()
        page.wait_for_function("document.querySelector('#whatif-list li:not(.muted)')")
        page.locator("#whatif-name").fill("NOSUCHUSDT")
        page.locator("#whatif-amount").fill("1")
        page.locator("#whatif-add").click()
        page.wait_for_function(f"{SETTLED}")
    page.wait_for_function("document.fonts.status === 'loaded'")
    page.wait_for_function(
        "!document.querySelector('.view:not([hidden]) .grid:not([data-fitted])')", timeout=10_000
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("url")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--views", default=",".join(VIEWS))
    args = parser.parse_args()
    url = args.url if args.url.endswith("/") else args.url + "/"
    OUT.mkdir(parents=True, exist_ok=True)
    problems = 0
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        for size in args.sizes.split(","):
            w, h = SIZES[size]
            context = browser.new_context(viewport={"width": w, "height": h}, color_scheme="dark")
            page = context.new_page()
            for view in args.views.split(","):
                show(page, url, view, VIEWS[view])
                page.screenshot(path=str(OUT / f"{view}-{size}.png"), full_page=True)
                width = page_width(page)
                if width["scroll"] > width["inner"]:
                    problems += 1
                    print(f"{size} {view}: page {width['scroll']} px wide in {width['inner']}")
                    for where in width["wide"]:
                        print(f"    sticks out: {where}")
                if w >= 1366:
                    for g in grids_scrolling(page):
                        problems += 1
                        print(f"{size} {view}: grid scrolls sideways: {g}")
                for c in cut_text(page):
                    problems += 1
                    print(f"{size} {view}: {c['why']}: {c['where']} {c['text']!r} "
                          f"{c['scroll']} in {c['client']}")  # fmt: skip
            context.close()
        browser.close()
    print(f"{problems} problem(s); screenshots in {OUT}")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
