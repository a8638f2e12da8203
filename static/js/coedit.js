// Co-writing in the page: one Y.Doc per document, CodeMirror editors bound to its texts, the Yjs sync
// protocol and awareness over Socket.IO, IndexedDB so that nothing typed is lost on reload or offline.
//
// Markup (see templates/coedit/_editor.html):
//   <div data-coedit-doc="card:12" data-coedit-user="7">               the document
//     <p data-coedit-status role="status"></p>                           saved / saving / offline (strings: templates/_i18n.html)
//     <div data-coedit-field="context" data-label="…" data-limit="20000" data-markdown="1"></div>
//     <span data-coedit-presence="context"></span>                       who is in that text now
// Elements with data-coedit-field added later (a new SWOT entry, a new agenda item) are bound too.
import {
  Y, syncProtocol, awarenessProtocol, encoding, decoding, IndexeddbPersistence,
  yCollab, yUndoManagerKeymap, EditorView, EditorState, Compartment, keymap, drawSelection, placeholder,
  highlightSpecialChars, defaultKeymap, markdown, syntaxHighlighting, defaultHighlightStyle,
} from "../vendor/coedit-13.6.33/coedit.bundle.js";

// The strings it shows: the page's one block (templates/_i18n.html).
const T = JSON.parse(document.getElementById("pdz-i18n")?.textContent || "{}").coedit || {};

const STEP1 = 0, STEP2 = 1, UPDATE = 2;

function syncMessage(kind, payload) {
  const enc = encoding.createEncoder();
  encoding.writeVarUint(enc, kind);
  encoding.writeVarUint8Array(enc, payload);
  return wire(encoding.toUint8Array(enc));
}

function readPayload(msg) {
  const dec = decoding.createDecoder(new Uint8Array(msg));
  const kind = decoding.readVarUint(dec);
  return [kind, decoding.readVarUint8Array(dec)];
}

// Messages travel as base64 text (see coedit/engine.py `wire`: binary attachments can be reassembled out
// of order by the threaded Python server).
function wire(u8) {
  let text = "";
  for (let i = 0; i < u8.length; i += 0x8000) text += String.fromCharCode.apply(null, u8.subarray(i, i + 0x8000));
  return btoa(text);
}

function bytes(b64) {
  const text = atob(b64);
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i += 1) out[i] = text.charCodeAt(i);
  return out;
}

export class CoDoc {
  constructor(root, socket) {
    this.root = root;
    this.key = root.dataset.coeditDoc;
    this.socket = socket;
    this.doc = new Y.Doc();
    this.awareness = new awarenessProtocol.Awareness(this.doc);
    this.views = new Map();
    this.pending = 0;          // updates sent, not yet acknowledged (= committed) by the server
    this.unsent = false;       // local changes made while not synced (sent by the next sync)
    this.synced = false;
    this.readonly = root.dataset.coeditReadonly === "1";
    this.limits = {};
    this.problem = "";
    this.statusEls = [...root.querySelectorAll("[data-coedit-status]")];
    this.storeName = `pdz:${root.dataset.coeditUser || "0"}:${this.key}`;
    this.doc.on("update", (update, origin) => this.onLocalUpdate(update, origin));
    this.awareness.on("update", ({ added, updated, removed }, origin) => {
      if (origin === "local" && this.synced) this.sendAwareness([this.doc.clientID]);
      this.showPresence();
    });
    socket.on("coedit.update", (data) => {
      if (data.doc !== this.key) return;
      const [, payload] = readPayload(bytes(data.msg));
      Y.applyUpdate(this.doc, payload, "remote");
      // An update that builds on one this page never received waits, pending: ask for the missing part.
      if (this.doc.store.pendingStructs || this.doc.store.pendingDs) this.resyncSoon();
    });
    socket.on("coedit.awareness", (data) => {
      if (data.doc === this.key) awarenessProtocol.applyAwarenessUpdate(this.awareness, bytes(data.msg), "remote");
    });
    socket.on("coedit.awareness_query", (data) => {
      if (data.doc === this.key && this.synced) this.sendAwareness([this.doc.clientID]);
    });
    socket.on("coedit.revoked", (data) => { if (data.doc === this.key) this.revoke(data.gone); });
    this.ready = new Promise((resolve) => { this.markReady = resolve; });
    socket.on("connect", () => this.ready.then(() => this.join()));
    socket.on("disconnect", () => {
      // Unacknowledged updates may not be stored: the next sync sends whatever the server lacks.
      this.unsent = this.unsent || this.pending > 0;
      this.synced = false; this.pending = 0; this.render();
    });
    window.addEventListener("beforeunload", (event) => {
      if (this.hasUnsaved()) { event.preventDefault(); event.returnValue = ""; }
    });
  }

