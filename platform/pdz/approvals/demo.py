"""Demo: the 2025-2027 cards through the chain, decided by the Assemblea dei Sindaci in a February 2026 meeting
by the votes of the mayors present; one card sent back, one under review, the Povertà cards still drafts (to
try the chain); the Piano di Zona assembled but not sendable yet (four cards neither approved nor excluded);
the Piano Operativo 2027 and the Report Annuale 2026 prepared. Everything goes through the services, so the
history is what a real run leaves. Idempotent: nothing is done once a submission exists."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..cards import queries as card_queries
from ..cards.models import Card, CardStatus
from ..cycles.models import PlanningCycle
from ..demo import Demo
from ..extensions import db
from ..meetings import lifecycle as meeting_lifecycle
from ..meetings import minutes as meeting_minutes
from ..meetings.models import AttendanceStatus, Meeting, MeetingStatus
from ..money import format_cents
from ..notifications.models import MailState, Notification
from ..tavoli.models import COORDINATOR_ROLES, Body, BodyKind, Membership
from . import assembly, operativo_choices, plans, services
from .models import Ballot, DocKind, EventAction, Submission, SubmissionEvent, Vote

SENT_BACK_NOTE = (
    "Il budget non distingue le risorse d'Ambito da quelle dei comuni: separate le due voci e "
    "indicate il valore di partenza dell'indicatore sugli accessi."
)


def load(demo: Demo) -> None:
    if db.session.scalar(select(Submission.id).limit(1)) is not None:
        return
    cycle = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))
    if cycle is None:
        return
    with current_app.test_request_context(base_url=current_app.config["PDZ_BASE_URL"]):
        _run(cycle)


def _user(email: str) -> User:
    user = db.session.scalar(select(User).where(User.email == email))
    assert user is not None
    return user


def _run(cycle: PlanningCycle) -> None:
    udp = _user("udp@example.org")
    cards = list(
        db.session.scalars(select(Card).where(Card.cycle_id == cycle.id).order_by(Card.key, Card.id))
    )
    povertà = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
    to_vote: list[Card] = []
    others: list[Card] = []
    for card in cards:
        if povertà is not None and card.body_id == povertà.id:
            continue  # left as drafts: the demo's co-coordinators can send them through the chain
        (to_vote if len(to_vote) < len(cards) - 4 else others).append(card)
    submitted: list[Submission] = []
    for card in to_vote + others:
        loaded = card_queries.card_page(card.id)
        _, fingerprint = services.current_content(DocKind.CARD, loaded)
        coordinators = services.members_with(card.body_id, COORDINATOR_ROLES)
        submitter = coordinators[0] if coordinators else udp
        submitted.append(
            services.submit(DocKind.CARD, loaded, expected_fingerprint=fingerprint, actor=submitter)
        )
    db.session.flush()
    for sub in submitted[: len(to_vote)]:
        services.forward(
            sub, version=sub.version, note="Coerente con il mandato e con il budget d'Ambito.", actor=udp
        )
    if others:
        services.send_back(
            submitted[len(to_vote)], version=submitted[len(to_vote)].version, note=SENT_BACK_NOTE, actor=udp
        )
    _assemblea_vote(submitted[: len(to_vote)], udp)
    _plans(cycle, udp)
    _backdate()


# When each step happened in the demo story (the services stamp "now"): cards sent in January 2026, examined
# by the UdP Integrato at the end of January, voted on 12 February; the rest this autumn.
STEP_DATES = {"inviata": (2026, 1, 15), "inoltrata": (2026, 1, 27), "iscritta_odg": (2026, 2, 2)}


def _backdate() -> None:
    ballots = {b.submission_id: b for b in db.session.scalars(select(Ballot))}
    for n, sub in enumerate(db.session.scalars(select(Submission).order_by(Submission.id))):
        ballot = ballots.get(sub.id)
        if ballot is not None:
            start = ballot.meeting.starts_at + timedelta(minutes=10 * n)
            ballot.opened_at, ballot.closed_at = start, start + timedelta(minutes=8)
            for vote in db.session.scalars(select(Vote).where(Vote.ballot_id == ballot.id)):
                vote.cast_at = start + timedelta(minutes=4)
        autumn = datetime(2026, 10, 20, 9, 0, tzinfo=UTC) + timedelta(days=n)
        for event in db.session.scalars(
            select(SubmissionEvent).where(SubmissionEvent.submission_id == sub.id)
        ):
            if ballot is not None and event.action.value in STEP_DATES:
                event.at = datetime(*STEP_DATES[event.action.value], 10, n, tzinfo=UTC)
            elif ballot is not None:
                opened, closed = ballot.opened_at, ballot.closed_at
                assert opened is not None and closed is not None
                event.at = opened if event.action == EventAction.VOTE_OPENED else closed
            else:
                event.at = autumn + timedelta(
                    days=3 if event.action != EventAction.SUBMITTED else 0, hours=event.id % 5
                )
            if event.action == EventAction.SUBMITTED:
                sub.submitted_at = event.at
            if event.action in {EventAction.APPROVED, EventAction.REJECTED, EventAction.SENT_BACK}:
                sub.decided_at = event.at
    # the notices of the story were mailed back then; those about decided documents have been read

    open_ids = {s.id for s in db.session.scalars(select(Submission).where(Submission.decided_at.is_(None)))}
    for note in db.session.scalars(select(Notification).where(Notification.target_kind == "submission")):
        note.mail_state = MailState.SENT
        if note.target_id not in open_ids:
            note.read_at = datetime(2026, 2, 20, 9, 0, tzinfo=UTC)
    db.session.flush()


def _assemblea_vote(subs: list[Submission], udp: User) -> None:
    assemblea = db.session.scalar(select(Body).where(Body.kind == BodyKind.ASSEMBLEA_SINDACI))
    if assemblea is None or not subs:
        return
    meeting = meeting_lifecycle.schedule_meeting(
        assemblea,
        title="Approvazione delle schede obiettivo 2025-2027",
        day=date(2026, 2, 12),
        start=time(18, 0),
        end=time(20, 0),
        place="Sala degli Ostaggi, Palazzo Comunale di Crema",
        actor=udp,
    )
    ballots = [services.schedule_vote(sub, meeting, actor=udp) for sub in subs]
    meeting.status, meeting.published_at = MeetingStatus.CONVENED, meeting.starts_at  # convened back then
    meeting_lifecycle.start_meeting(meeting, actor=udp)
    db.session.flush()
    members = {
        m.user_id: m
        for m in db.session.scalars(
            select(Membership).where(Membership.body_id == assemblea.id, Membership.ended_at.is_(None))
        )
    }
    loaded = db.session.get(Meeting, meeting.id)
    assert loaded is not None
    db.session.refresh(loaded, ["attendances"])
    rows = sorted(loaded.attendances, key=lambda a: a.id)
    present = [
        row for n, row in enumerate(rows) if row.user_id in members and n % 5 != 3
    ]  # about four in five
    for row in present:
        row.status, row.arrived_at = AttendanceStatus.PRESENT, loaded.starts_at
    db.session.flush()
    voters = [db.session.get(User, row.user_id) for row in present]
    for n, ballot in enumerate(ballots):
        services.open_ballot(ballot, actor=udp)
        for k, voter in enumerate(voters):
            assert voter is not None
            choice = "favorevole" if (k + n) % 9 else ("astenuto" if k % 2 else "contrario")
            services.cast_vote(ballot, choice, actor=voter)
        services.close_ballot(ballot, actor=udp)
    meeting_lifecycle.conclude_meeting(loaded, actor=udp)
    later = meeting_minutes.approving_candidates(loaded)
    if later:  # the next sitting approved these minutes, as it did for every earlier one
        meeting_minutes.approve_minutes(loaded, later[0].id, actor=udp)


def _plans(cycle: PlanningCycle, udp: User) -> None:
    # The Piano di Zona is assembled but not sent: four cards are neither approved nor excluded yet, and the
    # plan goes to approval only with every card of the cycle approved or excluded with a reason.
    assembly.create_plan(DocKind.PIANO_DI_ZONA, cycle, cycle.start_year, actor=udp)
    po = assembly.create_plan(DocKind.PIANO_OPERATIVO, cycle, 2027, actor=udp)
    _piano_operativo(po, udp)
    report = assembly.create_plan(DocKind.REPORT_ANNUALE, cycle, 2026, actor=udp)
    for card in db.session.scalars(
        select(Card)
        .where(Card.cycle_id == cycle.id, Card.status == CardStatus.AGREED)
        .order_by(Card.id)
        .limit(3)
    ):
        assembly.save_entry(
            report,
            card.id,
            timing="",
            done="Azioni avviate come da programma; primo monitoraggio presentato all'UdP Integrato.",
            committed="25.000,00",
            actor=udp,
        )


# The timing the Ufficio di Piano wrote for the demo's chosen actions (the last one is left to be written, so
# the Piano Operativo shows what is missing).
PO_TIMING = [
    "Avvio a febbraio 2027; primo monitoraggio con l'Organismo di Valutazione entro settembre 2027.",
    "Da marzo a dicembre 2027, con una verifica intermedia a giugno.",
    "Entro giugno 2027 la proposta condivisa; entro dicembre 2027 l'avvio in tutti i sub-ambiti.",
]
# The year's targets where the card's indicator gives none (the 2025-2027 plan prints its indicators without
# target values): thresholds like the 2015 Piano Operativo's "range di valutazione".
PO_TARGETS = [
    "Almeno 6 incontri del tavolo nel 2027, con la presenza di enti da almeno 4 sub-ambiti.",
    "Almeno il 70% degli enti aderenti coinvolti entro dicembre 2027.",
    "Una prima rilevazione dei dati entro giugno 2027, la seconda entro dicembre.",
]


def _piano_operativo(po: Any, udp: User) -> None:
    """The first two actions of three approved cards, chosen for 2027: referents from the card's tavolo (its
    coordinators, each for their organisation) and the Ufficio di Piano, each year-2027 line shared between
    the two actions, the card's indicators as the year's targets (or a threshold of PO_TARGETS), timing written for all but the last."""
    plan = assembly.load_plan(po.id)
    assert plan is not None
    cards, _fingerprints = assembly.approved_cards(plan.cycle_id)
    options = operativo_choices.referent_options()
    label_of = {
        user_id: label for label, user_id, _org in reversed(options)
    }  # each person's first organisation
    picked = []
    for card in sorted(cards, key=lambda c: int(c["data"]["card_id"]))[:3]:
        card_id = int(card["data"]["card_id"])
        forms = operativo_choices.forms(plan, [card])[card_id][:2]
        body_id = db.session.scalar(select(Card.body_id).where(Card.id == card_id))
        people = [u.id for u in services.members_with(int(body_id or 0), COORDINATOR_ROLES)][:2] + [udp.id]
        picked += [(card, n, form, people) for n, form in enumerate(forms)]
    for chosen, (card, n, form, people) in enumerate(picked):
        indicators = card["data"].get("indicators", [])
        indicator = indicators[n] if n < len(indicators) else None
        half = {line["id"]: line["cents"] // 2 for line in form.lines}
        operativo_choices.save_action(
            plan,
            card,
            form.action_id,
            selected=True,
            referents=[label_of[p] for p in people if p in label_of],
            budget={
                line["id"]: format_cents(
                    half[line["id"]] if n == 0 else line["cents"] - half[line["id"]], symbol=False
                )
                for line in form.lines
            },
            targets=f"{indicator['name']}: {plans._with_unit(indicator['target'], indicator['unit'])}"
            if indicator and indicator.get("target")
            else PO_TARGETS[chosen % len(PO_TARGETS)],
            timing=PO_TIMING[chosen % len(PO_TIMING)] if chosen < len(picked) - 1 else "",
            actor=udp,
        )
