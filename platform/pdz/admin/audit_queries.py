"""The audit log as UdP staff and administrators read it: who, what (an Italian sentence, never a code), on
which object (named, with a link where a page exists), when (Europe/Rome), readable details; filters, pages
and CSV. Read side only: entries are written by `audit.record`."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Invitation, User
from ..approvals.models import ApprovalChain, Ballot, PlanDocument, Submission
from ..audit import AuditEntry
from ..audit_labels import (
    ACTIONS,
    AREAS,
    DETAIL_VALUES,
    OBJECT_TYPES,
    action_label,
    area_of,
    detail_key_label,
    object_type_label,
)
from ..cards.models import Card
from ..comments.models import Comment, CommentThread
from ..cycles.models import PlanningCycle
from ..evaluation.models import IndicatorValue, ObjectiveEvaluation, SwotAssessment, SwotEntry
from ..extensions import db
from ..formatting import ROME, format_local
from ..labels import label
from ..meetings.models import CalendarFeed, Meeting
from ..money import format_cents
from ..orgs.models import Organisation
from ..tavoli.models import Body, Mandate, MandateDraft, Membership
from ..territory.models import Comune

PER_PAGE = 50
CSV_LIMIT = 100_000
TEXT_LIMIT = 200


@dataclass(frozen=True)
class Filters:
    person: str = ""  # part of a name or an e-mail address
    actor_id: int | None = None  # one person, from a click on a name
    kind: str = ""  # an action code, or "area:<prefix>" for all actions of an area
    object_type: str = ""
    since: date | None = None  # Europe/Rome days, both included
    until: date | None = None

    def active(self) -> bool:
        return any([self.person, self.actor_id, self.kind, self.object_type, self.since, self.until])


@dataclass
class Row:
    entry: AuditEntry
    when: str
    who: str
    who_id: int | None
    what: str
    object_type: str
    object_name: str
    object_url: str | None
    details: list[tuple[str, str]] = field(default_factory=list)


def kind_choices() -> list[tuple[str, str]]:
    """Every area, then every action under its area, in label order (options of the "kind" filter)."""
    choices: list[tuple[str, str]] = []
    by_area: dict[str, list[str]] = defaultdict(list)
    for code in ACTIONS:
        by_area[area_of(code)].append(code)
    for area, codes in sorted(by_area.items(), key=lambda pair: str(AREAS[pair[0]])):
        choices.append((f"area:{area}", _("%(area)s: tutte le operazioni", area=AREAS[area])))
        choices.extend((code, f"— {action_label(code)}") for code in sorted(codes, key=action_label))
    return choices


def object_type_choices() -> list[tuple[str, str]]:
    return sorted(((key, str(label)) for key, label in OBJECT_TYPES.items()), key=lambda pair: pair[1])


def _rome_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=ROME)


def entries_query(filters: Filters) -> Select[Any]:
    stmt = select(AuditEntry)
    if filters.actor_id is not None:
        stmt = stmt.where(AuditEntry.actor_id == filters.actor_id)
    if filters.person:
        pattern = (
            "%" + filters.person.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        )
        people = select(User.id).where(
            or_(
                func.lower(User.full_name).like(pattern, escape="\\"),
                func.lower(User.email).like(pattern, escape="\\"),
            )
        )
        stmt = stmt.where(AuditEntry.actor_id.in_(people))
    if filters.kind.startswith("area:"):
        area = filters.kind.removeprefix("area:")
        stmt = stmt.where(AuditEntry.action.in_([code for code in ACTIONS if area_of(code) == area]))
    elif filters.kind:
        stmt = stmt.where(AuditEntry.action == filters.kind)
    if filters.object_type:
        stmt = stmt.where(AuditEntry.object_type == filters.object_type)
    if filters.since:
        stmt = stmt.where(AuditEntry.at >= _rome_midnight(filters.since))
    if filters.until:
        stmt = stmt.where(AuditEntry.at < _rome_midnight(filters.until + timedelta(days=1)))
    return stmt


def page(filters: Filters, number: int) -> tuple[list[Row], int]:
    """One page of rows (newest first) and the number of matching entries."""
    stmt = entries_query(filters)
    total = db.session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    entries = list(
        db.session.scalars(
            stmt.options(selectinload(AuditEntry.actor))
            .order_by(AuditEntry.id.desc())
            .offset((number - 1) * PER_PAGE)
            .limit(PER_PAGE)
        )
    )
    return rows(entries), total


def csv_rows(filters: Filters) -> Iterable[list[Any]]:
    yield [
        _("Quando"),
        _("Chi"),
        _("E-mail"),
        _("Operazione"),
        _("Tipo di oggetto"),
        _("Oggetto"),
        _("Indirizzo"),
        _("Dettagli"),
    ]
    stmt = entries_query(filters).options(selectinload(AuditEntry.actor)).order_by(AuditEntry.id.desc())
    batch: list[AuditEntry] = []
    for entry in db.session.scalars(stmt.limit(CSV_LIMIT)):
        batch.append(entry)
        if len(batch) == 500:
            yield from _csv_lines(batch)
            batch = []
    yield from _csv_lines(batch)


def _csv_lines(entries: list[AuditEntry]) -> Iterable[list[Any]]:
    for row in rows(entries):
        actor = row.entry.actor
        yield [
            row.when,
            row.who,
            actor.email if actor is not None else "",
            row.what,
            row.object_type,
            row.object_name,
            row.object_url or "",
            "; ".join(f"{key}: {value}" for key, value in row.details),
        ]


# --- naming objects -------------------------------------------------------------------------------------

Named = dict[int, tuple[str, str | None]]  # id -> (name, url or None)


def _load(columns: Sequence[Any], ids: set[int], make: Callable[[Any], tuple[str, str | None]]) -> Named:
    if not ids:
        return {}
    model_id = columns[0]
    return {found[0]: make(found) for found in db.session.execute(select(*columns).where(model_id.in_(ids)))}


def _users(ids: set[int]) -> Named:
    return _load([User.id, User.full_name], ids, lambda r: (r.full_name, None))


def _bodies(ids: set[int]) -> Named:
    return _load([Body.id, Body.name], ids, lambda r: (r.name, url_for("tavoli.workspace", body_id=r.id)))


def _cards(ids: set[int]) -> Named:
    return _load([Card.id, Card.title], ids, lambda r: (r.title, url_for("cards.detail", card_id=r.id)))


def _meetings(ids: set[int]) -> Named:
    def make(r: Any) -> tuple[str, str | None]:
        when = format_local(r.starts_at, "day")
        return f"{r.title} ({when})", url_for("meetings.detail", meeting_id=r.id)

    return _load([Meeting.id, Meeting.title, Meeting.starts_at], ids, make)


def _organisations(ids: set[int]) -> Named:
    return _load(
        [Organisation.id, Organisation.name], ids, lambda r: (r.name, url_for("orgs.detail", org_id=r.id))
    )


def _by_body(model: Any, label: Callable[[Any, str], str], endpoint: str) -> Callable[[set[int]], Named]:
    """Objects that live in a tavolo and have no page of their own: named after it, linked to its page."""

    def load(ids: set[int]) -> Named:
        if not ids:
            return {}
        found = db.session.execute(
            select(model, Body.name).join(Body, Body.id == model.body_id).where(model.id.in_(ids))
        )
        return {obj.id: (label(obj, name), url_for(endpoint, body_id=obj.body_id)) for obj, name in found}

    return load


def _invitations(ids: set[int]) -> Named:
    return _load(
        [Invitation.id, Invitation.email, Invitation.body_id],
        ids,
        lambda r: (r.email, url_for("tavoli.members", body_id=r.body_id)),
    )


def _memberships(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(Membership.id, Membership.body_id, User.full_name, Body.name)
        .join(User, User.id == Membership.user_id)
        .join(Body, Body.id == Membership.body_id)
        .where(Membership.id.in_(ids))
    )
    return {r.id: (f"{r.full_name} – {r.name}", url_for("tavoli.members", body_id=r.body_id)) for r in found}


def _swot_assessments(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(SwotAssessment.id, SwotAssessment.year, Body.name)
        .join(Body, Body.id == SwotAssessment.body_id)
        .where(SwotAssessment.id.in_(ids))
    )
    return {r.id: (f"{r.name} {r.year}", url_for("evaluation.swot", assessment_id=r.id)) for r in found}


def _swot_entries(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(SwotEntry.id, SwotEntry.assessment_id, SwotAssessment.year, Body.name)
        .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
        .join(Body, Body.id == SwotAssessment.body_id)
        .where(SwotEntry.id.in_(ids))
    )
    return {
        r.id: (f"{r.name} {r.year}", url_for("evaluation.swot", assessment_id=r.assessment_id)) for r in found
    }


def _evaluations(ids: set[int]) -> Named:
    return _load(
        [ObjectiveEvaluation.id, ObjectiveEvaluation.title],
        ids,
        lambda r: (r.title, url_for("evaluation.edit_evaluation", evaluation_id=r.id)),
    )


def _indicator_values(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(IndicatorValue.id, IndicatorValue.card_id, IndicatorValue.period, Card.title)
        .join(Card, Card.id == IndicatorValue.card_id)
        .where(IndicatorValue.id.in_(ids))
    )
    return {
        r.id: (f"{r.title} ({r.period})", url_for("evaluation.monitoring", card_id=r.card_id)) for r in found
    }


def _submissions(ids: set[int]) -> Named:
    return _load(
        [Submission.id, Submission.title],
        ids,
        lambda r: (r.title, url_for("approvals.submission", submission_id=r.id)),
    )


def _ballots(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(Ballot.id, Submission.title)
        .join(Submission, Submission.id == Ballot.submission_id)
        .where(Ballot.id.in_(ids))
    )
    return {r.id: (r.title, url_for("approvals.ballot", ballot_id=r.id)) for r in found}


def _chains(ids: set[int]) -> Named:
    return _load(
        [ApprovalChain.id, ApprovalChain.document_kind],
        ids,
        lambda r: (label(r.document_kind), url_for("approvals.chains")),
    )


def _plans(ids: set[int]) -> Named:
    return _load(
        [PlanDocument.id, PlanDocument.kind, PlanDocument.year],
        ids,
        lambda r: (f"{label(r.kind)} {r.year}", url_for("approvals.plan", plan_id=r.id)),
    )


def _cycles(ids: set[int]) -> Named:
    return _load([PlanningCycle.id, PlanningCycle.name], ids, lambda r: (r.name, url_for("cycles.index")))


def _comuni(ids: set[int]) -> Named:
    return _load([Comune.id, Comune.name], ids, lambda r: (r.name, url_for("territory.edit", comune_id=r.id)))


def _calendar_feeds(ids: set[int]) -> Named:
    if not ids:
        return {}
    found = db.session.execute(
        select(CalendarFeed.id, User.full_name)
        .join(User, User.id == CalendarFeed.user_id)
        .where(CalendarFeed.id.in_(ids))
    )
    return {r.id: (r.full_name, None) for r in found}


def _object_loaders() -> dict[str, Callable[[set[int]], Named]]:
    return {
        "users": _users,
        "invitations": _invitations,
        "bodies": _bodies,
        "memberships": _memberships,
        "mandates": _by_body(
            Mandate, lambda m, body: _("%(body)s, versione %(n)s", body=body, n=m.version), "tavoli.mandate"
        ),
        "mandate_drafts": _by_body(MandateDraft, lambda d, body: body, "tavoli.mandate"),
        "cards": _cards,
        "meetings": _meetings,
        "calendar_feeds": _calendar_feeds,
        "comments": _by_body(Comment, lambda c, body: body, "comments.discussion"),
        "comment_threads": _by_body(CommentThread, lambda t, body: body, "comments.discussion"),
        "swot_assessments": _swot_assessments,
        "swot_entries": _swot_entries,
        "objective_evaluations": _evaluations,
        "indicator_values": _indicator_values,
        "submissions": _submissions,
        "ballots": _ballots,
        "approval_chains": _chains,
        "plan_documents": _plans,
        "planning_cycles": _cycles,
        "organisations": _organisations,
        "comuni": _comuni,
    }


# Detail keys holding the id of a person, tavolo, card, meeting or organisation: shown by name.
_REFERENCES: dict[str, str] = {
    "user_id": "users",
    "owner_id": "users",
    "delegate_id": "users",
    "stands_for_id": "users",
    "mentions": "users",
    "body_id": "bodies",
    "card_id": "cards",
    "card_ids": "cards",
    "meeting_id": "meetings",
    "approved_in": "meetings",
    "organisation_id": "organisations",
    "submission_id": "submissions",
    "cycle_id": "planning_cycles",
}


def _ids(value: Any) -> list[int]:
    if isinstance(value, bool):
        return []
    if isinstance(value, int):
        return [value]
    if isinstance(value, list):
        return [v for v in value if isinstance(v, int) and not isinstance(v, bool)]
    return []


def _shorten(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= TEXT_LIMIT else text[: TEXT_LIMIT - 1] + "…"


def _value(value: Any, names: dict[str, Named] | None = None, table: str | None = None, key: str = "") -> str:
    if value is None or value == "":
        return "—"
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return format_cents(value)
    if isinstance(value, bool):
        return _("sì") if value else _("no")
    if table and names is not None and _ids(value):
        return ", ".join(names.get(table, {}).get(i, (_("n. %(id)s", id=i), None))[0] for i in _ids(value))
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) if value else "—"
    if isinstance(value, dict):
        return (
            "; ".join(f"{detail_key_label(str(k))}: {_value(v, key=str(k))}" for k, v in value.items()) or "—"
        )
    if isinstance(value, float):
        return f"{value:g}".replace(".", ",")
    if isinstance(value, str):
        if value in DETAIL_VALUES:
            return str(DETAIL_VALUES[value])
        return _shorten(value.replace("_", " ") if value.isidentifier() else value)
    return _shorten(str(value))


def rows(entries: list[AuditEntry]) -> list[Row]:
    loaders = _object_loaders()
    wanted: dict[str, set[int]] = defaultdict(set)
    for entry in entries:
        if entry.object_type in loaders and entry.object_id is not None:
            wanted[entry.object_type].add(entry.object_id)
        for key, value in (entry.details or {}).items():
            if key in _REFERENCES:
                wanted[_REFERENCES[key]].update(_ids(value))
    names = {table: loaders[table](ids) for table, ids in wanted.items()}
    result = []
    for entry in entries:
        actor = entry.actor
        if actor is not None:
            who = actor.full_name
        elif area_of(entry.action) == "account":
            who = _("Utente non autenticato")  # a sign-in or reset attempt: who typed it is not known
        else:
            who = _("PdZ (operazione automatica)")
        object_name, object_url = "", None
        if entry.object_type:
            found = names.get(entry.object_type, {}).get(entry.object_id or 0)
            if found is not None:
                object_name, object_url = found
            elif entry.object_id is not None:
                object_name = _("n. %(id)s (non più presente)", id=entry.object_id)
        details = [
            (detail_key_label(key), _value(value, names, _REFERENCES.get(key), key))
            for key, value in (entry.details or {}).items()
        ]
        result.append(
            Row(
                entry=entry,
                when=format_local(entry.at, "stamp"),
                who=who,
                who_id=entry.actor_id,
                what=action_label(entry.action),
                object_type=object_type_label(entry.object_type),
                object_name=object_name,
                object_url=object_url,
                details=details,
            )
        )
    return result
