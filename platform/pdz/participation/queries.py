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
from sqlalchemy import Select, and_, case, delete, func, insert, literal, null, or_, select, union_all
from sqlalchemy.orm import aliased
from sqlalchemy.sql.elements import ColumnElement

from ..accounts.models import User
from ..cards.models import Card, CardRevision
from ..comments.models import Comment, CommentStatus
from ..cycles.models import PlanningCycle
from ..db import utcnow
from ..evaluation.models import SwotAssessment, SwotEntry, SwotEntryRevision
from ..extensions import db
from ..formatting import ROME, format_local
from ..labels import label
from ..meetings.models import ActionItem, ActionStatus, Attendance, AttendanceStatus, Meeting, MeetingStatus
from ..orgs.models import Adhesion, LegalForm, Organisation, OrgKind, organisation_sub_ambiti
from ..tavoli.models import THEMATIC_KINDS, Body, BodyStatus, Membership
from ..territory.models import SubAmbito
from .models import ALL_MONTHS, ParticipationRollup, ParticipationStale

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


YEAR = "Y"  # the month column of a yearly row: "Y2026" (sorts after every "YYYY-MM", so month ranges skip it)
MONTH_TOTAL = "M"  # a tavolo's monthly total of organisations' attendance: "M202603" (between the two)


def _total_key(month: str) -> str:
    return MONTH_TOTAL + month[:4] + month[5:7]


def _store_years(bodies: list[int], first_year: str | None = None, last_year: str | None = None) -> None:
    """Rewrite these bodies' yearly rows (of every year, or of first_year..last_year) as the sums of their
    monthly rows, in the database (INSERT ... SELECT): a period of whole years then reads one row per
    (kind, tavolo, organisation or person) and year instead of twelve. The monthly totals of organisations'
    attendance per tavolo ("M202603", for the monthly table) are rewritten the same way."""
    R = ParticipationRollup  # noqa: N806 - short alias for a long name in the expressions below
    year_rows: Any = and_(R.body_id.in_(bodies), R.month >= YEAR)
    total_rows: Any = and_(R.body_id.in_(bodies), R.month >= MONTH_TOTAL, R.month < YEAR)
    month_rows: Any = and_(R.body_id.in_(bodies), R.month < MONTH_TOTAL)
    if first_year is not None and last_year is not None:
        year_rows = and_(year_rows, R.month >= YEAR + first_year, R.month <= YEAR + last_year)
        total_rows = and_(
            total_rows, R.month >= f"{MONTH_TOTAL}{first_year}01", R.month <= f"{MONTH_TOTAL}{last_year}12"
        )
        month_rows = and_(month_rows, R.month >= f"{first_year}-01", R.month <= f"{last_year}-12")
    db.session.execute(delete(R).where(or_(year_rows, total_rows)))
    columns = ["kind", "body_id", "month", "organisation_id", "user_id", "attended", "expected"]
    total = literal(MONTH_TOTAL) + func.substr(R.month, 1, 4) + func.substr(R.month, 6, 2)
    totals = (
        select(R.kind, R.body_id, total, null(), null(), func.sum(R.attended), func.sum(R.expected))
        .where(month_rows, R.kind == "org")
        .group_by(R.kind, R.body_id, total)
    )
    db.session.execute(insert(R).from_select(columns, totals))
    year = literal(YEAR) + func.substr(R.month, 1, 4)
    sums = (
        select(
            R.kind, R.body_id, year, R.organisation_id, R.user_id, func.sum(R.attended), func.sum(R.expected)
        )
        .where(month_rows)
        .group_by(R.kind, R.body_id, year, R.organisation_id, R.user_id)
    )
    db.session.execute(insert(R).from_select(columns, sums))


