// Revenue dashboard and KPI report: redraw charts that were hidden in a tab, keep heatmap
// numbers only where the cells are wide enough to hold them, print button.
(function () {
  "use strict";

  function fitHeatmaps(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-heatmap]").forEach(function (el) {
      if (!el.data || !el.data.length || !el.clientWidth) return;
      var cols = el.data[0].z.reduce(function (most, row) { return Math.max(most, row.length); }, 1);
      var cell = (el.clientWidth * 0.85) / cols;
      var template = cell < 22 ? "" : "%{z:.0f}";
      var size = cell < 30 ? 9 : 11;
      var trace = el.data[0];
      if (trace.texttemplate !== template || (trace.textfont || {}).size !== size) {
        window.Plotly.restyle(el, { texttemplate: [template], "textfont.size": [size] });
      }
    });
  }

  document.addEventListener("shown.bs.tab", function (event) {
    var target = document.querySelector(event.target.getAttribute("data-bs-target"));
    if (!target || !window.Plotly) return;
    target.querySelectorAll(".js-plotly-plot").forEach(function (el) {
      window.Plotly.Plots.resize(el);
    });
    fitHeatmaps(target);
  });

  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { fitHeatmaps(document); }, 150);
  });
  // After tend.js has drawn the charts (it does so on DOMContentLoaded).
  window.addEventListener("load", function () { fitHeatmaps(document); });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });
})();
