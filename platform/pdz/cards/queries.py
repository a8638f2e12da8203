"""Read side of objective cards: every page loads in a fixed number of queries."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from difflib import SequenceMatcher

from markupsafe import Markup, escape
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from ..extensions import db
from ..merge import tokens
from ..money import format_cents
from . import fields
from .models import Card, CardRevision, CardValue
from .rows import ROW_KINDS, parse_field

RECENT = 8


CARDS_PAGE = 25  # cards a page of a tavolo's list


@dataclass
class CardsPage:
    """One page of a tavolo's cards (letter order, then title), 1-based `page` of `pages`, `total` cards."""

    cards: list[Card]
    page: int
    pages: int
    total: int


def cards_of(body_id: int, page: int = 1) -> CardsPage:
    """Page `page` (out of range -> the nearest page) of the body's cards, CARDS_PAGE a page: two indexed
    queries (and the eager loads of the page's areas and authors) whatever the number of cards."""
    total = db.session.scalar(select(func.count()).select_from(Card).where(Card.body_id == body_id)) or 0
    pages = max(1, -(-total // CARDS_PAGE))
    page = min(max(page, 1), pages)
    cards = list(
        db.session.scalars(
            select(Card)
            .where(Card.body_id == body_id)
            .options(selectinload(Card.area), selectinload(Card.last_change_by))
            .order_by(Card.key.is_(None), Card.key, Card.title, Card.id)
            .limit(CARDS_PAGE)
            .offset((page - 1) * CARDS_PAGE)
        )
    )
    return CardsPage(cards, page, pages, total)


def card_page(card_id: int) -> Card | None:
    return db.session.scalar(
        select(Card)
        .where(Card.id == card_id)
        .options(
            selectinload(Card.values),
            selectinload(Card.objectives),
            selectinload(Card.actions),
            selectinload(Card.budget_lines),
            selectinload(Card.personnel),
            selectinload(Card.indicators),
            selectinload(Card.pnrr),
            # many-to-one: joined into the card's own query instead of one query each
            joinedload(Card.area),
            joinedload(Card.body),
            joinedload(Card.cycle),
            joinedload(Card.last_change_by),
        )
        .execution_options(populate_existing=True)
    )


def recent_revisions(card_id: int, limit: int = RECENT) -> list[CardRevision]:
    return list(
        db.session.scalars(
            select(CardRevision)
            .where(CardRevision.card_id == card_id)
            .options(selectinload(CardRevision.author))
            .order_by(CardRevision.number.desc(), CardRevision.id.desc())
            .limit(limit)
        )
    )


HISTORY_PAGE = 50  # versions per page of the history


@dataclass
class HistoryPage:
    """One page of a card's history: versions `top` down to `bottom` (newest first), 1-based `page`."""

    page: int
    pages: int
    top: int
    bottom: int
    revisions: list[CardRevision]


def history_page(card: Card, page: int = 1, until: datetime | None = None) -> HistoryPage:
    """The page holding versions newest-first, HISTORY_PAGE a page; with `until`, the page holding the last
    version saved before it (the jump to a date). Two indexed queries whatever the length of the history."""
    newest = card.revision_no
    pages = max(1, -(-newest // HISTORY_PAGE))
    if until is not None:
        number = db.session.scalar(
            select(func.max(CardRevision.number)).where(
                CardRevision.card_id == card.id, CardRevision.at < until
            )
        )
        page = 1 if number is None else (newest - number) // HISTORY_PAGE + 1
    page = min(max(page, 1), pages)
    top = newest - (page - 1) * HISTORY_PAGE
    bottom = max(top - HISTORY_PAGE + 1, 1)
    revisions = list(
        db.session.scalars(
            select(CardRevision)
            .where(CardRevision.card_id == card.id, CardRevision.number.between(bottom, top))
            .options(selectinload(CardRevision.author))
            .order_by(CardRevision.number.desc(), CardRevision.id)
        )
    )
    return HistoryPage(page, pages, top, bottom, revisions)


def revisions_after(card_id: int, number: int) -> list[CardRevision]:
    """The revisions after version `number` (all a diff from that version needs)."""
    return list(
        db.session.scalars(
            select(CardRevision)
            .where(CardRevision.card_id == card_id, CardRevision.number > number)
            .order_by(CardRevision.number.desc(), CardRevision.id)
        )
    )


def field_label(field_key: str) -> str:
    if field_key in fields.SPECS:
        spec = fields.SPECS[field_key]
        if spec.label == "Specificare":
            parent = fields.SPECS.get(field_key.removesuffix("_note"))
            return f"{parent.label} – Specificare" if parent else spec.label
        return spec.label
    if field_key == fields.DECLARED_TOTAL:
        return "TOTALE STIMATO (indicato)"
    if field_key == "status":
        return "Stato"
    if field_key == "tavolo":
        return "Tavolo"
    parsed = parse_field(field_key)
    if parsed:
        return f"{ROW_KINDS[parsed[0]].label} – riga {parsed[1]}"
    return field_key


def describe(field_key: str, value: str) -> str:
    """A stored value in words, for history and diffs."""
    if not value:
        return ""
    if field_key == fields.DECLARED_TOTAL:
        return format_cents(int(value))
    spec = fields.SPECS.get(field_key)
    if spec is not None and spec.kind in {"choices", "yesno"}:
        return ", ".join(spec.options.get(v, v) for v in value.split("\n"))
    parsed = parse_field(field_key)
    if parsed:
        kind = ROW_KINDS[parsed[0]]
        data = json.loads(value)
        if data.get("removed"):
            return "(riga eliminata)"
        return "\n".join(f"{a.label}: {kind.display(data, a)}" for a in kind.attrs)
    return value


def word_diff(old: str, new: str) -> Markup:
    a, b = tokens(old), tokens(new)
    out: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            out.append(str(escape("".join(a[i1:i2]))))
            continue
        if i2 > i1:
            out.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            out.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(out))  # noqa: S704 - every piece is escaped above


def side_by_side(old: str, new: str) -> tuple[Markup, Markup]:
    """The two versions next to each other: removed words marked in the old one, added words in the new."""
    a, b = tokens(old), tokens(new)
    left: list[str] = []
    right: list[str] = []
    for tag, i1, i2, j1, j2 in SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if tag == "equal":
            left.append(str(escape("".join(a[i1:i2]))))
            right.append(str(escape("".join(b[j1:j2]))))
            continue
        if i2 > i1:
            left.append(f"<del>{escape(''.join(a[i1:i2]))}</del>")
        if j2 > j1:
            right.append(f"<ins>{escape(''.join(b[j1:j2]))}</ins>")
    return Markup("".join(left)), Markup("".join(right))  # noqa: S704 - every piece is escaped above


@dataclass
class FieldDiff:
    field: str
    label: str
    old: str
    new: str
    html: Markup

    @property
    def sides(self) -> tuple[Markup, Markup]:
        return side_by_side(self.old, self.new)


def _current(card: Card, field_key: str, values: dict[str, CardValue]) -> str:
    if field_key in fields.SPECS:
        found = values.get(field_key)
        return found.value_source if found else ""
    if field_key == fields.DECLARED_TOTAL:
        return "" if card.declared_total_cents is None else str(card.declared_total_cents)
    if field_key == "status":
        return card.status.value
    if field_key == "tavolo":
        return card.body.name
    parsed = parse_field(field_key)
    if parsed:
        kind = ROW_KINDS[parsed[0]]
        row = db.session.get(kind.model, parsed[1])
        return kind.dump(row) if row is not None else ""
    return ""


def diff(card: Card, revisions: list[CardRevision], old: int, new: int) -> list[FieldDiff]:
    """Per-field differences between revision `old` and revision `new` (any order)."""
    old, new = min(old, new), max(old, new)
    later: dict[str, list[CardRevision]] = {}
    for revision in sorted(revisions, key=lambda r: r.number):
        if revision.number > old:
            later.setdefault(revision.field, []).append(revision)
    values = {v.key: v for v in db.session.scalars(select(CardValue).where(CardValue.card_id == card.id))}
    result: list[FieldDiff] = []
    order = {key: i for i, key in enumerate(fields.SPECS)}
    for field_key in sorted(later, key=lambda k: (order.get(k, 999), k)):
        chain = later[field_key]
        if chain[0].number > new:
            continue
        before = chain[0].before
        after_new = next((r.before for r in chain if r.number > new), None)
        after = after_new if after_new is not None else _current(card, field_key, values)
        if before == after:
            continue
        old_text, new_text = describe(field_key, before), describe(field_key, after)
        result.append(
            FieldDiff(field_key, field_label(field_key), old_text, new_text, word_diff(old_text, new_text))
        )
    return result


def checklist(card: Card, values: dict[str, CardValue]) -> list[fields.ChecklistItem]:
    """The plan's required fields for a card loaded by `card_page` (lists already loaded: no query)."""
    counts = {
        "azioni": len(card.actions),
        "risorse": len(card.budget_lines),
        "indicatori": len(card.indicators),
    }
    return fields.checklist({key: row.value_source for key, row in values.items()}, counts)