def refresh() -> int:
    """Recompute the stale buckets and commit; the number of marks handled. Called by every reader before
    it sums buckets. The marks are claimed by deleting them (DELETE ... RETURNING: a concurrent reader
    waits for the row locks, then finds them gone); a change committed meanwhile marks again. Whole-history
    marks recompute those tavoli; month marks recompute the span of months they cover for their tavoli.
    Then the yearly rows of the years touched are summed again from the monthly rows."""
    claimed = db.session.execute(
        delete(ParticipationStale).returning(ParticipationStale.body_id, ParticipationStale.month)
    ).all()
    if not claimed:
        return 0
    whole = sorted({b for b, m in claimed if m == ALL_MONTHS})
    if whole:
        db.session.execute(delete(ParticipationRollup).where(ParticipationRollup.body_id.in_(whole)))
        _store(_raw(EVER, whole))
        _store_years(whole)
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
        _store_years(bodies, first[:4], last[:4])
    db.session.commit()
    return len(claimed)


def _whole_month_bounds(period: Period) -> tuple[datetime, datetime]:
    """The start of the first month wholly inside the period, and the start of the month it ends in."""
    start = period.start.astimezone(ROME)
    first = _month_start(
        start.year, start.month + (0 if (start.day, start.hour, start.minute) == (1, 0, 0) else 1)
    )
    end = period.end.astimezone(ROME)
    return first, _month_start(end.year, end.month)


def _parts(period: Period) -> tuple[Any | None, list[Period]]:
    """The period split into the rollup rows of the months wholly inside it (their condition, None when
    there are none) and the partial months at its edges, to be computed from the raw rows. Whole years
    inside the months are read from the yearly rows, the months before and after those years from the
    monthly rows."""
    first, after_last = _whole_month_bounds(period)
    if after_last <= first:  # no whole month inside: all raw
        return None, ([period] if period.start < period.end else [])
    edges = []
    if period.start < first:
        edges.append(Period(period.start, first))
    if after_last < period.end:
        edges.append(Period(after_last, period.end))
    r = ParticipationRollup
    first_key, end_key = first.strftime("%Y-%m"), after_last.strftime("%Y-%m")
    first_year = first.year + (0 if first.month == 1 else 1)
    end_year = after_last.year  # exclusive: the yearly rows cover first_year .. end_year - 1
    if first_year < end_year:
        whole: Any = or_(
            and_(r.month >= first_key, r.month < f"{first_year}-01"),
            and_(r.month >= f"{YEAR}{first_year}", r.month <= f"{YEAR}{end_year - 1}"),
            and_(r.month >= f"{end_year}-01", r.month < end_key),
        )
    else:
        whole = and_(r.month >= first_key, r.month < end_key)
    return whole, edges


def buckets(period: Period, body_id: int | None = None, *, people: bool = True) -> list[Bucket]:
    """Every bucket of the period: whole months from the rollups, the partial months at the edges raw.
    Without `people`, the individuals' buckets are left out (thousands of rows in a large district: the
    dashboard reads one page of them with `people_page`)."""
    refresh()
    whole, edges = _parts(period)
    body_ids = None if body_id is None else [body_id]
    out: list[Bucket] = []
    for edge in edges:
        out += raw_buckets(edge, body_ids)
    if whole is None:
        return out
    # The whole months, summed in the database: one row per (kind, tavolo, organisation or person), and
    # one per month for the monthly table, however long the history.
    r = ParticipationRollup
    body_filter: tuple[Any, ...] = () if body_id is None else (r.body_id == body_id,)
    kinds: tuple[Any, ...] = () if people else (r.kind != "person",)
    attended, expected = func.sum(r.attended), func.sum(r.expected)
    stmt: Any = (
        select(r.kind, r.body_id, r.organisation_id, r.user_id, attended, expected)
        .where(whole, *body_filter, *kinds)
        .group_by(r.kind, r.body_id, r.organisation_id, r.user_id)
    )
    out += [Bucket(k, b, "", o, u, int(a or 0), int(n or 0)) for k, b, o, u, a, n in db.session.execute(stmt)]
    # The monthly table: the tavoli's monthly totals ("M202603"), a few rows a month.
    first, after_last = _whole_month_bounds(period)
    first_key, end_key = first.strftime("%Y-%m"), after_last.strftime("%Y-%m")
    stmt = (
        select(r.month, attended, expected)
        .where(r.month >= _total_key(first_key), r.month < _total_key(end_key), *body_filter)
        .group_by(r.month)
    )
    out += [
        Bucket("month", 0, f"{m[1:5]}-{m[5:7]}", None, None, int(a or 0), int(n or 0))
        for m, a, n in db.session.execute(stmt)
    ]
    return out


