"""Participation figures, all computed in the database with aggregate queries (never loops over rows).

Attendance counts concluded meetings in the period. For a person, a row is attended when present or
represented by a delegate; an organisation attended a meeting when anyone of it did (one pair per
meeting and organisation expected there). Rates are attended pairs / expected pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, func, literal, select, union_all
from sqlalchemy.sql.elements import ColumnElement

from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..db import utcnow
from ..extensions import db
from ..formatting import ROME, format_local
from ..meetings.models import ActionItem, ActionStatus, Attendance, AttendanceStatus, Meeting, MeetingStatus
from ..orgs.models import Adhesion, Organisation, OrgKind, organisation_sub_ambiti
from ..tavoli.models import THEMATIC_KINDS, Body, BodyStatus, Membership
from ..territory.models import SubAmbito

ATTENDED = (AttendanceStatus.PRESENT, AttendanceStatus.REPRESENTED)


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    @classmethod
    def of(cls, cycle: PlanningCycle, since: date | None = None, until: date | None = None) -> Period:
        start = since or date(cycle.start_year, 1, 1)
        end = (until + timedelta(days=1)) if until else date(cycle.end_year + 1, 1, 1)
        return cls(
            datetime(start.year, start.month, start.day, tzinfo=ROME),
            datetime(end.year, end.month, end.day, tzinfo=ROME),
        )


@dataclass(frozen=True)
class Rate:
    key: str
    label: str
    attended: int
    expected: int

    @property
    def pct(self) -> float | None:
        return round(100 * self.attended / self.expected, 1) if self.expected else None


def _month(column: Any) -> ColumnElement[str]:
    """The month on the clocks of Rome (a UTC column). SQLite knows no time zones, but at the turn of every
    month Rome is UTC+2 from March to September and UTC+1 otherwise, and only the turn decides the month."""
    if db.engine.dialect.name == "sqlite":
        shift = case((func.strftime("%m", column).between("03", "09"), "+2 hours"), else_="+1 hours")
        return func.strftime("%Y-%m", column, shift)
    return func.to_char(func.timezone(ROME.key, func.timezone("UTC", column)), "YYYY-MM")


def _meetings(period: Period, body_id: int | None) -> Any:
    conditions = [
        Meeting.status == MeetingStatus.CONCLUDED,
        Meeting.starts_at >= period.start,
        Meeting.starts_at < period.end,
    ]
    if body_id is not None:
        conditions.append(Meeting.body_id == body_id)
    return and_(*conditions)


def _attended() -> Any:
    return case((Attendance.status.in_(ATTENDED), 1), else_=0)


def org_pairs(period: Period, body_id: int | None = None) -> Any:
    """One row per (meeting, organisation expected there) with attended 0/1."""
    return (
        select(
            Meeting.id.label("meeting_id"),
            Meeting.body_id.label("body_id"),
            _month(Meeting.starts_at).label("month"),
            Meeting.starts_at.label("starts_at"),
            Attendance.organisation_id.label("organisation_id"),
            func.max(_attended()).label("attended"),
        )
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(_meetings(period, body_id), Attendance.stands_for_id.is_(None))
        .group_by(Meeting.id, Meeting.body_id, Meeting.starts_at, Attendance.organisation_id)
        .subquery()
    )


def _rates(stmt: Select[Any]) -> list[Rate]:
    return [Rate(str(k), str(label), int(a or 0), int(n or 0)) for k, label, a, n in db.session.execute(stmt)]


def by_tavolo(period: Period, body_id: int | None = None) -> list[Rate]:
    pairs = org_pairs(period, body_id)
    return _rates(
        select(Body.id, Body.name, func.sum(pairs.c.attended), func.count())
        .join(pairs, pairs.c.body_id == Body.id)
        .group_by(Body.id, Body.name)
        .order_by(Body.name)
    )


def by_organisation(period: Period, body_id: int | None = None) -> list[Rate]:
    pairs = org_pairs(period, body_id)
    return _rates(
        select(Organisation.id, Organisation.name, func.sum(pairs.c.attended), func.count())
        .join(pairs, pairs.c.organisation_id == Organisation.id)
        .group_by(Organisation.id, Organisation.name)
        .order_by(Organisation.name)
    )


def by_kind(period: Period, body_id: int | None = None) -> list[Rate]:
    """Comuni, ETS split by legal form, ASST, ...: the key is `kind` or `ets:<legal form>`."""
    pairs = org_pairs(period, body_id)
    key = case(
        (
            Organisation.kind == OrgKind.ETS.value,
            literal("ets:") + func.coalesce(Organisation.legal_form, literal("altro_ets")),
        ),
        else_=Organisation.kind,
    )
    rows = db.session.execute(
        select(key, func.sum(pairs.c.attended), func.count())
        .join(pairs, pairs.c.organisation_id == Organisation.id)
        .group_by(key)
        .order_by(key)
    )
    return [Rate(str(k), kind_label(str(k)), int(a or 0), int(n)) for k, a, n in rows]


def kind_label(key: str) -> str:
    from ..labels import label
    from ..orgs.models import LegalForm

    if key.startswith("ets:"):
        return f"ETS – {label(LegalForm(key[4:]))}"
    return label(OrgKind(key))


def by_sub_ambito(period: Period, body_id: int | None = None) -> list[Rate]:
    """Organisations working in several sub-ambiti count in each of them."""
    pairs = org_pairs(period, body_id)
    return _rates(
        select(SubAmbito.id, SubAmbito.name, func.sum(pairs.c.attended), func.count())
        .join(organisation_sub_ambiti, organisation_sub_ambiti.c.sub_ambito_id == SubAmbito.id)
        .join(pairs, pairs.c.organisation_id == organisation_sub_ambiti.c.organisation_id)
        .group_by(SubAmbito.id, SubAmbito.name)
        .order_by(SubAmbito.name)
    )


def by_month(period: Period, body_id: int | None = None) -> list[Rate]:
    pairs = org_pairs(period, body_id)
    return _rates(
        select(pairs.c.month, pairs.c.month, func.sum(pairs.c.attended), func.count())
        .group_by(pairs.c.month)
        .order_by(pairs.c.month)
    )


def by_person(period: Period, body_id: int | None = None, user_id: int | None = None) -> list[Rate]:
    """Individuals' figures: only for UdP staff, or for the person themself (user_id)."""
    stmt = (
        select(User.id, User.full_name, func.sum(_attended()), func.count(Attendance.id))
        .join(Attendance, Attendance.user_id == User.id)
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(_meetings(period, body_id), Attendance.stands_for_id.is_(None))
        .group_by(User.id, User.full_name)
        .order_by(User.full_name)
    )
    if user_id is not None:
        stmt = stmt.where(User.id == user_id)
    return _rates(stmt)


