/* Attendance on the run page: "Segna tutti presenti" marks present, one after the other through the same
   per-person forms that work without JavaScript, everyone still marked absent (the excused stay excused),
   then reloads the sheet. Plain ES2017, no build step; without this script each person is one click. */
(function () {
  "use strict";
  var bar = document.querySelector("[data-mark-all-bar]");
  var button = bar && bar.querySelector("[data-mark-all]");
  if (!button) { return; }
  var status = bar.querySelector("[data-mark-all-status]");
  bar.hidden = false;

  function absentForms() {
    return Array.prototype.filter.call(document.querySelectorAll("form[data-mark-row]"), function (form) {
      return form.getAttribute("data-mark-current") === "assente";
    });
  }

  function markPresent(form) {
    var data = new FormData(form);
    data.set("mark", "presente");
    data.set("at", "");
    data.delete("idempotency_key");  // one key per request: each form is sent once, by this loop
    return fetch(form.action, { method: "POST", body: data, credentials: "same-origin" }).then(function (response) {
      if (!response.ok) { throw new Error(String(response.status)); }
    });
  }

  button.addEventListener("click", function () {
    var forms = absentForms();
    if (!forms.length) { status.textContent = "Nessuno risulta assente."; return; }
    button.disabled = true;
    var done = 0;
    status.textContent = "Registro le presenze… 0/" + forms.length;
    forms.reduce(function (chain, form) {
      return chain.then(function () {
        return markPresent(form).then(function () {
          done += 1;
          status.textContent = "Registro le presenze… " + done + "/" + forms.length;
        });
      });
    }, Promise.resolve()).then(function () {
      window.location.reload();
    }).catch(function () {
      status.textContent = "Presenze registrate: " + done + " su " + forms.length + ". Controlla la connessione e riprova.";
      button.disabled = false;
    });
  });
}());