def raw_buckets(period: Period, body_ids: list[int] | None = None) -> list[Bucket]:
    """`_raw`, plus the monthly rows ("month") the monthly table reads."""
    items = _raw(period, body_ids)
    return items + [
        Bucket("month", 0, b.month, None, None, b.attended, b.expected) for b in items if b.kind == "org"
    ]


def _figures(period: Period, body_id: int | None, *, people: bool = False) -> list[Bucket]:
    """The period's buckets, computed once per request however many tables read them; the individuals'
    only when asked for."""
    cache = g.setdefault("participation_buckets", {}) if has_app_context() else {}
    key = (period, body_id, people)
    if key not in cache:
        cache[key] = buckets(period, body_id, people=people)
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


def _kind_keys(items: list[Bucket]) -> dict[int, str]:
    """Organisation id -> its kind key, for the organisations of these buckets (read once per request)."""
    cache = g.setdefault("participation_kind_keys", {}) if has_app_context() else {}
    if id(items) not in cache or cache[id(items)][0] is not items:
        orgs = _named(
            Organisation,
            {b.organisation_id for b in _of_kind(items, "org")},
            Organisation.kind,
            Organisation.legal_form,
        )
        cache[id(items)] = (items, {i: _kind_key(kind, form) for i, kind, form in orgs.values()})
    return cache[id(items)][1]  # type: ignore[no-any-return]


def by_kind(period: Period, body_id: int | None = None) -> list[Rate]:
    """Comuni, ETS split by legal form, ASST, ...: the key is `kind` or `ets:<legal form>`."""
    items = _figures(period, body_id)
    keys = _kind_keys(items)
    totals = _sum(items, "org", lambda b: [keys[b.organisation_id]] if b.organisation_id in keys else [])
    return [Rate(k, kind_label(k), a, n) for k, (a, n) in sorted(totals.items())]


def kind_label(key: str) -> str:
    if key.startswith("ets:"):
        return f"ETS – {label(LegalForm(key[4:]))}"
    return label(OrgKind(key))


def _areas(items: list[Bucket]) -> dict[int, list[int]]:
    """Organisation id -> the sub-ambiti it works in, for the organisations of these buckets (once a request)."""
    cache = g.setdefault("participation_areas", {}) if has_app_context() else {}
    if id(items) not in cache or cache[id(items)][0] is not items:
        org_ids = {b.organisation_id for b in _of_kind(items, "org")}
        areas: dict[int, list[int]] = {}
        if org_ids:
            for org_id, area_id in db.session.execute(
                select(
                    organisation_sub_ambiti.c.organisation_id, organisation_sub_ambiti.c.sub_ambito_id
                ).where(organisation_sub_ambiti.c.organisation_id.in_(org_ids))
            ):
                areas.setdefault(org_id, []).append(area_id)
        cache[id(items)] = (items, areas)
    return cache[id(items)][1]  # type: ignore[no-any-return]


def by_sub_ambito(period: Period, body_id: int | None = None) -> list[Rate]:
    """Organisations working in several sub-ambiti count in each of them."""
    items = _figures(period, body_id)
    areas = _areas(items)
    totals = _sum(items, "org", lambda b: areas.get(b.organisation_id or 0, []))
    return _rate_rows(totals, _named(SubAmbito, totals, SubAmbito.name))


# --- matrices: tavolo x sub-ambito, tavolo x kind of organisation ------------------------------------


