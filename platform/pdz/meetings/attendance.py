"""Attendance and quorum: the check-in code, self check-in, the co-coordinators' marks and delegates, and the
quorum computed from the seats present."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime, time
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy
from ..accounts.models import Affiliation, User
from ..audit import AuditEntry
from ..db import utcnow
from ..errors import Invalid, NotFound
from ..extensions import db
from ..formatting import local
from ..orgs.models import Organisation
from ..realtime import publish_after_commit
from ..tavoli.models import Body, Membership, MembershipRole
from ..territory.models import Comune
from .common import local_to_utc, not_frozen, room, status_in
from .models import (
    Attendance,
    AttendanceStatus,
    MajorityKind,
    Meeting,
    MeetingStatus,
    QuorumKind,
    QuorumRule,
    Rsvp,
)

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud in a room
CODE_LENGTH = 6
# Who holds a seat for the quorum: observers and the secretary do not.
SEAT_ROLES = frozenset(
    {MembershipRole.MEMBER, MembershipRole.COORD_PUBLIC, MembershipRole.COORD_ETS, MembershipRole.DELEGATE}
)


def new_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def _attendance_changed(meeting: Meeting) -> None:
    db.session.flush()
    db.session.expire(meeting, ["attendances"])
    state = quorum(meeting)
    publish_after_commit(
        room(meeting), "meeting.attendance_changed", {"meeting_id": meeting.id, "quorum": state.as_dict()}
    )


def _row(meeting: Meeting, user_id: int) -> Attendance | None:
    return db.session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.user_id == user_id)
    )


def _check_delegate(meeting: Meeting, delegate: User, member_id: int) -> Membership:
    member = db.session.scalar(
        select(Membership).where(
            Membership.body_id == meeting.body_id,
            Membership.user_id == member_id,
            Membership.ended_at.is_(None),
        )
    )
    if member is None:
        raise Invalid(
            errors={"stands_for_id": _("La persona rappresentata non è componente di questo organismo.")}
        )
    same_org = db.session.scalar(
        select(Affiliation.id).where(
            Affiliation.user_id == delegate.id, Affiliation.organisation_id == member.organisation_id
        )
    )
    if not same_org:
        org = db.session.get(Organisation, member.organisation_id)
        raise Invalid(
            errors={
                "stands_for_id": _(
                    "Un delegato deve appartenere allo stesso ente della persona che rappresenta (%(org)s).",
                    org=org.name if org else "",
                )
            }
        )
    return member


def _represent(
    meeting: Meeting, delegate: User, member: Membership, now: datetime, *, self_checkin: bool
) -> Attendance:
    row = Attendance(
        meeting_id=meeting.id,
        user_id=delegate.id,
        organisation_id=member.organisation_id,
        status=AttendanceStatus.PRESENT,
        stands_for_id=member.user_id,
        arrived_at=now,
        self_checkin=self_checkin,
    )
    db.session.add(row)
    member_row = _row(meeting, member.user_id)
    if member_row is not None and member_row.status != AttendanceStatus.PRESENT:
        member_row.status = AttendanceStatus.REPRESENTED
    return row


def check_in(meeting: Meeting, code: str, *, actor: User, now: datetime | None = None) -> Attendance:
    """Self check-in with the short code shown in the room, valid only while the meeting is in progress."""
    policy.require(actor, "meeting.checkin", meeting)
    not_frozen(meeting)
    if meeting.status != MeetingStatus.IN_PROGRESS or not meeting.checkin_code:
        raise Invalid(
            errors={"code": _("Il codice è scaduto: la registrazione è possibile solo durante l'incontro.")}
        )
    if (code or "").strip().upper().replace(" ", "") != meeting.checkin_code:
        raise Invalid(errors={"code": _("Codice non valido: controlla il codice mostrato in sala.")})
    now = now or utcnow()
    row = _row(meeting, actor.id)
    if row is not None and row.status == AttendanceStatus.PRESENT:
        raise Invalid(errors={"code": _("La tua presenza è già registrata.")})
    if row is None:
        membership = policy.membership(actor, meeting.body)
        if membership is not None:
            row = Attendance(
                meeting_id=meeting.id, user_id=actor.id, organisation_id=membership.organisation_id
            )
            db.session.add(row)
        else:
            rsvp = db.session.scalar(
                select(Rsvp).where(Rsvp.meeting_id == meeting.id, Rsvp.delegate_id == actor.id)
            )
            if rsvp is None:
                raise Invalid(errors={"code": _("Non risulti tra i convocati di questo incontro.")})
            member = _check_delegate(meeting, actor, rsvp.user_id)
            row = _represent(meeting, actor, member, now, self_checkin=True)
            audit.record(actor, "meeting.checked_in", meeting, {"stands_for_id": member.user_id})
            _attendance_changed(meeting)
            return row
    row.status = AttendanceStatus.PRESENT
    row.arrived_at = now
    row.left_at = None
    row.self_checkin = True
    audit.record(actor, "meeting.checked_in", meeting)
    _attendance_changed(meeting)
    return row


MARKS = ("presente", "assente", "giustificato", "ritardo", "uscita")


def register_attendance(
    meeting: Meeting,
    user_id: int,
    *,
    stands_for_id: int | None = None,
    actor: User,
    now: datetime | None = None,
) -> Attendance:
    """Adds a person to the sheet as present: a member, or a delegate standing for a member of their organisation."""
    policy.require(actor, "meeting.manage", meeting)
    not_frozen(meeting)
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    person = db.session.get(User, user_id) if user_id else None
    if person is None:
        raise Invalid(errors={"user_id": _("Scegli la persona da registrare.")})
    if _row(meeting, person.id) is not None:
        raise Invalid(
            errors={"user_id": _("%(name)s è già registrato in questo incontro.", name=person.full_name)}
        )
    now = now or utcnow()
    if stands_for_id:
        member = _check_delegate(meeting, person, stands_for_id)
        row = _represent(meeting, person, member, now, self_checkin=False)
    else:
        membership = policy.membership(person, meeting.body)
        if membership is None:
            raise Invalid(
                errors={
                    "user_id": _(
                        "%(name)s non è componente: registralo come delegato di un componente del suo ente.",
                        name=person.full_name,
                    )
                }
            )
        row = Attendance(
            meeting_id=meeting.id,
            user_id=person.id,
            organisation_id=membership.organisation_id,
            status=AttendanceStatus.PRESENT,
            arrived_at=now,
        )
        db.session.add(row)
    audit.record(
        actor,
        "meeting.attendance_registered",
        meeting,
        {"user_id": person.id, "stands_for_id": stands_for_id},
    )
    _attendance_changed(meeting)
    return row


def mark_attendance(
    meeting: Meeting,
    attendance_id: int,
    mark: str,
    at: time | None = None,
    *,
    actor: User,
    now: datetime | None = None,
) -> Attendance:
    """present / absent / excused / late arrival (time) / early leave (time), entered in Europe/Rome."""
    policy.require(actor, "meeting.manage", meeting)
    not_frozen(meeting)
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    row = db.session.get(Attendance, attendance_id)
    if row is None or row.meeting_id != meeting.id:
        raise NotFound(_("Questa presenza non appartiene all'incontro."))
    if mark not in MARKS:
        raise Invalid(errors={"mark": _("Scegli uno stato valido.")})
    moment = local_to_utc(local(meeting.starts_at).date(), at) if at else (now or utcnow())
    before = _state(row)
    if mark == "presente":
        row.status, row.left_at = AttendanceStatus.PRESENT, None
        row.arrived_at = row.arrived_at or min(moment, meeting.starts_at)
    elif mark == "ritardo":
        row.status, row.arrived_at, row.left_at = AttendanceStatus.PRESENT, moment, None
    elif mark == "uscita":
        if row.status != AttendanceStatus.PRESENT:
            raise Invalid(errors={"mark": _("Si può registrare l'uscita solo di chi è presente.")})
        row.left_at = moment
    else:
        row.status, row.arrived_at, row.left_at = AttendanceStatus(mark), None, None
    audit.record(
        actor,
        "meeting.attendance_marked",
        meeting,
        {"attendance_id": row.id, "mark": mark, "rows": [_change(row, before)]},
    )
    _attendance_changed(meeting)
    return row


def mark_all_present(meeting: Meeting, *, actor: User, now: datetime | None = None) -> int:
    """ "Segna tutti presenti": everyone still marked absent becomes present (as one click on "Presente" each);
    the excused stay excused, the represented stay represented. One change, undone in one click."""
    policy.require(actor, "meeting.manage", meeting)
    not_frozen(meeting)
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    rows = list(
        db.session.scalars(
            select(Attendance)
            .where(Attendance.meeting_id == meeting.id, Attendance.status == AttendanceStatus.ABSENT)
            .order_by(Attendance.id)
        )
    )
    if not rows:
        raise Invalid(_("Nessuno risulta assente."))
    moment = now or utcnow()
    changes = []
    for row in rows:
        before = _state(row)
        row.status, row.left_at = AttendanceStatus.PRESENT, None
        row.arrived_at = row.arrived_at or min(moment, meeting.starts_at)
        changes.append(_change(row, before))
    audit.record(actor, "meeting.attendance_all_present", meeting, {"rows": changes})
    _attendance_changed(meeting)
    return len(rows)


# --- undo: the last change of the attendance sheet by the same person, while nothing changed since ---------

UNDOABLE = ("meeting.attendance_marked", "meeting.attendance_all_present")
UNDONE = "meeting.attendance_undone"


def _moment(value: datetime | None) -> str | None:
    if value is None:
        return None
    return (value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)).isoformat()


def _state(row: Attendance) -> list[str | None]:
    return [row.status.value, _moment(row.arrived_at), _moment(row.left_at)]


def _change(row: Attendance, before: list[str | None]) -> dict[str, Any]:
    return {"id": row.id, "before": before, "after": _state(row)}


def last_undoable(meeting: Meeting, actor: User) -> AuditEntry | None:
    """The actor's last change of this meeting's sheet (one mark or "segna tutti presenti") if it can still be
    undone: not undone already, and every row it changed is still as it left it."""
    if meeting.is_frozen or meeting.status not in (MeetingStatus.IN_PROGRESS, MeetingStatus.CONCLUDED):
        return None
    entry = db.session.scalar(
        select(AuditEntry)
        .where(
            AuditEntry.object_type == Meeting.__tablename__,
            AuditEntry.object_id == meeting.id,
            AuditEntry.actor_id == actor.id,
            AuditEntry.action.in_([*UNDOABLE, UNDONE]),
        )
        .order_by(AuditEntry.id.desc())
        .limit(1)
    )
    if entry is None or entry.action == UNDONE or not entry.details.get("rows"):
        return None
    changes = {change["id"]: change["after"] for change in entry.details["rows"]}
    rows = db.session.scalars(select(Attendance).where(Attendance.id.in_(list(changes))))
    current = {row.id: _state(row) for row in rows}
    if any(current.get(row_id) != after for row_id, after in changes.items()):
        return None
    return entry


def undo_attendance(meeting: Meeting, entry_id: int | None, *, actor: User) -> int:
    """Puts back the rows of the actor's last change (see `last_undoable`); anything else is refused."""
    policy.require(actor, "meeting.manage", meeting)
    not_frozen(meeting)
    status_in(
        meeting,
        MeetingStatus.IN_PROGRESS,
        MeetingStatus.CONCLUDED,
        message=_("Le presenze si registrano a incontro avviato."),
    )
    entry = last_undoable(meeting, actor)
    if entry is None or entry.id != entry_id:
        raise Invalid(_("Questa modifica non si può più annullare: nel frattempo le presenze sono cambiate."))
    rows = {
        row.id: row
        for row in db.session.scalars(
            select(Attendance).where(Attendance.id.in_([change["id"] for change in entry.details["rows"]]))
        )
    }
    for change in entry.details["rows"]:
        row = rows[change["id"]]
        status, arrived, left = change["before"]
        row.status = AttendanceStatus(status)
        row.arrived_at = datetime.fromisoformat(arrived) if arrived else None
        row.left_at = datetime.fromisoformat(left) if left else None
    audit.record(actor, "meeting.attendance_undone", meeting, {"undone": entry.id, "rows": len(rows)})
    _attendance_changed(meeting)
    return len(rows)