# --- contributions ------------------------------------------------------------------------------

# Each source gives rows (organisation_id, body_id, kind) for contributions made in the period; the
# organisation is the one the author represents in that body. Domains add theirs (cards, comments).
ContributionSource = Callable[[Period], Select[Any]]
SOURCES: dict[str, tuple[str, ContributionSource]] = {}


def contribution_source(key: str, label: str) -> Callable[[ContributionSource], ContributionSource]:
    def register(func_: ContributionSource) -> ContributionSource:
        SOURCES[key] = (label, func_)
        return func_

    return register


def represented(author_id: Any, body_id: Any) -> Any:
    """The organisation an author represents in a body (their membership there, even if ended since)."""
    return (
        select(func.min(Membership.organisation_id))
        .where(Membership.user_id == author_id, Membership.body_id == body_id)
        .scalar_subquery()
    )


@contribution_source("swot", "Voci SWOT scritte o modificate")
def _swot(period: Period) -> Select[Any]:
    from ..evaluation.models import SwotAssessment, SwotEntry, SwotEntryRevision

    return (
        select(
            represented(SwotEntryRevision.author_id, SwotAssessment.body_id).label("organisation_id"),
            SwotAssessment.body_id.label("body_id"),
            literal("swot").label("kind"),
        )
        .select_from(SwotEntryRevision)
        .join(SwotEntry, SwotEntry.id == SwotEntryRevision.entry_id)
        .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
        .where(SwotEntryRevision.at >= period.start, SwotEntryRevision.at < period.end)
    )


@contribution_source("actions", "Azioni completate")
def _actions(period: Period) -> Select[Any]:
    stmt: Any = (
        select(
            ActionItem.organisation_id.label("organisation_id"),
            Meeting.body_id.label("body_id"),
            literal("actions").label("kind"),
        )
        .join(Meeting, Meeting.id == ActionItem.meeting_id)
        .where(
            ActionItem.status == ActionStatus.DONE,
            ActionItem.completed_at >= period.start,
            ActionItem.completed_at < period.end,
        )
    )
    return stmt