@dataclass
class Matrix:
    """Attendance rates per (tavolo, column): the rows are tavoli, the columns sub-ambiti or kinds."""

    rows: list[tuple[str, str]]  # (key, label)
    columns: list[tuple[str, str]]
    cells: dict[tuple[str, str], Rate]

    def cell(self, row: str, column: str) -> Rate | None:
        return self.cells.get((row, column))


def _matrix(items: list[Bucket], columns_of: Callable[[Bucket], list[Any]], labels: dict[Any, str]) -> Matrix:
    totals = _sum(items, "org", lambda b: [(b.body_id, c) for c in columns_of(b)])
    bodies = _named(Body, {b for b, _c in totals}, Body.name)
    rows = sorted(
        ((str(b), bodies[b][1]) for b in {b for b, _c in totals} if b in bodies),
        key=lambda r: (r[1], int(r[0])),
    )
    columns = sorted(
        ((str(c), labels[c]) for c in {c for _b, c in totals} if c in labels), key=lambda c: c[1]
    )
    cells = {
        (str(b), str(c)): Rate(f"{b}:{c}", labels[c], a, n)
        for (b, c), (a, n) in totals.items()
        if c in labels
    }
    return Matrix(rows, columns, cells)


def by_tavolo_and_sub_ambito(period: Period, body_id: int | None = None) -> Matrix:
    """Each tavolo's attendance split by the sub-ambiti its organisations work in (an organisation working
    in several sub-ambiti counts in each, as in by_sub_ambito)."""
    items = _figures(period, body_id)
    areas = _areas(items)
    names = _named(SubAmbito, {a for ids in areas.values() for a in ids}, SubAmbito.name)
    return _matrix(
        items, lambda b: areas.get(b.organisation_id or 0, []), {k: v[1] for k, v in names.items()}
    )


def by_tavolo_and_kind(period: Period, body_id: int | None = None) -> Matrix:
    """Each tavolo's attendance split by kind of organisation (the keys of by_kind)."""
    items = _figures(period, body_id)
    keys = _kind_keys(items)
    labels = {k: short_kind_label(k) for k in set(keys.values())}
    return _matrix(items, lambda b: [keys[b.organisation_id]] if b.organisation_id in keys else [], labels)


def short_kind_label(key: str) -> str:
    """A kind's label for a narrow column: "ETS – APS" rather than the legal form's whole name."""
    whole = kind_label(key)
    if key.startswith("ets:"):
        return "ETS – " + whole[len("ETS – ") :].split(" – ")[0]
    return whole


def by_month(period: Period, body_id: int | None = None) -> list[Rate]:
    totals = _sum(_figures(period, body_id), "month", lambda b: [b.month])
    return [Rate(m, m, a, n) for m, (a, n) in sorted(totals.items())]


def by_person(period: Period, body_id: int | None = None, user_id: int | None = None) -> list[Rate]:
    """Individuals' figures: only for UdP staff, or for the person themself (user_id)."""
    items = _figures(period, body_id, people=True)
    if user_id is not None:
        items = [b for b in items if b.user_id == user_id]
    totals = _sum(items, "person", lambda b: [b.user_id])
    return _rate_rows(totals, _named(User, totals, User.full_name))


def _by_code_point(column: Any) -> Any:
    """A text column ordered as Python orders strings (by code point), whatever the database's locale."""
    return column.collate("C") if db.engine.dialect.name == "postgresql" else column


