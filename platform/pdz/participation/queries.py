"""Participation figures: aggregate queries over the raw rows, summed per (tavolo, month) into rollups.

Attendance counts concluded meetings in the period. For a person, a row is attended when present or
represented by a delegate; an organisation attended a meeting when anyone of it did (one pair per
meeting and organisation expected there). Rates are attended pairs / expected pairs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from flask import g, has_app_context
from sqlalchemy import Select, and_, case, delete, func, insert, literal, select, union_all
from sqlalchemy.orm import aliased
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


# --- rollups ----------------------------------------------------------------------------------------
#
# The figures are sums over (tavolo, month) buckets kept in participation_rollups (see models.py): the
# months wholly inside the period come from there, the partial months at its edges are computed from the
# raw rows (bounded: at most two months). Stale buckets (marked by rollups.py in the transaction of each
# change) are recomputed by the first reader.

EVER = Period(datetime(1900, 1, 1, tzinfo=ROME), datetime(2200, 1, 1, tzinfo=ROME))


class Bucket(NamedTuple):
    kind: str  # "org", "person", "month" or a contribution source key
    body_id: int
    month: str
    organisation_id: int | None
    user_id: int | None
    attended: int
    expected: int


def _raw(period: Period, body_ids: list[int] | None = None) -> list[Bucket]:
    """The buckets of `period` computed from the raw rows (attendances, revisions, comments, ...)."""
    out: list[Bucket] = []
    pairs = org_pairs(period)
    stmt: Any = select(
        pairs.c.body_id, pairs.c.month, pairs.c.organisation_id, func.sum(pairs.c.attended), func.count()
    ).group_by(pairs.c.body_id, pairs.c.month, pairs.c.organisation_id)
    if body_ids is not None:
        stmt = stmt.where(pairs.c.body_id.in_(body_ids))
    out += [Bucket("org", b, m, o, None, int(a or 0), int(n)) for b, m, o, a, n in db.session.execute(stmt)]
    month = _month(Meeting.starts_at)
    stmt = (
        select(Meeting.body_id, month, Attendance.user_id, func.sum(_attended()), func.count(Attendance.id))
        .join(Meeting, Meeting.id == Attendance.meeting_id)
        .where(_meetings(period, None), Attendance.stands_for_id.is_(None))
        .group_by(Meeting.body_id, month, Attendance.user_id)
    )
    if body_ids is not None:
        stmt = stmt.where(Meeting.body_id.in_(body_ids))
    out += [
        Bucket("person", b, m, None, u, int(a or 0), int(n)) for b, m, u, a, n in db.session.execute(stmt)
    ]
    if SOURCES:
        union = union_all(*(source(period) for _label, source in SOURCES.values())).subquery()
        month = _month(union.c.at)
        stmt = select(union.c.kind, union.c.body_id, month, union.c.organisation_id, func.count()).group_by(
            union.c.kind, union.c.body_id, month, union.c.organisation_id
        )
        if body_ids is not None:
            stmt = stmt.where(union.c.body_id.in_(body_ids))
        out += [Bucket(str(k), b, m, o, None, int(n), 0) for k, b, m, o, n in db.session.execute(stmt)]
    return out


def _month_start(year: int, month: int) -> datetime:
    return datetime(year + (month - 1) // 12, (month - 1) % 12 + 1, 1, tzinfo=ROME)


def _month_period(key: str) -> Period:
    year, month = int(key[:4]), int(key[5:7])
    return Period(_month_start(year, month), _month_start(year, month + 1))


def _store(buckets: list[Bucket]) -> None:
    from .models import ParticipationRollup

    rows = [
        {
            "kind": b.kind,
            "body_id": b.body_id,
            "month": b.month,
            "organisation_id": b.organisation_id,
            "user_id": b.user_id,
            "attended": b.attended,
            "expected": b.expected,
        }
        for b in buckets
    ]
    for start in range(0, len(rows), 2000):
        db.session.execute(insert(ParticipationRollup), rows[start : start + 2000])


def refresh() -> int:
    """Recompute the stale buckets and commit; the number of marks handled. Called by every reader before
    it sums buckets. The marks are claimed by deleting them (DELETE ... RETURNING: a concurrent reader
    waits for the row locks, then finds them gone); a change committed meanwhile marks again. Whole-history
    marks recompute those tavoli; month marks recompute the span of months they cover for their tavoli."""
    from .models import ALL_MONTHS, ParticipationRollup, ParticipationStale

    claimed = db.session.execute(
        delete(ParticipationStale).returning(ParticipationStale.body_id, ParticipationStale.month)
    ).all()
    if not claimed:
        return 0
    whole = sorted({b for b, m in claimed if m == ALL_MONTHS})
    if whole:
        db.session.execute(delete(ParticipationRollup).where(ParticipationRollup.body_id.in_(whole)))
        _store(_raw(EVER, whole))
    months = {m for b, m in claimed if m != ALL_MONTHS and b not in whole}
    bodies = sorted({b for b, m in claimed if m != ALL_MONTHS and b not in whole})
    if bodies:
        first, last = min(months), max(months)
        db.session.execute(
            delete(ParticipationRollup).where(
                ParticipationRollup.body_id.in_(bodies),
                ParticipationRollup.month >= first,
                ParticipationRollup.month <= last,
            )
        )
        _store(_raw(Period(_month_period(first).start, _month_period(last).end), bodies))
    db.session.commit()
    return len(claimed)


def buckets(period: Period, body_id: int | None = None) -> list[Bucket]:
    """Every bucket of the period: whole months from the rollups, the partial months at the edges raw."""
    from .models import ParticipationRollup

    refresh()
    start = period.start.astimezone(ROME)
    first = _month_start(
        start.year, start.month + (0 if (start.day, start.hour, start.minute) == (1, 0, 0) else 1)
    )
    end = period.end.astimezone(ROME)
    after_last = _month_start(end.year, end.month)
    out: list[Bucket] = []
    body_ids = None if body_id is None else [body_id]
    if after_last <= first:  # no whole month inside: all raw
        return raw_buckets(period, body_ids) if period.start < period.end else []
    if period.start < first:
        out += raw_buckets(Period(period.start, first), body_ids)
    if after_last < period.end:
        out += raw_buckets(Period(after_last, period.end), body_ids)
    # The whole months, summed in the database: one row per (kind, tavolo, organisation or person), and
    # one per month for the monthly table, however long the history.
    months: tuple[Any, ...] = (
        ParticipationRollup.month >= first.strftime("%Y-%m"),
        ParticipationRollup.month < after_last.strftime("%Y-%m"),
    )
    if body_id is not None:
        months += (ParticipationRollup.body_id == body_id,)
    attended, expected = func.sum(ParticipationRollup.attended), func.sum(ParticipationRollup.expected)
    stmt: Any = (
        select(
            ParticipationRollup.kind,
            ParticipationRollup.body_id,
            ParticipationRollup.organisation_id,
            ParticipationRollup.user_id,
            attended,
            expected,
        )
        .where(*months)
        .group_by(
            ParticipationRollup.kind,
            ParticipationRollup.body_id,
            ParticipationRollup.organisation_id,
            ParticipationRollup.user_id,
        )
    )
    out += [Bucket(k, b, "", o, u, int(a or 0), int(n or 0)) for k, b, o, u, a, n in db.session.execute(stmt)]
    stmt = (
        select(ParticipationRollup.month, attended, expected)
        .where(*months, ParticipationRollup.kind == "org")
        .group_by(ParticipationRollup.month)
    )
    out += [
        Bucket("month", 0, m, None, None, int(a or 0), int(n or 0)) for m, a, n in db.session.execute(stmt)
    ]
    return out


def raw_buckets(period: Period, body_ids: list[int] | None = None) -> list[Bucket]:
    """`_raw`, plus the monthly rows ("month") the monthly table reads."""
    items = _raw(period, body_ids)
    return items + [
        Bucket("month", 0, b.month, None, None, b.attended, b.expected) for b in items if b.kind == "org"
    ]


def _figures(period: Period, body_id: int | None) -> list[Bucket]:
    """The period's buckets, computed once per request however many tables read them."""
    cache = g.setdefault("participation_buckets", {}) if has_app_context() else {}
    key = (period, body_id)
    if key not in cache:
        cache[key] = buckets(period, body_id)
    return cache[key]


