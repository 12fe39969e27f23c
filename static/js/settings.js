// Dashboard: settings. Progressive enhancement only: every form works without this file.
// - API names follow the English names until someone edits them ([data-name-source] -> [data-name-target]);
// - the new-field form shows the inputs of the chosen type ([data-shown-for]);
// - "type the name to confirm" buttons wait for the name ([data-confirm-text]);
// - stages can be dragged by their handle (the arrows do the same from the keyboard);
// - after a form swaps the page, the focus goes back to the control that was used.
(function () {
  "use strict";

  function snake(text) {
    return text.trim().toLowerCase().replace(/[^a-z0-9]+/g, "_").replace(/^_+|_+$/g, "").slice(0, 50);
  }

  function showFieldsForType(form) {
    var select = form.querySelector("[data-field-type]");
    if (!select) return;
    form.querySelectorAll("[data-shown-for]").forEach(function (block) {
      var shown = block.getAttribute("data-shown-for").split(" ").indexOf(select.value) !== -1;
      block.hidden = !shown;
    });
  }

  function checkConfirm(input) {
    var form = input.form;
    var button = form && form.querySelector("[data-confirm-button]");
    if (button) button.disabled = input.value.trim() !== input.getAttribute("data-confirm-text");
  }

  htmx.onLoad(function (root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-field-form]").forEach(showFieldsForType);
    root.querySelectorAll("[data-confirm-text]").forEach(checkConfirm);
    // A name someone typed (shown again after a mistake) is theirs: the labels no longer overwrite it.
    root.querySelectorAll("[data-name-source]").forEach(function (source) {
      var target = source.form && source.form.querySelector('[data-name-target="' + source.getAttribute("data-name-source") + '"]');
      if (target && target.value && target.value !== snake(source.value)) target.setAttribute("data-touched", "true");
    });
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLElement)) return;
    if (input.hasAttribute("data-name-target")) {
      input.setAttribute("data-touched", input.value ? "true" : "");
      return;
    }
    var source = input.getAttribute("data-name-source");
    if (source && input.form) {
      var target = input.form.querySelector('[data-name-target="' + source + '"]');
      if (target && !target.getAttribute("data-touched")) target.value = snake(input.value);
    }
    if (input.hasAttribute("data-confirm-text")) checkConfirm(input);
  });

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLElement)) return;
    if (input.hasAttribute("data-field-type") && input.form) showFieldsForType(input.form);
    if (input.hasAttribute("data-color-select")) {
      var chip = input.closest(".stage") && input.closest(".stage").querySelector(".stage-head .chip");
      if (chip) chip.className = "chip chip-" + input.value;
    }
  });

  // Focus: a boosted form swaps the whole page; put the focus back where it was (the same control, by id).
  var focusedId = "";
  document.addEventListener("htmx:beforeRequest", function () {
    var active = document.activeElement;
    focusedId = active && active.id && active.closest(".settings") ? active.id : "";
  });
  document.addEventListener("htmx:afterSettle", function () {
    if (!focusedId) return;
    var again = document.getElementById(focusedId);
    focusedId = "";
    if (again && !again.disabled) {
      again.focus();
    } else if (again) {
      // An arrow at the end of the list is disabled: its row's other arrow takes the focus.
      var other = again.closest(".stage-moves") && again.closest(".stage-moves").querySelector("button:not([disabled])");
      if (other) other.focus();
    }
    var error = document.querySelector(".settings .form-error[role=alert]");
    if (error && error.scrollIntoView) error.scrollIntoView({ block: "center" });
  });

  // Dragging stages by their handle; the new order is posted by the hidden [data-order-form].
  var dragged = null;

  document.addEventListener("mousedown", function (event) {
    var handle = event.target instanceof Element && event.target.closest(".stage-handle");
    var stage = handle && handle.closest("[data-stage-list] > .stage");
    if (stage) stage.setAttribute("draggable", "true");
  });

  document.addEventListener("mouseup", function () {
    document.querySelectorAll("[data-stage-list] > .stage[draggable]").forEach(function (stage) {
      if (stage !== dragged) stage.removeAttribute("draggable");
    });
  });

  document.addEventListener("dragstart", function (event) {
    var stage = event.target instanceof Element && event.target.closest("[data-stage-list] > .stage[draggable]");
    if (!stage) return;
    dragged = stage;
    stage.classList.add("stage-dragging");
    event.dataTransfer.effectAllowed = "move";
    event.dataTransfer.setData("text/plain", stage.getAttribute("data-value"));
  });

  function clearMarks() {
    document.querySelectorAll(".stage-drop-before, .stage-drop-after").forEach(function (stage) {
      stage.classList.remove("stage-drop-before", "stage-drop-after");
    });
  }

  function placeOf(stage, event) {
    var box = stage.getBoundingClientRect();
    return event.clientY < box.top + box.height / 2 ? "before" : "after";
  }

  document.addEventListener("dragover", function (event) {
    if (!dragged) return;
    var stage = event.target instanceof Element && event.target.closest("[data-stage-list] > .stage");
    if (!stage || stage === dragged || stage.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    event.dataTransfer.dropEffect = "move";
    clearMarks();
    stage.classList.add("stage-drop-" + placeOf(stage, event));
  });

  document.addEventListener("drop", function (event) {
    if (!dragged) return;
    var stage = event.target instanceof Element && event.target.closest("[data-stage-list] > .stage");
    if (!stage || stage === dragged || stage.parentNode !== dragged.parentNode) return;
    event.preventDefault();
    var list = stage.parentNode;
    list.insertBefore(dragged, placeOf(stage, event) === "before" ? stage : stage.nextSibling);
    clearMarks();
    var form = document.querySelector("[data-order-form]");
    if (!form) return;
    form.querySelectorAll("input[name=order]").forEach(function (input) { input.remove(); });
    list.querySelectorAll(":scope > .stage").forEach(function (item) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "order";
      input.value = item.getAttribute("data-value");
      form.appendChild(input);
    });
    form.requestSubmit();
  });

  document.addEventListener("dragend", function () {
    if (dragged) {
      dragged.classList.remove("stage-dragging");
      dragged.removeAttribute("draggable");
    }
    dragged = null;
    clearMarks();
  });
})();
