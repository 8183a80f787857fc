// The navigation's menus (<details> in templates/base.html) work without this script; with
// it, one menu is open at a time, Escape closes it (focus back on its title), and a click or
// the keyboard's focus elsewhere on the page closes it. No inline script anywhere (CSP).
(function () {
  "use strict";
  function menus() { return document.querySelectorAll("details.nav-menu"); }
  function closeAll(except) {
    menus().forEach(function (el) { if (el !== except && el.open) { el.open = false; } });
  }
  document.addEventListener("toggle", function (ev) {
    var el = ev.target;
    if (el.matches && el.matches("details.nav-menu") && el.open) { closeAll(el); }
  }, true);
  document.addEventListener("keydown", function (ev) {
    if (ev.key !== "Escape") { return; }
    var open = document.querySelector("details.nav-menu[open]");
    if (!open) { return; }
    open.open = false;
    open.querySelector("summary").focus();
  });
  document.addEventListener("click", function (ev) {
    var inside = ev.target.closest ? ev.target.closest("details.nav-menu") : null;
    closeAll(inside);
  });
  document.addEventListener("focusin", function (ev) {
    var inside = ev.target.closest ? ev.target.closest("details.nav-menu") : null;
    closeAll(inside);
  });
})();
