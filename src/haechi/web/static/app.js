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