def _sum(items: list[Bucket], kind: str, key: Callable[[Bucket], list[Any]]) -> dict[Any, tuple[int, int]]:
    totals: dict[Any, list[int]] = {}
    for b in _of_kind(items, kind):
        for k in key(b):
            pair = totals.setdefault(k, [0, 0])
            pair[0] += b.attended
            pair[1] += b.expected
    return {k: (a, n) for k, (a, n) in totals.items()}


def _of_kind(items: list[Bucket], kind: str) -> list[Bucket]:
    """The buckets of one kind, split once per list of buckets (each table reads one or two kinds)."""
    cache = g.setdefault("participation_kinds", {}) if has_app_context() else {}
    split = cache.get(id(items))
    if split is None or split[0] is not items:
        groups: dict[str, list[Bucket]] = {}
        for b in items:
            groups.setdefault(b.kind, []).append(b)
        split = cache[id(items)] = (items, groups)
    return split[1].get(kind, [])


def _named(model: Any, ids: Any, *columns: Any) -> dict[int, Any]:
    """The named columns of these rows. Past a few hundred ids, the whole (narrow) table is read and filtered
    here: binding thousands of parameters costs more than reading every row."""
    if not ids:
        return {}
    stmt = select(model.id, *columns)
    if len(ids) <= 500:
        stmt = stmt.where(model.id.in_(list(ids)))
    return {row[0]: row for row in db.session.execute(stmt) if row[0] in ids}