@contribution_source("cards", "Modifiche alle schede obiettivo")
def _cards(period: Period) -> Select[Any]:
    """Every saved change of a card field or row (one CardRevision each), by its author."""
    from ..cards.models import Card, CardRevision

    return (
        select(
            represented(CardRevision.author_id, Card.body_id).label("organisation_id"),
            Card.body_id.label("body_id"),
            literal("cards").label("kind"),
        )
        .select_from(CardRevision)
        .join(Card, Card.id == CardRevision.card_id)
        .where(
            CardRevision.author_id.is_not(None), CardRevision.at >= period.start, CardRevision.at < period.end
        )
    )


@contribution_source("comments", "Commenti scritti")
def _comments(period: Period) -> Select[Any]:
    """Comments written on any target (tavolo, mandate, card, agenda item, SWOT entry); removed ones do not count."""
    from ..comments.models import Comment, CommentStatus

    return select(
        represented(Comment.author_id, Comment.body_id).label("organisation_id"),
        Comment.body_id.label("body_id"),
        literal("comments").label("kind"),
    ).where(
        Comment.status != CommentStatus.REMOVED,
        Comment.created_at >= period.start,
        Comment.created_at < period.end,
    )


@dataclass
class ContributionRow:
    key: str
    label: str
    counts: dict[str, int] = field(default_factory=dict)

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def contributions(period: Period, group: str, body_id: int | None = None) -> list[ContributionRow]:
    """Contributions per organisation (group='organisation') or per tavolo (group='body'), by kind."""
    if not SOURCES:
        return []
    union = union_all(*(source(period) for _label, source in SOURCES.values())).subquery()
    model, column = (
        (Organisation, union.c.organisation_id) if group == "organisation" else (Body, union.c.body_id)
    )
    stmt = (
        select(model.id, model.name, union.c.kind, func.count())
        .join(union, column == model.id)
        .group_by(model.id, model.name, union.c.kind)
        .order_by(model.name)
    )
    if body_id is not None:
        stmt = stmt.where(union.c.body_id == body_id)
    rows: dict[int, ContributionRow] = {}
    for ident, name, kind, count in db.session.execute(stmt):
        rows.setdefault(ident, ContributionRow(str(ident), name)).counts[kind] = int(count)
    return sorted(rows.values(), key=lambda r: (-r.total, r.label))


# --- registry of adhering ETS ---------------------------------------------------------------------


@dataclass
class RegistryRow:
    organisation: Organisation
    adhered_on: date
    tavoli: list[str]
    attended_meetings: int


def registry(cycle: PlanningCycle, period: Period) -> list[RegistryRow]:
    pairs = org_pairs(period)
    attended = (
        select(pairs.c.organisation_id, func.sum(pairs.c.attended).label("n"))
        .group_by(pairs.c.organisation_id)
        .subquery()
    )
    tavoli = (
        select(Membership.organisation_id, Body.name)
        .join(Body, Body.id == Membership.body_id)
        .where(Membership.ended_at.is_(None), Body.kind.in_([k.value for k in THEMATIC_KINDS]))
        .distinct()
    )
    names: dict[int, list[str]] = {}
    for org_id, name in db.session.execute(tavoli.order_by(Body.name)):
        names.setdefault(org_id, []).append(name)
    rows = db.session.execute(
        select(Organisation, Adhesion.adhered_on, func.coalesce(attended.c.n, 0))
        .join(Adhesion, Adhesion.organisation_id == Organisation.id)
        .outerjoin(attended, attended.c.organisation_id == Organisation.id)
        .where(Adhesion.cycle_id == cycle.id, Organisation.kind == OrgKind.ETS.value)
        .order_by(Organisation.name)
    )
    return [RegistryRow(org, adhered_on, names.get(org.id, []), int(n)) for org, adhered_on, n in rows]


# --- alerts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    kind: str
    body: str
    subject: str
    detail: str


