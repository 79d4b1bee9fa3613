/* pmdesk's grids (app/web/components.py: grid, num_col): numbers printed one way, columns as
   wide as what they hold, CSV exports with numbers in them.

   - pmdeskNum(params, spec, suffix): a figure as format.py prints it ("−1,234.50", "+12.50 %");
     1,000,000 and more in the compact form ("1.90 M", "−2.35 B") with the full figure in the
     cell's tooltip (pmdeskFull); a null the row lists as unknown reads "unknown", as
     unavailable "unavailable", else "—".
   - Column widths: every column at least as wide as its header and its widest cell (text
     columns that wrap keep their own minimum instead; an empty grid: its headers on one
     line), the spare width shared out; a grid
     wider than its panel scrolls inside itself (phones), never cut. Refitted when the rows,
     the columns, the grid's width or the fonts change. A fitted grid carries data-fitted.
   - CSV: the raw values (numbers as numbers, times as ISO 8601 UTC) under ASCII headers with
     units (the column's context.csv). */
window.dashAgGridFunctions = Object.assign({}, window.dashAgGridFunctions, (function () {
  const MINUS = "\u2212";
  const COMPACT = [[1e9, " B"], [1e6, " M"]];
  const formats = {};

  function parse(spec) {
    if (!formats[spec]) {
      // d3-format's subset pmdesk uses: sign, grouping, precision, "~" (no trailing zeros).
      const m = /^(\+)?(,)?(?:\.(\d+))?(~)?([fd])$/.exec(spec) || [];
      const digits = m[5] === "d" ? 0 : Number(m[3] || 0);
      formats[spec] = {
        signed: !!m[1],
        fmt: new Intl.NumberFormat("en-US", {
          minimumFractionDigits: m[4] ? 0 : digits, maximumFractionDigits: digits,
          useGrouping: !!m[2],
        }),
      };
    }
    return formats[spec];
  }

  function plain(value, spec, suffix) {
    const f = parse(spec);
    const sign = value < 0 ? MINUS : (f.signed ? "+" : "");
    return sign + f.fmt.format(Math.abs(value)) + (suffix || "");
  }

  function compact(value, spec, suffix) {
    const f = parse(spec);
    for (const [size, unit] of COMPACT) {
      if (Math.abs(value) >= size) {
        const sign = value < 0 ? MINUS : (f.signed ? "+" : "");
        return sign + parse(",.2f").fmt.format(Math.abs(value) / size) + unit + (suffix || "");
      }
    }
    return null;
  }

  function listed(params, key) {
    const data = params.data || {};
    return (data[key] || []).includes(params.colDef.field);
  }

  let ruler = null;
  function headerWord(el, text) {
    /* The widest word of a header, in the header's font: how narrow it may wrap. */
    const label = el.querySelector(".ag-header-cell-text");
    if (!label) return 0;
    ruler = ruler || document.createElement("canvas").getContext("2d");
    const s = getComputedStyle(label);
    ruler.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    return Math.max(0, ...String(text || "").split(/\s+/).map((w) => ruler.measureText(w).width));
  }

  function headerText(el, text) {
    /* A whole header on one line, in the header's font (the grid's own font if none is drawn). */
    const label = el.querySelector(".ag-header-cell-text") || el;
    ruler = ruler || document.createElement("canvas").getContext("2d");
    const s = getComputedStyle(label);
    ruler.font = `${s.fontWeight} ${s.fontSize} ${s.fontFamily}`;
    return ruler.measureText(String(text || "")).width;
  }

  function laidOut(el) {
    /* Headers drawn and a body with a width: only then do measurements mean anything. */
    const view = el.querySelector(".ag-center-cols-viewport");
    return !!(view && view.clientWidth > 0 && el.querySelector(".ag-header-cell-text"));
  }

  let fitting = false;
  const MAX_WAIT_FRAMES = 120;
  function fitted(api, el, frames) {
    if (fitting || !el || !api || api.isDestroyed() || el.offsetWidth === 0) return;  // hidden
    if (!laidOut(el)) {  // mid-redraw (Dash replaced the columns): try again next frame
      if ((frames || 0) < MAX_WAIT_FRAMES) {
        requestAnimationFrame(() => fitted(api, document.getElementById(el.id), (frames || 0) + 1));
      }
      return;
    }
    fitting = true;
    try { fit(api, el); } finally { fitting = false; }
    el.dataset.fitted = "1";
    el.dataset.fitWidth = String(el.offsetWidth);
  }

  function fit(api, el) {
    const cols = api.getAllDisplayedColumns();
    const wraps = (c) => !!c.getColDef().wrapText;
    const sized = cols.filter((c) => !wraps(c));
    if (api.getDisplayedRowCount() === 0) {
      // No rows: nothing for autosize to measure; every header whole on one line, the spare
      // width shared out (a phone's grid scrolls inside itself instead).
      const head = el.querySelector(".ag-header-cell");
      const s = head ? getComputedStyle(head) : null;
      const pad = s ? parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) + 24 : 40;
      api.setColumnWidths(cols.map((c) => ({
        key: c.getColId(),
        newWidth: Math.max(c.getMinWidth(), Math.ceil(headerText(el, c.getColDef().headerName) + pad)),
      })));
      const room = (el.querySelector(".ag-center-cols-viewport") || el).clientWidth - 1;
      if (cols.reduce((sum, c) => sum + c.getActualWidth(), 0) < room) {
        api.sizeColumnsToFit({
          columnLimits: cols.map((c) => ({key: c.getColId(), minWidth: c.getActualWidth()})),
        });
      }
      return;
    }
    const view = el.querySelector(".ag-center-cols-viewport") || el;
    const room = view.clientWidth - 1;
    const preferred = (c) => c.getColDef().width || 200;
    api.setColumnWidths(cols.filter(wraps).map((c) => ({key: c.getColId(), newWidth: preferred(c)})));
    if (sized.length) api.autoSizeColumns(sized.map((c) => c.getColId()), false);
    let total = cols.reduce((sum, c) => sum + c.getActualWidth(), 0);
    if (total > room && sized.length) {
      // Too wide with one-line headers: let the headers wrap, the cells still whole.
      const whole = new Map(sized.map((c) => [c.getColId(), c.getActualWidth()]));
      api.autoSizeColumns(sized.map((c) => c.getColId()), true);
      api.setColumnWidths(sized.map((c) => {
        const head = el.querySelector(`.ag-header-cell[col-id="${CSS.escape(c.getColId())}"]`);
        const s = head ? getComputedStyle(head) : null;
        const pad = s ? parseFloat(s.paddingLeft) + parseFloat(s.paddingRight) + 20 : 0;
        const word = head ? headerWord(head, c.getColDef().headerName) + pad : 0;
        return {key: c.getColId(),
                newWidth: Math.min(whole.get(c.getColId()), Math.max(c.getActualWidth(), word))};
      }));
      total = cols.reduce((sum, c) => sum + c.getActualWidth(), 0);
    }
    const wrapping = cols.filter(wraps);
    if (total > room && wrapping.length) {
      // Still too wide: the wrapping columns give up width, down to their minimum.
      const spare = wrapping.reduce((sum, c) => sum + c.getActualWidth() - c.getMinWidth(), 0);
      const cut = Math.min(1, (total - room) / Math.max(spare, 1));
      api.setColumnWidths(wrapping.map((c) => ({
        key: c.getColId(),
        newWidth: Math.floor(c.getActualWidth() - cut * (c.getActualWidth() - c.getMinWidth())),
      })));
      total = cols.reduce((sum, c) => sum + c.getActualWidth(), 0);
    }
    if (total < room) {
      // The spare width: to the wrapping columns when there are any, else to every column.
      const anyWrap = cols.some(wraps);
      api.sizeColumnsToFit({
        columnLimits: cols.map((c) => ({
          key: c.getColId(),
          minWidth: c.getActualWidth(),
          maxWidth: anyWrap && !wraps(c) ? c.getActualWidth() : undefined,
        })),
      });
    }
    api.resetRowHeights();
  }

  const grids = new Map();  // id -> api
  function fitAll() { grids.forEach((api, id) => fitted(api, document.getElementById(id))); }

  function watch(el) {
    if (grids.has(el.id) || !window.dash_ag_grid) return;
    grids.set(el.id, null);
    window.dash_ag_grid.getApiAsync(el.id).then((api) => {
      grids.set(el.id, api);
      const refit = () => {
        const now = document.getElementById(el.id);
        if (now && now.offsetWidth > 0) delete now.dataset.fitted;  // until fitted again
        requestAnimationFrame(() => { if (!fitting) fitted(api, document.getElementById(el.id)); });
      };
      api.addEventListener("firstDataRendered", refit);
      api.addEventListener("rowDataUpdated", refit);
      // New columnDefs or column state set by Dash: default widths again.
      api.addEventListener("newColumnsLoaded", refit);
      api.addEventListener("columnEverythingChanged", refit);
      api.addEventListener("gridSizeChanged", () => {  // its width, not its height, matters
        const now = document.getElementById(el.id);
        if (now && String(now.offsetWidth) !== now.dataset.fitWidth) refit();
      });
      refit();
    }).catch(() => grids.delete(el.id));
  }

  let queued = false;
  function scan() {
    queued = false;
    document.querySelectorAll(".grid[id]").forEach((el) => {
      if (grids.get(el.id) && grids.get(el.id).isDestroyed()) grids.delete(el.id);
      watch(el);
    });
  }
  new MutationObserver(() => {
    if (!queued) { queued = true; requestAnimationFrame(scan); }
  }).observe(document.documentElement, {childList: true, subtree: true});
  if (document.fonts) {
    document.fonts.addEventListener("loadingdone", fitAll);
    document.fonts.ready.then(fitAll);
  }

  return {
    pmdeskNum: function (params, spec, suffix) {
      const v = params.value;
      if (v == null || (typeof v === "number" && isNaN(v))) {
        if (listed(params, "unavailable")) return "unavailable";
        if (listed(params, "unknown")) return "unknown";
        return spec === "uni" ? "\u221e" : "\u2014";  // uniMMR: null is no margin at all
      }
      if (spec === "uni") {  // uniMMR as format.fmt_uni_mmr: adjusted equity <= 0 reads "≤ 0"
        return v <= 0 ? "\u2264 0" : (compact(v, ",.2f", "") || plain(v, ",.2f", ""));
      }
      return compact(v, spec, suffix) || plain(v, spec, suffix);
    },
    pmdeskFull: function (params, spec, suffix) {
      const v = params.value;
      if (v == null || typeof v !== "number" || Math.abs(v) < 1e6) return undefined;
      return plain(v, spec === "uni" ? ",.2f" : spec, suffix);
    },
    pmdeskCsvHeader: function (params) {
      const def = params.column.getColDef();
      return (def.context && def.context.csv) || def.field;
    },
    pmdeskCsvCell: function (params) {
      const def = params.column.getColDef();
      const v = params.value;
      if (v == null) return "";
      if (def.context && def.context.time && typeof v === "number") {
        return new Date(v).toISOString().replace(".000Z", "Z");
      }
      return v;
    },
    pmdeskRefit: fitAll,
  };
})());
