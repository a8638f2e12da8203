"""The approval chain's rules: submit an exact version, review it step by step, decide it by vote.

A submission moves only by compare-and-swap on its `version`: two people acting at the same moment on the
same step produce one transition, and the second is told someone else already decided. Every transition is
one transaction with its `SubmissionEvent`, its audit entry and the notices to whoever must act next.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, signals
from ..accounts.models import StaffRole, User
from ..db import utcnow
from ..errors import EditConflict, Invalid
from ..extensions import db
from ..labels import label
from ..meetings import agenda as meeting_agenda
from ..meetings import attendance as meeting_attendance
from ..meetings import minutes as meeting_minutes
from ..meetings import queries as meeting_queries
from ..meetings.models import Attendance, MajorityKind, Meeting, MeetingStatus
from ..memo import per_request
from ..notifications import services as notifications
from ..notifications.models import NotificationKind
from ..orgs.models import Organisation
from ..realtime import publish_after_commit
from ..tavoli.models import COORDINATOR_ROLES, Body, BodyKind, Membership
from ..text import render_markdown
from . import document as doc
from . import sources
from .models import (
    OPEN_STATUSES,
    ApprovalChain,
    Ballot,
    BallotOutcome,
    BallotStatus,
    DocKind,
    EventAction,
    PlanDocument,
    Step,
    StepMode,
    Submission,
    SubmissionEvent,
    SubmissionStatus,
    Vote,
    VoteChoice,
)

NOTE_MAX = 5000

# The chains used until the Ufficio di Piano configures others (see the governance section of the brief).
DEFAULT_CHAINS: dict[DocKind, list[Step]] = {
    DocKind.CARD: [
        Step(BodyKind.UDP_INTEGRATO, StepMode.REVIEW),
        Step(BodyKind.ASSEMBLEA_SINDACI, StepMode.VOTE),
    ],
    DocKind.SWOT: [
        Step(BodyKind.UDP_INTEGRATO, StepMode.REVIEW),
        Step(BodyKind.ASSEMBLEA_SINDACI, StepMode.VOTE),
    ],
    DocKind.PIANO_OPERATIVO: [
        Step(BodyKind.COMITATO_RISTRETTO, StepMode.REVIEW),
        Step(BodyKind.ASSEMBLEA_SINDACI, StepMode.VOTE),
    ],
    DocKind.REPORT_ANNUALE: [
        Step(BodyKind.COMITATO_RISTRETTO, StepMode.REVIEW),
        Step(BodyKind.ASSEMBLEA_SINDACI, StepMode.VOTE),
    ],
    DocKind.PIANO_DI_ZONA: [
        Step(BodyKind.UDP_INTEGRATO, StepMode.REVIEW),
        Step(BodyKind.COMITATO_RISTRETTO, StepMode.REVIEW),
        Step(BodyKind.ASSEMBLEA_SINDACI, StepMode.VOTE),
    ],
}
STEP_BODY_KINDS = (
    BodyKind.UDP_INTEGRATO,
    BodyKind.COMITATO_RISTRETTO,
    BodyKind.ASSEMBLEA_SINDACI,
    BodyKind.COORDINAMENTO_TECNICO,
)


# Minutes travel no chain: each body approves its own at its next meeting ("Approvazione del verbale della
# seduta precedente", meetings.minutes.decide_minutes_item), and `freeze_approved_minutes` freezes them.
CHAINED_KINDS = tuple(kind for kind in DocKind if kind in DEFAULT_CHAINS)


def chain_for(kind: DocKind) -> list[Step]:
    return list(_chain(kind))


@per_request
def _chain(kind: DocKind) -> tuple[Step, ...]:
    if kind not in DEFAULT_CHAINS:
        return ()
    found = db.session.scalar(select(ApprovalChain).where(ApprovalChain.document_kind == kind))
    return tuple(found.steps if found is not None else DEFAULT_CHAINS[kind])


def _step(raw: dict[str, str]) -> Step:
    """A step sent by a form; anything but a body kind of a chain and a mode is refused."""
    try:
        step = Step(BodyKind(raw.get("body_kind", "")), StepMode(raw.get("mode", "")))
    except ValueError:
        raise Invalid(errors={"steps": _("Passaggio non valido.")}) from None
    if step.body_kind not in STEP_BODY_KINDS:
        raise Invalid(errors={"steps": _("Passaggio non valido.")})
    return step


def configure_chain(kind: DocKind, raw_steps: list[dict[str, str]], *, actor: User) -> ApprovalChain:
    """Replace a kind's chain. Submissions already travelling keep the chain they were sent with."""
    policy.require(actor, "approval.configure")
    if kind not in DEFAULT_CHAINS:
        raise Invalid(
            _("Il verbale non segue una catena: lo approva lo stesso organismo nella seduta successiva.")
        )
    if not raw_steps:
        raise Invalid(errors={"steps": _("La catena deve avere almeno un passaggio.")})
    steps = [_step(raw) for raw in raw_steps]
    for step in steps:
        if _step_body(step) is None:
            raise Invalid(
                errors={
                    "steps": _(
                        "Non esiste un organismo attivo di tipo «%(k)s».",
                        k=label(step.body_kind),
                    )
                }
            )
    if len({s.body_kind for s in steps}) != len(steps):
        raise Invalid(errors={"steps": _("Lo stesso organismo non può comparire due volte nella catena.")})
    if any(s.mode is StepMode.VOTE for s in steps[:-1]):  # the last step may be a vote or a validation
        raise Invalid(
            errors={
                "steps": _(
                    "La votazione può essere solo l'ultimo passaggio: chi vota decide, dopo non c'è altro esame."
                )
            }
        )
    chain = db.session.scalar(select(ApprovalChain).where(ApprovalChain.document_kind == kind))
    if chain is None:
        chain = ApprovalChain(document_kind=kind)
        db.session.add(chain)
    before = [step.as_json() for step in chain.steps or []]
    chain.steps, chain.updated_by_id = steps, actor.id
    db.session.flush()
    audit.record(
        actor,
        "approval.chain_configured",
        chain,
        {"kind": kind.value, "before": before, "after": [step.as_json() for step in steps]},
    )
    return chain