def _rate_rows(totals: dict[int, tuple[int, int]], names: dict[int, Any]) -> list[Rate]:
    rows = [Rate(str(k), names[k][1], a, n) for k, (a, n) in totals.items() if k in names]
    return sorted(rows, key=lambda r: (r.label, int(r.key)))


def by_tavolo(period: Period, body_id: int | None = None) -> list[Rate]:
    totals = _sum(_figures(period, body_id), "org", lambda b: [b.body_id])
    return _rate_rows(totals, _named(Body, totals, Body.name))


def by_organisation(period: Period, body_id: int | None = None) -> list[Rate]:
    totals = _sum(_figures(period, body_id), "org", lambda b: [b.organisation_id])
    return _rate_rows(totals, _named(Organisation, totals, Organisation.name))


def _kind_key(kind: Any, legal_form: Any) -> str:
    kind = getattr(kind, "value", kind)
    if kind == OrgKind.ETS.value:
        return "ets:" + (getattr(legal_form, "value", legal_form) or "altro_ets")
    return str(kind)


def by_kind(period: Period, body_id: int | None = None) -> list[Rate]:
    """Comuni, ETS split by legal form, ASST, ...: the key is `kind` or `ets:<legal form>`."""
    items = _figures(period, body_id)
    orgs = _named(
        Organisation,
        {b.organisation_id for b in _of_kind(items, "org")},
        Organisation.kind,
        Organisation.legal_form,
    )
    keys = {i: _kind_key(kind, form) for i, kind, form in orgs.values()}
    totals = _sum(items, "org", lambda b: [keys[b.organisation_id]] if b.organisation_id in keys else [])
    return [Rate(k, kind_label(k), a, n) for k, (a, n) in sorted(totals.items())]


def kind_label(key: str) -> str:
    from ..labels import label
    from ..orgs.models import LegalForm

    if key.startswith("ets:"):
        return f"ETS – {label(LegalForm(key[4:]))}"
    return label(OrgKind(key))


def by_sub_ambito(period: Period, body_id: int | None = None) -> list[Rate]:
    """Organisations working in several sub-ambiti count in each of them."""
    items = _figures(period, body_id)
    org_ids = {b.organisation_id for b in _of_kind(items, "org")}
    areas: dict[int, list[int]] = {}
    if org_ids:
        for org_id, area_id in db.session.execute(
            select(organisation_sub_ambiti.c.organisation_id, organisation_sub_ambiti.c.sub_ambito_id).where(
                organisation_sub_ambiti.c.organisation_id.in_(org_ids)
            )
        ):
            areas.setdefault(org_id, []).append(area_id)
    totals = _sum(items, "org", lambda b: areas.get(b.organisation_id or 0, []))
    return _rate_rows(totals, _named(SubAmbito, totals, SubAmbito.name))


