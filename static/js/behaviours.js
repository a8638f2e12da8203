/* Small page behaviours declared in the markup, so that no page needs an inline script or handler
   (the Content-Security-Policy forbids both). Plain ES2017, loaded on every page.
     data-confirm="Domanda?"  on a button or link: asks before the click goes on;
                              on a form: asks before it is submitted.
     data-print               on a button or link: opens the browser's print dialog.
   Every POST form carries an idempotency_key (forms built on pdz.inputs.Form render one; the others get one
   here, new for each page), so a double click or a resent form creates one thing. */
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

  function newKey() {
    var bytes = new Uint8Array(18);
    window.crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  function keyForms(scope) {
    scope.querySelectorAll("form").forEach(function (form) {
      if ((form.getAttribute("method") || "").toLowerCase() !== "post") { return; }
      if (form.querySelector('input[name="idempotency_key"]')) { return; }
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "idempotency_key";
      input.value = newKey();
      form.appendChild(input);
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { keyForms(document); });
  } else {
    keyForms(document);
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement) { keyForms(form.parentNode || document); }
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm")) { return; }
    if (!window.confirm(form.getAttribute("data-confirm"))) {
      event.preventDefault();
      event.stopImmediatePropagation();
    }
  }, true);
}());