def people_page(period: Period, body_id: int | None, page: int, per_page: int) -> tuple[list[Rate], int]:
    """One page of `by_person` (same rows, same order) and the number of people, aggregated, ordered and
    cut in the database: the rows read stay one page whatever the number of people."""
    refresh()
    whole, edges = _parts(period)
    r = ParticipationRollup
    parts: list[Any] = []
    if whole is not None:
        body_filter: tuple[Any, ...] = () if body_id is None else (r.body_id == body_id,)
        parts.append(
            select(r.user_id.label("user_id"), r.attended.label("a"), r.expected.label("n")).where(
                whole, r.kind == "person", *body_filter
            )
        )
    for edge in edges:
        parts.append(
            select(Attendance.user_id.label("user_id"), _attended().label("a"), literal(1).label("n"))
            .join(Meeting, Meeting.id == Attendance.meeting_id)
            .where(_meetings(edge, body_id), Attendance.stands_for_id.is_(None))
        )
    if not parts:
        return [], 0
    rows = union_all(*parts).subquery() if len(parts) > 1 else parts[0].subquery()
    totals = (
        select(rows.c.user_id, func.sum(rows.c.a).label("a"), func.sum(rows.c.n).label("n"))
        .where(rows.c.user_id.is_not(None))
        .group_by(rows.c.user_id)
        .subquery()
    )
    named = (
        select(User.id, User.full_name, totals.c.a, totals.c.n, func.count().over().label("total"))
        .join(totals, totals.c.user_id == User.id)
        .order_by(_by_code_point(User.full_name), User.id)
        .limit(per_page)
        .offset((max(page, 1) - 1) * per_page)
    )
    found = db.session.execute(named).all()
    if not found and page > 1:
        return [], int(db.session.scalar(select(func.count()).select_from(totals)) or 0)
    total = int(found[0].total) if found else 0
    return [Rate(str(u), name, int(a or 0), int(n or 0)) for u, name, a, n, _t in found], total


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
        row = rows.get(key)
        if row is None:  # not setdefault: it would build a row for every bucket
            row = rows[key] = ContributionRow(str(key), names[key][1])
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

    The ids of each body's last `last` concluded meetings are read first, each one index seek
    (ix_meetings_body_status_starts); the second query names those meetings, so the database reads only
    them and their attendance rows (ix_attendances_meeting_org), never the whole history. (Given as a
    correlated subquery, PostgreSQL evaluated it once per meeting; given as date ranges per body, SQLite
    scanned every meeting.)"""
    other = aliased(Meeting)
    cut = select(
        Body.id,
        *(
            select(other.id)
            .where(other.body_id == Body.id, other.status == MeetingStatus.CONCLUDED)
            .order_by(other.starts_at.desc(), other.id.desc())
            .limit(1)
            .offset(n)
            .scalar_subquery()
            for n in range(last)
        ),
    )
    if body_id is not None:
        cut = cut.where(Body.id == body_id)
    meeting_ids = [m for row in db.session.execute(cut) if None not in row[1:] for m in row[1:]]
    if not meeting_ids:
        return []
    recent = (
        select(Meeting.id.label("meeting_id"), Meeting.body_id.label("body_id"))
        .where(Meeting.id.in_(meeting_ids))
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
    """Active tavoli with no meeting held (or started) in the last `days` days.

    Each tavolo's last meeting of each of the two states is one backward index seek
    (ix_meetings_body_status_starts), not a MAX over every meeting of every tavolo."""
    now = now or utcnow()

    def last_in(status: MeetingStatus) -> Any:
        return (
            select(Meeting.starts_at)
            .where(Meeting.body_id == Body.id, Meeting.status == status, Meeting.starts_at <= now)
            .order_by(Meeting.starts_at.desc())
            .limit(1)
            .scalar_subquery()
        )

    stmt = (
        select(Body.name, last_in(MeetingStatus.CONCLUDED), last_in(MeetingStatus.IN_PROGRESS))
        .where(Body.kind.in_([k.value for k in THEMATIC_KINDS]), Body.status == BodyStatus.ACTIVE.value)
        .order_by(Body.name)
    )
    if body_id is not None:
        stmt = stmt.where(Body.id == body_id)
    cutoff = now - timedelta(days=days)
    rows = []
    for name, *starts in db.session.execute(stmt):
        held = [when for when in starts if when is not None]
        last = max(held) if held else None
        if last is None or last < cutoff:
            rows.append((name, last))
    alerts = []
    for name, when in rows:
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
