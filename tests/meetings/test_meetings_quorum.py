"""Quorum computed live from attendance: per-body rule (majority / fraction), with and without weights by
comune population, with delegations; and the delegation rules themselves."""

from __future__ import annotations

from meetings_support import started_meeting
from sqlalchemy import select

COMITATO = "Comitato Ristretto"
ASSEMBLEA = "Assemblea dei Sindaci (di Ambito)"


def _quorum(client, meeting_id):
    response = client.get(f"/incontri/{meeting_id}/numero-legale", headers={"Accept": "application/json"})
    assert response.status_code == 200
    return response.get_json()


def _register(client, meeting_id, person, stands_for=None):
    return client.post(
        f"/incontri/{meeting_id}/presenze",
        data={"user_id": str(person.id), "stands_for_id": str(stands_for.id) if stands_for else ""},
    )


def _present(client, db, meeting_id, person):
    """Mark a member already on the attendance sheet as present."""
    from pdz.meetings.models import Attendance

    row = db.session.scalar(
        select(Attendance.id).where(Attendance.meeting_id == meeting_id, Attendance.user_id == person.id)
    )
    response = client.post(f"/incontri/{meeting_id}/presenze/{row}", data={"mark": "presente", "at": ""})
    assert response.status_code == 302
    return response


def _new_person(db, email, org_name):
    from pdz.accounts.models import Affiliation, Function, User
    from pdz.orgs.models import Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.name == org_name))
    person = User(email=email, full_name="Assessora di prova", password_hash=None)
    db.session.add(person)
    db.session.flush()
    db.session.add(Affiliation(user_id=person.id, organisation_id=org.id, function=Function.ASSESSORE))
    db.session.commit()
    return person


def test_majority_quorum_with_a_delegation(app, db, client_as, body, user):
    comitato = body(COMITATO)
    udp = client_as("udp@example.org")
    meeting_id = started_meeting(udp, comitato.id, title="Seduta del Comitato")
    state = _quorum(udp, meeting_id)
    assert state == {
        **state,
        "kind": "maggioranza",
        "weighted": False,
        "total": 6,
        "present": 0,
        "required": 4,
        "reached": False,
    }
    code = (
        udp.get(f"/incontri/{meeting_id}/regia")
        .get_data(as_text=True)
        .split('data-testid="checkin-code">')[1][:6]
    )

    # The mayor of Offanengo checks in herself; the UdP registers two more mayors.
    sindaco = client_as("sindaco@example.org")
    assert sindaco.post(f"/incontri/{meeting_id}/registrazione", data={"code": code}).status_code == 302
    for comune in ("crema", "castelleone"):
        _present(udp, db, meeting_id, user(f"sindaco.{comune}@example.org"))
    assert _quorum(udp, meeting_id)["present"] == 3 and not _quorum(udp, meeting_id)["reached"]
    assert "Non raggiunto" in udp.get(f"/incontri/{meeting_id}/regia").get_data(as_text=True)

    # The mayor of Soncino is absent and delegates an assessora of her comune, who checks in with the code.
    assessora = _new_person(db, "assessora.soncino@example.org", "Comune di Soncino")
    soncino = client_as("sindaco.soncino@example.org")
    # ... not someone of another comune: refused, nothing recorded.
    response = soncino.post(
        f"/incontri/{meeting_id}/risposta",
        data={"answer": "delega", "delegate_id": str(user("delegato@example.org").id)},
    )
    assert response.status_code == 422 and "stesso ente" in response.get_data(as_text=True)
    from pdz.meetings.models import AttendanceStatus, Rsvp

    assert (
        db.session.scalar(
            select(Rsvp).where(
                Rsvp.meeting_id == meeting_id, Rsvp.user_id == user("sindaco.soncino@example.org").id
            )
        )
        is None
    )
    assert (
        soncino.post(
            f"/incontri/{meeting_id}/risposta", data={"answer": "delega", "delegate_id": str(assessora.id)}
        ).status_code
        == 302
    )
    from conftest import login

    delegate_client = app.test_client()
    from pdz.accounts.services import hash_password

    assessora.password_hash = hash_password("demo")
    db.session.commit()
    login(delegate_client, "assessora.soncino@example.org")
    assert (
        delegate_client.get(f"/incontri/{meeting_id}").status_code == 200
    )  # a named delegate may follow the meeting
    assert (
        delegate_client.post(f"/incontri/{meeting_id}/registrazione", data={"code": code}).status_code == 302
    )
    state = _quorum(udp, meeting_id)
    assert state["present"] == 4 and state["reached"] is True and state["seats_present"] == 4
    db.session.expire_all()
    from pdz.meetings.models import Attendance

    rows = {
        a.user_id: a
        for a in db.session.scalars(select(Attendance).where(Attendance.meeting_id == meeting_id))
    }
    assert rows[assessora.id].stands_for_id == user("sindaco.soncino@example.org").id
    assert rows[assessora.id].organisation.name == "Comune di Soncino"
    assert rows[user("sindaco.soncino@example.org").id].status == AttendanceStatus.REPRESENTED

    # An early leave takes the seat away again.
    crema_row = rows[user("sindaco.crema@example.org").id]
    assert (
        udp.post(
            f"/incontri/{meeting_id}/presenze/{crema_row.id}", data={"mark": "uscita", "at": ""}
        ).status_code
        == 302
    )
    assert _quorum(udp, meeting_id)["present"] == 3 and not _quorum(udp, meeting_id)["reached"]

    # A delegate from another organisation is refused by the coordinator too; a person registered twice as well.
    response = _register(udp, meeting_id, assessora, stands_for=user("sindaco.soncino@example.org"))
    assert response.status_code == 422 and "già registrato" in response.get_data(as_text=True)
    response = _register(
        udp, meeting_id, user("delegato@example.org"), stands_for=user("sindaco.sergnano@example.org")
    )
    assert response.status_code == 422 and "stesso ente" in response.get_data(as_text=True)
    response = _register(udp, meeting_id, user("sindaco.castelleone@example.org"))
    assert response.status_code == 422 and "già registrato" in response.get_data(as_text=True)
    assert _quorum(udp, meeting_id)["present"] == 3


