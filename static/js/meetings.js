/* Meetings: follow a meeting live (current item, attendance, quorum), drive it, co-write the minutes.
   Plain ES2017, no build step. Every form works without JavaScript; this only makes it live. */
(function () {
  "use strict";
  var root = document.querySelector("[data-meeting-id]");
  if (!root) { return; }
  var meetingId = root.getAttribute("data-meeting-id");
  var room = "meeting:" + meetingId;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var lastId = 0;
  var notice = root.querySelector("[data-live-notice]");

  function say(text) {
    if (!notice) { return; }
    notice.textContent = text;
    notice.hidden = false;
  }

  function post(url, data) {
    return fetch(url, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
      body: JSON.stringify(data)
    }).then(function (response) {
      return response.json().then(function (body) { return { status: response.status, body: body }; });
    });
  }

  function showCurrent(itemId, label) {
    root.querySelectorAll("[data-agenda] li").forEach(function (li) {
      li.classList.toggle("is-current", li.getAttribute("data-item-id") === String(itemId));
    });
    var current = root.querySelector("[data-current-item]");
    if (current && label) { current.textContent = label; }
  }

  function showQuorum(q) {
    var box = root.querySelector("[data-quorum]");
    if (!box || !q) { return; }
    var set = function (sel, value) { var el = box.querySelector(sel); if (el) { el.textContent = value; } };
    set("[data-quorum-present]", q.present.toLocaleString("it-IT"));
    set("[data-quorum-total]", q.total.toLocaleString("it-IT"));
    set("[data-quorum-required]", q.required.toLocaleString("it-IT"));
    set("[data-quorum-seats]", q.seats_present);
    set("[data-quorum-reached]", q.reached ? "Raggiunto" : "Non raggiunto");
  }

  var handlers = {
    "meeting.item_changed": function (e) { showCurrent(e.item_id, e.position + ". " + e.title); },
    "meeting.attendance_changed": function (e) {
      showQuorum(e.quorum);
      if (root.hasAttribute("data-run")) { say("Presenze aggiornate: ricarica la pagina per vedere l'elenco."); }
    },
    "meeting.status_changed": function (e) {
      if (e.status === "in_corso") { say("L'incontro è iniziato: ricarica la pagina per registrare la presenza."); }
      else if (e.status === "conclusa") { say("L'incontro è concluso."); }
      else if (e.status === "annullata") { say("L'incontro è stato annullato."); }
    },
    "meeting.minutes_saved": function (e) { minutesSaved(e); },
    "meeting.minutes_approved": function () { say("Il verbale è stato approvato: ricarica la pagina."); },
    "meeting.agenda_changed": function () { say("L'ordine del giorno è cambiato: ricarica la pagina."); },
    "meeting.updated": function () { say("Data o luogo dell'incontro sono cambiati: ricarica la pagina."); }
  };

  function handle(name, e) {
    if (!e || String(e.meeting_id) !== String(meetingId)) { return; }
    if (e.id && e.id <= lastId) { return; }
    if (e.id) { lastId = e.id; }
    if (handlers[name]) { handlers[name](e); }
  }

  if (window.io) {
    var socket = window.io({ transports: ["websocket", "polling"] });
    Object.keys(handlers).forEach(function (name) {
      socket.on(name, function (e) { handle(name, e); });
    });
    socket.on("connect", function () {
      socket.emit("room.join", { room: room }, function (ack) {
        if (!ack || !ack.ok) { return; }
        root.setAttribute("data-live", "1");
        if (lastId === 0) { lastId = ack.last_event_id; return; }
        socket.emit("events.since", { rooms: [room], after: lastId }, function (reply) {
          (reply && reply.events || []).forEach(function (e) { handle(e.name, e); });
        });
      });
    });
  }

  // Coordinator: mark the current item without reloading.
  root.querySelectorAll("[data-current-form]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var itemId = form.querySelector('[name="item_id"]').value;
      post(form.action, { item_id: itemId }).then(function (r) {
        if (r.status === 200) {
          var li = form.closest("li");
          showCurrent(r.body.item_id, (li ? li.querySelector("strong").textContent : r.body.title));
        } else { say(r.body.error || "Operazione non riuscita."); }
      });
    });
  });

  // Minutes: save against the revision we started from; merges are applied, conflicts shown.
  function opId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return String(Date.now()) + Math.random().toString(16).slice(2);
  }

  function minutesSaved(e) {
    var form = root.querySelector('[data-item-id="' + e.item_id + '"] [data-minutes-form]');
    if (!form) {
      var view = root.querySelector('[data-item-id="' + e.item_id + '"] [data-minutes-html]');
      if (view) { view.textContent = e.text; }
      return;
    }
    var rev = form.querySelector('[name="base_rev"]');
    if (Number(rev.value) >= e.rev) { return; }
    var area = form.querySelector("textarea");
    if (!form.dataset.dirty) {
      area.value = e.text;
      rev.value = e.rev;
      form.querySelector("[data-minutes-state]").textContent = "Versione " + e.rev + " (aggiornata da un'altra persona)";
    } else {
      form.querySelector("[data-minutes-state]").textContent =
        "Qualcun altro ha salvato una nuova versione: salvando, le tue modifiche verranno unite alla sua.";
    }
  }

  root.querySelectorAll("[data-minutes-form]").forEach(function (form) {
    var area = form.querySelector("textarea");
    area.addEventListener("input", function () { form.dataset.dirty = "1"; });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var rev = form.querySelector('[name="base_rev"]');
      var op = form.querySelector('[name="op_id"]');
      if (!op.value) { op.value = opId(); }
      var state = form.querySelector("[data-minutes-state]");
      var box = form.querySelector("[data-conflict]");
      post(form.action, { text: area.value, base_rev: Number(rev.value), op_id: op.value }).then(function (r) {
        if (r.status === 200) {
          area.value = r.body.text;
          rev.value = r.body.rev;
          op.value = "";
          delete form.dataset.dirty;
          box.hidden = true;
          state.textContent = "Versione " + r.body.rev + (r.body.merged ? " – unita alle modifiche di altri" : " – salvata");
        } else if (r.status === 409) {
          op.value = "";
          box.hidden = false;
          box.textContent = "";
          var p = document.createElement("p");
          p.textContent = r.body.error;
          var mine = document.createElement("pre");
          mine.textContent = "La tua versione:\n" + r.body.mine;
          var theirs = document.createElement("pre");
          theirs.textContent = "Versione salvata:\n" + r.body.theirs;
          box.appendChild(p); box.appendChild(mine); box.appendChild(theirs);
          area.value = r.body.theirs;
          rev.value = r.body.rev;
          state.textContent = "Ricopia le tue modifiche nella versione salvata, poi salva di nuovo.";
        } else {
          state.textContent = r.body.error || "Salvataggio non riuscito.";
        }
      }).catch(function () { state.textContent = "Connessione assente: riprova, le modifiche non sono andate perse."; });
    });
  });
})();
