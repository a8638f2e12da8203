"""Participation figures against a small hand-computed fixture, read through the CSV exports."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select


def _org(db: Any, name: str, kind: str, legal_form: str | None, sub_ambiti: list[str]) -> Any:
    from pdz.orgs.models import Organisation
    from pdz.territory.models import SubAmbito

    org = Organisation(name=name, kind=kind, legal_form=legal_form)
    org.sub_ambiti = list(db.session.scalars(select(SubAmbito).where(SubAmbito.name.in_(sub_ambiti))))
    db.session.add(org)
    db.session.flush()
    return org


@pytest.fixture
def small(db: Any, user: Any) -> dict[str, Any]:
    """Tavolo Prova: three organisations, four people, three concluded meetings in 2026.

    Attendance (P present, A absent, R represented by a delegate, E excused):
                 m1 (Jan)  m2 (Feb)  m3 (Mar)
      Comune X   P         A         A          (one person)
      APS Y      P / A     A / A     A / E      (two people: the org attended m1 only)
      ODV Z      P         R         P          (one person; in m2 a delegate stands in)
    """
    from pdz.accounts.models import Affiliation, User
    from pdz.meetings.models import ActionItem, ActionStatus, Attendance, Meeting, MeetingStatus
    from pdz.tavoli.models import Body, BodyKind, Membership

    comune = _org(db, "Comune X", "comune", None, ["Crema"])
    aps = _org(db, "APS Y", "ets", "aps", ["Crema", "Soncino"])
    odv = _org(db, "ODV Z", "ets", "odv", ["Pandino"])
    people = {}
    for key, org in [("c", comune), ("y1", aps), ("y2", aps), ("z", odv), ("zd", odv)]:
        person = User(email=f"{key}@prova.example.org", full_name=f"Persona {key}", password_hash="x")
        db.session.add(person)
        db.session.flush()
        db.session.add(Affiliation(user_id=person.id, organisation_id=org.id))
        people[key] = (person, org)
    body = Body(name="Tavolo Prova", kind=BodyKind.TAVOLO)
    db.session.add(body)
    db.session.flush()
    for key in ("c", "y1", "y2", "z"):
        db.session.add(
            Membership(body_id=body.id, user_id=people[key][0].id, organisation_id=people[key][1].id)
        )
    owner = user("udp@example.org")
    grid = {
        1: {"c": "presente", "y1": "presente", "y2": "assente", "z": "presente"},
        2: {"c": "assente", "y1": "assente", "y2": "assente", "z": "rappresentato"},
        3: {"c": "assente", "y1": "assente", "y2": "giustificato", "z": "presente"},
    }
    for month, rows in grid.items():
        start = datetime(2026, month, 10, 16, 0, tzinfo=UTC)
        meeting = Meeting(
            body_id=body.id,
            title=f"Incontro {month}",
            starts_at=start,
            ends_at=start.replace(hour=18),
            status=MeetingStatus.CONCLUDED,
            created_by_id=owner.id,
        )
        db.session.add(meeting)
        db.session.flush()
        for key, status in rows.items():
            db.session.add(
                Attendance(
                    meeting_id=meeting.id,
                    user_id=people[key][0].id,
                    organisation_id=people[key][1].id,
                    status=status,
                )
            )
        if month == 2:  # the delegate's own row does not count twice
            db.session.add(
                Attendance(
                    meeting_id=meeting.id,
                    user_id=people["zd"][0].id,
                    organisation_id=odv.id,
                    status="presente",
                    stands_for_id=people["z"][0].id,
                )
            )
            db.session.add(
                ActionItem(
                    meeting_id=meeting.id,
                    title="Mappa",
                    owner_id=people["z"][0].id,
                    organisation_id=odv.id,
                    status=ActionStatus.DONE,
                    completed_at=datetime(2026, 3, 1, tzinfo=UTC),
                )
            )
            db.session.add(
                ActionItem(
                    meeting_id=meeting.id,
                    title="Aperta",
                    owner_id=people["c"][0].id,
                    organisation_id=comune.id,
                )
            )
    db.session.commit()
    return {"body": body}


# The contribution columns of the CSV exports, by the source they count.
KINDS = {
    "cards": "Modifiche alle schede obiettivo",
    "comments": "Commenti scritti",
    "actions": "Azioni completate",
    "swot": "Voci SWOT scritte o modificate",
}


def table(
    client: Any, name: str, query: str = "dal=2026-01-01&al=2026-12-31", body: Any = None
) -> list[list[str]]:
    prefix = f"/tavoli/{body.id}/partecipazione" if body is not None else "/partecipazione"
    response = client.get(f"{prefix}/{name}.csv?{query}")
    assert response.status_code == 200, response.status_code
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def rates(rows: list[list[str]]) -> dict[str, tuple[int, int, str]]:
    return {r[1]: (int(r[2]), int(r[3]), r[4]) for r in rows[1:]}


def test_attendance_rates_match_the_hand_computed_fixture(client_as: Any, small: dict) -> None:
    udp = client_as("udp@example.org")
    # organisation pairs: 3 meetings x 3 organisations = 9; attended: X m1, Y m1, Z m1 m2 m3 = 5
    assert rates(table(udp, "tavoli"))["Tavolo Prova"] == (5, 9, "55.6")
    enti = rates(table(udp, "enti"))
    assert (
        enti["Comune X"] == (1, 3, "33.3")
        and enti["APS Y"] == (1, 3, "33.3")
        and enti["ODV Z"] == (3, 3, "100.0")
    )
    mine = small[
        "body"
    ]  # the other tables, restricted to the fixture's tavolo (the demo has 2026 meetings too)
    tipi = rates(table(udp, "tipi", body=mine))
    assert tipi["Comune"] == (1, 3, "33.3")
    assert tipi["ETS – APS – Associazione di promozione sociale"] == (1, 3, "33.3")
    assert tipi["ETS – ODV – Organizzazione di volontariato"] == (3, 3, "100.0")
    sub = rates(table(udp, "sub_ambiti", body=mine))  # APS Y counts in Crema and Soncino
    assert (
        sub["Crema"] == (2, 6, "33.3")
        and sub["Soncino"] == (1, 3, "33.3")
        and sub["Pandino"] == (3, 3, "100.0")
    )
    months = rates(table(udp, "mesi", body=mine))
    assert months == {"2026-01": (3, 3, "100.0"), "2026-02": (1, 3, "33.3"), "2026-03": (1, 3, "33.3")}
    people = rates(table(udp, "persone", body=mine))  # individual rows; the delegate's own row is not counted
    assert (
        people["Persona y2"] == (0, 3, "0.0")
        and people["Persona z"] == (3, 3, "100.0")
        and "Persona zd" not in people
    )


def test_period_filter_and_tavolo_view(client_as: Any, small: dict) -> None:
    udp = client_as("udp@example.org")
    assert rates(table(udp, "tavoli", "dal=2026-02-01&al=2026-02-28"))["Tavolo Prova"] == (1, 3, "33.3")
    body = small["body"]
    rows = udp.get(f"/tavoli/{body.id}/partecipazione/enti.csv?dal=2026-01-01&al=2026-12-31").get_data(
        as_text=True
    )
    assert set(rates(list(csv.reader(io.StringIO(rows))))) == {"Comune X", "APS Y", "ODV Z"}


def test_contributions_and_alerts(client_as: Any, small: dict) -> None:
    udp = client_as("udp@example.org")
    contributions = {r[0]: r[1:] for r in table(udp, "contributi_enti")[1:]}
    header = table(udp, "contributi_enti")[0]
    assert contributions["ODV Z"][header.index("Azioni completate") - 1] == "1"
    assert "Comune X" not in contributions  # its action is still open
    alerts = table(udp, "allerte")
    stopped = {(r[1], r[2]) for r in alerts if r[0] == "Ente che non partecipa più"}
    assert ("Tavolo Prova", "APS Y") not in stopped  # came to m1, within the last three meetings
    uncovered = {(r[1], r[2]) for r in alerts if r[0] == "Sub-ambito assente" and r[1] == "Tavolo Prova"}
    assert uncovered == {("Tavolo Prova", s) for s in ("Bagnolo Cremasco", "Castelleone", "Sergnano")}
    quiet = {r[1]: r[3] for r in alerts if r[0] == "Tavolo fermo da due mesi"}
    assert "Tavolo Prova" in quiet  # last meeting in March 2026, more than two months before today


def test_quiet_tavoli_are_the_active_ones_without_a_meeting_held_in_sixty_days(
    client_as: Any, db: Any
) -> None:
    """The rule as the dashboard states it, computed here over the demo's rows: an active thematic tavolo
    whose last meeting held or under way (concluded or in progress, started by now) is more than 60 days
    old, or that never held one; the detail gives that meeting's day (Rome)."""
    from datetime import UTC, datetime, timedelta
    from zoneinfo import ZoneInfo

    from pdz.meetings.models import Meeting, MeetingStatus
    from pdz.tavoli.models import THEMATIC_KINDS, Body, BodyStatus

    now = datetime.now(UTC)
    expected = {}
    bodies = db.session.scalars(
        select(Body).where(Body.kind.in_(list(THEMATIC_KINDS)), Body.status == BodyStatus.ACTIVE)
    )
    for body in bodies:
        starts = [
            m.starts_at
            for m in db.session.scalars(select(Meeting).where(Meeting.body_id == body.id))
            if m.status in (MeetingStatus.CONCLUDED, MeetingStatus.IN_PROGRESS) and m.starts_at <= now
        ]
        last = max(starts, default=None)
        if last is None:
            expected[body.name] = "nessun incontro tenuto"
        elif last < now - timedelta(days=60):
            expected[body.name] = f"ultimo incontro il {last.astimezone(ZoneInfo('Europe/Rome')):%d/%m/%Y}"
    # One tavolo made quiet here: its meetings held in the last 60 days moved back to 90 days ago.
    hot = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
    assert hot.name not in expected
    recent = [
        m
        for m in db.session.scalars(select(Meeting).where(Meeting.body_id == hot.id))
        if m.starts_at > now - timedelta(days=91)
    ]
    for m in recent:
        m.starts_at = now - timedelta(days=91 + recent.index(m))
    db.session.commit()
    held = [
        m.starts_at
        for m in db.session.scalars(select(Meeting).where(Meeting.body_id == hot.id))
        if m.status in (MeetingStatus.CONCLUDED, MeetingStatus.IN_PROGRESS)
    ]
    expected[hot.name] = f"ultimo incontro il {max(held).astimezone(ZoneInfo('Europe/Rome')):%d/%m/%Y}"
    alerts = table(client_as("udp@example.org"), "allerte")
    assert {r[1]: r[3] for r in alerts if r[0] == "Tavolo fermo da due mesi"} == expected


