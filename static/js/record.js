// Dashboard: record pages, record forms and in-place editing of fields (also inside table cells), notes and tasks.
// Everything is delegated from the document, so it works for content htmx swaps in.
(function () {
  "use strict";

  var PENDING_TOAST = "wosool:pending-toast";

  // A toast that must survive a navigation (a form that moved on to the record page, a delete that went back to
  // the list): the server fires "wosool:toast-next" before HX-Location swaps the page; show it once the new page
  // is in.
  document.addEventListener("wosool:toast-next", function (event) {
    var detail = event.detail || {};
    try {
      // Only the words: htmx also puts the element that asked (detail.elt) in there.
      sessionStorage.setItem(PENDING_TOAST, JSON.stringify({ message: detail.message, kind: detail.kind }));
    } catch (_) {
      /* private mode: no toast, no harm */
    }
  });

  function showPendingToast() {
    var raw = null;
    try {
      raw = sessionStorage.getItem(PENDING_TOAST);
      if (raw) sessionStorage.removeItem(PENDING_TOAST);
    } catch (_) {
      raw = null;
    }
    if (!raw || !window.wosoolToast) return;
    try {
      var detail = JSON.parse(raw);
      window.wosoolToast(detail.message, detail.kind);
    } catch (_) {
      /* ignore a damaged entry */
    }
  }

  function closest(element, selector) {
    return element && element.closest ? element.closest(selector) : null;
  }

  // Escape leaves an in-place edit (field, note, task) as it was.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    var form = closest(event.target, "[data-field-form], [data-escape-cancel]");
    if (!form) return;
    var cancel = form.querySelector("[data-field-cancel], [data-cancel]");
    if (!cancel) return;
    event.preventDefault();
    cancel.click();
  });

  // Ctrl+Enter (Cmd+Enter) in a text area sends its form: a note, a long text edited in place.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !(event.ctrlKey || event.metaKey)) return;
    if (!event.target.matches || !event.target.matches("textarea")) return;
    var form = closest(event.target, "[data-field-form], .note-form, .note-edit-form, .record-form");
    if (!form || !form.requestSubmit) return;
    event.preventDefault();
    form.requestSubmit();
  });

  // Enter in a relation's search box searches instead of submitting the form.
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Enter" || !event.target.matches || !event.target.matches("[data-relation-search]")) return;
    event.preventDefault();
    if (window.htmx) window.htmx.trigger(event.target, "search");
  });

  // Clicking a value (not a link inside it) edits it, like its pencil button does.
  document.addEventListener("click", function (event) {
    var value = closest(event.target, "[data-field-open]");
    if (!value || closest(event.target, "a, button, input, select, textarea, label")) return;
    var slot = closest(value, "[data-field-slot]");
    var button = slot && slot.querySelector(".field-edit-button");
    if (button) button.click();
  });

  // Keyboard focus follows in-place edits: back on the pencil (or Edit) button once an edit is saved or cancelled.
  var refocus = null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var source = event.detail && event.detail.elt;
    var form = closest(source, "[data-field-form]");
    var item = closest(source, ".note-editing, .task-editing");
    // Other requests (the timeline refreshing itself meanwhile) leave this alone.
    if (form) refocus = { slot: closest(form, "[data-field-slot]") };
    else if (item && item.id) refocus = { id: item.id };
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!refocus) return;
    var target = null;
    if (refocus.slot && refocus.slot.isConnected) {
      target = refocus.slot.querySelector(".field-edit-button");
    } else if (refocus.id) {
      var item = document.getElementById(refocus.id);
      target = item && !item.classList.contains("note-editing") && !item.classList.contains("task-editing")
        ? item.querySelector(".link-button")
        : null;
    }
    if (target) {
      refocus = null;
      target.focus();
    }
  });

  // A task's checkbox answers at once; if the server refuses, the box goes back as it was.
  document.addEventListener("change", function (event) {
    var box = event.target;
    if (!box.matches || !box.matches(".task > input[type=checkbox]")) return;
    var item = closest(box, ".task");
    if (item) item.classList.toggle("task-done", box.checked);
  });
  function undoTask(event) {
    var box = event.detail && event.detail.elt;
    if (!box || !box.matches || !box.matches(".task > input[type=checkbox]")) return;
    box.checked = !box.checked;
    var item = closest(box, ".task");
    if (item) item.classList.toggle("task-done", box.checked);
  }
  document.addEventListener("htmx:responseError", undoTask);
  document.addEventListener("htmx:sendError", undoTask);

  function onLoad(root) {
    showPendingToast();
    // A form that came back with problems: the summary is read out and takes the focus.
    var summary = root.querySelector ? root.querySelector("[data-error-summary]") : null;
    if (summary) summary.focus();
  }

  if (window.htmx) {
    window.htmx.onLoad(onLoad);
  } else {
    document.addEventListener("DOMContentLoaded", function () { onLoad(document.body); });
  }
})();
