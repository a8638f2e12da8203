/* SWOT page: the list of entries kept live (added, removed, closed), adds kept and retried until they land.
   The text of every entry is co-written through coedit.js: an entry added here or by someone else gets its
   editor as soon as its markup (data-coedit-field="entry:<id>") is in the page. */
(function () {
  "use strict";
  var root = document.getElementById("swot");
  if (!root) return;
  var T = JSON.parse(document.getElementById("pdz-i18n").textContent).swot; // the page's strings (templates/_i18n.html)
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var room = root.dataset.room;
  // Every event of the room up to lastEvent has been received (the page, then the server's `as_of`).
  var lastEvent = parseInt(root.dataset.lastEvent || "0", 10);
  var seenEvents = {};
  var writable = root.dataset.writable === "true";
  var limit = root.dataset.limit || "2000";
  var status = document.getElementById("live-status");
  var pendingKey = "pdz-swot-pending-" + root.dataset.assessment;

  function say(text) { status.textContent = text; }
  function uuid() {
    return (crypto.randomUUID && crypto.randomUUID()) || (Date.now() + "-" + Math.random().toString(16).slice(2));
  }
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf, "Accept": "application/json"},
      body: JSON.stringify(body)
    }).then(function (r) { return r.json().catch(function () { return {}; }).then(function (d) { d.status = r.status; return d; }); });
  }
  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }
  function cell(dimension, quadrant) {
    return root.querySelector('.swot-cell[data-dimension="' + dimension + '"][data-quadrant="' + quadrant + '"] .swot-entries');
  }

  // An entry added by anyone: the same markup as the page's coedit_text macro, so coedit.js binds its editor.
  function render(entry) {
    var id = entry.entry_id || entry.id;
    if (document.getElementById("voce-" + id)) return;
    var key = "entry:" + id, inputId = "ed-entry-" + id;
    var li = el("li", {id: "voce-" + id, "data-entry": id, "data-remove-url": root.dataset.addUrl + "/" + id + "/rimuovi"});
    var field = el("div", {"class": "coedit-field"});
    var head = el("div", {"class": "field-head"});
    var label = entry.author ? T.entry_by.replace("{author}", function () { return entry.author; }) : T.entry;
    head.appendChild(el("label", {id: inputId + "-label", "for": inputId}, label));
    head.appendChild(el("span", {"class": "presence", "data-coedit-presence": key, "aria-live": "polite"}));
    field.appendChild(head);
    var editor = el("div", {"class": "coedit-editor", "data-coedit-field": key, "data-label": label, "data-input-id": inputId,
                            "data-limit": limit, "data-multiline": "1", "data-markdown": "1"});
    var shown = el("div", {"class": "coedit-editor"});
    shown.appendChild(el("div", {"class": "prose rendered pre"}, entry.text || ""));
    field.appendChild(shown);
    field.appendChild(el("p", {"class": "hint counter", "data-coedit-count": key, "aria-live": "off"}));
    whenTextArrives(key, function () { shown.replaceWith(editor); });  // then coedit.js binds it
    li.appendChild(field);
    var meta = el("p", {"class": "entry-meta muted"});
    (entry.tags || []).forEach(function (t) { meta.appendChild(el("span", {"class": "tag"}, t)); meta.appendChild(document.createTextNode(" ")); });
    if (writable) {
      var remove = el("button", {type: "button", "class": "link-button", "data-remove": ""}, T.remove);
      meta.appendChild(remove);
    }
    li.appendChild(meta);
    cell(entry.dimension, entry.quadrant).appendChild(li);
  }
  // The server puts a new entry's text into the shared document just after adding it: the editor is shown
  // once that text is here, so nobody types into an empty copy of it (their words would land before it).
  function whenTextArrives(key, ready, tries) {
    var co = window.PdzCoedit && window.PdzCoedit.docs.find(function (d) { return d.root === root; });
    if (!co) {
      if ((tries || 0) < 50) setTimeout(function () { whenTextArrives(key, ready, (tries || 0) + 1); }, 100);
      return;
    }
    var done = false;
    function finish() { if (done) return; done = true; co.doc.off("update", check); ready(); }
    function check() { if (co.textOf(key) !== "") finish(); }
    co.doc.on("update", check);
    check();
    setTimeout(finish, 5000);
  }
  function apply(name, data) {
    if (data.id) {
      if (seenEvents[data.id]) return;
      seenEvents[data.id] = true;
    }
    if (name === "swot.entry_added") render(data);
    if (name === "swot.entry_removed") { var li = document.getElementById("voce-" + data.entry_id); if (li) li.remove(); }
    if (name === "swot.closed" && writable) { say(T.closed); window.location.reload(); }
  }

  // --- live channel -------------------------------------------------------------------------
  if (window.io) {
    var socket = io({transports: ["websocket"]});
    var catchUp = function () {
      socket.emit("events.since", {rooms: [room], after: lastEvent}, function (reply) {
        (reply && reply.events || []).forEach(function (e) { apply(e.name, e); });
        if (reply && reply.ok && reply.as_of > lastEvent) lastEvent = reply.as_of;
      });
    };
    // The server asks for it when its message queue comes back; a heartbeat covers anything else missed.
    socket.on("live.resync", catchUp);
    setInterval(function () { if (socket.connected) { catchUp(); } }, 20000);
    socket.on("connect", function () {
      socket.emit("room.join", {room: room}, function () {
        catchUp();
      });
      say("");
      flushPending();
    });
    socket.on("disconnect", function () { say(T.offline); });
    ["swot.entry_added", "swot.entry_removed", "swot.closed"].forEach(function (n) { socket.on(n, function (d) { apply(n, d); }); });
  }

  // --- adds that survive failures (the server stores a retried add once, by client_op_id) ----
  function pending() { try { return JSON.parse(localStorage.getItem(pendingKey) || "[]"); } catch (e) { return []; } }
  function setPending(list) { localStorage.setItem(pendingKey, JSON.stringify(list)); }
  function drop(op) { setPending(pending().filter(function (p) { return p.body.client_op_id !== op.body.client_op_id; })); }
  function send(op) {
    return post(op.url, op.body).then(function (reply) {
      if (reply.status === 200) {
        drop(op);
        if (reply.entry) render(Object.assign({author: root.dataset.me}, reply.entry, {entry_id: reply.entry.id}));
      } else if (reply.status >= 400 && reply.status < 500) {
        drop(op);
      }
      return reply;
    });
  }
  var retryTimer = null;
  function flushPending() {
    var list = pending();
    if (!list.length) return;
    say(T.sending);
    list.reduce(function (chain, op) { return chain.then(function () { return send(op); }); }, Promise.resolve())
      .then(function () { if (!pending().length) say(T.sent); })
      .catch(function () { scheduleRetry(); });
  }
  function scheduleRetry() {
    if (retryTimer) return;
    say(T.send_failed);
    retryTimer = setTimeout(function () { retryTimer = null; flushPending(); }, 3000);
  }
  function save(url, body) {
    var op = {url: url, body: body};
    setPending(pending().concat([op]));
    return send(op).catch(function () { scheduleRetry(); return {status: 0}; });
  }

  if (!writable) return;
  root.querySelectorAll("form.swot-add").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var text = form.querySelector("textarea").value.trim();
      if (!text) { say(T.empty); return; }
      var body = {dimension: form.dimension.value, quadrant: form.quadrant.value, text: text, tags: form.tags.value, client_op_id: uuid()};
      save(form.action, body).then(function (reply) {
        if (reply.status === 200) { form.reset(); say(T.added); }
        else if (reply.status === 422) { say(reply.error || T.invalid); }
      });
    });
  });

  // --- removing an entry (structured: the text stays in the history) --------------------------
  function removeEntry(li) {
    var asking = window.PdzConfirm
      ? window.PdzConfirm({ title: T.confirm_remove, message: T.confirm_remove_detail, ok: T.remove })
      : Promise.resolve(window.confirm(T.confirm_remove));
    asking.then(function (yes) {
      if (!yes) return;
      post(li.dataset.removeUrl, {}).then(function (reply) {
        if (reply.status === 200) { li.remove(); say(T.removed); }
        else { say(reply.error || T.remove_failed); }
      }).catch(function () { say(T.remove_offline); });
    });
  }
  root.addEventListener("submit", function (event) {
    var form = event.target.closest("form.entry-remove");
    if (!form) return;
    event.preventDefault();
    removeEntry(form.closest("li"));
  });
  root.addEventListener("click", function (event) {
    var button = event.target.closest("[data-remove]");
    if (button) removeEntry(button.closest("li"));
  });
})();
