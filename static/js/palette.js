// Dashboard: palette. Ctrl+K / Cmd+K (or the top bar's [data-palette-open]) opens the search dialog of
// templates/crm/_palette.html; typing fetches results with htmx; ArrowUp/ArrowDown move the active result
// (aria-activedescendant on the input, aria-selected on the result), Home/End jump, Enter opens the active result
// (or, with none, the page of all results), Escape closes. Listeners sit on the document, so they keep working
// after htmx swaps the page's body.
(function () {
  "use strict";

  function dialog() {
    return document.getElementById("palette");
  }

  function input() {
    return document.getElementById("palette-input");
  }

  function options() {
    var box = dialog();
    return box ? Array.prototype.slice.call(box.querySelectorAll('[role="option"]')) : [];
  }

  function activeOption() {
    return options().filter(function (option) {
      return option.getAttribute("aria-selected") === "true";
    })[0] || null;
  }

  function setActive(option) {
    options().forEach(function (each) {
      each.setAttribute("aria-selected", each === option ? "true" : "false");
    });
    var field = input();
    if (!field) return;
    if (option) {
      field.setAttribute("aria-activedescendant", option.id);
      option.scrollIntoView({ block: "nearest" });
    } else {
      field.removeAttribute("aria-activedescendant");
    }
  }

  function move(step) {
    var list = options();
    if (!list.length) return;
    var current = list.indexOf(activeOption());
    var next;
    if (step === Infinity) next = list.length - 1;
    else if (step === -Infinity) next = 0;
    else if (current === -1) next = step > 0 ? 0 : list.length - 1;
    else next = (current + step + list.length) % list.length;
    setActive(list[next]);
  }

  function open() {
    var box = dialog();
    var field = input();
    if (!box || !field) return;
    if (!box.open) box.showModal();
    field.focus();
    field.select();
  }

  function close() {
    var box = dialog();
    if (box && box.open) box.close();
  }

  // Results arrived: nothing is active yet; tell assistive technology what changed.
  function refreshed() {
    var field = input();
    if (!field) return;
    setActive(null);
    var list = document.getElementById("palette-listbox");
    field.setAttribute("aria-expanded", list && options().length ? "true" : "false");
    var status = document.getElementById("palette-status");
    var said = document.querySelector("#palette-results [data-status]");
    if (status) status.textContent = said ? said.getAttribute("data-status") : "";
  }

  document.addEventListener("keydown", function (event) {
    var shortcut = (event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey &&
      (event.code === "KeyK" || event.key === "k" || event.key === "K");
    if (shortcut && dialog()) {
      event.preventDefault();
      open();
      return;
    }
    if (!event.target || event.target.id !== "palette-input") return;
    if (event.isComposing) return; // an input method is still composing a word
    switch (event.key) {
      case "ArrowDown":
        event.preventDefault();
        move(1);
        break;
      case "ArrowUp":
        event.preventDefault();
        move(-1);
        break;
      case "PageDown":
      case "End":
        if (options().length && activeOption()) {
          event.preventDefault();
          move(Infinity);
        }
        break;
      case "PageUp":
      case "Home":
        if (options().length && activeOption()) {
          event.preventDefault();
          move(-Infinity);
        }
        break;
      case "Enter":
        var chosen = activeOption();
        if (chosen) {
          event.preventDefault();
          close();
          chosen.click();
        }
        // With nothing chosen, the form is submitted: the page of all results.
        break;
      case "Escape":
        event.preventDefault();
        close();
        break;
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    if (target.closest("[data-palette-open]")) {
      event.preventDefault();
      open();
      return;
    }
    var box = dialog();
    // A click on the backdrop lands on the dialog itself (its content fills the box).
    if (box && target === box) close();
    if (box && target.closest("#palette [role='option']")) close();
  });

  // The pointer moving over a result makes it the active one, so keys carry on from there.
  document.addEventListener("mousemove", function (event) {
    var target = event.target;
    if (!(target instanceof Element)) return;
    var option = target.closest("#palette [role='option']");
    if (option && option.getAttribute("aria-selected") !== "true") setActive(option);
  });

  document.addEventListener("htmx:afterSwap", function (event) {
    if (event.detail && event.detail.target && event.detail.target.id === "palette-results") refreshed();
  });

  // Typed into a palette htmx had not wired up yet (the page swapped in by a boosted link a moment before): searched
  // as soon as htmx has. Not with "input": htmx takes the value it finds when wiring up as already seen ("changed").
  document.addEventListener("htmx:load", function (event) {
    var field = input();
    var loaded = event.detail && event.detail.elt;
    if (field && field.value && loaded instanceof Element && loaded.contains(field) && window.htmx) {
      window.htmx.trigger(field, "palette-search");
    }
  });

  // Leaving the page with the palette open (a result opened, the page of all results): close it first, so the
  // page that arrives is not left under a modal.
  document.addEventListener("htmx:beforeRequest", function (event) {
    var box = dialog();
    var source = event.detail && event.detail.elt;
    if (box && box.open && source && source.id !== "palette-input" && box.contains(source)) close();
  });
})();
