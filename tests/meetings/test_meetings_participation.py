"""Participation figures as SQL aggregates (per meeting, body, organisation, sub-ambito), checked against
numbers computed by hand on a small fixture, and bounded queries on the meeting pages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meetings_support import add_item, create_meeting, started_meeting


def _fixture(db):
    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
    from pdz.orgs.models import Organisation, OrgKind
    from pdz.tavoli.models import Body, BodyKind, Membership
    from pdz.territory.models import SubAmbito

    crema = db.session.scalar(select(SubAmbito).where(SubAmbito.name == "Crema"))
    soncino = db.session.scalar(select(SubAmbito).where(SubAmbito.name == "Soncino"))
    x = Organisation(name="Ente X", kind=OrgKind.ETS, sub_ambiti=[crema])
    y = Organisation(name="Ente Y", kind=OrgKind.ETS, sub_ambiti=[soncino])
    z = Organisation(name="Ente Z", kind=OrgKind.ETS, sub_ambiti=[crema, soncino])
    body = Body(name="Tavolo di prova", kind=BodyKind.TAVOLO)
    other = Body(name="Altro tavolo di prova", kind=BodyKind.TAVOLO)
    people = {n: User(email=f"{n}@prova.example.org", full_name=n.upper()) for n in "abcde"}
    db.session.add_all([x, y, z, body, other, *people.values()])
    db.session.flush()
    org_of = {"a": x, "b": x, "c": y, "d": z, "e": y}
    for n in "abcd":
        db.session.add(Membership(body_id=body.id, user_id=people[n].id, organisation_id=org_of[n].id))
    start = datetime(2026, 3, 10, 16, 0, tzinfo=UTC)

    def meeting(target, days, status):
        m = Meeting(
            body_id=target.id,
            title=f"M{days}",
            starts_at=start + timedelta(days=days),
            ends_at=start + timedelta(days=days, hours=2),
            status=status,
            created_by_id=people["a"].id,
        )
        db.session.add(m)
        db.session.flush()
        return m

    def rows(m, marks, stands_for=None):
        for n, status in marks.items():
            db.session.add(
                Attendance(
                    meeting_id=m.id,
                    user_id=people[n].id,
                    organisation_id=org_of[n].id,
                    status=status,
                    stands_for_id=people[stands_for].id if stands_for else None,
                )
            )

    P, A, E, R = (
        AttendanceStatus.PRESENT,
        AttendanceStatus.ABSENT,
        AttendanceStatus.EXCUSED,
        AttendanceStatus.REPRESENTED,
    )
    m1 = meeting(body, 0, MeetingStatus.CONCLUDED)
    rows(m1, {"a": P, "b": A, "c": P, "d": E})
    m2 = meeting(body, 30, MeetingStatus.CONCLUDED)
    rows(m2, {"a": A, "b": A, "c": R, "d": P})
    rows(m2, {"e": P}, stands_for="c")  # C's delegate, from the same organisation
    m3 = meeting(body, 60, MeetingStatus.IN_PROGRESS)  # not concluded: does not count yet
    rows(m3, {"a": P, "b": P, "c": P, "d": P})
    m4 = meeting(other, 0, MeetingStatus.CONCLUDED)  # another body: excluded when filtering
    rows(m4, {"a": A})
    db.session.commit()
    return body, m1, m2, x, y, z


def test_attendance_rates_match_hand_computed_numbers(app, db):
    from pdz.meetings import queries
    from pdz.participation import queries as participation
    from pdz.participation.queries import EVER

    body, m1, m2, x, y, z = _fixture(db)
    by_meeting = {r.key: (r.attended, r.expected) for r in queries.rates_by_meeting(body.id)}
    assert by_meeting == {m1.id: (2, 4), m2.id: (2, 4)}
    # The participation dashboard's figures (one definition of attendance for the whole app): an
    # organisation attended a concluded meeting when one of its people did, in person or by delegate.
    by_body = {r.key: (r.attended, r.expected) for r in participation.by_tavolo(EVER)}
    assert by_body[str(body.id)] == (4, 6)  # (meeting, organisation) pairs: X, Y, Z twice; X, Y, Z, Y
    by_org = {r.label: (r.attended, r.expected) for r in participation.by_organisation(EVER, body.id)}
    assert by_org == {"Ente X": (1, 2), "Ente Y": (2, 2), "Ente Z": (1, 2)}
    by_sub = {r.label: (r.attended, r.expected) for r in participation.by_sub_ambito(EVER, body.id)}
    assert by_sub == {"Crema": (2, 4), "Soncino": (3, 4)}
    # Across all bodies, Ente X also has its absence at the other tavolo.
    assert {r.label: (r.attended, r.expected) for r in participation.by_organisation(EVER)}["Ente X"] == (
        1,
        3,
    )


def test_demo_participation_varies_by_sub_ambito(app, db):
    from pdz.participation import queries as participation
    from pdz.participation.queries import EVER

    rates = {r.label: r.attended / r.expected for r in participation.by_sub_ambito(EVER)}
    assert len(rates) == 6 and all(0 < rate < 1 for rate in rates.values())
    assert rates["Soncino"] < rates["Crema"] - 0.1, rates
    orgs = [r.attended / r.expected for r in participation.by_organisation(EVER) if r.expected >= 5]
    assert max(orgs) - min(orgs) > 0.3


def test_meeting_pages_query_count_does_not_grow(app, db, client_as, tavolo, user, count_queries):
    from sqlalchemy import select

    from pdz.cards.models import Card

    coord = client_as("coord.pubblico@example.org")
    card_ids = [
        str(i) for i in db.session.scalars(select(Card.id).where(Card.body_id == tavolo.id).order_by(Card.id))
    ]
    assert len(card_ids) >= 2

    def linked_meeting(titles: list[str]) -> int:  # every item links the tavolo's cards
        meeting_id = create_meeting(coord, tavolo.id)
        for title in titles:
            add_item(coord, meeting_id, title, cards=card_ids)
        assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302
        assert coord.post(f"/incontri/{meeting_id}/avvia").status_code == 302
        return meeting_id

    few_id = linked_meeting(["Uno"])
    many_id = linked_meeting([f"Punto {n}" for n in range(12)])
    plain_id = started_meeting(coord, tavolo.id, items=("Senza schede",))
    from meetings_support import load

    from pdz.db import unit_of_work
    from pdz.meetings import minutes

    for meeting_id in (few_id, many_id):
        meeting = load(db, meeting_id)
        for index, item in enumerate(meeting.items):
            with unit_of_work():
                minutes.append_minutes(
                    load(db, meeting_id), item.id, f"Testo {index}", actor=user("coord.pubblico@example.org")
                )
            coord.post(
                f"/incontri/{meeting_id}/decisioni",
                data={"item_id": str(item.id), "text": f"Decisione {index}"},
            )
            coord.post(
                f"/incontri/{meeting_id}/azioni",
                data={
                    "title": f"Azione {index}",
                    "item_id": str(item.id),
                    "owner_id": str(user("membro@example.org").id),
                },
            )
    counts: dict[str, int] = {}
    for path in ("", "/regia", "/verbale", "/stampa"):
        with count_queries() as few:
            assert coord.get(f"/incontri/{few_id}{path}").status_code == 200
        with count_queries() as many:
            assert coord.get(f"/incontri/{many_id}{path}").status_code == 200
        assert many() == few(), path
        counts[path] = few()
    with count_queries() as plain:
        assert coord.get(f"/incontri/{plain_id}").status_code == 200
    assert plain() <= counts[""]  # the same page (the loop's last `few` is the print page)
    # A draft's page also offers the cards to link: still a fixed number of queries.
    draft_few, draft_many = create_meeting(coord, tavolo.id), create_meeting(coord, tavolo.id)
    add_item(coord, draft_few, "Uno", cards=card_ids)
    for n in range(12):
        add_item(coord, draft_many, f"Punto {n}", cards=card_ids)
    with count_queries() as few:
        assert coord.get(f"/incontri/{draft_few}").status_code == 200
    with count_queries() as many:
        assert coord.get(f"/incontri/{draft_many}").status_code == 200
    assert many() == few()
    with count_queries() as listing:
        assert coord.get(f"/tavoli/{tavolo.id}/incontri").status_code == 200
    assert listing() < 25


def test_meetings_list_leaves_organisations_figures_to_those_who_may_see_them(app, db, client_as, tavolo):
    """docs/permissions.md: `participation.view_tavolo` (each organisation's attendance at the tavolo) is for
    the co-coordinators, the UdP and the administrator, not for members or observers. The meetings list, which
    every member reads, links to that page for those who may open it and shows no per-organisation figures."""
    coord = client_as("coord.pubblico@example.org").get(f"/tavoli/{tavolo.id}/incontri")
    assert coord.status_code == 200
    assert f'href="/tavoli/{tavolo.id}/partecipazione"'.encode() in coord.data
    member = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}/incontri")
    assert member.status_code == 200
    assert b'data-testid="participation-link"' not in member.data
    assert b"Partecipazione per ente" not in member.data and b'data-testid="org-rates"' not in member.data
    assert client_as("membro@example.org").get(f"/tavoli/{tavolo.id}/partecipazione").status_code == 403
