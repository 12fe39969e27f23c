// Dashboard: imports and exports. Refuses a file over the size limit before uploading it (the server would refuse
// it too, after the upload), and shows that an upload is under way.
(function () {
  "use strict";

  function uploadForm(node) {
    return node && node.closest ? node.closest("form.import-upload") : null;
  }

  function showError(form, message) {
    var box = form.querySelector("#import-error");
    if (!box) return;
    box.textContent = message;
    box.hidden = !message;
  }

  function tooLarge(form) {
    var input = form.querySelector("input[type=file]");
    var limit = Number(form.dataset.maxBytes || 0);
    return !!(input && input.files && input.files[0] && limit && input.files[0].size > limit);
  }

  // Capture phase: runs before htmx's own submit handler on the (boosted) form, so a refused file is never sent.
  document.addEventListener("submit", function (event) {
    var form = uploadForm(event.target);
    if (!form || !tooLarge(form)) return;
    event.preventDefault();
    event.stopPropagation();
    showError(form, form.dataset.tooLarge);
  }, true);

  document.addEventListener("change", function (event) {
    var form = uploadForm(event.target);
    if (!form || event.target.type !== "file") return;
    showError(form, tooLarge(form) ? form.dataset.tooLarge : "");
  });

  // A busy button while a wizard form is being sent (Pico shows aria-busy as a spinner).
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = event.target.closest && event.target.closest(".import-page form");
    var button = form && form.querySelector("button[type=submit]");
    if (button) button.setAttribute("aria-busy", "true");
  });
  document.addEventListener("htmx:afterRequest", function (event) {
    var form = event.target.closest && event.target.closest(".import-page form");
    var button = form && form.querySelector("button[type=submit]");
    if (button) button.removeAttribute("aria-busy");
  });
})();
