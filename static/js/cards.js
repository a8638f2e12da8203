/* Objective cards: structured values (choices, yes/no, list rows, declared total) save as soon as they
   change and arrive live for everyone. Free text is co-written by coedit.js (no save button anywhere).
   Plain ES2017, no build step. Every save carries a client operation id (a retry is applied once) and, for
   a set of choices, the set it started from, so that the server applies only what this person changed. */
(function () {
  "use strict";
  var root = document.getElementById("card");
  if (!root) { return; }
  var T = JSON.parse(document.getElementById("pdz-i18n").textContent).cards; // the page's strings (templates/_i18n.html)
  document.documentElement.classList.add("js");
  var cardId = Number(root.dataset.cardId);
  var bodyId = Number(root.dataset.bodyId);
  var editable = root.dataset.coeditReadonly !== "1";
  // Every event of the card's room up to lastEventId has been received (the page, then the server's `as_of`).
  var lastEventId = Number(root.dataset.lastEvent || 0);
  var seenEvents = {};
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var problem = document.getElementById("save-problem");
  var room = "card:" + cardId;
  var myOps = {};
  var inFlight = 0;
  var stopped = false;

  function newOp() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var s = ""; for (var i = 0; i < 32; i++) { s += Math.floor(Math.random() * 16).toString(16); } return s;
  }
  function showProblem(text) {
    if (!problem) { return; }
    problem.textContent = text || ""; problem.hidden = !text;
  }

  // --- HTTP with retry (network errors and 5xx only; a refusal is shown, not retried) ----------------
  function post(url, payload, done) {
    var attempt = 0;
    inFlight += 1;
    function tryOnce() {
      fetch(url, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) { return { status: response.status, data: data }; });
      }).then(function (result) {
        if (result.status >= 500 || result.status === 429) { throw new Error("server " + result.status); }
        inFlight -= 1; showProblem("");
        done(result.status, result.data);
      }).catch(function () {
        attempt += 1;
        showProblem(T.retrying);
        setTimeout(tryOnce, Math.min(500 * Math.pow(2, attempt), 15000));
      });
    }
    tryOnce();
  }
  function statusOf(form, text, isError) {
    var el = form.querySelector(".field-status");
    if (el) { el.textContent = text; el.className = "field-status" + (isError ? " error" : ""); }
    else if (isError) { showProblem(text); }
  }
  function errorText(data) {
    return (data.errors && Object.keys(data.errors).map(function (k) { return data.errors[k]; }).join(" ")) || data.error || T.invalid;
  }

  // --- choices and yes/no ----------------------------------------------------------------------------
  function readChoices(form) {
    var radio = form.querySelector('input[type="radio"]:checked');
    if (form.querySelector('input[type="radio"]')) { return radio ? radio.value : ""; }
    return Array.prototype.filter.call(form.querySelectorAll('input[type="checkbox"]'), function (c) { return c.checked; })
      .map(function (c) { return c.value; }).join("\n");
  }
  function writeChoices(form, value) {
    var chosen = value ? value.split("\n") : [];
    Array.prototype.forEach.call(form.querySelectorAll("input[name=value]"), function (input) {
      input.checked = input.type === "radio" ? input.value === value : chosen.indexOf(input.value) >= 0;
    });
    form.elements.base_value.value = value;
  }
  function saveChoices(form) {
    if (stopped) { return; }
    var op = newOp(); myOps[op] = true;
    statusOf(form, T.saving);
    post(form.action, { field: form.dataset.field, value: readChoices(form), base_value: form.elements.base_value.value,
                        client_op_id: op, body_id: bodyId }, function (status, data) {
      if (status === 200) { writeChoices(form, data.value); statusOf(form, T.saved); }
      else if (status === 403 || status === 409) { stopped = true; statusOf(form, errorText(data), true); }
      else { statusOf(form, errorText(data), true); writeChoices(form, form.elements.base_value.value); }
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("form.field-form[data-field]"), function (form) {
    if (!editable || form.classList.contains("inline-total")) { return; }
    form.addEventListener("change", function () { saveChoices(form); });
    form.addEventListener("submit", function (event) { event.preventDefault(); saveChoices(form); });
  });

  // --- list rows -------------------------------------------------------------------------------------
  function refreshRows(kind) {
    var section = document.getElementById("rows-" + kind);
    if (!section) { return; }
    if (section.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON") { section.dataset.stale = "1"; return; }
    fetch(root.dataset.rowsUrl.replace("KIND", kind), { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html; // server-rendered, escaped fragment of this card
      var fresh = holder.querySelector("#rows-" + kind);
      if (fresh) { section.replaceWith(fresh); bindRows(fresh); }
    });
  }
  function rowValues(form) {
    var values = {};
    var inputs = document.querySelectorAll('[form="' + form.id + '"]');
    Array.prototype.forEach.call(inputs.length ? inputs : form.elements, function (input) {
      if (!input.name || input.type === "hidden" || input.tagName === "BUTTON") { return; }
      values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    });
    return values;
  }
  function sendRow(form, payload, kind, refresh) {
    payload.client_op_id = newOp(); payload.body_id = bodyId;
    myOps[payload.client_op_id] = true;
    statusOf(form, T.saving);
    post(form.action, payload, function (code, data) {
      if (code === 200) {
        statusOf(form, T.saved);
        if (data.revision) { form.dataset.base = String(data.revision); }
        if (refresh) { refreshRowsNow(kind); }
      } else {
        statusOf(form, errorText(data), true);
        showProblem(errorText(data));
        refreshRowsNow(kind);
      }
    });
  }
  function refreshRowsNow(kind) { var s = document.getElementById("rows-" + kind); if (s) { s.dataset.stale = ""; } refreshRows(kind); }
  function bindRows(section) {
    var kind = section.dataset.rows;
    if (!editable) { return; }
    Array.prototype.forEach.call(section.querySelectorAll("form.row-form"), function (form) {
      var send = function (refresh) {
        sendRow(form, { values: rowValues(form), base_revision: Number(form.dataset.base || form.elements.base_revision.value) }, kind, refresh);
      };
      form.addEventListener("submit", function (event) { event.preventDefault(); send(false); });
      Array.prototype.forEach.call(document.querySelectorAll('[form="' + form.id + '"]'), function (input) {
        input.addEventListener("change", function () { send(false); }); // saved as soon as it changes
      });
    });
    Array.prototype.forEach.call(section.querySelectorAll("form.row-add"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        var button = form.querySelector("button[type=submit]");
        if (button) { button.disabled = true; } // one click, one row
        sendRow(form, { values: rowValues(form) }, kind, true);
      });
    });
    Array.prototype.forEach.call(section.querySelectorAll("form.row-remove"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        if (!window.confirm(T.confirm_remove_row)) { return; }
        sendRow(form, {}, kind, true);
      });
    });
    var total = section.querySelector("form.inline-total");
    if (total) {
      var sendTotal = function () { sendRow(total, { field: "declared_total", value: total.elements.value.value }, kind, true); };
      total.addEventListener("submit", function (event) { event.preventDefault(); sendTotal(); });
      total.elements.value.addEventListener("change", sendTotal);
    }
    section.addEventListener("focusout", function () {
      setTimeout(function () { if (section.dataset.stale === "1" && !section.contains(document.activeElement)) { refreshRowsNow(kind); } }, 0);
    });
  }
  Array.prototype.forEach.call(document.querySelectorAll("section.card-rows"), bindRows);

  // --- live structured changes -----------------------------------------------------------------------
  function applyEvent(event) {
    if (event.id) {
      if (seenEvents[event.id]) { return; }
      seenEvents[event.id] = true;
    }
    if (event.name === "card.moved") {
      stopped = true;
      showProblem(T.moved.replace("{body}", function () { return event.body; }));
      return;
    }
    if (event.name !== "card.updated") { return; }
    var own = myOps[event.op];
    (event.changes || []).forEach(function (change) {
      if (change.row) { if (!own) { refreshRows(change.row); } return; }
      if (change.field === "declared_total") { refreshRows("risorse"); return; }
      var form = document.querySelector('form.field-form[data-field="' + change.field + '"]');
      if (form && !own) { writeChoices(form, change.value); }
    });
  }
  if (window.io) {
    var socket = window.io({ transports: ["websocket"] });
    var catchUp = function () {
      socket.emit("events.since", { rooms: [room], after: lastEventId }, function (reply) {
        if (reply && reply.ok) {
          reply.events.forEach(applyEvent);
          if (reply.as_of > lastEventId) { lastEventId = reply.as_of; }
        }
      });
    };
    socket.on("connect", function () {
      socket.emit("room.join", { room: room }, function (ack) {
        if (ack && ack.ok) { catchUp(); }
      });
    });
    // The server asks for it when its message queue comes back; a heartbeat covers anything else missed.
    socket.on("live.resync", catchUp);
    setInterval(function () { if (socket.connected) { catchUp(); } }, 20000);
    socket.on("card.updated", function (event) { if (event.card_id === cardId) { applyEvent(event); } });
    socket.on("card.moved", function (event) { if (event.card_id === cardId) { applyEvent(event); } });
  }
  window.addEventListener("beforeunload", function (event) {
    if (inFlight > 0) { event.preventDefault(); event.returnValue = ""; }
  });
  window.pdzCard = { inFlight: function () { return inFlight; } };
})();
