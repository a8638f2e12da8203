/* SWOT co-writing: live updates, inline edits against a base version, saves kept and retried until they land. */
(function () {
  "use strict";
  var root = document.getElementById("swot");
  if (!root) return;
  var csrf = document.querySelector('meta[name="csrf-token"]').content;
  var room = root.dataset.room;
  var lastEvent = parseInt(root.dataset.lastEvent || "0", 10);
  var writable = root.dataset.writable === "true";
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
  function cell(dimension, quadrant) {
    return root.querySelector('.swot-cell[data-dimension="' + dimension + '"][data-quadrant="' + quadrant + '"] .swot-entries');
  }
  function render(entry) {
    var li = document.getElementById("voce-" + entry.entry_id) || document.getElementById("voce-" + entry.id);
    var id = entry.entry_id || entry.id;
    if (!li) {
      li = document.createElement("li");
      li.id = "voce-" + id;
      li.dataset.entry = id;
      li.dataset.editUrl = root.dataset.addUrl + "/" + id;
      li.dataset.removeUrl = root.dataset.addUrl + "/" + id + "/rimuovi";
      cell(entry.dimension, entry.quadrant).appendChild(li);
    }
    if (li.classList.contains("editing") && parseInt(li.dataset.version, 10) < entry.version) {
      li.dataset.remoteText = entry.text;  // someone else saved while this person edits: merged on save
      return;
    }
    li.dataset.version = entry.version;
    li.dataset.text = entry.text;
    var tags = (entry.tags || []).map(function (t) { var s = document.createElement("span"); s.className = "tag"; s.textContent = t; return s.outerHTML; }).join(" ");
    var text = li.querySelector(".entry-text"), meta = li.querySelector(".entry-meta");
    if (text && meta) {  // keep the entry's comment thread (a sibling) as it is
      text.innerHTML = entry.html;
      meta.innerHTML = tags + ' <span class="entry-author"></span>';
    } else {
      li.innerHTML = '<div class="entry-text">' + entry.html + '</div><p class="entry-meta muted">' + tags + ' <span class="entry-author"></span></p>';
    }
    if (entry.author) li.querySelector(".entry-author").textContent = entry.author;
  }
  function apply(name, data) {
    if (data.id && data.id <= lastEvent) return;
    if (data.id) lastEvent = data.id;
    if (name === "swot.entry_saved") render(data);
    if (name === "swot.entry_removed") { var li = document.getElementById("voce-" + data.entry_id); if (li) li.remove(); }
    if (name === "swot.closed" && writable) { say("L'autovalutazione è stata chiusa."); window.location.reload(); }
  }

  // --- live channel -------------------------------------------------------------------------
  if (window.io) {
    var socket = io({transports: ["websocket", "polling"]});
    socket.on("connect", function () {
      socket.emit("room.join", {room: room}, function () {
        socket.emit("events.since", {rooms: [room], after: lastEvent}, function (reply) {
          (reply && reply.events || []).forEach(function (e) { apply(e.name, e); });
        });
      });
      say("");
      flushPending();
    });
    socket.on("disconnect", function () { say("Connessione persa: le modifiche restano qui e verranno inviate al ritorno della rete."); });
    ["swot.entry_saved", "swot.entry_removed", "swot.closed"].forEach(function (n) { socket.on(n, function (d) { apply(n, d); }); });
  }

  // --- saves that survive failures ----------------------------------------------------------
  function pending() { try { return JSON.parse(localStorage.getItem(pendingKey) || "[]"); } catch (e) { return []; } }
  function setPending(list) { localStorage.setItem(pendingKey, JSON.stringify(list)); }
  function send(op) {
    return post(op.url, op.body).then(function (reply) {
      if (reply.status === 200) {
        setPending(pending().filter(function (p) { return p.body.client_op_id !== op.body.client_op_id; }));
        if (reply.entry) render(Object.assign({}, reply.entry, {entry_id: reply.entry.id}));
        return reply;
      }
      if (reply.status >= 400 && reply.status < 500) {
        setPending(pending().filter(function (p) { return p.body.client_op_id !== op.body.client_op_id; }));
      }
      return reply;
    });
  }
  var retryTimer = null;
  function flushPending() {
    var list = pending();
    if (!list.length) return;
    say("Invio delle modifiche in attesa…");
    list.reduce(function (chain, op) { return chain.then(function () { return send(op); }); }, Promise.resolve())
      .then(function () { if (!pending().length) say("Modifiche in attesa inviate."); })
      .catch(function () { scheduleRetry(); });
  }
  function scheduleRetry() {
    if (retryTimer) return;
    say("Salvataggio non riuscito, riprovo tra poco… (il testo resta qui)");
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
      if (!text) { say("Scrivi il testo della voce."); return; }
      var body = {dimension: form.dimension.value, quadrant: form.quadrant.value, text: text, tags: form.tags.value, client_op_id: uuid()};
      save(form.action, body).then(function (reply) {
        if (reply.status === 200) { form.reset(); say("Voce aggiunta."); }
        else if (reply.status === 422) { say(reply.error || "Voce non valida."); }
      });
    });
  });

  // --- inline editing -----------------------------------------------------------------------
  root.addEventListener("click", function (event) {
    var li = event.target.closest(".swot-entries li");
    if (!li || li.classList.contains("editing") || event.target.closest("a") || event.target.closest(".entry-thread")) return;
    li.classList.add("editing");
    var base = parseInt(li.dataset.version, 10);
    var editor = document.createElement("div");
    editor.innerHTML = '<label class="sr-only">Modifica la voce</label><textarea rows="3" maxlength="2000"></textarea>' +
      '<button type="button" class="button small primary" data-act="save">Salva</button> ' +
      '<button type="button" class="button small" data-act="cancel">Annulla</button> ' +
      '<button type="button" class="button small danger" data-act="remove">Rimuovi</button>';
    editor.querySelector("textarea").value = li.dataset.text;
    li.appendChild(editor);
    editor.querySelector("textarea").focus();
    editor.addEventListener("click", function (e) {
      var act = e.target.dataset.act;
      if (!act) return;
      e.stopPropagation();
      if (act === "cancel") { li.classList.remove("editing"); editor.remove(); return; }
      if (act === "remove") {
        post(li.dataset.removeUrl, {}).then(function () { li.remove(); });
        return;
      }
      var text = editor.querySelector("textarea").value;
      save(li.dataset.editUrl, {text: text, base_version: base, client_op_id: uuid()}).then(function (reply) {
        if (reply.status === 200) { li.classList.remove("editing"); editor.remove(); render(Object.assign({}, reply.entry, {entry_id: reply.entry.id})); say("Voce salvata."); }
        else if (reply.status === 409) {
          base = reply.version;
          var box = document.createElement("div");
          box.className = "notice";
          box.innerHTML = '<p></p><p><strong>Il testo salvato da altri:</strong></p><pre class="version"></pre><p>Modifica il tuo testo e salva di nuovo: nulla è andato perso.</p>';
          box.querySelector("p").textContent = reply.error;
          box.querySelector("pre").textContent = reply.theirs;
          editor.insertBefore(box, editor.firstChild);
          say(reply.error);
        } else if (reply.status === 422) { say(reply.error || "Voce non valida."); }
      });
    });
  });
})();
