// Scorecard editor: show only the inputs that apply to each measure line (days and events
// for the measures that take them, thresholds for the thresholds mapping) and suggest a
// direction and thresholds when a measure is picked on an empty line. Without JavaScript
// every input shows and the server ignores those that do not apply.
(function () {
  "use strict";
  function setup() {
    var form = document.getElementById("scorecard-form");
    var data = document.getElementById("measure-choices");
    if (!form || !data) return;
    var choices = {};
    JSON.parse(data.textContent).forEach(function (m) { choices[m.name] = m; });
    form.querySelectorAll(".measure-row").forEach(function (row) {
      var pick = row.querySelector("select[name$='-measure']");
      var mapping = row.querySelector("select[name$='-mapping']");
      var direction = row.querySelector("select[name$='-direction']");
      var thresholds = row.querySelector("input[name$='-thresholds']");
      function show(name, visible) {
        var box = row.querySelector("[data-part='" + name + "']");
        if (box) box.hidden = !visible;
      }
      function refresh() {
        var m = choices[pick.value];
        var params = m ? m.params : [];
        show("days", !m || params.indexOf("days") >= 0);
        show("events", !m || params.indexOf("events") >= 0);
        show("thresholds", mapping.value === "thresholds");
      }
      pick.addEventListener("change", function () {
        var m = choices[pick.value];
        if (m && !thresholds.value) {
          direction.value = m.direction;
          thresholds.value = m.suggested;
        }
        refresh();
      });
      mapping.addEventListener("change", refresh);
      refresh();
    });
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", setup);
  else setup();
})();