  async start() {
    this.render();
    try {
      this.store = new IndexeddbPersistence(this.storeName, this.doc);
      await Promise.race([this.store.whenSynced, new Promise((ok) => setTimeout(ok, 1500))]);
    } catch (error) { this.store = null; }
    this.bindAll();
    new MutationObserver(() => this.bindAll()).observe(this.root, { childList: true, subtree: true });
    this.markReady();  // the local copy is loaded: joining now sends whatever it holds that the server lacks
    if (this.socket.connected) this.join();
  }

  hasUnsaved() { return this.pending > 0 || this.unsent; }

  onLocalUpdate(update, origin) {
    if (origin === "remote") return;
    if (!this.synced) { this.unsent = true; this.render(); return; }
    this.send(update);
  }

  send(update) {
    this.pending += 1;
    this.render();
    this.socket.timeout(20000).emit("coedit.update", { doc: this.key, msg: syncMessage(UPDATE, update) }, (err, ack) => {
      this.pending = Math.max(0, this.pending - 1);
      if (err || ack.error === "retry" || ack.error === "timeout" || ack.error === "not_joined") {
        // Not stored (yet): the next sync sends whatever the server lacks, nothing is lost.
        this.unsent = true; this.resyncSoon();
      } else if (!ack.ok) this.refused(ack);
      this.render();
    });
  }

  resyncSoon() {
    if (this.resyncTimer || !this.socket.connected) return;
    this.resyncTimer = setTimeout(() => { this.resyncTimer = null; this.join(); }, 1000);
  }

  join() {
    const step1 = syncMessage(STEP1, Y.encodeStateVector(this.doc));
    this.socket.timeout(20000).emit("coedit.join", { doc: this.key, msg: step1 }, (err, ack) => {
      if (err) { this.resyncSoon(); return; }
      if (!ack.ok) { this.revoke(ack.error !== "invalid"); return; }
      this.limits = ack.limits || {};
      this.setReadonly(!!ack.readonly);
      this.me = ack.user;
      this.awareness.setLocalStateField("user", ack.user);
      const [, missing] = readPayload(bytes(ack.step2));
      Y.applyUpdate(this.doc, missing, "remote");
      const [, serverState] = readPayload(bytes(ack.step1));
      const ours = Y.encodeStateAsUpdate(this.doc, serverState);
      this.synced = true;
      this.unsent = false;
      if (!this.readonly && ours.length > 2) this.send(ours);
      this.sendAwareness([this.doc.clientID]);
      this.render();
    });
  }

  sendAwareness(clients) {
    if (!this.socket.connected) return;
    const msg = wire(awarenessProtocol.encodeAwarenessUpdate(this.awareness, clients));
    this.socket.emit("coedit.awareness", { doc: this.key, msg });
  }

  refused(ack) {
    // The server refused a change (too long, not allowed): it is not in the shared text. Say so plainly;
    // the page must reload to drop it from this copy (the local copy is cleared first).
    this.problem = ack.message || T.refused;
    if (ack.error === "forbidden") { this.revoke(false); return; }
    this.showProblem(this.problem, true);
  }