def _step_body(step: Step | None) -> Body | None:
    """The active body of the step's kind (cached for the request by the policy module)."""
    return policy.active_body_of_kind(step.body_kind) if step is not None else None


def step_body(submission: Submission) -> Body | None:
    return _step_body(submission.current_step)


# --- who acts next, and notices ------------------------------------------------------------------


def _people_to_act(submission: Submission) -> list[User]:
    """Those who must act next: reviewers of a review step; the UdP staff who put a vote on an agenda;
    the submitting body's co-coordinators once it comes back."""
    staff = list(
        db.session.scalars(select(User).where(User.staff_role == StaffRole.UDP, User.active.is_(True)))
    )
    if submission.status in OPEN_STATUSES:
        step = submission.current_step
        assert step is not None
        body = _step_body(step) if step.mode is StepMode.REVIEW else None
        people = staff + (members_with(body.id, COORDINATOR_ROLES) if body is not None else [])
    else:
        people = members_with(submission.body_id, COORDINATOR_ROLES) + staff
    return list({u.id: u for u in people}.values())


def members_with(body_id: int, roles: Any) -> list[User]:
    """The active people holding one of `roles` in a body, in a stable order."""
    return list(
        db.session.scalars(
            select(User)
            .join(Membership, Membership.user_id == User.id)
            .where(
                Membership.body_id == body_id,
                Membership.ended_at.is_(None),
                Membership.role.in_(list(roles)),
                User.active.is_(True),
            )
            .order_by(Membership.id)
        )
    )


def _notice_text(submission: Submission) -> str:
    title = submission.title
    status = submission.status
    if status == SubmissionStatus.IN_REVIEW:
        body = step_body(submission)
        return _("«%(t)s» attende l'esame di %(b)s.", t=title, b=body.name if body else "—")
    if status == SubmissionStatus.AWAITING_VOTE:
        return _("«%(t)s» attende la votazione dell'Assemblea dei Sindaci.", t=title)
    if status == SubmissionStatus.SENT_BACK:
        return _("«%(t)s» è stata restituita con richieste di modifica.", t=title)
    if status == SubmissionStatus.APPROVED:
        return _("«%(t)s» è stata approvata.", t=title)
    return _("«%(t)s» è stata respinta.", t=title)


def _notify(
    submission: Submission,
    *,
    actor: User,
    people: list[User] | None = None,
    text: str | None = None,
    url: str | None = None,
) -> None:
    """Notice (and mail, as each person prefers) to whoever must act next, through the body they belong to
    among the step's and the submitting one (everyone named here has a part in the chain, so readers_only is
    off: a mayor who must vote may not read the submitting tavolo)."""
    text = text or _notice_text(submission)
    url = url or url_for("approvals.submission", submission_id=submission.id)
    target_body = step_body(submission) if submission.status in OPEN_STATUSES else None
    recipients = [
        notifications.Recipient(
            user,
            NotificationKind.APPROVAL,
            target_body
            if target_body is not None and policy.membership(user, target_body)
            else submission.body,
        )
        for user in (people if people is not None else _people_to_act(submission))
    ]
    notifications.notify(
        recipients,
        actor=actor,
        target_kind="submission",
        target_id=submission.id,
        url=url,
        text=text,
        readers_only=False,
    )