# --- quorum ----------------------------------------------------------------------------------------


@dataclass
class QuorumState:
    kind: QuorumKind
    weighted: bool
    total: int = 0
    present: int = 0
    required: int = 0
    seats_total: int = 0
    seats_present: int = 0
    present_orgs: list[str] = field(default_factory=list)

    @property
    def applies(self) -> bool:
        return self.kind != QuorumKind.NONE

    @property
    def reached(self) -> bool:
        return self.applies and self.present >= self.required

    def as_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "weighted": self.weighted,
            "total": self.total,
            "present": self.present,
            "required": self.required,
            "reached": self.reached,
            "applies": self.applies,
            "seats_total": self.seats_total,
            "seats_present": self.seats_present,
        }


def rule_for(body: Body) -> QuorumRule:
    found = db.session.scalar(select(QuorumRule).where(QuorumRule.body_id == body.id))
    return found or QuorumRule(
        body_id=body.id,
        kind=QuorumKind.NONE,
        numerator=1,
        denominator=2,
        weighted=False,
        majority=MajorityKind.PRESENT,
    )


def seat_weight(rule: QuorumRule, org: Organisation) -> int:
    """What a seat weighs: one, or the population of the comune the organisation is, if the rule weighs."""
    return population_weight(rule, org.comune.population if org.comune is not None else None)


