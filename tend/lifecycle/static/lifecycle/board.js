// Drag a card onto another column to move the customer there by hand. The card's own "Move…"
// form does the same without JavaScript; this posts that form's data for the dropped column.
(function () {
  "use strict";
  var board = document.getElementById("board");
  if (!board || board.dataset.canMove !== "1") return;
  var dragged = null;

  board.addEventListener("dragstart", function (event) {
    var card = event.target.closest && event.target.closest(".lifecycle-card[draggable]");
    if (!card) return;
    dragged = card;
    card.classList.add("dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.customer);
  });
  board.addEventListener("dragend", function () {
    if (dragged) dragged.classList.remove("dragging");
    dragged = null;
    board.querySelectorAll(".drop-target").forEach(function (c) { c.classList.remove("drop-target"); });
  });
  board.addEventListener("dragover", function (event) {
    var column = event.target.closest && event.target.closest(".lifecycle-column");
    if (!dragged || !column) return;
    event.preventDefault();
    board.querySelectorAll(".drop-target").forEach(function (c) {
      if (c !== column) c.classList.remove("drop-target");
    });
    column.classList.add("drop-target");
  });
  board.addEventListener("drop", function (event) {
    var column = event.target.closest && event.target.closest(".lifecycle-column");
    if (!dragged || !column) return;
    event.preventDefault();
    var card = dragged;
    var from = card.closest(".lifecycle-column");
    column.classList.remove("drop-target");
    if (from === column) return;
    var form = card.querySelector("form");
    var data = new FormData(form);
    data.set("stage", column.dataset.stage);
    column.querySelector(".lifecycle-cards").prepend(card);
    fetch(card.dataset.moveUrl, {
      method: "POST",
      body: data,
      headers: { "Accept": "application/json" },
      credentials: "same-origin",
    }).then(function (response) {
      if (!response.ok) throw new Error(String(response.status));
      window.location.reload();
    }).catch(function () {
      from.querySelector(".lifecycle-cards").prepend(card);
      window.alert(board.dataset.moveFailed || "The move was not saved.");
    });
  });
})();
