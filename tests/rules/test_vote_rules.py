"""The vote's rules pinned by cases that tell them apart, through HTTP, with expected outcomes from
docs/approvals.md and docs/meetings.md (never recomputed from the app's own figures):

- quorum "majority" = more than half of the seats; "fraction" = at least that fraction of the seats
  (2/3 of 7 seats needs 5: 4.67 is not reached by 4); weighted by population, the same on the populations;
- majority "presenti" = favourable votes above half of the seats present (abstaining counts as not in
  favour); "votanti" = more favourable than contrary votes; a tie approves under neither;
- observers and the secretary hold no seat: they neither vote nor make a comune present;
- quorum is measured on who is present when the vote closes; a seat that voted and then left keeps its vote
  and still counts among those present for the majority.

Each case runs in an Assemblea dei Sindaci reduced to a few comuni (the other seats ended), whose mayors vote
from their own sessions. The rules are arithmetic, so these run on SQLite only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pytest
from sqlalchemy import select


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@dataclass
class Case:
    seats: dict[str, int]  # letter -> population (used only when the rule weighs)
    kind: str = "nessuno"  # nessuno / maggioranza / frazione
    fraction: tuple[int, int] = (1, 2)
    weighted: bool = False
    majority: str = "presenti"
    present: str = ""  # letters of the seats marked present
    votes: dict[str, str] = field(default_factory=dict)  # letter -> favorevole / contrario / astenuto
    leave_after_voting: str = ""  # letters of the seats that leave once they voted
    without_seat: dict[str, str] = field(default_factory=dict)  # email -> role, for seat letter's comune


def _mayors(db: Any, count: int) -> list[tuple[Any, Any]]:
    """(membership, organisation) of `count` mayors of the Assemblea, none of them a demo account."""
    from pdz.accounts.models import User
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Body, Membership

    assemblea = db.session.scalar(select(Body).where(Body.kind == "assemblea_sindaci"))
    rows = db.session.execute(
        select(Membership, Organisation)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(User, User.id == Membership.user_id)
        .where(
            Membership.body_id == assemblea.id,
            Membership.role == "membro",
            Membership.ended_at.is_(None),
            ~User.email.in_(["sindaco@example.org", "delegato@example.org"]),
        )
        .order_by(Organisation.name)
        .limit(count)
    ).all()
    assert len(rows) == count
    return [(m, o) for m, o in rows]


def submit_card(coordinator: Any, db: Any, body: Any) -> int:
    """The Povertà's first card submitted by its co-coordinator, with the fingerprint the page shows."""
    from pdz.cards.models import Card

    card_id = db.session.scalar(
        select(Card.id).where(Card.body_id == body("Tavolo Povertà").id).order_by(Card.id)
    )
    url = f"/schede/{card_id}/approvazione"
    found = re.search(
        r'name="fingerprint" value="([0-9a-f]{64})"', coordinator.get(url).get_data(as_text=True)
    )
    assert found, "the page offers no submit form"
    response = coordinator.post(url, data={"fingerprint": found.group(1)})
    assert response.status_code == 303, response.status_code
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _version(db: Any, submission_id: int) -> int:
    from pdz.approvals.models import Submission

    db.session.expire_all()
    return int(db.session.get(Submission, submission_id).version)


def _next_assemblea_meeting(db: Any) -> Any:
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body

    return db.session.scalar(
        select(Meeting)
        .join(Body, Body.id == Meeting.body_id)
        .where(Body.kind == "assemblea_sindaci", Meeting.status == "convocata")
        .order_by(Meeting.starts_at)
    )


