/* Meetings: follow a meeting live (current item, attendance, quorum, minutes changed), drive it.
   Plain ES2017, no build step. Every form works without JavaScript; this only makes it live.
   The minutes' text is co-written through coedit.js (the page's data-coedit-doc), not here. */
(function () {
  "use strict";
  var root = document.querySelector("[data-meeting-id]");
  if (!root) { return; }
  var T = JSON.parse(document.getElementById("pdz-i18n").textContent).meetings; // the page's strings (templates/_i18n.html)
  var meetingId = root.getAttribute("data-meeting-id");
  var room = "meeting:" + meetingId;
  var csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  var lastId = 0;
  var syncedTo = 0; // every event of the room up to here was received (the server's `as_of`)
  var seen = {};
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
    // Run page: the minutes of the item now in discussion open by themselves (the others stay as they are).
    var minutes = root.querySelector('.minutes-live-item[data-item-id="' + String(itemId) + '"]');
    if (minutes) { minutes.open = true; }
  }

  function showQuorum(q) {
    var box = root.querySelector("[data-quorum]");
    if (!box || !q) { return; }
    var set = function (sel, value) { var el = box.querySelector(sel); if (el) { el.textContent = value; } };
    set("[data-quorum-present]", q.present.toLocaleString("it-IT"));
    set("[data-quorum-total]", q.total.toLocaleString("it-IT"));
    set("[data-quorum-required]", q.required.toLocaleString("it-IT"));
    set("[data-quorum-seats]", q.seats_present);
    set("[data-quorum-reached]", q.reached ? T.reached : T.not_reached);
  }

  var handlers = {
    "meeting.item_changed": function (e) { showCurrent(e.item_id, e.position + ". " + e.title); },
    "meeting.attendance_changed": function (e) {
      showQuorum(e.quorum);
      if (root.hasAttribute("data-run")) { say(T.attendance); }
    },
    "meeting.status_changed": function (e) {
      if (e.status === "in_corso") { say(T.started); }
      else if (e.status === "conclusa") { say(T.concluded); }
      else if (e.status === "annullata") { say(T.cancelled); }
    },
    "meeting.minutes_changed": function (e) {
      if (!root.hasAttribute("data-minutes")) { return; }
      if (root.hasAttribute("data-coedit-doc")) {
        // Text arrives live in the editors; a new decision or action needs its editor or row from the server.
        if (e.what !== "text") { say(T.decision); }
      } else { say(T.minutes_changed); }
    },
    "meeting.minutes_approved": function () { say(T.minutes_approved); },
    "meeting.agenda_changed": function () { say(T.agenda_changed); },
    "meeting.updated": function () { say(T.updated); }
  };

  function handle(name, e) {
    if (!e || String(e.meeting_id) !== String(meetingId)) { return; }
    if (e.id) {
      if (seen[e.id]) { return; }
      seen[e.id] = true;
      if (e.id > lastId) { lastId = e.id; }
    }
    if (handlers[name]) { handlers[name](e); }
  }

  if (window.io) {
    var socket = window.io({ transports: ["websocket"] });
    Object.keys(handlers).forEach(function (name) {
      socket.on(name, function (e) { handle(name, e); });
    });
    var catchUp = function () {
      socket.emit("events.since", { rooms: [room], after: syncedTo || lastId }, function (reply) {
        (reply && reply.events || []).forEach(function (e) { handle(e.name, e); });
        if (reply && reply.ok && reply.as_of > syncedTo) { syncedTo = reply.as_of; }
      });
    };
    socket.on("connect", function () {
      socket.emit("room.join", { room: room }, function (ack) {
        if (!ack || !ack.ok) { return; }
        root.setAttribute("data-live", "1");
        if (lastId === 0) { lastId = syncedTo = ack.last_event_id; return; }
        catchUp();
      });
    });
    // The server asks for it when its message queue comes back; a heartbeat covers anything else missed.
    socket.on("live.resync", function () { if (lastId) { catchUp(); } });
    setInterval(function () { if (socket.connected && lastId) { catchUp(); } }, 20000);
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
        } else { say(r.body.error || T.failed); }
      });
    });
  });
})();
