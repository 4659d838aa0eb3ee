// Settlement pages: progress bar widths without inline styles (strict CSP).
(function () {
  "use strict";
  function sizeBars(root) {
    root.querySelectorAll(".progress-bar[data-width]").forEach(function (bar) {
      bar.style.width = bar.dataset.width + "%";
    });
  }
  document.addEventListener("DOMContentLoaded", function () { sizeBars(document); });
  document.addEventListener("htmx:afterSwap", function (event) { sizeBars(event.detail.target.parentNode || document); });
})();
