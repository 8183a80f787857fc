// haechi: small behaviours that need script. No inline script anywhere (CSP).
(function () {
  "use strict";
  // Video and audio always start muted and paused, also after htmx swaps them in.
  function quiet(root) {
    root.querySelectorAll("video, audio").forEach(function (el) {
      el.muted = true;
      el.autoplay = false;
      el.removeAttribute("autoplay");
      if (!el.paused) { el.pause(); }
    });
  }
  document.addEventListener("DOMContentLoaded", function () { quiet(document); });
  document.addEventListener("htmx:afterSwap", function (ev) { quiet(ev.target.parentNode || document); });
  document.addEventListener("htmx:oobAfterSwap", function (ev) { quiet(ev.target); });
  // Never let a page keep evidence in the back/forward cache.
  window.addEventListener("pageshow", function (ev) { if (ev.persisted) { window.location.reload(); } });
})();
// Collecting: "select all on this page" ticks every checkbox of the collect bar's form.
(function () {
  "use strict";
  document.addEventListener("change", function (ev) {
    var box = ev.target;
    if (!box.matches || !box.matches("[data-select-all]")) { return; }
    document.querySelectorAll("input.pick").forEach(function (el) { el.checked = box.checked; });
  });
})();
// Keyboard shortcuts: a key pressed outside a text field clicks the visible element whose
// data-key names it (triage categories 1-6, n = next, p = previous, c = add to case);
// "?" shows or hides the list of keys. The page lists every key it offers.
(function () {
  "use strict";
  function typing(el) {
    if (!el) { return false; }
    var tag = (el.tagName || "").toLowerCase();
    return tag === "input" || tag === "textarea" || tag === "select" || el.isContentEditable;
  }
  document.addEventListener("keydown", function (ev) {
    if (ev.ctrlKey || ev.metaKey || ev.altKey || typing(document.activeElement)) { return; }
    if (ev.key === "?") {
      var help = document.getElementById("keys-help");
      if (help) { help.hidden = !help.hidden; ev.preventDefault(); }
      return;
    }
    var target = null;
    document.querySelectorAll("[data-key]").forEach(function (el) {
      if (!target && el.getAttribute("data-key") === ev.key && !el.disabled && el.offsetParent !== null) {
        target = el;
      }
    });
    if (target) {
      ev.preventDefault();
      target.focus();
      target.click();
    }
  });
})();
// Counsellor's and case actions: forms that change something lasting ask first
// (data-confirm holds the question; htmx forms use hx-confirm instead).
(function () {
  "use strict";
  document.addEventListener("submit", function (ev) {
    var form = ev.target;
    var question = form && form.getAttribute && form.getAttribute("data-confirm");
    if (question && !window.confirm(question)) { ev.preventDefault(); }
  }, true);
})();