def test_stopped_attending_after_three_absences(client_as: Any, small: dict, db: Any) -> None:
    from pdz.meetings.models import Attendance, Meeting

    meeting = db.session.scalar(select(Meeting).where(Meeting.title == "Incontro 1"))
    for row in db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting.id)):
        if row.organisation.name == "APS Y":
            row.status = "assente"
    db.session.commit()
    stopped = {
        (r[1], r[2])
        for r in table(client_as("udp@example.org"), "allerte")
        if r[0] == "Ente che non partecipa più"
    }
    assert ("Tavolo Prova", "APS Y") in stopped and ("Tavolo Prova", "ODV Z") not in stopped


def test_registry_lists_adhering_ets_and_those_that_never_came(client_as: Any, small: dict, db: Any) -> None:
    from pdz.cycles.models import PlanningCycle
    from pdz.orgs.models import Adhesion, Organisation

    cycle = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))
    for name in ("APS Y", "ODV Z"):
        org = db.session.scalar(select(Organisation).where(Organisation.name == name))
        db.session.add(
            Adhesion(organisation_id=org.id, cycle_id=cycle.id, adhered_on=datetime(2025, 3, 1).date())
        )
    db.session.commit()
    rows = {r[0]: r for r in table(client_as("udp@example.org"), "registro")[1:]}
    assert rows["APS Y"][3] == "Tavolo Prova" and rows["APS Y"][4] == "1" and rows["ODV Z"][4] == "3"
    page = client_as("udp@example.org").get("/partecipazione/").get_data(as_text=True)
    assert "ha aderito ma non è mai venuto" in page  # demo ETS without meetings in the cycle


