// A table wider than the screen scrolls inside its own box (phone width, see mla.css): such a
// box must be reachable by keyboard to be scrolled without a mouse, so it joins the tab order
// while it overflows, and leaves it when it no longer does.
(function () {
  "use strict";
  function mark() {
    document.querySelectorAll("table").forEach(function (table) {
      if (table.scrollWidth > table.clientWidth + 1) {
        table.setAttribute("tabindex", "0");
      } else if (!table.hasAttribute("data-focusable")) {
        table.removeAttribute("tabindex");
      }
    });
  }
  document.addEventListener("DOMContentLoaded", mark);
  window.addEventListener("resize", mark);
})();