def stopped_attending(body_id: int | None = None, last: int = 3) -> list[Alert]:
    """Organisations still members of a tavolo and absent from its last `last` concluded meetings."""
    ranked = (
        select(
            Meeting.id.label("meeting_id"),
            Meeting.body_id.label("body_id"),
            func.row_number()
            .over(partition_by=Meeting.body_id, order_by=Meeting.starts_at.desc())
            .label("rank"),
        )
        .where(Meeting.status == MeetingStatus.CONCLUDED)
        .subquery()
    )
    recent = select(ranked.c.meeting_id, ranked.c.body_id).where(ranked.c.rank <= last).subquery()
    members = (
        select(Membership.body_id, Membership.organisation_id)
        .where(Membership.ended_at.is_(None))
        .distinct()
        .subquery()
    )
    presence = (
        select(
            recent.c.body_id,
            members.c.organisation_id,
            func.count(func.distinct(recent.c.meeting_id)).label("meetings"),
            func.coalesce(func.max(case((Attendance.status.in_(ATTENDED), 1), else_=0)), 0).label("came"),
        )
        .select_from(recent)
        .join(members, members.c.body_id == recent.c.body_id)
        .outerjoin(
            Attendance,
            and_(
                Attendance.meeting_id == recent.c.meeting_id,
                Attendance.organisation_id == members.c.organisation_id,
                Attendance.stands_for_id.is_(None),
            ),
        )
        .group_by(recent.c.body_id, members.c.organisation_id)
        .subquery()
    )
    stmt = (
        select(Body.name, Organisation.name)
        .join(presence, presence.c.body_id == Body.id)
        .join(Organisation, Organisation.id == presence.c.organisation_id)
        .where(presence.c.meetings == last, presence.c.came == 0)
        .order_by(Body.name, Organisation.name)
    )
    if body_id is not None:
        stmt = stmt.where(Body.id == body_id)
    return [
        Alert("stopped", b, o, f"assente agli ultimi {last} incontri") for b, o in db.session.execute(stmt)
    ]


def quiet_tavoli(now: datetime | None = None, days: int = 60, body_id: int | None = None) -> list[Alert]:
    """Active tavoli with no meeting held (or started) in the last `days` days."""
    now = now or utcnow()
    last = (
        select(Meeting.body_id, func.max(Meeting.starts_at).label("last"))
        .where(
            Meeting.starts_at <= now, Meeting.status.in_([MeetingStatus.CONCLUDED, MeetingStatus.IN_PROGRESS])
        )
        .group_by(Meeting.body_id)
        .subquery()
    )
    stmt = (
        select(Body.name, last.c.last)
        .outerjoin(last, last.c.body_id == Body.id)
        .where(
            Body.kind.in_([k.value for k in THEMATIC_KINDS]),
            Body.status == BodyStatus.ACTIVE.value,
            (last.c.last.is_(None)) | (last.c.last < now - timedelta(days=days)),
        )
        .order_by(Body.name)
    )
    if body_id is not None:
        stmt = stmt.where(Body.id == body_id)
    alerts = []
    for name, when in db.session.execute(stmt):
        detail = (
            "nessun incontro tenuto" if when is None else f"ultimo incontro il {format_local(when, 'day')}"
        )
        alerts.append(Alert("quiet", name, "", detail))
    return alerts


def uncovered_sub_ambiti(body_id: int | None = None) -> list[Alert]:
    """Pairs (tavolo, sub-ambito) where no member represents an organisation working in that sub-ambito."""
    covered = (
        select(Membership.body_id, organisation_sub_ambiti.c.sub_ambito_id)
        .join(
            organisation_sub_ambiti, organisation_sub_ambiti.c.organisation_id == Membership.organisation_id
        )
        .where(Membership.ended_at.is_(None))
        .distinct()
        .subquery()
    )
    stmt = (
        select(Body.name, SubAmbito.name)
        .join(SubAmbito, literal(True))
        .outerjoin(covered, and_(covered.c.body_id == Body.id, covered.c.sub_ambito_id == SubAmbito.id))
        .where(
            covered.c.body_id.is_(None),
            Body.kind.in_([k.value for k in THEMATIC_KINDS]),
            Body.status == BodyStatus.ACTIVE.value,
        )
        .order_by(Body.name, SubAmbito.name)
    )
    if body_id is not None:
        stmt = stmt.where(Body.id == body_id)
    return [
        Alert("uncovered", b, s, "nessun componente di enti attivi in questo sub-ambito")
        for b, s in db.session.execute(stmt)
    ]
