// The customer form: add trait rows, and keep the picked "referred by" customer in view.
// Everything works without this file: an empty trait row is always there, and a picked
// result is a plain radio button in the form.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  ready(function () {
    var add = document.getElementById("trait-add");
    var rows = document.getElementById("trait-rows");
    var template = document.getElementById("trait-row-template");
    if (add && rows && template) {
      add.addEventListener("click", function () {
        var row = template.content.firstElementChild.cloneNode(true);
        rows.appendChild(row);
        var input = row.querySelector("input");
        if (input) input.focus();
      });
    }

    var search = document.getElementById("referrer-search");
    var choices = document.getElementById("referrer-choices");
    var results = document.getElementById("referrer-results");
    if (search) {
      // Enter in the search box searches; it must not submit the whole customer form.
      search.addEventListener("keydown", function (event) {
        if (event.key === "Enter") event.preventDefault();
      });
    }
    if (choices && results) {
      results.addEventListener("change", function (event) {
        var picked = event.target.closest(".picker-result");
        if (!picked) return;
        choices.querySelectorAll(".picker-result").forEach(function (old) { old.remove(); });
        choices.appendChild(picked);
        results.replaceChildren();
        if (search) search.value = "";
      });
    }
  });
})();