def population_weight(rule: QuorumRule, population: int | None) -> int:
    """One, or if the rule weighs the population of the seat's comune (0 when it has none or is no comune)."""
    if not rule.weighted:
        return 1
    return population or 0


def quorum(meeting: Meeting) -> QuorumState:
    """Seats are the organisations of the members (a comune for the mayors' bodies), weighted by population
    if the rule says so. A seat counts while someone present stands for it (a member or their delegate)."""
    rule = rule_for(meeting.body)
    seats: dict[int, int] = {}
    names: dict[int, str] = {}
    holders: set[int] = set()  # people holding a seat: their presence (or their delegate's) counts
    # Columns, not objects: a tavolo can have thousands of members, and only these four values are read.
    seat_rows = db.session.execute(
        select(Membership.user_id, Organisation.id, Organisation.name, Comune.population)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .outerjoin(Comune, Comune.id == Organisation.represents_comune_id)
        .where(
            Membership.body_id == meeting.body_id,
            Membership.ended_at.is_(None),
            Membership.role.in_(SEAT_ROLES),
        )
    )
    for user_id, org_id, org_name, population in seat_rows:
        holders.add(user_id)
        seats[org_id] = population_weight(rule, population)
        names[org_id] = org_name
    attendances = db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id))
    present = {
        a.organisation_id
        for a in attendances
        if a.counts_now
        and a.organisation_id in seats
        and (a.user_id in holders or a.stands_for_id in holders)
    }
    total = sum(seats.values())
    state = QuorumState(
        kind=rule.kind,
        weighted=rule.weighted,
        total=total,
        present=sum(seats[o] for o in present),
        seats_total=len(seats),
        seats_present=len(present),
        present_orgs=sorted(names[o] for o in present),
    )
    if rule.kind == QuorumKind.MAJORITY:
        state.required = total // 2 + 1
    elif rule.kind == QuorumKind.FRACTION:
        state.required = -(-total * rule.numerator // rule.denominator)  # ceiling
    return state


def configure_quorum(
    body: Body,
    kind: QuorumKind,
    numerator: int,
    denominator: int,
    weighted: bool,
    *,
    majority: MajorityKind = MajorityKind.PRESENT,
    actor: User,
) -> QuorumRule:
    policy.require(actor, "meeting.quorum.configure", body)
    if kind == QuorumKind.FRACTION and not (1 <= numerator <= denominator and denominator <= 100):
        raise Invalid(errors={"numerator": _("La frazione deve essere tra 1/100 e 1 (ad esempio 2/3).")})
    rule = db.session.scalar(select(QuorumRule).where(QuorumRule.body_id == body.id))
    if rule is None:
        rule = QuorumRule(body_id=body.id)
        db.session.add(rule)
    rule.kind, rule.numerator, rule.denominator, rule.weighted = kind, numerator, denominator, weighted
    rule.majority = majority
    db.session.flush()
    audit.record(
        actor,
        "meeting.quorum_configured",
        body,
        {
            "kind": kind.value,
            "fraction": f"{numerator}/{denominator}",
            "weighted": weighted,
            "majority": majority.value,
        },
    )
    return rule
