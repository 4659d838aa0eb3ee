/* Partner pages. Loaded with `defer` by the partner templates; no inline scripts (CSP). */
(function () {
  "use strict";

  // Sections that other areas fill by htmx (onboarding, agreements, ...): when one cannot be
  // loaded, say so instead of spinning for ever.
  document.body.addEventListener("htmx:responseError", function (event) {
    var target = event.detail.target;
    if (target && target.hasAttribute("data-fragment")) {
      target.textContent = "";
      var note = document.createElement("span");
      note.className = "small text-body-secondary";
      note.textContent = event.detail.xhr && event.detail.xhr.status === 404
        ? "Not available yet."
        : "This section could not be loaded; reload the page to try again.";
      target.appendChild(note);
    }
  });

  // Choosing a file for a document proposes its name as the title (when the title is empty).
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || input.type !== "file" || !input.files || !input.files.length) {
      return;
    }
    var form = input.form;
    var title = form && form.querySelector('input[name="title"]');
    if (title && !title.value) {
      title.value = input.files[0].name.replace(/\.[^.]+$/, "");
    }
  });

  // The listeners are in place (deferred script: a browser test waits for this before it uses them).
  document.body.setAttribute("data-partners-js", "ready");
})();
