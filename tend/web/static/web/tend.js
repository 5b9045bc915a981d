// Tend page behaviour: plotly charts from json_script figures, and Bootstrap tooltips.
// Charts: <div class="chart" data-figure="figure-id"></div> + {{ figure|json_script:"figure-id" }}
// Sizes that depend on data come as data-width="42.5" (percent) and data-height="320" (pixels):
// the Content-Security-Policy refuses inline style attributes, but not styles set from here.
(function () {
  "use strict";

  function sizes(root) {
    root.querySelectorAll("[data-width]").forEach(function (el) {
      el.style.width = parseFloat(el.dataset.width) + "%";
    });
    root.querySelectorAll("[data-height]").forEach(function (el) {
      el.style.height = parseFloat(el.dataset.height) + "px";
    });
  }

  function drawCharts(root) {
    if (!window.Plotly) return;
    root.querySelectorAll("[data-figure]").forEach(function (el) {
      var source = document.getElementById(el.dataset.figure);
      if (!source) return;
      var fig = JSON.parse(source.textContent);
      window.Plotly.react(el, fig.data, fig.layout, fig.config || { displayModeBar: false, responsive: true });
    });
  }

  function tooltips(root) {
    if (!window.bootstrap) return;
    root.querySelectorAll('[data-bs-toggle="tooltip"]').forEach(function (el) {
      window.bootstrap.Tooltip.getOrCreateInstance(el);
    });
  }

  function enhance() {
    sizes(document);
    drawCharts(document);
    tooltips(document);
  }

  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSettle", enhance);
})();
