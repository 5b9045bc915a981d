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

  // A file input's button and "no file" text come from the browser, in its language; the
  // page shows its own (<input type="file" data-chosen="id">) and names the chosen file here.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.dataset.chosen) return;
    var out = document.getElementById(input.dataset.chosen);
    if (!out) return;
    var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
    out.textContent = names.length ? names.join(", ") : out.dataset.empty;
  });

  document.addEventListener("DOMContentLoaded", enhance);
  document.addEventListener("htmx:afterSettle", enhance);
})();
