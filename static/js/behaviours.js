/* Small page behaviours declared in the markup, so that no page needs an inline script or handler
   (the Content-Security-Policy forbids both). Plain ES2017, loaded on every page.
     data-confirm="What will happen."  on a button or link: asks before the click goes on;
                              on a form: asks before it is submitted. The question opens in the page's
                              <dialog id="confirm-dialog"> (base.html), never in window.confirm:
                              data-confirm-title  the question (default: "Confermi?"),
                              data-confirm-ok     the label of the button that goes on (default: "Conferma").
                              The dialog's first button goes back and has the focus; Esc goes back too.
     data-print               on a button or link: opens the browser's print dialog.
     data-back                on a link: goes back in the browser's history (the href when there is none).
   window.PdzConfirm({title, message, ok}) -> Promise<boolean>: the same dialog for other scripts.
   Every POST form carries an idempotency_key (forms built on pdz.inputs.Form render one; the others get one
   here, new for each page), so a double click or a resent form creates one thing. */
(function () {
  "use strict";

  // Elements whose next click or submit was just confirmed (the repeated event must go through).
  var confirmed = new WeakSet();

  function confirmDialog(options) {
    var dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") {
      // No <dialog> support (very old browsers): the plain question, still better than no question.
      return Promise.resolve(window.confirm([options.title, options.message].filter(Boolean).join("\n\n")));
    }
    if (dialog.open) { return Promise.resolve(false); }
    var title = dialog.querySelector("[data-confirm-title]");
    var message = dialog.querySelector("[data-confirm-message]");
    var ok = dialog.querySelector("[data-confirm-ok]");
    title.textContent = options.title || title.getAttribute("data-default");
    message.textContent = options.message || "";
    message.hidden = !options.message;
    ok.textContent = options.ok || ok.getAttribute("data-default");
    var opener = document.activeElement;
    dialog.returnValue = "";
    return new Promise(function (resolve) {
      dialog.addEventListener("close", function () {
        if (opener && typeof opener.focus === "function" && document.contains(opener)) { opener.focus(); }
        resolve(dialog.returnValue === "ok");
      }, { once: true });
      dialog.showModal();
    });
  }
  window.PdzConfirm = confirmDialog;

  function ask(element) {
    return confirmDialog({
      title: element.getAttribute("data-confirm-title") || "",
      message: element.getAttribute("data-confirm") || "",
      ok: element.getAttribute("data-confirm-ok") || ""
    });
  }

  document.addEventListener("click", function (event) {
    var target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    var asking = target.closest("button[data-confirm], a[data-confirm], input[data-confirm]");
    if (asking && !confirmed.has(asking) && !asking.disabled) {
      event.preventDefault();
      event.stopImmediatePropagation();
      ask(asking).then(function (yes) {
        if (!yes) { return; }
        confirmed.add(asking);
        if (asking.form && asking.type === "submit") {
          if (asking.form.hasAttribute("data-confirm")) { confirmed.add(asking.form); }
          asking.form.requestSubmit(asking);
        } else {
          asking.click();
        }
        confirmed.delete(asking);
        if (asking.form) { confirmed.delete(asking.form); }
      });
      return;
    }
    var back = target.closest("a[data-back]");
    if (back && window.history.length > 1) {  // the link's own address is the way when there is no history
      event.preventDefault();
      window.history.back();
      return;
    }
    var printing = target.closest("[data-print]");
    if (printing) {
      event.preventDefault();
      window.print();
    }
  }, true);

  // The header menu behind a button on narrow screens (the CSS hides it only once this script runs).
  function setUpMenu() {
    var toggle = document.querySelector("[data-menu-toggle]");
    var menu = toggle && document.getElementById(toggle.getAttribute("aria-controls"));
    if (!menu) { return; }
    var header = toggle.closest("header");
    header.classList.add("menu-collapsible");
    toggle.hidden = false;
    function show(open) {
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      header.classList.toggle("menu-open", open);
    }
    toggle.addEventListener("click", function () { show(toggle.getAttribute("aria-expanded") !== "true"); });
    header.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && toggle.getAttribute("aria-expanded") === "true") {
        show(false);
        toggle.focus();
      }
    });
  }

  // Wide tables become stacked rows on a phone (CSS): each cell carries its column's heading as data-label,
  // shown before the value. Tables marked data-no-stack, or without a header row, are left as they are.
  function labelTables(scope) {
    scope.querySelectorAll("table.table:not([data-no-stack])").forEach(function (table) {
      var head = table.tHead && table.tHead.rows[0];
      if (!head) { return; }
      var names = Array.prototype.map.call(head.cells, function (cell) { return cell.textContent.trim(); });
      table.classList.add("stackable");
      Array.prototype.forEach.call(table.tBodies, function (body) {
        Array.prototype.forEach.call(body.rows, function (row) {
          var column = 0;
          Array.prototype.forEach.call(row.cells, function (cell) {
            if (names[column] && (cell.colSpan || 1) === 1 && !cell.hasAttribute("data-label")) { cell.setAttribute("data-label", names[column]); }
            column += cell.colSpan || 1;
          });
        });
      });
    });
  }
  window.PdzLabelTables = labelTables;

  // A list narrowed by typing: <input data-filter-for="ID" data-filter-empty="ID2"> hides the
  // [data-filter-item] elements of #ID whose text does not contain every typed word (accents ignored).
  function fold(text) {
    return text.toLowerCase().normalize("NFD").replace(/[\u0300-\u036f]/g, "");
  }
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!(input instanceof HTMLInputElement) || !input.hasAttribute("data-filter-for")) { return; }
    var list = document.getElementById(input.getAttribute("data-filter-for"));
    if (!list) { return; }
    var words = fold(input.value).split(/\s+/).filter(Boolean);
    var shown = 0;
    list.querySelectorAll("[data-filter-item]").forEach(function (item) {
      var text = fold(item.textContent);
      var match = words.every(function (w) { return text.indexOf(w) !== -1; });
      item.hidden = !match;
      if (match) { shown += 1; }
    });
    var none = document.getElementById(input.getAttribute("data-filter-empty") || "");
    if (none) { none.hidden = shown > 0; }
  });
  function showFilters(scope) {
    scope.querySelectorAll("[data-filter-bar]").forEach(function (bar) { bar.hidden = false; });
  }

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

  function ready() {
    keyForms(document);
    setUpMenu();
    labelTables(document);
    showFilters(document);
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", ready);
  } else {
    ready();
  }

  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form instanceof HTMLFormElement) { keyForms(form.parentNode || document); }
    if (!(form instanceof HTMLFormElement) || !form.hasAttribute("data-confirm") || confirmed.has(form)) { return; }
    event.preventDefault();
    event.stopImmediatePropagation();
    var submitter = event.submitter || null;
    ask(form).then(function (yes) {
      if (!yes) { return; }
      confirmed.add(form);
      form.requestSubmit(submitter);
      confirmed.delete(form);
    });
  }, true);
}());