# --- submitting ------------------------------------------------------------------------------------


def latest(kind: DocKind, document_id: int) -> Submission | None:
    return db.session.scalar(
        select(Submission)
        .where(Submission.document_kind == kind, Submission.document_id == document_id)
        .order_by(Submission.round.desc())
        .limit(1)
    )


def current_content(kind: DocKind, obj: Any) -> tuple[doc.Content, str]:
    content = sources.content_of(kind, obj)
    return content, doc.fingerprint(content)


ASST_MAX = 500


def _with_asst_integration(content: doc.Content, reference: str) -> doc.Content:
    """The Piano di Zona is approved in one moment with the ASST's Piano di Sviluppo del Polo Territoriale
    (PPT): the reference to the ASST integration is part of the frozen version, and it is required."""
    reference = (reference or "").replace("\r\n", "\n").strip()
    if not reference:
        raise Invalid(
            errors={
                "asst_integration": _(
                    "Il Piano di Zona si approva insieme all'integrazione dell'ASST (Piano di Sviluppo del Polo "
                    "Territoriale): indica il documento dell'ASST prima dell'invio."
                )
            }
        )
    if len(reference) > ASST_MAX:
        raise Invalid(
            errors={"asst_integration": _("Il testo è troppo lungo: al massimo %(n)d caratteri.", n=ASST_MAX)}
        )
    with force_locale("it"):
        heading = _("Integrazione ASST: Piano di Sviluppo del Polo Territoriale (PPT)")
        label_ = _("Documento dell'ASST approvato insieme al Piano di Zona")
    sections = [*content.get("sections", []), doc.section(heading, [doc.field(label_, reference)])]
    return {
        **content,
        "sections": sections,
        "data": {**content.get("data", {}), "asst_integration": reference},
    }


def submit(
    kind: DocKind,
    obj: Any,
    *,
    expected_fingerprint: str,
    note: str = "",
    asst_integration: str = "",
    actor: User,
) -> Submission:
    """Freeze the document exactly as the submitter saw it and start the chain configured for its kind (the
    Piano di Zona with the reference to the ASST integration that is approved with it)."""
    source = sources.get(kind)
    body = source.body_of(obj)
    policy.require(actor, "approval.submit", body)
    steps = chain_for(kind)
    if not steps:
        raise Invalid(
            _(
                "Il verbale non si invia alla catena di approvazione: lo approva lo stesso organismo nella "
                "seduta successiva, al punto «Approvazione del verbale della seduta precedente»."
            )
        )
    problem = source.ready(obj) if source.ready else None
    if problem:
        raise Invalid(problem)
    previous = latest(kind, obj.id)
    if previous is not None and previous.status in OPEN_STATUSES:
        raise Invalid(
            _(
                "Una versione di questo documento è già in approvazione: attendi l'esito prima di inviarne un'altra."
            )
        )
    content, fingerprint = current_content(kind, obj)
    if (expected_fingerprint or "").strip().lower() != fingerprint:
        raise Invalid(
            _(
                "Il documento è cambiato dopo che hai aperto la pagina: ricarica la pagina, controlla la "
                "versione attuale e inviala di nuovo. Non è stato inviato nulla."
            )
        )
    if kind is DocKind.PIANO_DI_ZONA:
        content = _with_asst_integration(content, asst_integration)
        fingerprint = doc.fingerprint(content)
    if (
        previous is not None
        and previous.status == SubmissionStatus.APPROVED
        and previous.fingerprint == fingerprint
    ):
        raise Invalid(_("Questa versione è già stata approvata: non c'è nulla di nuovo da inviare."))
    note = _note(note, required=False)
    submission = Submission(
        document_kind=kind,
        document_id=obj.id,
        body_id=body.id,
        cycle_id=source.cycle_id_of(obj),
        round=(previous.round + 1) if previous else 1,
        previous_id=previous.id if previous else None,
        title=source.title(obj)[:300],
        steps=steps,
        step_index=0,
        status=_status_for(steps[0]),
        content=doc.canonical_bytes(content).decode("utf-8"),
        fingerprint=fingerprint,
        submitted_by_id=actor.id,
    )
    db.session.add(submission)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise EditConflict(
            _("Qualcun altro ha appena inviato questo documento: ricarica la pagina.")
        ) from None
    _event(submission, EventAction.SUBMITTED, actor, note)
    if source.on_status:
        source.on_status(obj, submission.status)
    audit.record(
        actor,
        "approval.submitted",
        submission,
        {"kind": kind.value, "document_id": obj.id, "round": submission.round, "fingerprint": fingerprint},
    )
    _notify(submission, actor=actor)
    return submission


