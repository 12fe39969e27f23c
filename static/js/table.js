// Dashboard: table (templates/crm/list.html). Row selection for the bulk bar, the filter builder's rows, focus
// after another page of rows is swapped in, and inline editing: a cell (data-field-slot) double-clicked, or Enter in
// it outside its form, asks for its field's edit form (<row's data-record-url>/fields/<field>/edit) with htmx.
(function () {
  "use strict";

  function regionOf(element) {
    return element && element.closest ? element.closest("[data-list-region]") : null;
  }

  // The bulk bar follows the selection: how many are selected, actions only when there is something to act on.
  function refreshSelection(region) {
    if (!region) return;
    var boxes = region.querySelectorAll("[data-row-select]");
    var checked = region.querySelectorAll("[data-row-select]:checked").length;
    var all = region.querySelector("[data-select-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
      all.disabled = boxes.length === 0;
    }
    var count = region.querySelector("[data-bulk-count]");
    if (count) count.textContent = (count.dataset.template || "{n}").replace("{n}", String(checked));
    region.querySelectorAll("[data-bulk-action]").forEach(function (button) {
      button.disabled = checked === 0;
    });
    region.classList.toggle("has-selection", checked > 0);
  }

  // A filter row offers the operators of its field, its options (select fields) and a value only when needed.
  function fitFilterRow(row) {
    if (!row) return;
    var field = row.querySelector("[data-filter-field]");
    var op = row.querySelector("[data-filter-op]");
    var value = row.querySelector("[data-filter-value]");
    var chosen = field.options[field.selectedIndex];
    var ops = chosen && chosen.dataset.ops ? chosen.dataset.ops.split(" ") : null;
    Array.prototype.forEach.call(op.options, function (option) {
      var allowed = !ops || ops.indexOf(option.value) !== -1;
      option.hidden = !allowed;
      option.disabled = !allowed;
    });
    var current = op.options[op.selectedIndex];
    if (current && current.disabled) {
      var first = Array.prototype.find.call(op.options, function (option) { return !option.disabled; });
      if (first) op.value = first.value;
    }
    if (chosen && chosen.dataset.list) {
      value.setAttribute("list", chosen.dataset.list);
    } else {
      value.removeAttribute("list");
    }
    var needsValue = op.value !== "empty" && op.value !== "not_empty";
    value.readOnly = !needsValue; // not disabled: every row must send its value, so the rows stay aligned
    if (!needsValue) value.value = "";
    value.classList.toggle("is-unused", !needsValue);
  }

  document.addEventListener("change", function (event) {
    var target = event.target;
    if (!target.matches) return;
    if (target.matches("[data-select-all]")) {
      var region = regionOf(target);
      region.querySelectorAll("[data-row-select]").forEach(function (box) { box.checked = target.checked; });
      refreshSelection(region);
    } else if (target.matches("[data-row-select]")) {
      refreshSelection(regionOf(target));
    } else if (target.matches("[data-filter-field], [data-filter-op]")) {
      fitFilterRow(target.closest("[data-filter-row]"));
    }
  });

  document.addEventListener("click", function (event) {
    var target = event.target.closest ? event.target : null;
    if (!target) return;
    var add = target.closest("[data-filter-add]");
    if (add) {
      var form = add.closest("[data-filter-builder]");
      var rows = form.querySelector("[data-filter-rows]");
      rows.appendChild(form.querySelector("[data-filter-template]").content.cloneNode(true));
      var added = rows.lastElementChild;
      fitFilterRow(added);
      added.querySelector("[data-filter-field]").focus();
      return;
    }
    var remove = target.closest("[data-filter-remove]");
    if (remove) {
      var row = remove.closest("[data-filter-row]");
      var list = row.parentElement;
      if (list.querySelectorAll("[data-filter-row]").length > 1) {
        row.remove();
        list.lastElementChild.querySelector("[data-filter-field]").focus();
      } else {
        row.querySelector("[data-filter-field]").value = "";
        row.querySelector("[data-filter-value]").value = "";
        fitFilterRow(row);
      }
    }
  });

  function editCell(event) {
    var target = event.target.closest ? event.target : null;
    if (!target || target.closest("form")) return;
    var cell = target.closest("td[data-field-slot]");
    var row = cell && cell.closest("tr[data-record-url]");
    if (!row) return;
    var url = row.dataset.recordUrl + "/fields/" + encodeURIComponent(cell.dataset.field) + "/edit";
    htmx.ajax("GET", url, { target: cell, swap: "innerHTML" });
  }
  document.addEventListener("dblclick", editCell);
  document.addEventListener("keydown", function (event) {
    if (event.key === "Enter") editCell(event);
  });

  htmx.onLoad(function (root) {
    if (!root.querySelectorAll) return;
    root.querySelectorAll("[data-filter-row]").forEach(fitFilterRow);
    var region = root.matches("[data-list-region]") ? root : root.querySelector("[data-list-region]") || regionOf(root);
    refreshSelection(region);
    if (root.id === "list-rows" && region) {
      // Another page of rows: start reading it from the top, with the focus on its first record.
      region.scrollIntoView({ block: "start" });
      var active = document.activeElement;
      if (!active || active === document.body || !document.contains(active)) {
        var link = root.querySelector(".title-cell a");
        if (link) link.focus({ preventScroll: true });
      }
    }
  });
})();
