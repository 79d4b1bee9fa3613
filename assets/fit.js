/* Figures that must be read whole never outgrow their box: a tile's value, the hero's uniMMR,
   an account tile's uniMMR. Each is drawn at the size its CSS gives it and, only when it is
   wider than its box, scaled down to fit (never up); the kiosk's uniMMR also when its hero's
   lines are taller than the hero. Redone when the text changes, the window is resized, or the
   fonts arrive. */
(function () {
  const FIT = ".tile-value, .hero-value, .acct-uni, .acct-status, .liab-value";
  const pending = new Set();
  let queued = false, all = false;

  function fit(el) {
    el.style.fontSize = "";
    if (!el.isConnected || el.clientWidth === 0) return;
    const over = el.scrollWidth - el.clientWidth;
    if (over <= 1) return;
    const size = parseFloat(getComputedStyle(el).fontSize);
    el.style.fontSize = `${Math.floor(size * (el.clientWidth / el.scrollWidth) * 0.98 * 10) / 10}px`;
    for (let i = 0; i < 4 && el.scrollWidth > el.clientWidth + 1; i++) {
      el.style.fontSize = `${parseFloat(el.style.fontSize) * 0.95}px`;
    }
  }

  // The kiosk's hero is the room left between the tiles: its lines are sized to it (CSS, in
  // cqh) but each has a readable floor, so on a short hero (alert lines open, the liquidation
  // band's extra line, the Outlook line) they can add up to more than it holds. Then the big
  // uniMMR gives up to 15 % of its size (its line height is 1: a pixel of font is a pixel of
  // height); if that is not enough, the lines said elsewhere too give way, least needed first
  // (the Outlook's note, the Outlook line: its alert and view; the as-of time: the Data age
  // tile; the "uniMMR" label), and then the uniMMR shrinks further, never below its CSS floor.
  // Nothing in the hero is cut.
  const DROP = [".overview-outlook-note", ".overview-outlook", ".hero-asof", ".hero-label"];
  const VALUE_FLOOR_REM = 2.5;

  function excess(hero) {
    const s = getComputedStyle(hero);
    const room = hero.clientHeight - parseFloat(s.paddingTop) - parseFloat(s.paddingBottom);
    const lines = [...hero.children].filter((c) => c.getBoundingClientRect().height > 0);
    if (!lines.length) return 0;
    const top = Math.min(...lines.map((c) => c.getBoundingClientRect().top -
                                          parseFloat(getComputedStyle(c).marginTop)));
    const bottom = Math.max(...lines.map((c) => c.getBoundingClientRect().bottom +
                                             parseFloat(getComputedStyle(c).marginBottom)));
    return bottom - top - room;
  }

  function fitHeight(value) {
    const hero = value.closest(".kiosk .hero");
    if (!hero || hero.clientHeight === 0) return;
    hero.querySelectorAll(".fit-dropped").forEach((e) => e.classList.remove("fit-dropped"));
    const first = excess(hero);  // a little over: the uniMMR gives up to 15 % of its size first
    if (first > 0.5) {
      const size = parseFloat(getComputedStyle(value).fontSize);
      value.style.fontSize = `${Math.floor(size - Math.min(first + 1, 0.15 * size))}px`;
    }
    // An Outlook that is unknown or stale is a warning, not a figure said elsewhere: it stays.
    const outlook = hero.querySelector(".overview-outlook");
    const warns = !!outlook && (outlook.classList.contains("outlook-unknown") ||
                                outlook.classList.contains("outlook-stale"));
    for (const sel of DROP) {
      if (excess(hero) <= 0.5) return;
      if (warns && sel.startsWith(".overview-outlook")) continue;
      const line = hero.querySelector(sel);
      if (line) line.classList.add("fit-dropped");
    }
    const floor = VALUE_FLOOR_REM * parseFloat(getComputedStyle(document.documentElement).fontSize);
    for (let i = 0; i < 3; i++) {
      const over = excess(hero);
      if (over <= 0.5) return;
      const size = parseFloat(getComputedStyle(value).fontSize);
      value.style.fontSize = `${Math.max(floor, Math.floor(size - over - 1))}px`;
    }
  }

  function fitAll(el) {
    fit(el);
    if (el.classList.contains("hero-value")) fitHeight(el);
  }

  function flush() {
    queued = false;
    const els = all ? [...document.querySelectorAll(FIT)] : [...pending];
    pending.clear();
    all = false;
    els.forEach(fitAll);
    observer.takeRecords();  // the hero's lines dropped and restored here: not a change to fit
  }

  function queue(el) {
    if (el) pending.add(el); else all = true;
    if (!queued) { queued = true; requestAnimationFrame(flush); }
  }

  // Fitted in the observer's own callback (a microtask): before the browser paints, and
  // before anything else looks at the page.
  const observer = new MutationObserver((records) => {
    for (const r of records) {
      const node = r.target.nodeType === 3 ? r.target.parentElement : r.target;
      if (!(node instanceof Element)) continue;
      const own = node.closest(FIT);
      if (own) { queue(own); continue; }
      const hero = node.closest(".kiosk .hero");  // another of its lines changed: refit the uniMMR
      if (hero) { const v = hero.querySelector(".hero-value"); if (v) queue(v); }
      if (r.type === "attributes") {
        if (r.attributeName === "hidden" || node.id === "page") {
          node.querySelectorAll(FIT).forEach((el) => queue(el));
        }
        continue;
      }
      r.addedNodes.forEach((n) => {
        if (n instanceof Element) n.querySelectorAll(FIT).forEach((el) => queue(el));
        if (n instanceof Element && n.matches(FIT)) queue(n);
      });
    }
    if (pending.size || all) flush();
  });
  observer.observe(document.documentElement, {
    childList: true, subtree: true, characterData: true,
    attributes: true, attributeFilter: ["hidden", "class"],
  });
  window.addEventListener("resize", () => queue(null));
  if (document.fonts) {
    document.fonts.addEventListener("loadingdone", () => queue(null));
    document.fonts.ready.then(() => queue(null));
  }
  window.pmdeskFitText = () => queue(null);
})();
