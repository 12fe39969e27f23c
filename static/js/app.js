// Wosool dashboard: toasts and htmx error reporting. Page-specific behaviour lives in its own file and starts
// from htmx.onLoad, so it also runs for content htmx swaps in.
(function () {
  "use strict";

  function toast(message, kind) {
    var box = document.getElementById("toasts");
    if (!box || !message) return;
    var item = document.createElement("div");
    item.className = "toast toast-" + (kind || "success");
    item.setAttribute("role", kind === "error" ? "alert" : "status");
    item.textContent = message;
    box.appendChild(item);
    setTimeout(function () { item.classList.add("toast-leaving"); }, 3500);
    setTimeout(function () { item.remove(); }, 4000);
  }
  window.wosoolToast = toast;

  // Servers send HX-Trigger: {"wosool:toast": {"message": ..., "kind": ...}}.
  document.addEventListener("wosool:toast", function (event) {
    toast(event.detail && event.detail.message, event.detail && event.detail.kind);
  });

  function say(english, arabic) {
    return document.body.dataset.language === "ar" ? arabic : english;
  }

  // A failed htmx request is never silent: the server's reason when it gave one, else a generic message.
  document.addEventListener("htmx:responseError", function (event) {
    var xhr = event.detail.xhr;
    if ((xhr.getResponseHeader("HX-Trigger") || "").indexOf("wosool:toast") !== -1) return; // already said
    var reason = "";
    try {
      reason = JSON.parse(xhr.responseText).detail || "";
    } catch (_) {
      reason = "";
    }
    toast(reason || say("Something went wrong (" + xhr.status + "). Please try again.",
                        "حدث خطأ (" + xhr.status + "). حاول مرة أخرى."), "error");
  });
  document.addEventListener("htmx:sendError", function () {
    toast(say("Cannot reach Wosool. Check your connection and try again.",
              "تعذّر الاتصال بوصول. تحقّق من اتصالك وحاول مرة أخرى."), "error");
  });
})();
