/* Objective cards: per-field saves with retry, live updates, presence and conflict resolution.
   Plain ES2017, no build step. Every save carries the text it started from (base) and a client
   operation id, so the server merges concurrent edits and applies a retried save only once. */
(function () {
  "use strict";
  var root = document.getElementById("card");
  if (!root) { return; }
  var cardId = Number(root.dataset.cardId);
  var bodyId = Number(root.dataset.bodyId);
  var userId = Number(root.dataset.userId);
  var editable = root.dataset.editable === "1";
  var revision = Number(root.dataset.revision);
  var lastEventId = Number(root.dataset.lastEvent || 0);
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');
  var csrf = csrfMeta ? csrfMeta.content : "";
  var liveStatus = document.getElementById("live-status");
  var problem = document.getElementById("save-problem");
  var room = "card:" + cardId;
  var storeKey = "pdz-card-pending-" + cardId;
  var myOps = {};
  var fields = {};
  var failing = {};
  var stopped = false;

  function newOp() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID().replace(/-/g, ""); }
    var s = ""; for (var i = 0; i < 32; i++) { s += Math.floor(Math.random() * 16).toString(16); } return s;
  }
  function say(text) { if (liveStatus) { liveStatus.textContent = text; } }
  function showProblem(text) {
    if (!problem) { return; }
    if (text) { problem.textContent = text; problem.hidden = false; } else { problem.textContent = ""; problem.hidden = true; }
  }
  function updateProblem() {
    var keys = Object.keys(failing);
    if (keys.length) { showProblem("Salvataggio non riuscito, riprovo… Le tue modifiche restano nella pagina (" + keys.length + " in attesa)."); }
    else if (!stopped) { showProblem(""); }
  }
  function setRevision(rev) {
    if (rev > revision) {
      revision = rev;
      var label = document.querySelector("[data-revision-label]");
      if (label) { label.textContent = String(rev); }
    }
  }

  // --- pending saves survive a reload (localStorage) ----------------------------------------------
  function loadPending() { try { return JSON.parse(localStorage.getItem(storeKey) || "{}"); } catch (e) { return {}; } }
  function savePending(p) { try { localStorage.setItem(storeKey, JSON.stringify(p)); } catch (e) { /* private mode */ } }
  function remember(key, payload) { var p = loadPending(); p[key] = payload; savePending(p); }
  function forget(key) { var p = loadPending(); delete p[key]; savePending(p); }

  // --- HTTP with retry ------------------------------------------------------------------------------
  function post(url, payload, key, handlers) {
    var attempt = 0;
    function tryOnce() {
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(payload)
      }).then(function (response) {
        return response.json().catch(function () { return {}; }).then(function (data) { return { status: response.status, data: data }; });
      }).then(function (result) {
        if (result.status >= 500 || result.status === 429 || result.status === 0) { throw new Error("server " + result.status); }
        delete failing[key]; updateProblem();
        handlers.done(result.status, result.data);
      }).catch(function () {
        attempt += 1;
        failing[key] = true; updateProblem();
        setTimeout(tryOnce, Math.min(500 * Math.pow(2, attempt), 15000));
      });
    }
    tryOnce();
  }

  // --- scalar fields -------------------------------------------------------------------------------
  function readValue(f) {
    if (f.kind === "yesno") {
      var checked = f.form.querySelector('input[type="radio"]:checked'); return checked ? checked.value : "";
    }
    if (f.kind === "choices" || f.kind === "area_choices") {
      return Array.prototype.filter.call(f.form.querySelectorAll('input[type="checkbox"]'), function (c) { return c.checked; })
        .map(function (c) { return c.value; }).join("\n");
    }
    return f.input ? f.input.value : "";
  }
  function writeValue(f, value, html) {
    if (f.kind === "yesno") {
      Array.prototype.forEach.call(f.form.querySelectorAll('input[type="radio"]'), function (r) { r.checked = r.value === value; });
    } else if (f.kind === "choices" || f.kind === "area_choices") {
      var chosen = value ? value.split("\n") : [];
      Array.prototype.forEach.call(f.form.querySelectorAll('input[type="checkbox"]'), function (c) { c.checked = chosen.indexOf(c.value) >= 0; });
    } else if (f.input) {
      var focused = document.activeElement === f.input, start = f.input.selectionStart, end = f.input.selectionEnd;
      f.input.value = value;
      if (focused && start !== null) { f.input.setSelectionRange(Math.min(start, value.length), Math.min(end, value.length)); }
    }
    var preview = f.box.querySelector(".rendered");
    if (preview && typeof html === "string") { preview.innerHTML = html; } // server-sanitised HTML
    if (f.key === "title") { var h = document.querySelector("[data-title]"); if (h) { h.textContent = value || h.textContent; } }
  }
  function fieldStatus(f, text, isError) {
    var el = f.form.querySelector(".field-status");
    if (el) { el.textContent = text; el.className = "field-status" + (isError ? " error" : ""); }
  }

  function scheduleSave(f, delay) {
    if (!editable || f.blocked || stopped) { return; }
    clearTimeout(f.timer);
    f.timer = setTimeout(function () { saveField(f); }, delay);
  }

  function saveField(f, resolution) {
    if (f.sending) { f.again = true; return; }
    var value = resolution ? resolution.value : readValue(f);
    if (!resolution && value === f.shadow) { return; }
    var payload = resolution ? resolution.payload : {
      field: f.key, value: value, base_revision: f.baseRev, base_value: f.shadow, client_op_id: newOp(), body_id: bodyId
    };
    myOps[payload.client_op_id] = true;
    f.sending = true;
    remember(f.key, payload);
    fieldStatus(f, "Salvataggio…");
    post(root.dataset.saveUrl, payload, "field:" + f.key, {
      done: function (status, data) {
        f.sending = false;
        forget(f.key);
        if (status === 200) {
          var now = readValue(f);
          if (now === payload.value) { writeValue(f, data.value, data.html); f.shadow = data.value; }
          else { f.shadow = payload.value; } // typed on meanwhile: the next save merges against what was sent
          f.baseRev = data.revision; setRevision(data.revision);
          if (resolution) { f.blocked = false; removeConflictBox(f.key); }
          fieldStatus(f, data.status === "merged" ? "Salvato, unito alle modifiche degli altri." : "Salvato.");
          var other = f.box.querySelector(".others-note"); if (other) { other.remove(); }
        } else if (status === 409 && data.status === "conflict") {
          f.blocked = true;
          f.shadow = data.theirs; f.baseRev = data.revision;
          fieldStatus(f, "Modifiche sovrapposte: scegli quale versione tenere.", true);
          showConflict(f, data);
        } else if (status === 409 || status === 403) {
          stopped = true;
          fieldStatus(f, "Non salvato.", true);
          showProblem((data.error || "Non puoi più modificare questa scheda.") + " Il tuo testo è ancora nel campo: copialo per non perderlo.");
        } else {
          var message = (data.errors && (data.errors[f.key] || data.errors.value || data.errors[""])) || data.error || "Valore non valido.";
          fieldStatus(f, message, true);
          if (status === 400) { showProblem((data.error || "Richiesta non valida.") + " Il tuo testo è ancora nel campo."); }
        }
        if (f.again) { f.again = false; scheduleSave(f, 50); }
        else if (status === 200 && readValue(f) !== f.shadow) { scheduleSave(f, 300); }
      }
    });
  }

  // --- conflicts -----------------------------------------------------------------------------------
  function removeConflictBox(key) {
    var box = document.querySelector('.conflict-box[data-field="' + key + '"][data-live]');
    if (box) { box.remove(); }
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined) { node.textContent = text; }
    return node;
  }
  function showConflict(f, data) {
    removeConflictBox(f.key);
    var box = el("div", { "class": "conflict-box", "data-field": f.key, "data-live": "1", "role": "alert" });
    box.appendChild(el("h3", {}, "Modifiche sovrapposte su questo campo"));
    box.appendChild(el("p", {}, "Un'altra persona ha cambiato lo stesso punto mentre scrivevi. Nessuna versione è andata persa: scegli cosa tenere oppure unisci i due testi qui sotto e salva."));
    var sides = el("div", { "class": "side-by-side" });
    var left = el("div"), right = el("div");
    left.appendChild(el("h4", {}, "La tua versione"));
    left.appendChild(el("pre", { "class": "version mine" }, data.mine));
    right.appendChild(el("h4", {}, "Versione salvata da altri"));
    right.appendChild(el("pre", { "class": "version theirs" }, data.theirs));
    sides.appendChild(left); sides.appendChild(right); box.appendChild(sides);
    var label = el("label", { "for": "resolve-" + f.key }, "Testo da salvare");
    var area = el("textarea", { "id": "resolve-" + f.key, "rows": "5", "class": "input resolve-text" });
    area.value = data.mine;
    box.appendChild(label); box.appendChild(area);
    var actions = el("div", { "class": "actions" });
    function choose(text) {
      var payload = { field: f.key, value: text, base_revision: data.revision, base_value: data.theirs,
                      client_op_id: newOp(), body_id: bodyId, resolves: data.conflict_id };
      writeValue(f, text);
      saveField(f, { value: text, payload: payload });
    }
    var mine = el("button", { "type": "button", "class": "button keep-mine" }, "Tieni la mia");
    var theirs = el("button", { "type": "button", "class": "button keep-theirs" }, "Tieni l'altra");
    var merged = el("button", { "type": "button", "class": "button primary keep-merged" }, "Salva questo testo");
    mine.addEventListener("click", function () { choose(data.mine); });
    theirs.addEventListener("click", function () { choose(data.theirs); });
    merged.addEventListener("click", function () { choose(area.value); });
    actions.appendChild(mine); actions.appendChild(theirs); actions.appendChild(merged);
    box.appendChild(actions);
    f.box.appendChild(box);
  }

  // --- rows (lists) --------------------------------------------------------------------------------
  function refreshRows(kind) {
    var section = document.getElementById("rows-" + kind);
    if (!section) { return; }
    if (section.contains(document.activeElement) && document.activeElement.tagName !== "BUTTON") { section.dataset.stale = "1"; return; }
    fetch(root.dataset.rowsUrl.replace("KIND", kind), { credentials: "same-origin" }).then(function (r) { return r.text(); }).then(function (html) {
      var holder = document.createElement("div");
      holder.innerHTML = html;
      var fresh = holder.querySelector("#rows-" + kind);
      if (fresh) { section.replaceWith(fresh); bindRows(fresh); }
    });
  }
  function rowValues(form) {
    var values = {};
    Array.prototype.forEach.call(form.elements, function (input) {
      if (!input.name || input.type === "hidden" || input.tagName === "BUTTON") { return; }
      values[input.name] = input.type === "checkbox" ? input.checked : input.value;
    });
    return values;
  }
  function sendRow(form, payload, kind) {
    var status = form.querySelector(".field-status");
    payload.client_op_id = newOp(); payload.body_id = bodyId;
    myOps[payload.client_op_id] = true;
    post(form.action, payload, "row:" + form.action, {
      done: function (code, data) {
        if (code === 200) { setRevision(data.revision); refreshRowsNow(kind); }
        else if (code === 409 && data.status === "conflict") {
          showProblem("Un'altra persona ha cambiato questa riga nello stesso momento: la tua versione è conservata nella storia della scheda. Ricontrolla la riga.");
          refreshRowsNow(kind);
        } else {
          var message = (data.errors && Object.keys(data.errors).map(function (k) { return data.errors[k]; }).join(" ")) || data.error || "Non salvato.";
          if (status) { status.textContent = message; status.className = "field-status error"; } else { showProblem(message); }
        }
      }
    });
  }
  function refreshRowsNow(kind) { var s = document.getElementById("rows-" + kind); if (s) { s.dataset.stale = ""; } if (document.activeElement) { document.activeElement.blur(); } refreshRows(kind); }
  function bindRows(section) {
    var kind = section.dataset.rows;
    Array.prototype.forEach.call(section.querySelectorAll("form.row-form"), function (form) {
      form.addEventListener("submit", function (event) {
        event.preventDefault();
        sendRow(form, { values: rowValues(form), base_revision: Number(form.elements.base_revision.value) }, kind);
      });
    });
    Array.prototype.forEach.call(section.querySelectorAll("form.row-add"), function (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); sendRow(form, { values: rowValues(form) }, kind); });
    });
    Array.prototype.forEach.call(section.querySelectorAll("form.row-remove"), function (form) {
      form.addEventListener("submit", function (event) { event.preventDefault(); sendRow(form, {}, kind); });
    });
    var total = section.querySelector("form.inline-total");
    if (total) {
      total.addEventListener("submit", function (event) {
        event.preventDefault();
        sendRow(total, { field: "declared_total", value: total.elements.value.value }, kind);
      });
    }
    section.addEventListener("focusout", function () {
      setTimeout(function () { if (section.dataset.stale === "1" && !section.contains(document.activeElement)) { refreshRowsNow(kind); } }, 0);
    });
  }

  // --- wiring --------------------------------------------------------------------------------------
  Array.prototype.forEach.call(document.querySelectorAll(".card-field"), function (box) {
    var form = box.querySelector("form.field-form");
    var key = box.dataset.field;
    var input = box.querySelector("#in-" + key);
    var holder = box.querySelector("[data-base]");
    var f = {
      key: key, kind: box.dataset.kind, box: box, form: form,
      input: input && (input.tagName === "INPUT" || input.tagName === "TEXTAREA") ? input : null,
      shadow: holder ? holder.dataset.base : "", baseRev: revision, sending: false, blocked: false
    };
    fields[key] = f;
    if (!editable || !form) { return; }
    form.addEventListener("submit", function (event) { event.preventDefault(); clearTimeout(f.timer); saveField(f); });
    form.addEventListener("input", function () { fieldStatus(f, "Modifiche non ancora salvate…"); scheduleSave(f, f.kind === "markdown" || f.kind === "line" || f.kind === "tags" ? 700 : 50); });
    form.addEventListener("change", function () { scheduleSave(f, 50); });
    form.addEventListener("focusin", function () { if (socket) { socket.emit("field.focus", { card_id: cardId, field: key }); } });
    form.addEventListener("focusout", function () {
      scheduleSave(f, 0);
      setTimeout(function () { if (socket && !form.contains(document.activeElement)) { socket.emit("field.blur", { card_id: cardId }); } }, 0);
    });
  });
  Array.prototype.forEach.call(document.querySelectorAll("section.card-rows"), bindRows);

  // Saves left unfinished by a previous visit (closed tab, network down) are sent again, same op id.
  var pending = loadPending();
  Object.keys(pending).forEach(function (key) {
    var f = fields[key], payload = pending[key];
    if (!f || !editable) { forget(key); return; }
    writeValue(f, payload.value);
    f.shadow = payload.base_value; f.baseRev = payload.base_revision;
    saveField(f, { value: payload.value, payload: payload });
  });

  // --- live ----------------------------------------------------------------------------------------
  var presence = {};
  function renderPresence() {
    Object.keys(fields).forEach(function (key) {
      var names = Object.keys(presence).filter(function (u) { return presence[u].field === key; }).map(function (u) { return presence[u].name; });
      var target = fields[key].box.querySelector(".presence");
      if (target) { target.textContent = names.length ? "✎ " + names.join(", ") + (names.length > 1 ? " stanno scrivendo" : " sta scrivendo") : ""; }
    });
  }
  function applyEvent(event) {
    if (event.id && event.id <= lastEventId) { return; }
    if (event.id) { lastEventId = event.id; }
    if (event.name === "card.moved") {
      stopped = true;
      showProblem("Questa scheda è stata spostata nel tavolo «" + event.body + "»: ricarica la pagina. Le modifiche non salvate restano nei campi.");
      return;
    }
    if (event.name !== "card.updated") { return; }
    setRevision(event.rev);
    var own = myOps[event.op];
    (event.changes || []).forEach(function (change) {
      if (change.row) { if (!own) { refreshRows(change.row); } return; }
      if (change.field === "declared_total") { refreshRows("risorse"); return; }
      var f = fields[change.field];
      if (!f || own) { return; }
      var local = readValue(f);
      if (!f.sending && local === f.shadow) {
        writeValue(f, change.value, change.html);
        f.shadow = change.value; f.baseRev = event.rev;
      } else if (!f.box.querySelector(".others-note")) {
        var note = el("p", { "class": "others-note hint" }, event.author + " ha appena modificato questo campo: al salvataggio le due versioni verranno unite.");
        f.box.appendChild(note);
      }
    });
  }
  var socket = null;
  if (window.io) {
    socket = window.io({ transports: ["websocket", "polling"] });
    socket.on("connect", function () {
      say(editable ? "Collegato: vedi in tempo reale le modifiche degli altri." : "Collegato (sola lettura).");
      socket.emit("room.join", { room: room }, function (ack) {
        if (!ack || !ack.ok) { say("Non è stato possibile seguire la scheda in tempo reale."); return; }
        socket.emit("events.since", { rooms: [room], after: lastEventId }, function (reply) {
          if (reply && reply.ok) { reply.events.forEach(applyEvent); }
        });
        socket.emit("card.editors", { card_id: cardId }, function (reply) {
          presence = {};
          ((reply && reply.editors) || []).forEach(function (e) { if (e.user_id !== userId) { presence[e.user_id] = e; } });
          renderPresence();
        });
      });
    });
    socket.on("disconnect", function () { say("Connessione persa: riprovo… Le tue modifiche restano nella pagina."); });
    socket.on("card.updated", function (event) { if (event.card_id === cardId) { applyEvent(event); } });
    socket.on("card.moved", function (event) { if (event.card_id === cardId) { applyEvent(event); } });
    socket.on("field.focus", function (event) {
      if (event.card_id !== cardId || event.user_id === userId) { return; }
      presence[event.user_id] = event; renderPresence();
    });
    socket.on("field.blur", function (event) {
      if (event.card_id !== cardId) { return; }
      delete presence[event.user_id]; renderPresence();
    });
  }
  window.addEventListener("beforeunload", function (event) {
    var busy = Object.keys(failing).length > 0 || Object.keys(fields).some(function (k) { return fields[k].sending; });
    if (busy) { event.preventDefault(); event.returnValue = ""; }
  });
  window.pdzCard = { fields: fields, revision: function () { return revision; } };
})();
