// Dashboard: kanban (templates/crm/board.html). Cards move by native drag and drop, or with the controls on each
// card (a "move to" select and up/down buttons) for the keyboard. Every move is optimistic: the card moves at once,
// then POST /o/{object}/{id}/move stores it; on an error the card goes back where it was and a toast says why.
// Listeners are delegated from the document, so boards that htmx swaps in work without setup.
(function () {
  "use strict";

  var dragging = null; // {card, from, dropped}

  function csrfToken() {
    try {
      return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["x-csrftoken"] || "";
    } catch (_) {
      return "";
    }
  }

  function isCard(element) {
    return !!element && element.nodeType === 1 && element.hasAttribute("data-card");
  }

  function neighbourCard(card, forward) {
    var element = forward ? card.nextElementSibling : card.previousElementSibling;
    while (element && !isCard(element)) {
      element = forward ? element.nextElementSibling : element.previousElementSibling;
    }
    return element;
  }

  // Put `card` into `list` before `before` (a card), or after the last card (before a "show more" item).
  function place(card, list, before) {
    if (!before) before = list.querySelector(":scope > [data-more]");
    if (before === card) return;
    list.insertBefore(card, before);
  }

  function originOf(card) {
    return { list: card.parentElement, next: card.nextElementSibling };
  }

  function restore(card, from) {
    var next = from.next && from.next.parentElement === from.list ? from.next : null;
    if (next) {
      from.list.insertBefore(card, next);
    } else {
      place(card, from.list, null);
    }
  }

  function columnOf(element) {
    return element.closest("[data-column]");
  }

  function updateFigures(board, data) {
    if (!data || !data.columns) return;
    board.querySelectorAll("[data-column]").forEach(function (column) {
      var figures = data.columns[column.dataset.value];
      var count = column.querySelector("[data-count]");
      var sum = column.querySelector("[data-sum]");
      if (count) count.textContent = figures ? figures.count : data.zero;
      if (sum) sum.textContent = figures ? figures.sum : data.zero_sum;
    });
  }

  // Store where `card` now is; `from` is where it was. `announce`: say so in a toast (keyboard moves).
  function commit(card, from, announce) {
    var list = card.parentElement;
    if (list === from.list && card.nextElementSibling === from.next) return; // it did not move
    var board = card.closest("[data-board]");
    var column = columnOf(list);
    var select = card.querySelector("[data-move-select]");
    var previous = neighbourCard(card, false);
    var next = neighbourCard(card, true);
    var body = new URLSearchParams();
    body.set("field", board.dataset.field);
    body.set("value", column.dataset.value);
    body.set("after", previous ? previous.dataset.id : "");
    body.set("before", next ? next.dataset.id : "");
    body.set("filter", board.dataset.filter || "");
    if (board.dataset.view) body.set("view", board.dataset.view);
    if (select) select.value = column.dataset.value;
    card.setAttribute("aria-busy", "true");

    function fail(reason) {
      card.removeAttribute("aria-busy");
      restore(card, from);
      if (select) select.value = columnOf(from.list).dataset.value;
      window.wosoolToast(reason || board.dataset.error, "error");
    }

    fetch(card.dataset.moveUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "x-csrftoken": csrfToken(),
        "Accept": "application/json",
        "Content-Type": "application/x-www-form-urlencoded"
      },
      body: body.toString()
    })
      .then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) {
          return { ok: response.ok, data: data };
        });
      })
      .then(function (result) {
        if (!result.ok) {
          fail(result.data && result.data.detail);
          return;
        }
        card.removeAttribute("aria-busy");
        updateFigures(board, result.data);
        if (announce && result.data.message) window.wosoolToast(result.data.message);
      })
      .catch(function () { fail(""); });
  }

  // --- drag and drop ---------------------------------------------------------------------------------------------

  function listUnder(target) {
    var column = target && target.closest ? target.closest("[data-board] [data-column]") : null;
    return column ? column.querySelector("[data-cards]") : null;
  }

  // The card the pointer is above (the dragged card goes before it), or null for the end of the list.
  function cardBelow(list, y) {
    var cards = list.querySelectorAll(":scope > [data-card]:not(.is-dragging)");
    for (var i = 0; i < cards.length; i++) {
      var box = cards[i].getBoundingClientRect();
      if (y < box.top + box.height / 2) return cards[i];
    }
    return null;
  }

  document.addEventListener("dragstart", function (event) {
    var card = event.target.closest ? event.target.closest("[data-board] [data-card]") : null;
    if (!card) return;
    dragging = { card: card, from: originOf(card), dropped: false };
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", card.dataset.id);
    window.setTimeout(function () { card.classList.add("is-dragging"); }, 0);
  });

  document.addEventListener("dragover", function (event) {
    if (!dragging) return;
    var list = listUnder(event.target);
    if (!list) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    var before = cardBelow(list, event.clientY);
    if (before === dragging.card) return;
    var alreadyThere = before
      ? dragging.card.parentElement === list && neighbourCard(dragging.card, true) === before
      : dragging.card.parentElement === list && !neighbourCard(dragging.card, true);
    if (!alreadyThere) place(dragging.card, list, before);
  });

  document.addEventListener("drop", function (event) {
    if (!dragging) return;
    var list = listUnder(event.target);
    if (!list) return;
    event.preventDefault();
    dragging.dropped = true;
    dragging.card.classList.remove("is-dragging");
    commit(dragging.card, dragging.from, false);
  });

  document.addEventListener("dragend", function () {
    if (!dragging) return;
    dragging.card.classList.remove("is-dragging");
    if (!dragging.dropped) restore(dragging.card, dragging.from);
    dragging = null;
  });

  // --- keyboard ---------------------------------------------------------------------------------------------------

  document.addEventListener("submit", function (event) {
    var form = event.target.closest ? event.target.closest("[data-board] [data-card-move]") : null;
    if (!form) return;
    event.preventDefault();
    var card = form.closest("[data-card]");
    var board = card.closest("[data-board]");
    var select = form.querySelector("[data-move-select]");
    var target = null;
    board.querySelectorAll("[data-column]").forEach(function (column) {
      if (column.dataset.value === select.value) target = column;
    });
    if (!target || target.contains(card)) return;
    var from = originOf(card);
    place(card, target.querySelector("[data-cards]"), null);
    commit(card, from, true);
    select.focus();
  });

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("[data-board] [data-move-step]") : null;
    if (!button) return;
    var card = button.closest("[data-card]");
    var down = button.dataset.moveStep === "down";
    var other = neighbourCard(card, down);
    if (!other) return;
    var from = originOf(card);
    place(card, card.parentElement, down ? neighbourCard(other, true) : other);
    commit(card, from, true);
    button.focus();
  });
})();
