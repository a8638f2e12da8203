"""Three-way merge of text edits, for co-writing without losing anyone's work.

Each editor saves against the revision they started from (`base`). Their change (`mine`) is merged into
the text saved since then (`theirs`): edits to different parts merge; edits that touch the same part of
the base are a conflict, reported with both versions, never resolved silently.
Texts are compared word by word (whitespace and punctuation are tokens of their own).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from difflib import SequenceMatcher

TOKEN = re.compile(r"\s+|\w+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Edit:
    start: int  # token range of the base that is replaced
    end: int
    tokens: tuple[str, ...]


@dataclass(frozen=True)
class Conflict:
    base: str
    mine: str
    theirs: str


@dataclass
class MergeResult:
    text: str
    conflicts: list[Conflict] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.conflicts


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text or "")


def edits(base: list[str], other: list[str]) -> list[Edit]:
    matcher = SequenceMatcher(None, base, other, autojunk=False)
    return [
        Edit(i1, i2, tuple(other[j1:j2])) for tag, i1, i2, j1, j2 in matcher.get_opcodes() if tag != "equal"
    ]


def _clash(a: Edit, b: Edit) -> bool:
    if a == b:
        return False
    if a.start == b.start:  # same point: two insertions, or an insertion before a replacement
        return True
    return a.start < b.end and b.start < a.end


def merge3(base: str, mine: str, theirs: str) -> MergeResult:
    """Apply `mine` (made against `base`) on top of `theirs` (also made from `base`)."""
    if mine in (theirs, base):
        return MergeResult(theirs)
    if theirs == base:
        return MergeResult(mine)
    base_tokens = tokens(base)
    mine_edits, their_edits = edits(base_tokens, tokens(mine)), edits(base_tokens, tokens(theirs))
    conflicts: list[Conflict] = []
    for a in mine_edits:
        for b in their_edits:
            if _clash(a, b):
                start, end = min(a.start, b.start), max(a.end, b.end)
                conflicts.append(
                    Conflict(
                        base="".join(base_tokens[start:end]),
                        mine=_apply(base_tokens[start:end], [_shift(a, start)]),
                        theirs=_apply(base_tokens[start:end], [_shift(b, start)]),
                    )
                )
    if conflicts:
        return MergeResult(theirs, conflicts)
    combined = sorted(set(mine_edits) | set(their_edits), key=lambda e: (e.start, e.end))
    return MergeResult(_apply(base_tokens, combined))


def _shift(edit: Edit, offset: int) -> Edit:
    return Edit(edit.start - offset, edit.end - offset, edit.tokens)


def _apply(base_tokens: list[str], sorted_edits: list[Edit]) -> str:
    out: list[str] = []
    position = 0
    for edit in sorted_edits:
        out.extend(base_tokens[position : edit.start])
        out.extend(edit.tokens)
        position = max(position, edit.end)
    out.extend(base_tokens[position:])
    return "".join(out)