def _status_for(step: Step) -> SubmissionStatus:
    return SubmissionStatus.AWAITING_VOTE if step.mode is StepMode.VOTE else SubmissionStatus.IN_REVIEW


def _note(note: str, *, required: bool) -> str:
    note = (note or "").replace("\r\n", "\n").strip()
    if required and not note:
        raise Invalid(
            errors={
                "note": _("Scrivi che cosa va cambiato: il tavolo lo leggerà prima di rivedere il documento.")
            }
        )
    if len(note) > NOTE_MAX:
        raise Invalid(errors={"note": _("Il testo è troppo lungo: al massimo %(n)d caratteri.", n=NOTE_MAX)})
    return note


def _event(
    submission: Submission,
    action: EventAction,
    actor: User,
    note: str = "",
    data: dict[str, Any] | None = None,
    step_index: int | None = None,
) -> SubmissionEvent:
    index = submission.step_index if step_index is None else step_index
    step = submission.steps[index] if index < len(submission.steps) else None
    body_kind = "" if action == EventAction.SUBMITTED or step is None else step.body_kind.value
    event = SubmissionEvent(
        submission_id=submission.id,
        step_index=index,
        body_kind=body_kind,
        action=action,
        actor_id=actor.id,
        note_source=note,
        note_html=str(render_markdown(note)) if note else "",
        data=data or {},
    )
    db.session.add(event)
    db.session.flush()
    return event