  showProblem(message, offerReload) {
    let box = this.root.querySelector("[data-coedit-problem]");
    if (!box) {
      box = document.createElement("div");
      box.className = "notice coedit-problem";
      box.setAttribute("role", "alert");
      box.dataset.coeditProblem = "";
      (this.statusEls[0]?.parentNode || this.root).insertBefore(box, (this.statusEls[0]?.nextSibling) || null);
    }
    box.textContent = message + " ";
    if (offerReload) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "button small";
      button.textContent = T.reload;
      button.addEventListener("click", async () => {
        this.unsent = false; this.pending = 0;
        if (this.store) await this.store.clearData();
        window.location.reload();
      });
      box.appendChild(button);
    }
  }

  revoke(gone) {
    this.setReadonly(true);
    this.unsent = false;
    this.showProblem(gone ? T.gone : T.revoked, false);
    this.render();
  }

  setReadonly(value) {
    this.readonly = value;
    this.root.dataset.coeditReadonly = value ? "1" : "0";
    for (const view of this.views.values()) {
      view.dispatch({ effects: view.pdzEditable.reconfigure(EditorView.editable.of(!value)) });
      view.contentDOM.setAttribute("aria-readonly", value ? "true" : "false");
    }
  }

  render() {
    let text, state;
    if (!this.socket.connected) { text = T.offline; state = "offline"; }
    else if (this.readonly) { text = T.readonly; state = "readonly"; }
    else if (!this.synced) { text = this.unsent ? T.saving : T.connecting; state = "saving"; }
    else if (this.pending > 0 || this.unsent) { text = T.saving; state = "saving"; }
    else { text = T.saved; state = "saved"; }
    for (const el of this.statusEls) {
      if (el.textContent !== text) el.textContent = text;
      el.dataset.state = state;
    }
    this.root.dataset.coeditState = state;
  }

  bindAll() {
    for (const el of this.root.querySelectorAll("[data-coedit-field]")) {
      if (!el.dataset.coeditBound) this.bind(el);
    }
  }

  bind(el) {
    el.dataset.coeditBound = "1";
    const key = el.dataset.coeditField;
    const ytext = this.doc.getText(key);
    const multiline = el.dataset.multiline !== "0";
    const limit = parseInt(el.dataset.limit || "0", 10) || 0;
    const undoManager = new Y.UndoManager(ytext);
    const editable = new Compartment();
    const inputId = el.dataset.inputId || `coedit-${key}`;
    const labelEl = document.getElementById(`${inputId}-label`);
    const helpEl = document.getElementById(`${inputId}-help`);
    const named = labelEl ? { "aria-labelledby": labelEl.id } : { "aria-label": el.dataset.label || key };
    if (helpEl) named["aria-describedby"] = helpEl.id;
    const counter = el.parentNode.querySelector(`[data-coedit-count="${key}"]`);
    const extensions = [
      yCollab(ytext, this.awareness, { undoManager }),
      keymap.of([...yUndoManagerKeymap, ...defaultKeymap]),
      drawSelection(), highlightSpecialChars(),
      EditorView.lineWrapping,
      EditorView.contentAttributes.of({
        ...named, "aria-multiline": multiline ? "true" : "false",
        role: "textbox", spellcheck: "true", lang: document.documentElement.lang || "it",
      }),
      editable.of(EditorView.editable.of(!this.readonly)),
      EditorState.transactionFilter.of((tr) => {
        // Only the person's own typing is filtered; remote changes always pass.
        if (!tr.docChanged || !(tr.isUserEvent("input") || tr.isUserEvent("delete") || tr.isUserEvent("move"))) return tr;
        if (this.readonly) return [];
        if (!multiline && tr.isUserEvent("input") && tr.newDoc.lines > tr.startState.doc.lines) return [];
        if (limit && tr.newDoc.length > limit && tr.newDoc.length > tr.startState.doc.length) {
          this.flash(el, `${T.too_long}: ${limit.toLocaleString("it-IT")} ${T.chars}`);
          return [];
        }
        return tr;
      }),
      EditorView.updateListener.of((update) => {
        if (update.focusChanged) {
          this.awareness.setLocalStateField("field", update.view.hasFocus ? key : null);
        }
        if (counter && update.docChanged && limit) counter.textContent = `${update.state.doc.length.toLocaleString("it-IT")} / ${limit.toLocaleString("it-IT")}`;
      }),
    ];
    if (el.dataset.markdown === "1") extensions.push(markdown(), syntaxHighlighting(defaultHighlightStyle, { fallback: true }));
    if (el.dataset.placeholder) extensions.push(placeholder(el.dataset.placeholder));
    if (!multiline) {
      extensions.push(keymap.of([{ key: "Enter", run: () => true }]));
      extensions.push(EditorView.domEventHandlers({
        paste: (event, view) => {
          const text = event.clipboardData?.getData("text/plain");
          if (text && text.includes("\n")) { event.preventDefault(); view.dispatch(view.state.replaceSelection(text.replace(/\s*\n\s*/g, " "))); return true; }
          return false;
        },
      }));
    }
    el.textContent = "";
    const view = new EditorView({ state: EditorState.create({ doc: ytext.toString(), extensions }), parent: el });
    view.pdzEditable = editable;
    view.contentDOM.id = inputId;
    if (labelEl) labelEl.addEventListener("click", () => view.focus());
    view.contentDOM.setAttribute("aria-readonly", this.readonly ? "true" : "false");
    this.views.set(key, view);
    if (counter && limit) counter.textContent = `${ytext.length.toLocaleString("it-IT")} / ${limit.toLocaleString("it-IT")}`;
  }

  flash(el, message) {
    let note = el.parentNode.querySelector(".coedit-limit");
    if (!note) {
      note = document.createElement("p");
      note.className = "coedit-limit hint";
      note.setAttribute("role", "status");
      el.after(note);
    }
    note.textContent = message;
  }

  showPresence() {
    const byField = new Map();
    this.awareness.getStates().forEach((state, client) => {
      if (client === this.doc.clientID || !state || !state.user || !state.field) return;
      if (this.me && state.user.id === this.me.id) return;
      if (!byField.has(state.field)) byField.set(state.field, new Map());
      byField.get(state.field).set(state.user.id, state.user);
    });
    for (const el of this.root.querySelectorAll("[data-coedit-presence]")) {
      const users = [...(byField.get(el.dataset.coeditPresence) || new Map()).values()];
      const text = users.length ? `${users.map((u) => u.name).join(", ")} ${T.editing}` : "";
      if (el.textContent !== text) el.textContent = text;
      el.style.color = users.length ? users[0].color : "";
    }
    const who = this.root.querySelector("[data-coedit-who]");
    if (who) {
      const names = new Map();
      this.awareness.getStates().forEach((state, client) => {
        if (client !== this.doc.clientID && state?.user && state.user.id !== this.me?.id) names.set(state.user.id, state.user);
      });
      who.textContent = [...names.values()].map((u) => u.name).join(", ");
      const holder = who.closest("[data-coedit-others]");
      if (holder) holder.hidden = names.size === 0;
    }
  }

  textOf(key) { return this.doc.getText(key).toString(); }
}

export function startAll(socket) {
  const docs = [];
  for (const root of document.querySelectorAll("[data-coedit-doc]")) {
    const doc = new CoDoc(root, socket);
    docs.push(doc);
    doc.start();
  }
  window.PdzCoedit = { docs, Y };
  return docs;
}

const socket = window.io({ transports: ["websocket"], reconnectionDelayMax: 3000 });
startAll(socket);
