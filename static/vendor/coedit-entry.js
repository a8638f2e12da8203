// Entry for the co-writing bundle (static/vendor/coedit-<yjs version>/coedit.bundle.js).
// Rebuild with: bash static/vendor/build-coedit.sh
// Only the pieces the pages use are re-exported, so esbuild can drop the rest.

export * as Y from 'yjs'
export * as syncProtocol from 'y-protocols/sync'
export * as awarenessProtocol from 'y-protocols/awareness'
export * as encoding from 'lib0/encoding'
export * as decoding from 'lib0/decoding'
export { IndexeddbPersistence } from 'y-indexeddb'
export { yCollab, yUndoManagerKeymap } from 'y-codemirror.next'
export { EditorView, keymap, drawSelection, placeholder, highlightSpecialChars } from '@codemirror/view'
export { EditorState, Compartment } from '@codemirror/state'
export { defaultKeymap, indentWithTab, history, historyKeymap } from '@codemirror/commands'
export { markdown } from '@codemirror/lang-markdown'
export { syntaxHighlighting, defaultHighlightStyle } from '@codemirror/language'
