"""Kinds of co-written documents. Each domain registers one `DocKind`: what the document is, who may read
and write it, which texts it holds (with their limits), and how its plain text is written back."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

# A revision groups one author's changes to one text until they pause this long (or someone else writes).
PAUSE = timedelta(seconds=30)


@dataclass(frozen=True)
class FieldChange:
    """One author's run of changes to one text within one committed batch."""

    key: str
    author_id: int | None
    before: str
    after: str
    restore: bool = False


class DocKind:
    """Subclass per kind of document; `name` is the prefix in `<name>:<id>`."""

    name = ""

    def load(self, ref_id: int) -> Any | None:
        raise NotImplementedError

    def can_view(self, user: Any, obj: Any) -> bool:
        raise NotImplementedError

    def can_edit(self, user: Any, obj: Any) -> bool:
        """Who may send updates (membership and role; may include the state too). The write path reuses a
        "yes" for a couple of seconds, and forgets it at once when that person's rights change."""
        raise NotImplementedError

    def writable(self, obj: Any) -> bool:
        """Whether the document may change at all right now (minutes not approved, SWOT open): checked for
        every batch of updates, never cached."""
        return True

    def limits(self, obj: Any) -> dict[str, int]:
        """Every text key the document may hold, with its maximum length in characters."""
        raise NotImplementedError

    def accepts_key(self, obj: Any, key: str) -> int | None:
        """The limit of `key` if the document may hold it (default: the declared keys)."""
        return self.limits(obj).get(key)

    def initial_texts(self, obj: Any) -> dict[str, str]:
        """The texts as stored in the domain's rows, to start the document the first time it is opened."""
        raise NotImplementedError

    def materialise(self, obj: Any, changes: list[FieldChange], at: datetime) -> None:
        """Write the new plain text of each changed key into the domain's rows, with revisions and audit."""
        raise NotImplementedError


KINDS: dict[str, DocKind] = {}


def register(kind: DocKind) -> DocKind:
    KINDS[kind.name] = kind
    return kind


def extends(
    last_author_id: int | None, last_at: datetime | None, author_id: int | None, now: datetime
) -> bool:
    """Whether a change continues the author's open revision (same author, no pause since)."""
    return last_at is not None and last_author_id == author_id and now - last_at < PAUSE
