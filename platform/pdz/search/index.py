"""Keeping the search index in step with the data, inside the same transaction.

Session events, not service calls: `after_flush` notes which searchable objects a flush touched (as
`(kind, id)` keys), and `before_commit` flushes, then rewrites those keys' rows from what the database
now holds. A transaction that rolls back drops its notes, and the rows it wrote roll back with it. The
listeners sit on SQLAlchemy's `Session` class, so the co-writing engine's own commits are covered too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, event, func, insert, inspect, literal_column, select, text, update
from sqlalchemy.orm import Session

from ..accounts.models import Affiliation, User
from ..approvals.models import Submission, SubmissionEvent, SubmissionStatus
from ..cards.models import (
    Card,
    CardAction,
    CardBudgetLine,
    CardIndicator,
    CardObjective,
    CardPersonnel,
    CardPnrr,
    CardValue,
)
from ..comments.models import Comment, CommentStatus, CommentThread
from ..db import utcnow
from ..evaluation.models import SwotAssessment, SwotEntry
from ..meetings.models import AgendaItem, Decision, Meeting
from ..orgs.models import Organisation
from .models import SearchEntry

Key = tuple[str, int]
PENDING = "pdz_search_pending"

KINDS = ("card", "comment", "meeting", "agenda", "minutes", "decision", "swot", "org", "person", "document")


@dataclass
class Doc:
    title: str
    content: str
    body_id: int | None = None
    meeting_id: int | None = None
    ref: str = ""


# --- which changes touch which entries -------------------------------------------------------------

_CARD_ROWS = (CardValue, CardObjective, CardAction, CardBudgetLine, CardPersonnel, CardIndicator, CardPnrr)

# class -> (attributes whose change matters (None: any), keys of the entries it feeds)
WATCHED: dict[type, tuple[tuple[str, ...] | None, Callable[[Any], Iterable[Key]]]] = {
    Card: (("title", "key", "body_id"), lambda o: [("card", o.id)]),
    **{cls: (None, (lambda o: [("card", o.card_id)])) for cls in _CARD_ROWS},
    Comment: (("body_source", "status", "body_id"), lambda o: [("comment", o.id)]),
    Meeting: (("title", "place", "body_id"), lambda o: [("meeting", o.id), ("minutes", o.id)]),
    AgendaItem: (
        ("title", "description", "presenter", "minutes_source", "meeting_id"),
        lambda o: [("agenda", o.id), ("minutes", o.meeting_id)],
    ),
    Decision: (("text", "meeting_id"), lambda o: [("decision", o.id)]),
    SwotEntry: (("text_source", "removed_at", "dimension", "quadrant"), lambda o: [("swot", o.id)]),
    Organisation: (("name", "description", "kind", "email", "website"), lambda o: [("org", o.id)]),
    User: (("full_name", "email", "active"), lambda o: [("person", o.id)]),
    Submission: (None, lambda o: [("document", o.id)]),
    SubmissionEvent: (None, lambda o: [("document", o.submission_id)]),  # transitions are Core UPDATEs
}


def _keys_of(obj: Any, deleted: bool) -> Iterable[Key]:
    spec = WATCHED.get(type(obj))
    if spec is None:
        return ()
    attrs, keys = spec
    if not deleted and attrs is not None:
        state = inspect(obj)
        if not state.pending and not any(state.attrs[name].history.has_changes() for name in attrs):
            return ()
    try:
        return [(kind, int(ident)) for kind, ident in keys(obj) if ident is not None]
    except Exception:  # noqa: BLE001 - an expired attribute of a deleted row: nothing to re-read
        return ()


def _after_flush(session: Session, flush_context: Any) -> None:
    pending: set[Key] = session.info.setdefault(PENDING, set())
    for obj in session.new:
        pending.update(_keys_of(obj, False))
    for obj in session.dirty:
        pending.update(_keys_of(obj, False))
    for obj in session.deleted:
        pending.update(_keys_of(obj, True))


def _before_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return
    session.flush()
    pending = session.info.pop(PENDING, None)
    if pending:
        reindex(session, pending)


def _after_rollback(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(PENDING, None)


def install() -> None:
    if not event.contains(Session, "after_flush", _after_flush):
        event.listen(Session, "after_flush", _after_flush)
        event.listen(Session, "before_commit", _before_commit)
        event.listen(Session, "after_rollback", _after_rollback)


# --- building each entry from the database ---------------------------------------------------------

# the highlighter's marks (queries.MARK_START / MARK_END) never occur in indexed text
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f\u27e6\u27e7]")
_MARKUP = re.compile(r"!?\[([^\]]*)\]\([^)]*\)|\*\*+|`+|~~+|^[ \t]*(?:#+|>+)[ \t]", re.MULTILINE)


def plain(*parts: Any) -> str:
    """Plain text for the index: Markdown marks and control characters out (the highlighter uses two)."""
    text = "\n".join(str(part) for part in parts if part)
    text = _MARKUP.sub(lambda m: m.group(1) or " ", text)
    return _CONTROL.sub(" ", text).strip()


def _card(s: Session, ident: int) -> Doc | None:
    card = s.execute(select(Card.title, Card.key, Card.body_id).where(Card.id == ident)).first()
    if card is None:
        return None
    parts: list[Any] = [card.key]
    parts += s.scalars(
        select(CardValue.value_source).where(CardValue.card_id == ident, CardValue.key != "title")
    )
    parts += s.scalars(
        select(CardObjective.text).where(CardObjective.card_id == ident, ~CardObjective.removed)
    )
    parts += s.scalars(select(CardAction.text_source).where(CardAction.card_id == ident, ~CardAction.removed))
    parts += s.scalars(
        select(CardBudgetLine.description).where(CardBudgetLine.card_id == ident, ~CardBudgetLine.removed)
    )
    for row in s.execute(
        select(CardPersonnel.organisation, CardPersonnel.function).where(
            CardPersonnel.card_id == ident, ~CardPersonnel.removed
        )
    ):
        parts += list(row)
    parts += s.scalars(
        select(CardIndicator.name).where(CardIndicator.card_id == ident, ~CardIndicator.removed)
    )
    for row in s.execute(
        select(CardPnrr.measure, CardPnrr.note).where(CardPnrr.card_id == ident, ~CardPnrr.removed)
    ):
        parts += list(row)
    return Doc(plain(card.title) or "Scheda", plain(*parts), body_id=card.body_id)


def _comment(s: Session, ident: int) -> Doc | None:
    row = s.execute(
        select(
            Comment.body_source,
            Comment.status,
            Comment.body_id,
            CommentThread.target_kind,
            CommentThread.target_id,
            User.full_name,
        )
        .join(CommentThread, CommentThread.id == Comment.thread_id)
        .join(User, User.id == Comment.author_id)
        .where(Comment.id == ident)
    ).first()
    if row is None or row.status == CommentStatus.REMOVED:
        return None
    return Doc(
        plain(row.full_name),
        plain(row.body_source),
        body_id=row.body_id,
        ref=f"{row.target_kind}:{row.target_id}",
    )


def _meeting(s: Session, ident: int) -> Doc | None:
    row = s.execute(select(Meeting.title, Meeting.place, Meeting.body_id).where(Meeting.id == ident)).first()
    if row is None:
        return None
    return Doc(plain(row.title), plain(row.place), body_id=row.body_id, meeting_id=ident, ref=str(ident))


def _agenda(s: Session, ident: int) -> Doc | None:
    row = s.execute(
        select(
            AgendaItem.title,
            AgendaItem.description,
            AgendaItem.presenter,
            AgendaItem.meeting_id,
            Meeting.body_id,
        )
        .join(Meeting, Meeting.id == AgendaItem.meeting_id)
        .where(AgendaItem.id == ident)
    ).first()
    if row is None:
        return None
    return Doc(
        plain(row.title),
        plain(row.description, row.presenter),
        body_id=row.body_id,
        meeting_id=row.meeting_id,
        ref=str(row.meeting_id),
    )


def _minutes(s: Session, ident: int) -> Doc | None:
    meeting = s.execute(select(Meeting.title, Meeting.body_id).where(Meeting.id == ident)).first()
    if meeting is None:
        return None
    texts = [
        plain(title + ":", text) if text.strip() else ""
        for title, text in s.execute(
            select(AgendaItem.title, AgendaItem.minutes_source)
            .where(AgendaItem.meeting_id == ident)
            .order_by(AgendaItem.position, AgendaItem.id)
        )
    ]
    content = "\n".join(t for t in texts if t)
    if not content:
        return None  # nothing written yet: no entry
    return Doc(plain(meeting.title), content, body_id=meeting.body_id, meeting_id=ident, ref=str(ident))


def _decision(s: Session, ident: int) -> Doc | None:
    row = s.execute(
        select(Decision.text, Decision.meeting_id, Meeting.title, Meeting.body_id)
        .join(Meeting, Meeting.id == Decision.meeting_id)
        .where(Decision.id == ident)
    ).first()
    if row is None or not row.text.strip():
        return None
    return Doc(
        plain(row.title),
        plain(row.text),
        body_id=row.body_id,
        meeting_id=row.meeting_id,
        ref=str(row.meeting_id),
    )


def _swot(s: Session, ident: int) -> Doc | None:
    row = s.execute(
        select(
            SwotEntry.text_source,
            SwotEntry.removed_at,
            SwotEntry.assessment_id,
            SwotAssessment.body_id,
            SwotAssessment.year,
        )
        .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
        .where(SwotEntry.id == ident)
    ).first()
    if row is None or row.removed_at is not None or not row.text_source.strip():
        return None
    return Doc(f"SWOT {row.year}", plain(row.text_source), body_id=row.body_id, ref=str(row.assessment_id))


def _org(s: Session, ident: int) -> Doc | None:
    row = s.execute(
        select(Organisation.name, Organisation.description, Organisation.email, Organisation.website).where(
            Organisation.id == ident
        )
    ).first()
    if row is None:
        return None
    return Doc(plain(row.name), plain(row.description, row.email, row.website))


def _person(s: Session, ident: int) -> Doc | None:
    row = s.execute(select(User.full_name, User.email, User.active).where(User.id == ident)).first()
    if row is None or not row.active:
        return None

    orgs = s.scalars(
        select(Organisation.name)
        .join(Affiliation, Affiliation.organisation_id == Organisation.id)
        .where(Affiliation.user_id == ident)
    )
    return Doc(plain(row.full_name), plain(row.email, *orgs))


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _document(s: Session, ident: int) -> Doc | None:
    """An approved version (the newest approved round of its document; older rounds leave the index)."""
    row = s.execute(
        select(
            Submission.title,
            Submission.status,
            Submission.content,
            Submission.document_kind,
            Submission.document_id,
            Submission.round,
        ).where(Submission.id == ident)
    ).first()
    if row is None or row.status != SubmissionStatus.APPROVED:
        return None
    newer = s.scalar(
        select(func.count()).where(
            Submission.document_kind == row.document_kind,
            Submission.document_id == row.document_id,
            Submission.round > row.round,
            Submission.status == SubmissionStatus.APPROVED,
        )
    )
    if newer:
        return None
    older = select(Submission.id).where(
        Submission.document_kind == row.document_kind,
        Submission.document_id == row.document_id,
        Submission.id != ident,
    )
    s.execute(delete(SearchEntry).where(SearchEntry.kind == "document", SearchEntry.object_id.in_(older)))
    try:
        content = json.loads(row.content)
    except ValueError:
        content = row.content
    return Doc(plain(row.title), plain(*_strings(content)), ref=str(row.document_kind))


BUILDERS: dict[str, Callable[[Session, int], Doc | None]] = {
    "card": _card,
    "comment": _comment,
    "meeting": _meeting,
    "agenda": _agenda,
    "minutes": _minutes,
    "decision": _decision,
    "swot": _swot,
    "org": _org,
    "person": _person,
    "document": _document,
}


def _tsv(session: Session, title: str, content: str) -> Any:
    if session.get_bind().dialect.name != "postgresql":
        return None
    return func.setweight(func.to_tsvector("italian", title), literal_column("'A'")).op("||")(
        func.to_tsvector("italian", content)
    )


def reindex(session: Session, keys: Iterable[Key], *, fresh: bool = False) -> None:
    """Rewrite the entries of `keys` from the database (Core statements: no ORM flush is triggered).
    `fresh`: the index holds none of them (a rebuild), so rows are inserted in batches."""
    batch: list[dict[str, Any]] = []
    for kind, ident in sorted(keys):
        doc = BUILDERS[kind](session, ident)
        where = (SearchEntry.kind == kind, SearchEntry.object_id == ident)
        if fresh:
            if doc is not None:
                title = doc.title[:300]
                batch.append(
                    dict(
                        kind=kind,
                        object_id=ident,
                        body_id=doc.body_id,
                        meeting_id=doc.meeting_id,
                        ref=doc.ref,
                        title=title,
                        content=doc.content,
                        tsv=None,
                        updated_at=utcnow(),
                    )
                )
            if len(batch) >= 500:
                _insert_batch(session, batch)
            continue
        if doc is None:
            session.execute(delete(SearchEntry).where(*where))
            continue
        title, content = doc.title[:300], doc.content
        values = dict(
            body_id=doc.body_id,
            meeting_id=doc.meeting_id,
            ref=doc.ref,
            title=title,
            content=content,
            tsv=_tsv(session, title, content),
            updated_at=utcnow(),
        )
        done = session.execute(update(SearchEntry).where(*where).values(**values))
        if not done.rowcount:  # type: ignore[attr-defined]
            session.execute(insert(SearchEntry).values(kind=kind, object_id=ident, **values))
    if batch:
        _insert_batch(session, batch)


def _insert_batch(session: Session, batch: list[dict[str, Any]]) -> None:
    session.execute(insert(SearchEntry), batch)
    batch.clear()


def _tsv_of_columns() -> Any:
    return func.setweight(func.to_tsvector("italian", SearchEntry.title), literal_column("'A'")).op("||")(
        func.to_tsvector("italian", SearchEntry.content)
    )


def all_keys(session: Session) -> list[Key]:
    keys: list[Key] = []
    keys += [("card", i) for i in session.scalars(select(Card.id))]
    keys += [("comment", i) for i in session.scalars(select(Comment.id))]
    keys += [("meeting", i) for i in session.scalars(select(Meeting.id))]
    keys += [("minutes", i) for i in session.scalars(select(Meeting.id))]
    keys += [("agenda", i) for i in session.scalars(select(AgendaItem.id))]
    keys += [("decision", i) for i in session.scalars(select(Decision.id))]
    keys += [("swot", i) for i in session.scalars(select(SwotEntry.id))]
    keys += [("org", i) for i in session.scalars(select(Organisation.id))]
    keys += [("person", i) for i in session.scalars(select(User.id))]
    keys += [
        ("document", i)
        for i in session.scalars(select(Submission.id).where(Submission.status == SubmissionStatus.APPROVED))
    ]
    return keys


def rebuild(session: Any) -> int:
    """Empty the index and build it again from every searchable object (the caller commits)."""
    session.flush()
    session.info.pop(PENDING, None)
    session.execute(delete(SearchEntry))
    keys = all_keys(session)
    reindex(session, keys, fresh=True)
    if session.get_bind().dialect.name == "postgresql":  # one pass computes every tsvector
        session.execute(update(SearchEntry).where(SearchEntry.tsv.is_(None)).values(tsv=_tsv_of_columns()))
    if session.get_bind().dialect.name == "sqlite":
        session.execute(text("INSERT INTO search_fts(search_fts) VALUES ('optimize')"))
    return len(keys)