def run(app: Any, db: Any, client_as: Any, body: Any, case: Case) -> Any:
    """Sets the Assemblea to `case.seats`, puts a Povertà card to the vote under `case`'s rule, and returns
    the closed ballot."""
    from pdz.approvals.models import Ballot
    from pdz.db import utcnow
    from pdz.meetings.models import Attendance
    from pdz.tavoli.models import Body, Membership

    letters = sorted(case.seats)
    chosen = dict(zip(letters, _mayors(db, len(letters)), strict=True))
    assemblea = db.session.scalar(select(Body).where(Body.kind == "assemblea_sindaci"))
    keep = {m.id for m, _o in chosen.values()}
    for membership in db.session.scalars(select(Membership).where(Membership.body_id == assemblea.id)):
        if membership.id not in keep and membership.ended_at is None:
            membership.ended_at = utcnow()
    for letter, (_m, org) in chosen.items():
        org.comune.population = case.seats[letter]
    users = {letter: m.user for letter, (m, _o) in chosen.items()}
    emails = {letter: user.email for letter, user in users.items()}
    from pdz.accounts.models import User

    for n, (email, role) in enumerate(case.without_seat.items()):
        person = db.session.scalar(select(User).where(User.email == email))
        org = chosen[letters[n % len(letters)]][1]
        db.session.add(Membership(body_id=assemblea.id, user_id=person.id, organisation_id=org.id, role=role))
    db.session.commit()

    udp = client_as("udp@example.org")
    rule = {
        "kind": case.kind,
        "numerator": str(case.fraction[0]),
        "denominator": str(case.fraction[1]),
        "majority": case.majority,
    }
    if case.weighted:
        rule["weighted"] = "y"
    assert udp.post(f"/tavoli/{assemblea.id}/incontri/numero-legale", data=rule).status_code == 302

    sid = submit_card(client_as("coord.pubblico@example.org"), db, body)
    assert udp.post(f"/approvazioni/{sid}/inoltra", data={"version": _version(db, sid)}).status_code == 303
    meeting = _next_assemblea_meeting(db)
    assert udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting.id}).status_code == 303
    assert udp.post(f"/incontri/{meeting.id}/avvia").status_code in (302, 303)

    def sheet_row(user_id: int) -> int:
        db.session.expire_all()
        return int(
            db.session.scalar(
                select(Attendance.id).where(
                    Attendance.meeting_id == meeting.id, Attendance.user_id == user_id
                )
            )
        )

    def mark(user_id: int, what: str) -> None:
        row = sheet_row(user_id)
        response = udp.post(f"/incontri/{meeting.id}/presenze/{row}", data={"mark": what, "at": ""})
        assert response.status_code == 302, response.status_code

    for letter in case.present:
        mark(users[letter].id, "presente")
    for email in case.without_seat:  # observers and secretaries sitting for a comune are present too
        mark(db.session.scalar(select(User.id).where(User.email == email)), "presente")
    db.session.expire_all()
    ballot = db.session.scalar(select(Ballot).where(Ballot.submission_id == sid))
    assert udp.post(f"/votazioni/{ballot.id}/apri").status_code == 303
    for letter, choice in case.votes.items():
        voter = client_as(emails[letter])
        assert voter.post(f"/votazioni/{ballot.id}/voto", data={"choice": choice}).status_code == 303
    for letter in case.leave_after_voting:
        mark(users[letter].id, "uscita")
    assert udp.post(f"/votazioni/{ballot.id}/chiudi").status_code == 303
    db.session.expire_all()
    closed = db.session.get(Ballot, ballot.id)
    assert closed.status == "chiusa"
    return closed


SEVEN = dict.fromkeys("ABCDEFG", 1000)


@pytest.mark.parametrize(
    ("present", "expected"),
    [("ABCD", "senza_quorum"), ("ABCDE", "approvata")],
    ids=["4-of-7-is-below-two-thirds", "5-of-7-reaches-two-thirds"],
)
def test_a_fraction_quorum_is_never_rounded_down(app, db, client_as, body, present, expected):
    case = Case(seats=SEVEN, kind="frazione", fraction=(2, 3), present=present)
    case.votes = dict.fromkeys(present, "favorevole")
    assert run(app, db, client_as, body, case).outcome == expected


@pytest.mark.parametrize(
    ("present", "expected"), [("AB", "senza_quorum"), ("ABC", "approvata")], ids=["half", "more-than-half"]
)
def test_a_majority_quorum_needs_more_than_half_of_the_seats(app, db, client_as, body, present, expected):
    case = Case(seats=dict.fromkeys("ABCD", 1000), kind="maggioranza", present=present)
    case.votes = dict.fromkeys(present, "favorevole")
    assert run(app, db, client_as, body, case).outcome == expected


@pytest.mark.parametrize("majority", ["presenti", "votanti"])
def test_a_tie_approves_under_neither_majority(app, db, client_as, body, majority):
    case = Case(seats=dict.fromkeys("ABCD", 1000), majority=majority, present="ABCD")
    case.votes = {"A": "favorevole", "B": "favorevole", "C": "contrario", "D": "contrario"}
    ballot = run(app, db, client_as, body, case)
    assert ballot.outcome == "respinta"
    assert ballot.tally["counts"] == {"favorevole": 2, "contrario": 2, "astenuto": 0}