def test_who_sees_what(client_as: Any, small: dict, tavolo: Any) -> None:
    assert client_as("membro@example.org").get("/partecipazione/").status_code == 403
    coordinator = client_as("coord.ets@example.org")
    assert coordinator.get("/partecipazione/").status_code == 403
    page = coordinator.get(f"/tavoli/{tavolo.id}/partecipazione")
    assert page.status_code == 200 and "Presenze per persona" not in page.get_data(as_text=True)
    assert coordinator.get(f"/tavoli/{tavolo.id}/partecipazione/persone.csv").status_code == 404
    assert coordinator.get(f"/tavoli/{small['body'].id}/partecipazione").status_code == 403
    mine = client_as("membro@example.org").get("/profilo/partecipazione")
    assert mine.status_code == 200 and "presenze su" in mine.get_data(as_text=True)


def test_bad_dates_are_refused(client_as: Any) -> None:
    udp = client_as("udp@example.org")
    assert udp.get("/partecipazione/?dal=ieri").status_code == 422
    assert udp.get("/partecipazione/?dal=2026-05-01&al=2026-01-01").status_code == 422
    assert udp.get("/partecipazione/nonesiste.csv").status_code == 404


def test_dashboard_queries_are_bounded_on_the_full_demo(
    client_as: Any, count_queries: Any, small: dict, db: Any
) -> None:
    from pdz.meetings.models import Attendance, Meeting, MeetingStatus

    udp = client_as("udp@example.org")
    assert udp.get("/partecipazione/").status_code == 200  # computes the rollups marked stale by the demo
    with count_queries() as before:
        assert udp.get("/partecipazione/").status_code == 200
    body = small["body"]
    owner = db.session.scalar(select(Meeting.created_by_id).limit(1))
    people = [
        a.user_id
        for a in db.session.scalars(
            select(Attendance).join(Meeting).where(Meeting.body_id == body.id, Meeting.title == "Incontro 1")
        )
    ]
    for day in range(1, 21):
        start = datetime(2026, 6, day, 9, tzinfo=UTC)
        meeting = Meeting(
            body_id=body.id,
            title=f"Extra {day}",
            starts_at=start,
            ends_at=start.replace(hour=11),
            status=MeetingStatus.CONCLUDED,
            created_by_id=owner,
        )
        db.session.add(meeting)
        db.session.flush()
        for person in people:
            org = db.session.scalar(
                select(Attendance.organisation_id).where(Attendance.user_id == person).limit(1)
            )
            db.session.add(
                Attendance(meeting_id=meeting.id, user_id=person, organisation_id=org, status="presente")
            )
    db.session.commit()
    # the first reader recomputes the marked buckets, in a few queries (the months, then their years)
    with count_queries() as refreshing:
        assert udp.get("/partecipazione/").status_code == 200
    assert refreshing() <= before() + 12
    with count_queries() as after:
        assert udp.get("/partecipazione/").status_code == 200
    assert after() == before()


