// Revenue dashboard and KPI report: redraw charts that were hidden in a tab, keep heatmap
// numbers only where the cells are wide enough to hold them, print button.
(function () {
  "use strict";

  function fit(el) {
    if (!el.data || !el.data.length || !el.clientWidth) return;
    var cols = el.data[0].z.reduce(function (most, row) { return Math.max(most, row.length); }, 1);
    // The plot area (without axis labels and colour bar), as plotly laid it out.
    var size = el._fullLayout && el._fullLayout._size;
    var cell = (size ? size.w : el.clientWidth * 0.6) / cols;
    // The figure's own text ("87*" marks a month still running) when it has one.
    var full = el.data[0].text ? "%{text}" : "%{z:.0f}";
    var template = cell < 20 ? "" : full;
    var font = cell < 30 ? 9 : 11;
    var trace = el.data[0];
    if (trace.texttemplate !== template || (trace.textfont || {}).size !== font) {
      window.Plotly.restyle(el, { texttemplate: [template], "textfont.size": [font] });
    }
  }

  // tend.js draws the charts; plotly finishes asynchronously, so look again until every
  // heatmap is drawn, then refit after each redraw (window resize, tab shown).
  function watch(tries) {
    var waiting = false;
    document.querySelectorAll("[data-heatmap]").forEach(function (el) {
      if (el.dataset.fitted) return;
      if (!el.on || !el._fullLayout) { waiting = true; return; }
      el.dataset.fitted = "1";
      el.on("plotly_afterplot", function () { fit(el); });
      fit(el);
    });
    if (waiting && tries > 0) setTimeout(function () { watch(tries - 1); }, 100);
  }

  document.addEventListener("shown.bs.tab", function (event) {
    var target = document.querySelector(event.target.getAttribute("data-bs-target"));
    if (!target || !window.Plotly) return;
    target.querySelectorAll(".js-plotly-plot").forEach(function (el) {
      window.Plotly.Plots.resize(el);
    });
  });

  window.addEventListener("load", function () { if (window.Plotly) watch(50); });
  document.addEventListener("htmx:afterSettle", function () { if (window.Plotly) watch(50); });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