def by_month(period: Period, body_id: int | None = None) -> list[Rate]:
    totals = _sum(_figures(period, body_id), "month", lambda b: [b.month])
    return [Rate(m, m, a, n) for m, (a, n) in sorted(totals.items())]


def by_person(period: Period, body_id: int | None = None, user_id: int | None = None) -> list[Rate]:
    """Individuals' figures: only for UdP staff, or for the person themself (user_id)."""
    items = _figures(period, body_id)
    if user_id is not None:
        items = [b for b in items if b.user_id == user_id]
    totals = _sum(items, "person", lambda b: [b.user_id])
    return _rate_rows(totals, _named(User, totals, User.full_name))


# --- contributions ------------------------------------------------------------------------------

# Each source gives rows (organisation_id, body_id, kind, at) for contributions made in the period; the
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
            SwotEntryRevision.at.label("at"),
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
            ActionItem.completed_at.label("at"),
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
            CardRevision.at.label("at"),
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
        Comment.created_at.label("at"),
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
    items = [b for kind in SOURCES for b in _of_kind(_figures(period, body_id), kind)]
    model = Organisation if group == "organisation" else Body
    ident = (lambda b: b.organisation_id) if group == "organisation" else (lambda b: b.body_id)
    names = _named(model, {ident(b) for b in items if ident(b) is not None}, model.name)
    rows: dict[int, ContributionRow] = {}
    for b in items:
        key = ident(b)
        if key not in names:
            continue
        row = rows.setdefault(key, ContributionRow(str(key), names[key][1]))
        row.counts[b.kind] = row.counts.get(b.kind, 0) + b.attended
    return sorted(rows.values(), key=lambda r: (-r.total, r.label))


# --- registry of adhering ETS ---------------------------------------------------------------------


@dataclass
class RegistryRow:
    organisation: Organisation
    adhered_on: date
    tavoli: list[str]
    attended_meetings: int


def registry(cycle: PlanningCycle, period: Period) -> list[RegistryRow]:
    attended = _sum(_figures(period, None), "org", lambda b: [b.organisation_id])
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
        select(Organisation, Adhesion.adhered_on)
        .join(Adhesion, Adhesion.organisation_id == Organisation.id)
        .where(Adhesion.cycle_id == cycle.id, Organisation.kind == OrgKind.ETS.value)
        .order_by(Organisation.name)
    )
    return [
        RegistryRow(org, adhered_on, names.get(org.id, []), attended.get(org.id, (0, 0))[0])
        for org, adhered_on in rows
    ]


# --- alerts ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Alert:
    kind: str
    body: str
    subject: str
    detail: str


def stopped_attending(body_id: int | None = None, last: int = 3) -> list[Alert]:
    """Organisations still members of a tavolo and absent from its last `last` concluded meetings.

    Per body, the start of its `last`-th most recent concluded meeting is one index seek
    (ix_meetings_body_status_starts); only the meetings from there on are read, never the whole history."""
    other = aliased(Meeting)
    cut = select(
        Body.id.label("body_id"),
        select(other.starts_at)
        .where(other.body_id == Body.id, other.status == MeetingStatus.CONCLUDED)
        .order_by(other.starts_at.desc())
        .limit(1)
        .offset(last - 1)
        .scalar_subquery()
        .label("since"),
    )
    if body_id is not None:
        cut = cut.where(Body.id == body_id)
    cuts = cut.subquery()
    recent = (
        select(Meeting.id.label("meeting_id"), Meeting.body_id.label("body_id"))
        .join(cuts, and_(cuts.c.body_id == Meeting.body_id, Meeting.starts_at >= cuts.c.since))
        .where(Meeting.status == MeetingStatus.CONCLUDED)
        .subquery()
    )
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