def test_fraction_rule_configured_by_the_udp(app, db, client_as, body, user):
    comitato = body(COMITATO)
    udp = client_as("udp@example.org")
    assert (
        client_as("sindaco@example.org").get(f"/tavoli/{comitato.id}/incontri/numero-legale").status_code
        == 403
    )
    response = udp.post(
        f"/tavoli/{comitato.id}/incontri/numero-legale",
        data={"kind": "frazione", "numerator": "3", "denominator": "2"},
    )
    assert response.status_code == 422 and "frazione" in response.get_data(as_text=True)
    assert (
        udp.post(
            f"/tavoli/{comitato.id}/incontri/numero-legale",
            data={"kind": "frazione", "numerator": "2", "denominator": "3"},
        ).status_code
        == 302
    )
    meeting_id = started_meeting(udp, comitato.id)
    assert _quorum(udp, meeting_id)["required"] == 4  # ceil(6 * 2/3)
    for comune in ("crema", "castelleone", "soncino"):
        _present(udp, db, meeting_id, user(f"sindaco.{comune}@example.org"))
    assert not _quorum(udp, meeting_id)["reached"]
    _present(udp, db, meeting_id, user("sindaco.sergnano@example.org"))
    assert _quorum(udp, meeting_id)["reached"]
    # No rule: nothing to show.
    assert (
        udp.post(f"/tavoli/{comitato.id}/incontri/numero-legale", data={"kind": "nessuno"}).status_code == 302
    )
    assert _quorum(udp, meeting_id)["applies"] is False
    assert (
        "Numero legale"
        not in udp.get(f"/incontri/{meeting_id}")
        .get_data(as_text=True)
        .split("<main")[1]
        .split("Calendario")[0]
    )


def test_weighted_quorum_of_the_assemblea_with_the_pandino_delegate(app, db, client_as, body, user):
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Membership
    from pdz.territory.models import Comune

    assemblea = body(ASSEMBLEA)
    populations = dict(
        db.session.execute(
            select(Organisation.name, Comune.population)
            .join(Comune, Comune.id == Organisation.represents_comune_id)
            .join(Membership, Membership.organisation_id == Organisation.id)
            .where(Membership.body_id == assemblea.id, Membership.ended_at.is_(None))
        ).all()
    )
    assert len(populations) == 48
    total = sum(populations.values())
    udp = client_as("udp@example.org")
    meeting_id = started_meeting(udp, assemblea.id, title="Assemblea di dicembre")
    state = _quorum(udp, meeting_id)
    assert state["weighted"] is True and state["total"] == total and state["required"] == total // 2 + 1
    assert state["seats_total"] == 48

    # Crema alone is far from half of the Ambito's population.
    _present(udp, db, meeting_id, user("sindaco.crema@example.org"))
    assert _quorum(udp, meeting_id)["present"] == populations["Comune di Crema"]
    # The Pandino delegate (a delegate member) checks in with the code: Pandino's inhabitants count.
    code = (
        udp.get(f"/incontri/{meeting_id}/regia")
        .get_data(as_text=True)
        .split('data-testid="checkin-code">')[1][:6]
    )
    assert (
        client_as("delegato@example.org")
        .post(f"/incontri/{meeting_id}/registrazione", data={"code": code})
        .status_code
        == 302
    )
    expected = populations["Comune di Crema"] + populations["Comune di Pandino"]
    assert _quorum(udp, meeting_id)["present"] == expected
    # Add the largest comuni until more than half of the inhabitants are represented.
    from pdz.demo import slug

    for name, population in sorted(populations.items(), key=lambda kv: -kv[1]):
        if name in ("Comune di Crema", "Comune di Pandino", "Comune di Offanengo"):
            continue
        if expected >= total // 2 + 1:
            break
        assert not _quorum(udp, meeting_id)["reached"]
        _present(udp, db, meeting_id, user(f"sindaco.{slug(name.removeprefix('Comune di '))}@example.org"))
        expected += population
    state = _quorum(udp, meeting_id)
    assert state["present"] == expected and state["reached"] is True
    assert state["seats_present"] < 24, "a minority of comuni can hold the majority of inhabitants"
