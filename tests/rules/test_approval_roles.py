"""Every role at every approval step, each by itself, through HTTP (issue #19 point 2).

Who may act comes from docs/approvals.md ("Who acts") and docs/permissions.md: co-coordinators of the tavolo
and UdP staff submit a draft or a version sent back, and nobody submits a version still travelling; UdP staff
and the co-coordinators of the *reviewing* body (not of the submitting tavolo) forward or send back at a
review step, and nobody at the vote step or after an outcome; UdP staff put a version awaiting the vote on the
Assemblea's agenda. The platform administrator passes every permission but no state guard.

Each allowed role acts on its own fresh copy of the state and must succeed; every other role tries the same
action on one shared copy and must be refused with nothing changed (submissions, ballots, the audit log).
The rules do not depend on the database, so these run on SQLite only.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import func, select

ADMIN, UDP = "admin@example.org", "udp@example.org"
COORD_P, COORD_E = "coord.pubblico@example.org", "coord.ets@example.org"
REVIEWER = "disabilita@example.org"  # made a co-coordinator of the UdP Integrato below
ROLES = [
    ADMIN,
    UDP,
    COORD_P,
    COORD_E,
    "membro@example.org",
    "osservatore@example.org",
    REVIEWER,
    "sindaco@example.org",
    "delegato@example.org",
]
ALLOWED: dict[tuple[str, str], set[str]] = {
    ("bozza", "submit"): {ADMIN, UDP, COORD_P, COORD_E},
    ("restituita", "submit"): {ADMIN, UDP, COORD_P, COORD_E},
    ("in_esame", "submit"): set(),
    ("in_attesa_di_voto", "submit"): set(),
    ("in_esame", "forward"): {ADMIN, UDP, REVIEWER},
    ("in_esame", "send_back"): {ADMIN, UDP, REVIEWER},
    ("in_esame", "schedule"): set(),
    ("in_attesa_di_voto", "forward"): set(),
    ("in_attesa_di_voto", "send_back"): set(),
    ("in_attesa_di_voto", "schedule"): {ADMIN, UDP},
    ("restituita", "forward"): set(),
    ("restituita", "send_back"): set(),
    ("restituita", "schedule"): set(),
    ("approvata", "forward"): set(),
    ("approvata", "send_back"): set(),
    ("approvata", "schedule"): set(),
}
# what an allowed action leaves behind: the status of the latest round of the card
AFTER = {"submit": "in_esame", "forward": "in_attesa_di_voto", "send_back": "restituita", "schedule": None}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def reviewer(db: Any) -> None:
    """A co-coordinator of the UdP Integrato (the demo's has none): someone from outside the Tavolo Povertà."""
    from pdz.accounts.models import User
    from pdz.tavoli.models import Body, Membership

    person = db.session.scalar(select(User).where(User.email == REVIEWER))
    udpi = db.session.scalar(select(Body).where(Body.kind == "udp_integrato"))
    org_id = db.session.scalar(select(Membership.organisation_id).where(Membership.user_id == person.id))
    db.session.add(
        Membership(body_id=udpi.id, user_id=person.id, organisation_id=org_id, role="coordinatore_ets")
    )
    db.session.commit()


def _card(db: Any) -> Any:
    from pdz.cards.models import Card
    from pdz.tavoli.models import Body

    povertà = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    return db.session.scalar(select(Card).where(Card.body_id == povertà).order_by(Card.id))


def _latest(db: Any, card_id: int) -> Any:
    from pdz.approvals.models import Submission

    db.session.expire_all()
    return db.session.scalar(
        select(Submission)
        .where(Submission.document_kind == "scheda", Submission.document_id == card_id)
        .order_by(Submission.round.desc())
        .limit(1)
    )


def _submit(client: Any, card_id: int) -> Any:
    url = f"/schede/{card_id}/approvazione"
    found = re.search(r'name="fingerprint" value="([0-9a-f]{64})"', client.get(url).get_data(as_text=True))
    return client.post(url, data={"fingerprint": found.group(1) if found else "0" * 64})


def _meeting_id(db: Any) -> int:
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body

    return int(
        db.session.scalar(
            select(Meeting.id)
            .join(Body, Body.id == Meeting.body_id)
            .where(Body.kind == "assemblea_sindaci", Meeting.status == "convocata")
            .order_by(Meeting.starts_at)
        )
    )


def prepare(db: Any, client_as: Any, state: str) -> tuple[int, int | None]:
    """(card id, submission id) with the card's latest round in `state` (an approved demo version for
    "approvata"), reached through HTTP by the co-coordinator and the UdP."""
    from pdz.approvals.models import Submission

    card = _card(db)
    if state == "approvata":
        approved = db.session.scalar(select(Submission).where(Submission.status == "approvata").limit(1))
        return card.id, approved.id
    if state == "bozza":
        return card.id, None
    assert _submit(client_as(COORD_P), card.id).status_code == 303
    sub = _latest(db, card.id)
    udp = client_as(UDP)
    if state == "in_attesa_di_voto":
        assert udp.post(f"/approvazioni/{sub.id}/inoltra", data={"version": sub.version}).status_code == 303
    elif state == "restituita":
        data = {"version": sub.version, "note": "Completare gli indicatori."}
        assert udp.post(f"/approvazioni/{sub.id}/restituisci", data=data).status_code == 303
    assert _latest(db, card.id).status == state
    return card.id, sub.id


def attempt(db: Any, client: Any, action: str, card_id: int, sid: int | None) -> Any:
    from pdz.approvals.models import Submission

    if action == "submit":
        return _submit(client, card_id)
    db.session.expire_all()
    version = db.session.get(Submission, sid).version
    if action == "schedule":
        return client.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": _meeting_id(db)})
    route = "inoltra" if action == "forward" else "restituisci"
    return client.post(f"/approvazioni/{sid}/{route}", data={"version": version, "note": "Da rivedere."})


def snapshot(db: Any, sid: int | None) -> tuple[Any, ...]:
    from pdz.approvals.models import Ballot, Submission
    from pdz.audit import AuditEntry

    db.session.expire_all()
    sub = db.session.get(Submission, sid) if sid else None
    return (
        db.session.scalar(select(func.count(Submission.id))),
        db.session.scalar(select(func.count(Ballot.id))),
        db.session.scalar(select(func.count(AuditEntry.id))),
        (sub.status, sub.version, sub.step_index) if sub else None,
    )


@pytest.mark.parametrize(("state", "action"), sorted(ALLOWED))
def test_every_other_role_is_refused_and_nothing_changes(app, db, client_as, reviewer, state, action):
    card_id, sid = prepare(db, client_as, state)
    for email in ROLES:
        if email in ALLOWED[(state, action)]:
            continue
        client = client_as(email)  # signing in is audited: before the snapshot
        before = snapshot(db, sid)
        response = attempt(db, client, action, card_id, sid)
        assert response.status_code in (303, 403, 409, 422), (email, response.status_code)
        assert snapshot(db, sid) == before, f"{email} changed something with {action} at {state}"


@pytest.mark.parametrize(
    ("state", "action", "email"),
    sorted((state, action, email) for (state, action), emails in ALLOWED.items() for email in emails),
)
def test_each_allowed_role_succeeds_by_itself(app, db, client_as, reviewer, state, action, email):
    from pdz.approvals.models import Ballot

    card_id, sid = prepare(db, client_as, state)
    ballots = snapshot(db, sid)[1]
    response = attempt(db, client_as(email), action, card_id, sid)
    assert response.status_code == 303, response.status_code
    latest = _latest(db, card_id)
    if action == "schedule":
        assert snapshot(db, sid)[1] == ballots + 1
        assert db.session.scalar(select(Ballot.submission_id).order_by(Ballot.id.desc()).limit(1)) == sid
    else:
        assert latest.status == AFTER[action]
        if action == "submit":
            assert latest.id != sid and latest.submitted_by.email == email


def test_review_buttons_only_at_a_review_step_and_only_for_the_reviewers(app, db, client_as, reviewer):
    """At a review step the UdP and the reviewing body's co-coordinators are offered "forward" and "send back";
    once the version awaits the Assemblea's vote nobody is (docs/approvals.md: nobody forwards at the vote
    step), not even the administrator, who passes every permission: they were offered "forward" there, which
    hid the form that puts the version on the Assemblea's agenda (found by this test, fixed in the view)."""
    _card_id, sid = prepare(db, client_as, "in_esame")
    forward = f'action="/approvazioni/{sid}/inoltra"'
    offered = {
        email
        for email in ROLES
        if forward in client_as(email).get(f"/approvazioni/{sid}").get_data(as_text=True)
    }
    assert offered == {ADMIN, UDP, REVIEWER}

    udp = client_as(UDP)
    version = _latest(db, _card_id).version
    assert udp.post(f"/approvazioni/{sid}/inoltra", data={"version": version}).status_code == 303
    assert _latest(db, _card_id).status == "in_attesa_di_voto"
    for email in ROLES:
        page = client_as(email).get(f"/approvazioni/{sid}")
        assert page.status_code in (200, 403), (email, page.status_code)
        assert forward not in page.get_data(as_text=True), email
        assert f'action="/approvazioni/{sid}/restituisci"' not in page.get_data(as_text=True), email
    # UdP staff and the administrator schedule the vote from the same page.
    for email in (ADMIN, UDP):
        assert f'action="/approvazioni/{sid}/iscrivi"' in client_as(email).get(
            f"/approvazioni/{sid}"
        ).get_data(as_text=True)