@pytest.mark.parametrize(("majority", "expected"), [("presenti", "respinta"), ("votanti", "approvata")])
def test_abstentions_tell_the_two_majorities_apart(app, db, client_as, body, majority, expected):
    """2 in favour, 1 against, 2 abstaining out of 5 present: 2 is not above half of 5, yet 2 > 1."""
    case = Case(seats=dict.fromkeys("ABCDE", 1000), majority=majority, present="ABCDE")
    case.votes = {"A": "favorevole", "B": "favorevole", "C": "contrario", "D": "astenuto", "E": "astenuto"}
    assert run(app, db, client_as, body, case).outcome == expected


def test_observers_and_the_secretary_neither_vote_nor_make_a_seat_present(app, db, client_as, body):
    """Three seats, majority quorum (2 needed): the mayor of A is present; an observer sitting for A and a
    secretary sitting for B are present too; B stays without its mayor, so only one seat is present."""
    case = Case(
        seats=dict.fromkeys("ABC", 1000),
        kind="maggioranza",
        present="A",
        votes={"A": "favorevole"},
        without_seat={"osservatore@example.org": "osservatore", "disabilita@example.org": "segretario"},
    )
    ballot = run(app, db, client_as, body, case)
    assert (ballot.outcome, ballot.tally["seats_present"]) == ("senza_quorum", 1)


def test_seats_that_voted_and_left_still_count_among_those_present(app, db, client_as, body):
    """Six seats, no quorum, majority of those present. A, F, G vote in favour; D is present and does not
    vote; B and C abstain and then leave. Six seats took part: 3 in favour is not above half of 6."""
    case = Case(
        seats=dict.fromkeys("ABCDFG", 1000),
        present="ABCDFG",
        votes={"A": "favorevole", "F": "favorevole", "G": "favorevole", "B": "astenuto", "C": "astenuto"},
        leave_after_voting="BC",
    )
    ballot = run(app, db, client_as, body, case)
    assert (ballot.outcome, ballot.tally["present"]) == ("respinta", 6)


def test_leavers_do_not_hold_the_quorum(app, db, client_as, body):
    """Quorum is measured when the vote closes: 3 of 4 seats voted, two left, so 1 of 4 is present."""
    case = Case(
        seats=dict.fromkeys("ABCD", 1000),
        kind="maggioranza",
        present="ABC",
        votes={"A": "favorevole", "B": "favorevole", "C": "favorevole"},
        leave_after_voting="BC",
    )
    assert run(app, db, client_as, body, case).outcome == "senza_quorum"


# populations 100 + 100 + 200 = 400: half is 200
WEIGHTED = {"A": 200, "B": 100, "C": 100}


@pytest.mark.parametrize(
    ("kind", "present", "expected"),
    [
        ("maggioranza", "A", "senza_quorum"),  # 200 of 400 is not more than half
        ("maggioranza", "AB", "approvata"),  # 300 of 400
        ("frazione", "A", "approvata"),  # 200 of 400 is at least 1/2
        ("frazione", "B", "senza_quorum"),  # 100 of 400
    ],
)
def test_the_weighted_quorum_at_its_boundary(app, db, client_as, body, kind, present, expected):
    case = Case(seats=WEIGHTED, kind=kind, fraction=(1, 2), weighted=True, present=present)
    case.votes = dict.fromkeys(present, "favorevole")
    ballot = run(app, db, client_as, body, case)
    assert ballot.outcome == expected
    assert ballot.tally["quorum_required"] == {"maggioranza": 201, "frazione": 200}[kind]


def test_a_weighted_majority_counts_populations_not_heads(app, db, client_as, body):
    """A (200) against, B and C (100 each) in favour: two heads to one, but 200 is not above half of 400."""
    case = Case(seats=WEIGHTED, weighted=True, present="ABC")
    case.votes = {"A": "contrario", "B": "favorevole", "C": "favorevole"}
    ballot = run(app, db, client_as, body, case)
    assert ballot.outcome == "respinta"
    assert ballot.tally["weights"] == {"favorevole": 200, "contrario": 200, "astenuto": 0}
    assert ballot.tally["counts"] == {"favorevole": 2, "contrario": 1, "astenuto": 0}
