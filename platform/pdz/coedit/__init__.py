"""The co-writing engine: one CRDT (Yjs in the page, pycrdt on the server) for every text written together.

A *document* is one Y.Doc (a card, one meeting's minutes, a SWOT, a tavolo's mandate draft); each text in
it is a root `Y.Text` named by a key its kind declares. Updates are stored append-only and acknowledged
only after commit; plain text is materialised into the domain's own rows in the same transaction, so pages,
exports, approvals and fingerprints read plain text as before. See docs/coedit.md.
"""

from .registry import DocKind, FieldChange, register

__all__ = ["DocKind", "FieldChange", "register"]
