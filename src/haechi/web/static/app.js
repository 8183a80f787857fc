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
