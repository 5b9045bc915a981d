// Customers list: row selection and the bulk-action bar (see customers/_bulk_bar.html).
// Works without this file too: every field shows and the server checks the selection.
(function () {
  "use strict";

  function bar() { return document.getElementById("bulk-form"); }
  function rows() { return Array.prototype.slice.call(document.querySelectorAll(".bulk-row")); }

  function showFields() {
    var form = bar();
    if (!form) return;
    var action = form.querySelector("[name='bulk-action']").value;
    form.querySelectorAll("[data-bulk-for]").forEach(function (el) {
      var wanted = el.dataset.bulkFor.split(" ").indexOf(action) !== -1;
      el.classList.toggle("d-none", !wanted);
    });
  }

  function count() {
    var form = bar();
    if (!form) return;
    var label = document.getElementById("bulk-count");
    var all = document.getElementById("bulk-all");
    var page = document.getElementById("bulk-page");
    var boxes = rows();
    var ticked = boxes.filter(function (b) { return b.checked; }).length;
    if (page) {
      page.checked = ticked > 0 && ticked === boxes.length;
      page.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    var text;
    if (all && all.checked) text = label.dataset.all;
    else if (ticked === 0) text = label.dataset.none;
    else if (ticked === 1) text = label.dataset.one;
    else text = label.dataset.many.replace("__COUNT__", ticked.toLocaleString());
    label.textContent = text;
    var any = ticked > 0 || (all && all.checked);
    document.getElementById("bulk-apply").disabled = !any;
    // Nothing selected: only the count and "select all" show, so the bar stays small.
    form.querySelectorAll(".bulk-controls, .bulk-note").forEach(function (el) {
      el.classList.toggle("d-none", !any && !form.querySelector(".is-invalid"));
    });
    document.querySelectorAll("tr[data-customer]").forEach(function (tr) {
      var box = tr.querySelector(".bulk-row");
      tr.classList.toggle("table-active", !!(box && box.checked));
    });
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!(target instanceof HTMLInputElement) && !(target instanceof HTMLSelectElement)) return;
    if (target.id === "bulk-page") {
      rows().forEach(function (b) { b.checked = target.checked; });
      if (!target.checked) {
        var all = document.getElementById("bulk-all");
        if (all) all.checked = false;
      }
    } else if (target.id === "bulk-all" && target.checked) {
      rows().forEach(function (b) { b.checked = true; });
    } else if (target.classList.contains("bulk-row") && !target.checked) {
      var everything = document.getElementById("bulk-all");
      if (everything) everything.checked = false;
    }
    if (target.name === "bulk-action") showFields();
    count();
  });

  function init() { showFields(); count(); }
  document.addEventListener("DOMContentLoaded", init);
  document.addEventListener("htmx:afterSettle", init);
})();
