/* The screen's explanations as a styled bubble that opens on hover (mouse) and on tap or click
   (phones, tablets, a wall screen's one touch): every element with a title — a tile, a
   figure, a panel's heading, a table row. Opening it moves the title to data-tip while shown
   (no second, plain browser tooltip on top) and puts it back after, so screen readers keep the
   title. The bubble says the innermost title first (a compacted figure's full value), then
   its tile's or panel's explanation. Grids (their own tooltips), charts, buttons, links,
   inputs and pickers keep their own behaviour: a tap there does what it always did. */
(function () {
  const OWN = ".ag-root, .js-plotly-plot, .dash-dropdown, .dash-dropdown-content, input, " +
              "select, textarea";
  const CONTROL = "button, a, [role=tab], .tab, label";
  const STOP = ".tile, .acct-tile, .hero, .liab-tile, .panel-title, tr, th, td, section, button";
  const HOVER_MS = 250;
  let bubble = null, shownFor = null, pinned = false, timer = null, stashed = [], shownAt = 0;

  function tipOf(el) { return el.getAttribute("title") || el.dataset.tip || ""; }

  function chain(start) {
    const out = [];
    let el = start && start.closest("[title], [data-tip]");
    while (el && out.length < 2) {
      const text = tipOf(el).trim();
      if (text && !out.some((o) => o.text === text)) out.push({el: el, text: text});
      if (el.matches(STOP)) break;
      el = el.parentElement && el.parentElement.closest("[title], [data-tip]");
    }
    return out;
  }

  function ensure() {
    if (!bubble) {
      bubble = document.createElement("div");
      bubble.id = "tip-bubble";
      bubble.className = "tip-bubble";
      bubble.setAttribute("role", "tooltip");
      bubble.hidden = true;
      document.body.appendChild(bubble);
    }
    return bubble;
  }

  function restore() {
    for (const el of stashed) {
      if (!el.hasAttribute("title") && el.dataset.tip) el.setAttribute("title", el.dataset.tip);
    }
    stashed = [];
  }

  function hide() {
    clearTimeout(timer);
    if (bubble) bubble.hidden = true;
    if (shownFor) shownFor.removeAttribute("aria-describedby");
    shownFor = null;
    pinned = false;
    restore();
  }

  function show(anchor, parts, pin) {
    const b = ensure();
    restore();
    for (const p of parts) {
      p.el.dataset.tip = p.text;
      p.el.removeAttribute("title");
      stashed.push(p.el);
    }
    b.replaceChildren(...parts.map((p, i) => {
      const line = document.createElement(i === 0 && parts.length > 1 ? "strong" : "div");
      line.className = "tip-line";
      line.textContent = p.text;
      return line;
    }));
    b.hidden = false;
    shownAt = performance.now();
    shownFor = anchor;
    pinned = pin;
    anchor.setAttribute("aria-describedby", "tip-bubble");
    const r = anchor.getBoundingClientRect();
    const w = b.offsetWidth, h = b.offsetHeight, gap = 8;
    const vw = document.documentElement.clientWidth, vh = window.innerHeight;
    let top = r.bottom + gap;
    if (top + h > vh && r.top - gap - h >= 0) top = r.top - gap - h;
    top = Math.max(gap, Math.min(top, vh - h - gap));
    const left = Math.max(gap, Math.min(r.left + r.width / 2 - w / 2, vw - w - gap));
    b.style.top = `${Math.round(top)}px`;
    b.style.left = `${Math.round(left)}px`;
  }

  function target(e) {
    const t = e.target;
    if (!(t instanceof Element) || t.closest(OWN) || t.closest(".tip-bubble")) return null;
    return t;
  }

  document.addEventListener("pointerover", (e) => {
    if (e.pointerType !== "mouse" || pinned) return;
    const t = target(e);
    const parts = t ? chain(t) : [];
    if (!parts.length) return;
    const anchor = parts[0].el;
    if (anchor === shownFor) return;
    clearTimeout(timer);
    for (const p of parts) {  // no plain browser tooltip meanwhile
      p.el.dataset.tip = p.text;
      p.el.removeAttribute("title");
      if (!stashed.includes(p.el)) stashed.push(p.el);
    }
    timer = setTimeout(() => show(anchor, parts, false), HOVER_MS);
  }, true);

  document.addEventListener("pointerout", (e) => {
    if (e.pointerType !== "mouse" || pinned) return;
    const from = e.target instanceof Element ? e.target.closest("[data-tip]") : null;
    if (!from || (e.relatedTarget instanceof Node && from.contains(e.relatedTarget))) return;
    hide();
  }, true);

  document.addEventListener("click", (e) => {
    const t = target(e);
    if (!t || t.closest(CONTROL)) { if (pinned) hide(); return; }
    const parts = chain(t);
    if (!parts.length) { hide(); return; }
    if (pinned && shownFor === parts[0].el) { hide(); return; }
    clearTimeout(timer);
    show(parts[0].el, parts, true);
  });

  document.addEventListener("keydown", (e) => { if (e.key === "Escape") hide(); });
  // A shown bubble would drift from what it explains: scrolling closes it — not the scroll
  // that brought the element into view just before it opened, nor a pending hover.
  window.addEventListener("scroll", () => {
    if (bubble && !bubble.hidden && performance.now() - shownAt > 400) hide();
  }, true);
  window.addEventListener("resize", hide);
})();
