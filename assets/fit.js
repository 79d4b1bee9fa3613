/* Figures that must be read whole never outgrow their box: a tile's value, the hero's uniMMR,
   an account tile's uniMMR. Each is drawn at the size its CSS gives it and, only when it is
   wider than its box, scaled down to fit (never up). Redone when the text changes, the window
   is resized, or the fonts arrive. */
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

  function flush() {
    queued = false;
    const els = all ? [...document.querySelectorAll(FIT)] : [...pending];
    pending.clear();
    all = false;
    els.forEach(fit);
  }

  function queue(el) {
    if (el) pending.add(el); else all = true;
    if (!queued) { queued = true; requestAnimationFrame(flush); }
  }

  // Fitted in the observer's own callback (a microtask): before the browser paints, and
  // before anything else looks at the page.
  new MutationObserver((records) => {
    for (const r of records) {
      const node = r.target.nodeType === 3 ? r.target.parentElement : r.target;
      if (!(node instanceof Element)) continue;
      const own = node.closest(FIT);
      if (own) { queue(own); continue; }
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
  }).observe(document.documentElement, {
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
