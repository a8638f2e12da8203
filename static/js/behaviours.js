/* Small page behaviours declared in the markup, so that no page needs an inline script or handler
   (the Content-Security-Policy forbids both). Plain ES2017, loaded on every page.
     data-confirm="Domanda?"  on a button or link: asks before the click goes on;
                              on a form: asks before it is submitted.
     data-print               on a button or link: opens the browser's print dialog. */
(function () {
  "use strict";

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var asking = target.closest("button[data-confirm], a[data-confirm], input[data-confirm]");
    if (asking && !window.confirm(asking.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
      return;
    }
    var printing = target.closest("[data-print]");
    if (printing) {
      event.preventDefault();
      window.print();
    }
  }, true);

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
}());
