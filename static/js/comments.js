/* PdZ live comment threads. Plain ES2017, no build step.
 *
 * The database is the source of truth: every live event has an increasing id; after any (re)connect
 * the page rejoins its rooms and asks `events.since` for what it missed, applying each event once.
 * Comments written while offline stay in the page (and in localStorage) marked as pending and are
 * sent on reconnect with the same client_op_id, so a retry is stored once; a refused send stays in
 * the page, marked as failed, with retry / discard buttons: nothing is dropped silently.
 */
(function () {
  "use strict";

  const T = JSON.parse((document.getElementById("pdz-i18n") || {}).textContent || "{}").comments || {}; // templates/_i18n.html
  // The page's confirmation dialog (behaviours.js); the browser's own question only if it is missing.
  const ask = (message) => (window.PdzConfirm ? window.PdzConfirm({ message: message }) : Promise.resolve(window.confirm(message)));
  const csrf = (document.querySelector('meta[name="csrf-token"]') || {}).content || "";
  const boxes = [];
  const REPLAY_MARGIN = 50;
  // syncedTo: every event of the followed rooms up to this position has been received (from `as_of`).
  const live = { socket: null, rooms: new Set(), lastId: 0, syncedTo: 0, seen: new Set(), userId: null };

  function el(tag, attrs, children) {
    const node = document.createElement(tag);
    Object.entries(attrs || {}).forEach(([k, v]) => {
      if (v === null || v === undefined || v === false) return;
      if (k === "text") node.textContent = v;
      else if (k === "html") node.innerHTML = v; // only server-sanitised *_html reaches here
      else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : v);
    });
    (children || []).forEach((c) => c && node.appendChild(c));
    return node;
  }

  function newOpId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return "op-" + Date.now().toString(36) + "-" + Math.random().toString(36).slice(2, 12);
  }

  // Times read in Rome whatever the computer's clock says, as on every server page (pdz.formatting.format_local,
  // style "datetime": "28 mar 2026, 10:55").
  const when = new Intl.DateTimeFormat("it-IT", { dateStyle: "medium", timeStyle: "short", timeZone: "Europe/Rome" });

  async function api(url, options) {
    const response = await fetch(url, Object.assign({
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRFToken": csrf },
    }, options || {}));
    let data = {};
    try { data = await response.json(); } catch (e) { data = { ok: false, error: T.error }; }
    data.status = response.status;
    return data;
  }

  // --- pending sends, kept across reloads ------------------------------------------------------

  function pendingKey() { return "pdz.comments.pending." + live.userId; }
  function loadPending() {
    try { return JSON.parse(localStorage.getItem(pendingKey()) || "[]"); } catch (e) { return []; }
  }
  function savePending(list) {
    try { localStorage.setItem(pendingKey(), JSON.stringify(list)); } catch (e) { /* private mode: page memory only */ }
  }
  const outbox = {
    items: [],
    add(op) { this.items.push(op); savePending(this.items); },
    update() { savePending(this.items); },
    remove(opId) { this.items = this.items.filter((o) => o.client_op_id !== opId); savePending(this.items); },
  };

  function flush() {
    if (!live.socket || !live.socket.connected) return;
    outbox.items.forEach((op) => {
      if (op.state !== "pending" || op.inflight) return;
      op.inflight = true;
      const message = {
        body_id: op.body_id, target_kind: op.target_kind, target_id: op.target_id, field_key: op.field_key,
        text: op.text, parent_id: op.parent_id, mention_ids: op.mention_ids, client_op_id: op.client_op_id,
      };
      live.socket.timeout(10000).emit("comment.create", message, (err, answer) => {
        op.inflight = false;
        if (err) { setTimeout(flush, 2000); return; } // no answer: still pending, same op id next time
        if (answer && answer.ok) {
          outbox.remove(op.client_op_id);
          boxes.forEach((b) => b.accept(answer.comment, op.client_op_id));
        } else {
          op.state = "failed";
          op.error = (answer && answer.error) || T.error;
          outbox.update();
          boxes.forEach((b) => b.render());
        }
      });
    });
  }

  // --- the shared connection --------------------------------------------------------------------

  function setStatus(kind) {
    boxes.forEach((b) => b.status(kind));
  }

  function catchUp() {
    const rooms = Array.from(live.rooms);
    if (!rooms.length) return;
    // Ask a little before the last id: two transactions may commit in the opposite order of their ids,
    // so an event with a smaller id can still be on its way. Ids already applied are skipped, and a
    // replayed tail applied in id order always ends in the current state.
    // From the last complete answer: a live message lost in between (message queue down, a process killed)
    // has a smaller position than later ones, so "after the last id seen" would skip it.
    const after = live.syncedTo || Math.max(0, live.lastId - REPLAY_MARGIN);
    live.socket.emit("events.since", { rooms: rooms, after: after }, (answer) => {
      if (!answer || !answer.ok) return;
      answer.events.forEach(apply);
      if (typeof answer.as_of === "number" && answer.as_of > live.syncedTo) live.syncedTo = answer.as_of;
      if (answer.events.length >= 500) catchUp(); // more than one page missed (lastId moved on)
    });
  }

  function join(room) {
    live.socket.emit("room.join", { room: room }, (answer) => {
      if (answer && answer.ok) catchUp();
      else boxes.forEach((b) => { if (b.room === room) b.left(); });
    });
  }

  function apply(event) {
    if (!event || typeof event.id !== "number" || live.seen.has(event.id)) return;
    live.seen.add(event.id);
    if (event.id > live.lastId) live.lastId = event.id;
    if (event.comment) boxes.forEach((b) => b.onEvent(event.name, event.comment));
  }

  function connect() {
    if (!window.io) return;
    live.socket = window.io({ transports: ["websocket"], reconnectionDelayMax: 5000 });
    live.socket.on("connect", () => {
      setStatus("online");
      live.rooms.forEach(join);
      flush();
    });
    live.socket.on("disconnect", () => setStatus(navigator.onLine === false ? "offline" : "reconnecting"));
    // The server asks for it when its message queue comes back; a heartbeat covers anything else missed.
    live.socket.on("live.resync", catchUp);
    setInterval(() => { if (live.socket.connected) catchUp(); }, 20000);
    // Rights taken away while the page is open: that discussion is no longer followed.
    live.socket.on("room.revoked", (data) => {
      if (!data || !live.rooms.has(data.room)) return;
      live.rooms.delete(data.room);
      boxes.forEach((b) => { if (b.room === data.room) b.left(); });
    });
    ["comment.created", "comment.updated", "comment.removed", "comment.resolved", "comment.reopened"].forEach((name) => {
      live.socket.on(name, apply);
    });
    live.socket.on("room.closed", (data) => { if (data && live.rooms.has(data.room)) join(data.room); });
    live.socket.on("membership.ended", (data) => {
      boxes.forEach((b) => { if (data && Number(data.body_id) === b.bodyId) b.left(); });
    });
    live.socket.on("thread.read", (data) => { // read in another tab or device of mine
      boxes.forEach((b) => {
        if (data && b.threadId === data.thread_id && data.last_comment_id > b.readMarker) { b.readMarker = data.last_comment_id; b.render(); }
      });
    });
    live.socket.on("notification.created", () => {
      const badge = document.querySelector("[data-notification-count]");
      if (badge) { badge.textContent = String((parseInt(badge.textContent, 10) || 0) + 1); badge.hidden = false; }
    });
    window.addEventListener("offline", () => { setStatus("offline"); live.socket.disconnect(); });
    window.addEventListener("online", () => { if (!live.socket.connected) live.socket.connect(); });
  }

  // --- one thread box --------------------------------------------------------------------------

  function ThreadBox(root) {
    this.root = root;
    this.bodyId = Number(root.dataset.bodyId);
    this.kind = root.dataset.targetKind;
    this.targetId = Number(root.dataset.targetId);
    this.field = root.dataset.fieldKey || "";
    this.userId = Number(root.dataset.userId);
    this.canWrite = root.dataset.canWrite === "true";
    this.canModerate = root.dataset.canModerate === "true";
    this.room = "tavolo:" + this.bodyId;
    this.comments = new Map();
    this.readMarker = 0;
    this.threadId = null;
    this.replyTo = null;
    this.editing = null;
    this.mentions = new Map(); // name -> id, chosen through the autocomplete
    this.list = root.querySelector("[data-list]");
    this.form = root.querySelector("[data-new]");
    this.statusLine = root.querySelector("[data-status]");
    this.isLeft = false;
  }

  ThreadBox.prototype.mine = function (op) {
    return op.body_id === this.bodyId && op.target_kind === this.kind && op.target_id === this.targetId && op.field_key === this.field;
  };

  ThreadBox.prototype.load = async function () {
    if (this.loading) return this.loading;
    this.loading = this.fetchThread();
    return this.loading;
  };

  ThreadBox.prototype.fetchThread = async function () {
    const query = new URLSearchParams({ kind: this.kind, id: String(this.targetId), field: this.field });
    const data = await api(this.root.dataset.api + "?" + query.toString(), { method: "GET" });
    if (!data.ok) { this.statusLine.textContent = data.error || T.error; this.loading = null; return; }
    this.loaded = true;
    this.threadId = data.thread_id;
    this.readMarker = data.read_marker;
    this.following = data.following;
    data.comments.forEach((c) => this.comments.set(c.id, c));
    if (!live.lastId || data.last_event_id < live.lastId) live.lastId = data.last_event_id;
    if (!live.syncedTo || data.last_event_id < live.syncedTo) live.syncedTo = data.last_event_id;
    this.render();
    this.bindForm();
    this.scheduleRead();
  };

  ThreadBox.prototype.status = function (kind) {
    if (this.isLeft) return;
    this.statusLine.textContent = T[kind] || "";
    this.statusLine.classList.toggle("offline", kind !== "online");
    this.root.dataset.connection = kind;
  };

  ThreadBox.prototype.left = function () {
    this.isLeft = true;
    this.statusLine.textContent = T.left;
    if (this.form) this.form.hidden = true;
  };

  ThreadBox.prototype.onEvent = function (name, comment) {
    if (!this.loaded) return; // not opened yet: it reads the whole thread when it is
    if (comment.body_id !== this.bodyId || comment.target_kind !== this.kind || comment.target_id !== this.targetId
        || comment.field_key !== this.field) return;
    const known = this.comments.get(comment.id);
    if (known && known.mentions && !comment.mentions) comment.mentions = known.mentions;
    if (this.threadId === null) this.threadId = comment.thread_id;
    this.comments.set(comment.id, comment);
    if (comment.author_id === this.userId) outbox.remove(comment.client_op_id);
    else if (name === "comment.created" && !known) {
      // The list is redrawn; screen readers hear only this short line.
      this.root.querySelector("[data-announce]").textContent = T.announce + " " + comment.author_name;
    }
    this.render();
    this.scheduleRead();
  };

  ThreadBox.prototype.accept = function (comment, opId) {
    if (!this.loaded) return;
    if (!this.mine({ body_id: comment.body_id, target_kind: comment.target_kind, target_id: comment.target_id, field_key: comment.field_key })) {
      this.render();
      return;
    }
    this.comments.set(comment.id, Object.assign({}, this.comments.get(comment.id) || {}, comment));
    if (this.threadId === null) this.threadId = comment.thread_id;
    if (comment.id > this.readMarker) this.readMarker = comment.id;
    this.render();
  };

  ThreadBox.prototype.unreadCount = function () {
    let n = 0;
    this.comments.forEach((c) => { if (c.id > this.readMarker && c.author_id !== this.userId && c.status !== "rimosso") n += 1; });
    return n;
  };

  ThreadBox.prototype.scheduleRead = function () {
    clearTimeout(this.readTimer);
    this.readTimer = setTimeout(() => this.markRead(), 2500);
  };

  ThreadBox.prototype.markRead = async function () {
    if (document.visibilityState === "hidden" || this.threadId === null) return;
    const newest = Math.max(0, ...Array.from(this.comments.keys()));
    if (newest <= this.readMarker) return;
    const data = await api(this.root.dataset.api + "/letti", {
      method: "POST", body: JSON.stringify({ thread_id: this.threadId, last_comment_id: newest }),
    });
    if (data.ok) { this.readMarker = data.read_marker; this.render(); }
  };

  ThreadBox.prototype.render = function () {
    if (!this.loaded) return;
    const active = document.activeElement;
    const typing = active && active.hasAttribute && active.hasAttribute("data-edit-text") && this.list.contains(active)
      ? [active.selectionStart, active.selectionEnd] : null;
    const roots = [];
    const replies = new Map();
    Array.from(this.comments.values()).sort((a, b) => a.id - b.id).forEach((c) => {
      if (c.parent_id) {
        if (!replies.has(c.parent_id)) replies.set(c.parent_id, []);
        replies.get(c.parent_id).push(c);
      } else roots.push(c);
    });
    const pending = outbox.items.filter((op) => this.mine(op));
    this.list.textContent = "";
    roots.forEach((c) => {
      const item = this.item(c);
      const children = (replies.get(c.id) || []).map((r) => this.item(r));
      pending.filter((op) => op.parent_id === c.id).forEach((op) => children.push(this.pendingItem(op)));
      if (children.length) item.appendChild(el("ol", {}, children));
      this.list.appendChild(item);
    });
    pending.filter((op) => !op.parent_id || !this.comments.has(op.parent_id)).forEach((op) => this.list.appendChild(this.pendingItem(op)));
    if (!this.list.children.length) this.list.appendChild(el("li", { class: "empty", text: T.empty }));
    if (typing) {
      const area = this.list.querySelector("[data-edit-text]");
      if (area) { area.focus(); area.setSelectionRange(typing[0], typing[1]); }
    }
    const unread = this.unreadCount();
    const badge = this.root.querySelector("[data-unread]");
    badge.hidden = unread === 0;
    badge.textContent = unread ? unread + " " + T.unread : "";
    const follow = this.root.querySelector("[data-follow]");
    follow.hidden = false;
    follow.textContent = this.following ? T.unfollow : T.follow;
    follow.onclick = () => this.toggleFollow();
  };

  ThreadBox.prototype.item = function (c) {
    const removed = c.status === "rimosso";
    const classes = ["comment"];
    if (removed) classes.push("removed");
    if (c.status === "risolto") classes.push("resolved");
    if (c.id > this.readMarker && c.author_id !== this.userId && !removed) classes.push("unread");
    const meta = el("p", { class: "meta", "data-new": T.new }, [
      el("strong", { text: c.author_name }), document.createTextNode(" · " + when.format(new Date(c.created_at + (c.created_at.endsWith("Z") || c.created_at.includes("+") ? "" : "Z")))),
      c.edited && !removed ? el("button", { type: "button", class: "link-button", text: " (" + T.edited + ")", onclick: () => this.showHistory(c, li) }) : null,
      c.status === "risolto" ? el("span", { text: " · " + T.resolved }) : null,
    ]);
    const li = el("li", { class: classes.join(" "), id: "commento-" + c.id, "data-comment-id": c.id }, [
      meta,
      removed ? el("p", { class: "text", text: T.removed })
        : (this.editing && this.editing.id === c.id ? this.editForm(c) : el("div", { class: "text prose", html: c.html })),
    ]);
    if (!removed && this.canWrite && !this.isLeft) {
      const tools = el("p", { class: "tools" });
      if (!c.parent_id) tools.appendChild(el("button", { type: "button", class: "link-button", text: T.reply, onclick: () => this.startReply(c) }));
      if (c.author_id === this.userId) tools.appendChild(el("button", { type: "button", class: "link-button", text: T.edit, onclick: () => this.startEdit(c) }));
      if (c.author_id === this.userId || this.canModerate) tools.appendChild(el("button", { type: "button", class: "link-button", text: T.remove, onclick: () => this.act(c, "rimuovi", T.confirm_remove) }));
      if (!c.parent_id) {
        const resolved = c.status === "risolto";
        tools.appendChild(el("button", { type: "button", class: "link-button", text: resolved ? T.reopen : T.resolve, onclick: () => this.act(c, resolved ? "riapri" : "risolvi") }));
      }
      li.appendChild(tools);
    }
    return li;
  };

  ThreadBox.prototype.pendingItem = function (op) {
    const failed = op.state === "failed";
    const li = el("li", { class: "comment " + (failed ? "failed" : "pending"), "data-client-op-id": op.client_op_id }, [
      el("p", { class: "meta" }, [el("span", { class: "state", text: failed ? T.failed + ": " + op.error : T.pending })]),
      el("p", { class: "text", text: op.text }),
    ]);
    if (failed) {
      li.appendChild(el("p", { class: "tools" }, [
        el("button", { type: "button", class: "link-button", text: T.retry, onclick: () => { op.state = "pending"; op.error = ""; outbox.update(); this.render(); flush(); } }),
        el("button", { type: "button", class: "link-button", text: T.edit, onclick: () => { outbox.remove(op.client_op_id); this.render(); this.form.querySelector("[data-text]").value = op.text; this.form.querySelector("[data-text]").focus(); } }),
        el("button", { type: "button", class: "link-button", text: T.discard, onclick: async () => { if (await ask(T.confirm_discard)) { outbox.remove(op.client_op_id); this.render(); } } }),
      ]));
    }
    return li;
  };

  ThreadBox.prototype.startReply = function (c) {
    this.replyTo = c.id;
    const line = this.form.querySelector("[data-replying]");
    line.hidden = false;
    line.querySelector("span").textContent = T.replying + " " + c.author_name;
    this.form.querySelector("[data-text]").focus();
  };

  ThreadBox.prototype.startEdit = function (c) {
    this.editing = { id: c.id, text: c.source || "", error: "" };
    this.render();
    const area = this.list.querySelector("[data-edit-text]");
    if (area) area.focus();
  };

  ThreadBox.prototype.editForm = function (c) {
    // Kept in `this.editing`, so a live event re-rendering the list never loses the draft.
    const state = this.editing;
    const area = el("textarea", { rows: "3", maxlength: "10000", "aria-label": T.edit, "data-edit-text": true });
    area.value = state.text;
    area.addEventListener("input", () => { state.text = area.value; });
    const form = el("form", { class: "comment-form" }, [area,
      el("p", { class: "error", role: "alert", hidden: !state.error, text: state.error }),
      el("button", { type: "submit", class: "button small primary", text: T.save }),
      el("button", { type: "button", class: "button small", text: T.cancel, onclick: () => { this.editing = null; this.render(); } })]);
    form.addEventListener("submit", async (e) => {
      e.preventDefault();
      const data = await api(this.root.dataset.api + "/" + c.id + "/modifica", { method: "POST", body: JSON.stringify({ text: state.text }) });
      if (data.ok) { this.editing = null; this.onEvent("comment.updated", data.comment); }
      else { state.error = data.error || T.error; this.render(); }
    });
    return form;
  };

  ThreadBox.prototype.showHistory = async function (c, li) {
    const data = await api(this.root.dataset.api + "/" + c.id + "/modifiche", { method: "GET" });
    if (!data.ok) return;
    const box = el("details", { open: true }, [el("summary", { text: T.history })]);
    data.edits.forEach((e) => box.appendChild(el("div", { class: "prose muted" }, [
      el("p", { text: e.editor + " · " + when.format(new Date(e.at + (e.at.includes("+") ? "" : "Z"))) }), el("div", { html: e.html })])));
    li.appendChild(box);
  };

  ThreadBox.prototype.act = async function (c, verb, question) {
    if (question && !(await ask(question))) return;
    const data = await api(this.root.dataset.api + "/" + c.id + "/" + verb, { method: "POST", body: "{}" });
    if (data.ok) this.onEvent("comment.changed", data.comment);
    else this.statusLine.textContent = data.error || T.error;
  };

  ThreadBox.prototype.toggleFollow = async function () {
    const data = await api(this.root.dataset.api + "/segui", { method: "POST", body: JSON.stringify({
      target_kind: this.kind, target_id: this.targetId, field_key: this.field, follow: !this.following }) });
    if (data.ok) { this.following = data.following; this.render(); }
  };

  ThreadBox.prototype.bindForm = function () {
    if (!this.form || this.form.dataset.bound) return;
    this.form.dataset.bound = "1";
    const area = this.form.querySelector("[data-text]");
    const error = this.form.querySelector("[data-form-error]");
    this.form.querySelector("[data-cancel-reply]").addEventListener("click", () => {
      this.replyTo = null;
      this.form.querySelector("[data-replying]").hidden = true;
    });
    this.form.addEventListener("submit", (e) => {
      e.preventDefault();
      const text = area.value.trim();
      error.hidden = true;
      if (!text) { error.hidden = false; error.textContent = T.empty; area.focus(); return; }
      if (text.length > 10000) { error.hidden = false; error.textContent = T.too_long; return; }
      const mentionIds = [];
      this.mentions.forEach((id, name) => { if (text.includes("@" + name)) mentionIds.push(id); });
      outbox.add({
        client_op_id: newOpId(), state: "pending", body_id: this.bodyId, target_kind: this.kind, target_id: this.targetId,
        field_key: this.field, text: text, parent_id: this.replyTo, mention_ids: mentionIds,
      });
      area.value = "";
      this.replyTo = null;
      this.form.querySelector("[data-replying]").hidden = true;
      this.render();
      flush();
    });
    this.bindMentions(area);
  };

  ThreadBox.prototype.bindMentions = function (area) {
    const listbox = this.form.querySelector("[data-mentions]");
    let timer = null;
    const choose = (person) => {
      const caret = area.selectionStart;
      const before = area.value.slice(0, caret).replace(/@([^\s@]*)$/, "@" + person.name + " ");
      area.value = before + area.value.slice(caret);
      this.mentions.set(person.name, person.id);
      listbox.hidden = true;
      area.focus();
    };
    area.addEventListener("input", () => {
      const match = /@([^\s@]{1,30})$/.exec(area.value.slice(0, area.selectionStart));
      clearTimeout(timer);
      if (!match) { listbox.hidden = true; return; }
      timer = setTimeout(async () => {
        const data = await api(this.root.dataset.api + "/persone?q=" + encodeURIComponent(match[1]), { method: "GET" });
        listbox.textContent = "";
        (data.people || []).forEach((p) => listbox.appendChild(el("li", { role: "option", text: p.name, "data-user-id": p.id, onmousedown: (e) => { e.preventDefault(); choose(p); } })));
        listbox.hidden = !listbox.children.length;
      }, 200);
    });
    area.addEventListener("keydown", (e) => {
      if (listbox.hidden) return;
      if (e.key === "Enter" || e.key === "Tab") {
        const first = listbox.querySelector("li");
        if (first) { e.preventDefault(); choose({ id: Number(first.dataset.userId), name: first.textContent }); }
      } else if (e.key === "Escape") listbox.hidden = true;
    });
  };

  async function init() {
    const roots = document.querySelectorAll("[data-thread-box]");
    if (!roots.length) return;
    live.userId = roots[0].dataset.userId;
    outbox.items = loadPending().map((op) => Object.assign(op, { inflight: false }));
    // A link from a notification ends in #commento-<id>: every box loads, so the comment can be found.
    const linked = location.hash.startsWith("#commento-");
    const now = [];
    roots.forEach((root) => {
      const box = new ThreadBox(root);
      boxes.push(box);
      live.rooms.add(box.room);
      // A box inside a closed <details data-thread-toggle> (one per card field, agenda item, SWOT entry)
      // loads when first opened: a page with forty fields does not fetch forty threads up front.
      const toggle = root.closest("details[data-thread-toggle]");
      if (!toggle || toggle.open || linked) now.push(box);
      if (toggle) toggle.addEventListener("toggle", () => { if (toggle.open) box.load(); });
    });
    await Promise.all(now.map((b) => b.load()));
    const target = linked ? document.getElementById(location.hash.slice(1)) : null;
    if (target) {
      const toggle = target.closest("details[data-thread-toggle]");
      if (toggle) toggle.open = true;
      target.setAttribute("tabindex", "-1"); target.scrollIntoView({ block: "center" }); target.focus();
    }
    connect();
    if (navigator.onLine === false) setStatus("offline");
    document.addEventListener("visibilitychange", () => boxes.forEach((b) => b.scheduleRead()));
  }

  window.PdzComments = { live: live, boxes: boxes, outbox: outbox };
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