def _transition(submission: Submission, seen_version: int, **values: Any) -> None:
    """Compare-and-swap on the version: of two concurrent transitions from one version, one wins."""
    result = db.session.execute(
        update(Submission)
        .where(Submission.id == submission.id, Submission.version == seen_version)
        .values(version=Submission.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise EditConflict(
            _(
                "Qualcun altro ha appena deciso su questo documento: ricarica la pagina per vedere "
                "l'esito. La tua scelta non è stata registrata."
            )
        )
    db.session.refresh(submission)


def _document_status(submission: Submission) -> None:
    source = sources.get(submission.document_kind)
    if source.on_status is None:
        return
    obj = source.load(submission.document_id)
    if obj is not None and latest(submission.document_kind, submission.document_id) is submission:
        source.on_status(obj, submission.status)


def _ensure_in_review(submission: Submission) -> None:
    """A review decision (forward, send back) only on a document in review at a review step, whoever acts:
    an administrator cannot skip the Assemblea's vote nor reopen a document that was sent back."""
    step = submission.current_step
    if submission.status != SubmissionStatus.IN_REVIEW or step is None or step.mode is not StepMode.REVIEW:
        raise Invalid(
            _("Questo documento non è in esame in questo momento: non si può inoltrare né restituire.")
        )


def forward(submission: Submission, *, version: int, note: str = "", actor: User) -> Submission:
    """The reviewing body passes it on (or, at the last step, approves it)."""
    policy.require(actor, "approval.review", submission)
    _ensure_in_review(submission)
    note = _note(note, required=False)
    index = submission.step_index
    nxt = index + 1
    if nxt >= len(submission.steps):
        _transition(
            submission, version, step_index=nxt, status=SubmissionStatus.APPROVED, decided_at=utcnow()
        )
        _event(submission, EventAction.APPROVED, actor, note, step_index=index)
    else:
        _transition(submission, version, step_index=nxt, status=_status_for(submission.steps[nxt]))
        _event(submission, EventAction.FORWARDED, actor, note, step_index=index)
    _document_status(submission)
    audit.record(
        actor, "approval.forwarded", submission, {"from_step": index, "status": submission.status.value}
    )
    _notify(submission, actor=actor)
    return submission


def send_back(submission: Submission, *, version: int, note: str, actor: User) -> Submission:
    """The reviewing body returns it with the changes it asks; this round ends, its history stays."""
    policy.require(actor, "approval.review", submission)
    _ensure_in_review(submission)
    note = _note(note, required=True)
    index = submission.step_index
    _transition(submission, version, status=SubmissionStatus.SENT_BACK, decided_at=utcnow())
    _event(submission, EventAction.SENT_BACK, actor, note, step_index=index)
    _document_status(submission)
    audit.record(actor, "approval.sent_back", submission, {"step": index})
    _notify(submission, actor=actor)
    return submission


# --- the Assemblea's vote --------------------------------------------------------------------------


def vote_meetings(submission: Submission) -> list[Meeting]:
    """Meetings of the voting body whose agenda can still take an item."""
    body = step_body(submission)
    if body is None or submission.status != SubmissionStatus.AWAITING_VOTE:
        return []
    return list(
        db.session.scalars(
            select(Meeting)
            .where(
                Meeting.body_id == body.id, Meeting.status.in_([MeetingStatus.DRAFT, MeetingStatus.CONVENED])
            )
            .order_by(Meeting.starts_at)
        )
    )


def pending_ballot(submission: Submission) -> Ballot | None:
    """The ballot still to be held: open, or scheduled in a meeting that has not ended or been cancelled."""
    live = [MeetingStatus.DRAFT, MeetingStatus.CONVENED, MeetingStatus.IN_PROGRESS]
    return db.session.scalar(
        select(Ballot)
        .join(Meeting, Meeting.id == Ballot.meeting_id)
        .where(
            Ballot.submission_id == submission.id,
            (Ballot.status == BallotStatus.OPEN)
            | ((Ballot.status == BallotStatus.SCHEDULED) & Meeting.status.in_(live)),
        )
        .limit(1)
    )


def schedule_vote(submission: Submission, meeting: Meeting, *, actor: User) -> Ballot:
    """Put the decision on the agenda of a meeting of the voting body (a new agenda item with its ballot)."""
    policy.require(actor, "approval.schedule", submission)
    policy.require(actor, "meeting.manage", meeting)
    step = submission.current_step
    if step is None or step.mode is not StepMode.VOTE:
        raise Invalid(_("Questo documento non è in attesa di votazione."))
    if meeting.body.kind != step.body_kind:
        raise Invalid(errors={"meeting_id": _("L'incontro scelto non è dell'organismo che deve votare.")})
    if pending_ballot(submission) is not None:
        raise Invalid(_("Il documento è già all'ordine del giorno di un incontro."))
    _transition(submission, submission.version)  # of two simultaneous schedulings, one wins
    item = meeting_agenda.add_agenda_item(
        meeting,
        title=_("Votazione: %(t)s", t=submission.title)[:200],
        description=_("Documento in votazione, impronta SHA-256 %(f)s.", f=submission.fingerprint),
        presenter=_("Ufficio di Piano"),
        actor=actor,
    )
    ballot = Ballot(submission_id=submission.id, meeting_id=meeting.id, agenda_item_id=item.id)
    db.session.add(ballot)
    db.session.flush()
    _event(submission, EventAction.SCHEDULED, actor, data={"meeting_id": meeting.id, "ballot_id": ballot.id})
    audit.record(
        actor, "approval.vote_scheduled", submission, {"meeting_id": meeting.id, "ballot_id": ballot.id}
    )
    _notify(
        submission,
        actor=actor,
        people=members_with(meeting.body_id, meeting_attendance.SEAT_ROLES),
        text=_(
            "«%(t)s» sarà votata nell'incontro «%(m)s»: leggila prima della seduta.",
            t=submission.title,
            m=meeting.title,
        ),
        url=url_for("approvals.ballot", ballot_id=ballot.id),
    )
    return ballot


def _ballot_transition(ballot: Ballot, frm: BallotStatus, **values: Any) -> None:
    result = db.session.execute(
        update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.status == frm, Ballot.version == ballot.version)
        .values(version=Ballot.version + 1, **values)
        .execution_options(synchronize_session=False)
    )
    if result.rowcount != 1:  # type: ignore[attr-defined]
        raise EditConflict(
            _("La votazione è già stata aperta o chiusa da qualcun altro: ricarica la pagina.")
        )
    db.session.refresh(ballot)


def _ballot_room(ballot: Ballot) -> str:
    return f"meeting:{ballot.meeting_id}"


def open_ballot(ballot: Ballot, *, actor: User) -> Ballot:
    meeting = ballot.meeting
    policy.require(actor, "ballot.manage", ballot)
    if meeting.status != MeetingStatus.IN_PROGRESS:
        raise Invalid(_("Si vota solo durante l'incontro: avvia prima l'incontro."))
    if ballot.status != BallotStatus.SCHEDULED:
        raise Invalid(_("Questa votazione è già stata aperta."))
    if ballot.submission.status != SubmissionStatus.AWAITING_VOTE:
        raise Invalid(_("Il documento non è più in attesa di votazione."))
    _ballot_transition(ballot, BallotStatus.SCHEDULED, status=BallotStatus.OPEN, opened_at=utcnow())
    submission = ballot.submission
    _event(submission, EventAction.VOTE_OPENED, actor, data={"ballot_id": ballot.id})
    audit.record(actor, "approval.vote_opened", ballot, {"submission_id": submission.id})
    publish_after_commit(
        _ballot_room(ballot), "ballot.updated", {"ballot_id": ballot.id, "status": BallotStatus.OPEN.value}
    )
    return ballot


@dataclass
class Seat:
    organisation_id: int
    name: str
    weight: int


def _seat_for(ballot: Ballot, user: User) -> tuple[Seat, Attendance]:
    """The comune the user stands for in this meeting: present (or standing in for its mayor) right now."""
    meeting = ballot.meeting
    row = db.session.scalar(
        select(Attendance).where(Attendance.meeting_id == meeting.id, Attendance.user_id == user.id)
    )
    if row is None or not row.counts_now:
        raise Invalid(_("Può votare solo chi risulta presente all'incontro (di persona o per delega)."))
    rule = meeting_attendance.rule_for(meeting.body)
    holder = row.stands_for_id or user.id  # a delegate votes with the seat of the member they stand for
    member = db.session.scalar(
        select(Membership)
        .where(
            Membership.body_id == meeting.body_id,
            Membership.user_id == holder,
            Membership.organisation_id == row.organisation_id,
            Membership.ended_at.is_(None),
            Membership.role.in_(list(meeting_attendance.SEAT_ROLES)),
        )
        .limit(1)
    )
    if member is None:
        raise Invalid(
            _(
                "Non hai diritto di voto in questo organismo: votano i componenti con seggio (o chi ne ha la delega)."
            )
        )
    org = row.organisation
    return Seat(org.id, org.name, meeting_attendance.seat_weight(rule, org)), row


def cast_vote(ballot: Ballot, choice: str, *, actor: User) -> Vote:
    """One vote per comune, by whoever is present for it, only while the ballot is open."""
    policy.require(actor, "ballot.vote", ballot)
    try:
        choice_ = VoteChoice(choice)
    except ValueError:
        raise Invalid(errors={"choice": _("Scegli favorevole, contrario o astenuto.")}) from None
    if ballot.status != BallotStatus.OPEN or ballot.meeting.status != MeetingStatus.IN_PROGRESS:
        raise Invalid(_("La votazione non è aperta: non è possibile votare ora."))
    seat, _row = _seat_for(ballot, actor)
    existing = db.session.scalar(
        select(Vote).where(Vote.ballot_id == ballot.id, Vote.organisation_id == seat.organisation_id)
    )
    if existing is not None:
        raise Invalid(_("Per %(o)s è già stato espresso un voto.", o=seat.name))
    vote = Vote(
        ballot_id=ballot.id,
        organisation_id=seat.organisation_id,
        user_id=actor.id,
        choice=choice_,
        weight=seat.weight,
    )
    db.session.add(vote)
    try:
        with db.session.begin_nested():
            db.session.flush()
    except IntegrityError:
        raise Invalid(_("Per %(o)s è già stato espresso un voto.", o=seat.name)) from None
    # the ballot may have closed while this vote was on its way: the vote only counts if it is still open
    still_open = db.session.execute(
        update(Ballot)
        .where(Ballot.id == ballot.id, Ballot.status == BallotStatus.OPEN)
        .values(version=Ballot.version)
        .execution_options(synchronize_session=False)
    )
    if still_open.rowcount != 1:  # type: ignore[attr-defined]
        raise Invalid(_("La votazione è stata chiusa: il voto non è stato registrato."))
    audit.record(
        actor,
        "approval.vote_cast",
        ballot,
        {"organisation_id": seat.organisation_id, "choice": choice_.value},
    )
    publish_after_commit(
        _ballot_room(ballot),
        "ballot.updated",
        {"ballot_id": ballot.id, "status": BallotStatus.OPEN.value, "votes": _count(ballot)},
    )
    return vote


def _count(ballot: Ballot) -> int:
    return db.session.scalar(select(func.count(Vote.id)).where(Vote.ballot_id == ballot.id)) or 0


def tally(ballot: Ballot) -> dict[str, Any]:
    """Votes and weights by choice, and the outcome by the body's rule (quorum on presence at closing time;
    majority of those present, or of those voting, as configured)."""
    meeting = ballot.meeting
    rule = meeting_attendance.rule_for(meeting.body)
    state = meeting_attendance.quorum(meeting)
    rows = db.session.execute(
        select(Vote.choice, func.count(Vote.id), func.coalesce(func.sum(Vote.weight), 0))
        .where(Vote.ballot_id == ballot.id)
        .group_by(Vote.choice)
    ).all()
    counts = {c.value: 0 for c in VoteChoice}
    weights = {c.value: 0 for c in VoteChoice}
    for choice, count, weight in rows:
        counts[str(choice)], weights[str(choice)] = int(count), int(weight)
    measure = weights if rule.weighted else counts
    # seats (or their population) present when the vote closes, plus each seat that voted and then left
    voted = db.session.execute(
        select(Organisation.name, Vote.weight)
        .join(Organisation, Organisation.id == Vote.organisation_id)
        .where(Vote.ballot_id == ballot.id)
    ).all()
    still_here = set(state.present_orgs)
    present = state.present + sum(w if rule.weighted else 1 for name, w in voted if name not in still_here)
    majority = rule.majority
    if state.applies and not state.reached:
        outcome = BallotOutcome.NO_QUORUM
    elif majority == MajorityKind.VOTERS:
        outcome = (
            BallotOutcome.APPROVED if measure["favorevole"] > measure["contrario"] else BallotOutcome.REJECTED
        )
    else:
        outcome = BallotOutcome.APPROVED if measure["favorevole"] * 2 > present else BallotOutcome.REJECTED
    return {
        "counts": counts,
        "weights": weights,
        "weighted": rule.weighted,
        "present": present,
        "seats_present": state.seats_present,
        "seats_total": state.seats_total,
        "quorum_required": state.required,
        "quorum_reached": state.reached if state.applies else None,
        "majority": str(majority),
        "outcome": outcome.value,
    }


def _minutes_line(result: dict[str, Any], title: str) -> str:
    c = result["counts"]
    unit = _(" (voti ponderati per popolazione)") if result["weighted"] else ""
    w = result["weights"]
    outcome = {
        "approvata": _("APPROVATO"),
        "respinta": _("RESPINTO"),
        "senza_quorum": _("NON DELIBERATO: quorum non raggiunto"),
    }[result["outcome"]]
    line = _(
        "Esito della votazione su «%(t)s»: %(o)s. Favorevoli %(f)d, contrari %(a)d, astenuti %(s)d; "
        "enti presenti %(p)d su %(n)d.",
        t=title,
        o=outcome,
        f=c["favorevole"],
        a=c["contrario"],
        s=c["astenuto"],
        p=result["seats_present"],
        n=result["seats_total"],
    )
    if result["weighted"]:
        line += _(
            " Pesi%(u)s: favorevoli %(f)s, contrari %(a)s, astenuti %(s)s, presenti %(p)s.",
            u=unit,
            f=f"{w['favorevole']:,}".replace(",", "."),
            a=f"{w['contrario']:,}".replace(",", "."),
            s=f"{w['astenuto']:,}".replace(",", "."),
            p=f"{result['present']:,}".replace(",", "."),
        )
    return line


def close_ballot(ballot: Ballot, *, actor: User) -> Ballot:
    """Count, decide by the rule, write outcome and tally into the item's minutes and the submission."""
    meeting = ballot.meeting
    policy.require(actor, "ballot.manage", ballot)
    if ballot.status != BallotStatus.OPEN:
        raise Invalid(_("Questa votazione non è aperta."))
    if ballot.submission.status != SubmissionStatus.AWAITING_VOTE:
        raise Invalid(_("Il documento non è più in attesa di votazione."))
    _ballot_transition(ballot, BallotStatus.OPEN, status=BallotStatus.CLOSED, closed_at=utcnow())
    result = tally(ballot)
    ballot.outcome, ballot.tally = BallotOutcome(result["outcome"]), result
    submission = ballot.submission
    _event(submission, EventAction.VOTE_CLOSED, actor, data=result)
    if ballot.outcome == BallotOutcome.APPROVED:
        _transition(
            submission,
            submission.version,
            step_index=submission.step_index + 1,
            status=SubmissionStatus.APPROVED,
            decided_at=utcnow(),
        )
        _event(submission, EventAction.APPROVED, actor, data=result, step_index=submission.step_index - 1)
    elif ballot.outcome == BallotOutcome.REJECTED:
        _transition(submission, submission.version, status=SubmissionStatus.REJECTED, decided_at=utcnow())
        _event(submission, EventAction.REJECTED, actor, data=result)
    _document_status(submission)
    item = ballot.item
    line = _minutes_line(result, submission.title)
    meeting_minutes.append_minutes(meeting, item.id, line, actor=actor)
    meeting_minutes.add_decision(meeting, item.id, line, actor=actor)
    audit.record(actor, "approval.vote_closed", ballot, {"submission_id": submission.id, "tally": result})
    publish_after_commit(
        _ballot_room(ballot),
        "ballot.updated",
        {"ballot_id": ballot.id, "status": BallotStatus.CLOSED.value, "outcome": result["outcome"]},
    )
    if submission.status != SubmissionStatus.AWAITING_VOTE:
        _notify(submission, actor=actor)
    else:  # no quorum: the Ufficio di Piano must put it on another meeting's agenda
        _notify(
            submission,
            actor=actor,
            text=_(
                "«%(t)s» non è stata votata per mancanza del numero legale: va iscritta a un altro incontro.",
                t=submission.title,
            ),
        )
    return ballot


# --- reading a frozen version ------------------------------------------------------------------------


def content(submission: Submission) -> doc.Content:
    return json.loads(submission.content)  # type: ignore[no-any-return]


def intact(submission: Submission) -> bool:
    """The stored content still hashes to the stored fingerprint."""
    return doc.fingerprint_bytes(submission.content.encode("utf-8")) == submission.fingerprint


@dataclass
class Deadline:
    kind: DocKind
    year: int
    due_on: date
    days_left: int
    status: str  # a submission status, or "da_preparare"
    plan_id: int | None
    submission_id: int | None


def deadlines(today: date, cycle: Any) -> list[Deadline]:
    """The plan's deadlines for the running cycle: Piano Operativo of next year by 31 December, Report Annuale
    of last year by 30 April, each with how far it is and where its document stands."""
    wanted: list[tuple[DocKind, int, date]] = []
    next_year, last_year = today.year + 1, today.year - 1
    if cycle.start_year <= next_year <= cycle.end_year:
        wanted.append((DocKind.PIANO_OPERATIVO, next_year, date(today.year, 12, 31)))
    if today.month <= 4 and cycle.start_year <= last_year <= cycle.end_year:
        wanted.append((DocKind.REPORT_ANNUALE, last_year, date(today.year, 4, 30)))
    elif cycle.start_year <= today.year <= cycle.end_year:
        wanted.append((DocKind.REPORT_ANNUALE, today.year, date(today.year + 1, 4, 30)))
    out = []
    for kind, year, due in wanted:
        plan = db.session.scalar(
            select(PlanDocument).where(
                PlanDocument.kind == kind, PlanDocument.cycle_id == cycle.id, PlanDocument.year == year
            )
        )
        sub = latest(kind, plan.id) if plan else None
        due = plan.due_on if plan and plan.due_on else due
        out.append(
            Deadline(
                kind,
                year,
                due,
                (due - today).days,
                sub.status.value if sub else "da_preparare",
                plan.id if plan else None,
                sub.id if sub else None,
            )
        )
    return out


@signals.meeting_concluding.connect
def refuse_conclusion_with_open_ballot(meeting: Meeting) -> None:
    """A meeting is not concluded while a vote of the approval chain is still open in it."""
    if (
        db.session.scalar(
            select(Ballot.id)
            .where(Ballot.meeting_id == meeting.id, Ballot.status == BallotStatus.OPEN)
            .limit(1)
        )
        is not None
    ):
        raise Invalid(_("C'è una votazione ancora aperta: chiudila prima di concludere l'incontro."))


@signals.minutes_approved.connect
def freeze_approved_minutes(meeting: Meeting, *, approved_in: Meeting, actor: User) -> Submission:
    """The body approved these minutes at a later meeting: they are frozen as an approved version with their
    SHA-256, like every approved document (public list, exports, /verifica)."""
    kind = DocKind.MINUTES
    previous = latest(kind, meeting.id)
    if previous is not None and previous.status in OPEN_STATUSES:
        raise Invalid(_("Questo verbale è ancora in esame nella catena di approvazione: attendi l'esito."))
    source = sources.get(kind)
    loaded = meeting_queries.meeting_page(meeting.id)
    assert loaded is not None
    content, fingerprint = current_content(kind, loaded)
    step = Step(meeting.body.kind, StepMode.REVIEW)  # the body itself, in its next meeting
    submission = Submission(
        document_kind=kind,
        document_id=meeting.id,
        body_id=meeting.body_id,
        round=(previous.round + 1) if previous else 1,
        previous_id=previous.id if previous else None,
        title=source.title(loaded)[:300],
        steps=[step],
        step_index=1,
        status=SubmissionStatus.APPROVED,
        content=doc.canonical_bytes(content).decode("utf-8"),
        fingerprint=fingerprint,
        submitted_by_id=actor.id,
        decided_at=utcnow(),
    )
    db.session.add(submission)
    db.session.flush()
    data = {"meeting_id": approved_in.id}
    _event(submission, EventAction.SUBMITTED, actor, data=data, step_index=0)
    _event(submission, EventAction.APPROVED, actor, data=data, step_index=0)
    audit.record(
        actor,
        "approval.minutes_frozen",
        submission,
        {"meeting_id": meeting.id, "approved_in": approved_in.id, "fingerprint": fingerprint},
    )
    return submission