def test_card_changes_and_comments_count_as_contributions(client_as: Any, small: dict, db: Any) -> None:
    """Card revisions and comments of the period, by the organisation the author represents in the tavolo.

    Hand-made: APS Y (y1) saves two card fields in 2026 and one in 2025; an imported revision has no author;
    Comune X (c) writes one comment; ODV Z (z) writes two, one of them removed afterwards.
    """
    from pdz.accounts.models import User
    from pdz.cards.models import Card, CardRevision
    from pdz.comments.models import Comment, CommentStatus, CommentThread
    from pdz.cycles.models import PlanningCycle

    body = small["body"]
    person = {
        u.email.split("@")[0]: u
        for u in db.session.scalars(select(User).where(User.email.like("%@prova.example.org")))
    }
    cycle = db.session.scalars(select(PlanningCycle)).first()
    card = Card(cycle_id=cycle.id, body_id=body.id, title="Scheda di prova")
    db.session.add(card)
    db.session.flush()
    revisions = [
        (1, person["y1"].id, datetime(2026, 2, 3, tzinfo=UTC)),
        (2, person["y1"].id, datetime(2026, 4, 3, tzinfo=UTC)),
        (3, person["y1"].id, datetime(2025, 12, 3, tzinfo=UTC)),  # outside the period
        (4, None, datetime(2026, 2, 3, tzinfo=UTC)),  # loaded from the plan: nobody's contribution
    ]
    for number, author_id, at in revisions:
        db.session.add(
            CardRevision(
                card_id=card.id,
                number=number,
                field="title",
                author_id=author_id,
                at=at,
                client_op_id=f"p-{number}",
            )
        )
    thread = CommentThread(target_kind="card", target_id=card.id, field_key="title", body_id=body.id)
    db.session.add(thread)
    db.session.flush()
    comments = [("c", CommentStatus.VISIBLE), ("z", CommentStatus.VISIBLE), ("z", CommentStatus.REMOVED)]
    for n, (key, status) in enumerate(comments):
        db.session.add(
            Comment(
                thread_id=thread.id,
                body_id=body.id,
                author_id=person[key].id,
                client_op_id=f"prova-{n}",
                body_source="x",
                body_html="<p>x</p>",
                status=status,
                created_at=datetime(2026, 5, 1, tzinfo=UTC),
            )
        )
    db.session.commit()

    udp = client_as("udp@example.org")
    rows = table(udp, "contributi_enti", body=body)
    header, by_org = rows[0], {r[0]: r[1:] for r in rows[1:]}

    def count(org: str, kind: str) -> str:
        return by_org[org][header.index(KINDS[kind]) - 1]

    assert count("APS Y", "cards") == "2" and count("APS Y", "comments") == "0"
    assert count("Comune X", "comments") == "1" and count("Comune X", "cards") == "0"
    assert count("ODV Z", "comments") == "1" and count("ODV Z", "actions") == "1"
    tavoli = {r[0]: r[1:] for r in table(udp, "contributi_tavoli", body=body)[1:]}
    header = table(udp, "contributi_tavoli", body=body)[0]
    assert tavoli["Tavolo Prova"][header.index("Modifiche alle schede obiettivo") - 1] == "2"
    assert tavoli["Tavolo Prova"][header.index("Commenti scritti") - 1] == "2"
    # a narrower period leaves the April revision and the May comments out
    rows = table(udp, "contributi_enti", "dal=2026-01-01&al=2026-03-31", body=body)
    header, by_org = rows[0], {r[0]: r[1:] for r in rows[1:]}
    assert count("APS Y", "cards") == "1" and "Comune X" not in by_org
