"""The whole life of a meeting through HTTP: schedule, agenda, convocation, answers, live running,
attendance, minutes, decisions, actions, approval and freezing, print and PDF. Co-writing the minutes' text
over Socket.IO is in test_minutes_coedit.py; here a paragraph goes in as the server adds one (a ballot's outcome)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from icalendar import Calendar
from meetings_support import add_item, create_meeting, future_day, load, started_meeting
from sqlalchemy import select

from conftest import outbox


def test_meeting_lifecycle(app, db, client_as, tavolo, user):
    from pdz.audit import AuditEntry
    from pdz.errors import Invalid
    from pdz.meetings.models import AttendanceStatus, MeetingStatus, MinutesStatus

    coord = client_as("coord.pubblico@example.org")
    co_coord = client_as("coord.ets@example.org")
    member = client_as("membro@example.org")

    # A co-coordinator schedules; both co-coordinators draft the agenda.
    meeting_id = create_meeting(coord, tavolo.id, day=future_day(10), title="Incontro di novembre")
    add_item(
        coord,
        meeting_id,
        "Mappatura delle organizzazioni",
        presenter="Paolo Donati",
        planned_minutes="30",
        links="Mappa 2024 | https://example.org/mappa.pdf",
    )
    add_item(co_coord, meeting_id, "Proposte di progetto", description="Bandi in scadenza")
    meeting = load(db, meeting_id)
    assert meeting.status == MeetingStatus.DRAFT
    assert [i.title for i in meeting.items] == ["Mappatura delle organizzazioni", "Proposte di progetto"]
    assert meeting.items[0].links == [{"title": "Mappa 2024", "url": "https://example.org/mappa.pdf"}]
    assert meeting.items[0].planned_minutes == 30
    # Drafts are shown to members, who may propose agenda items (issue #16 point 6), not to observers.
    assert "Incontro di novembre" in member.get(f"/tavoli/{tavolo.id}/incontri").get_data(as_text=True)
    observer = client_as("osservatore@example.org")
    assert "Incontro di novembre" not in observer.get(f"/tavoli/{tavolo.id}/incontri").get_data(as_text=True)
    # Move the second item up.
    assert (
        co_coord.post(
            f"/incontri/{meeting_id}/ordine-del-giorno/{meeting.items[1].id}/sposta", data={"direction": "up"}
        ).status_code
        == 302
    )
    assert [i.title for i in load(db, meeting_id).items][0] == "Proposte di progetto"

    # Publishing = convocation: every member gets an e-mail with an .ics invitation.
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302
    meeting = load(db, meeting_id)
    assert meeting.status == MeetingStatus.CONVENED and meeting.sequence == 0
    mails = outbox(db, "membro@example.org")
    assert mails[-1].subject.startswith("Convocazione")
    attachment = mails[-1].attachments[0]
    assert attachment["content_type"] == "text/calendar; method=REQUEST"
    event = Calendar.from_ical(attachment["content"]).walk("VEVENT")[0]
    assert str(event["UID"]) == meeting.uid and int(event["SEQUENCE"]) == 0
    assert outbox(db, "osservatore@example.org"), "observers are convened too"
    assert not outbox(db, "disabilita@example.org"), "outsiders are not"
    page = member.get(f"/tavoli/{tavolo.id}/incontri").get_data(as_text=True)
    assert "Incontro di novembre" in page
    assert "Incontro di novembre" in member.get("/").get_data(as_text=True)  # home: upcoming meetings

    # Members answer.
    assert member.post(f"/incontri/{meeting_id}/risposta", data={"answer": "partecipa"}).status_code == 302
    assert "Partecipo" in member.get(f"/incontri/{meeting_id}").get_data(as_text=True)
    osservatore = client_as("osservatore@example.org")
    assert (
        osservatore.post(f"/incontri/{meeting_id}/risposta", data={"answer": "non_partecipa"}).status_code
        == 302
    )

    # The coordinator starts it: a code, an attendance sheet with every member.
    assert coord.post(f"/incontri/{meeting_id}/avvia").status_code == 302
    meeting = load(db, meeting_id)
    code = meeting.checkin_code
    assert meeting.status == MeetingStatus.IN_PROGRESS and len(code) == 6
    sheet = {a.user.email: a for a in meeting.attendances}
    assert sheet["membro@example.org"].status == AttendanceStatus.ABSENT
    assert sheet["osservatore@example.org"].status == AttendanceStatus.EXCUSED  # answered "non partecipo"
    assert meeting.current_item_id == meeting.items[0].id
    assert code in coord.get(f"/incontri/{meeting_id}/regia").get_data(as_text=True)

    # The member checks in with the code (lower case, spaces tolerated).
    response = member.post(f"/incontri/{meeting_id}/registrazione", data={"code": " " + code.lower() + " "})
    assert response.status_code == 302
    row = next(a for a in load(db, meeting_id).attendances if a.user.email == "membro@example.org")
    assert row.status == AttendanceStatus.PRESENT and row.self_checkin and row.arrived_at is not None

    # The coordinator moves the current item and marks attendance: late arrival and early leave.
    second = load(db, meeting_id).items[1]
    response = coord.post(
        f"/incontri/{meeting_id}/punto-corrente",
        json={"item_id": second.id},
        headers={"Accept": "application/json"},
    )
    assert response.get_json() == {"ok": True, "item_id": second.id, "title": second.title}
    assert load(db, meeting_id).current_item_id == second.id
    ets_row = next(a for a in load(db, meeting_id).attendances if a.user.email == "coord.ets@example.org")
    assert (
        coord.post(
            f"/incontri/{meeting_id}/presenze/{ets_row.id}", data={"mark": "ritardo", "at": "17:25"}
        ).status_code
        == 302
    )
    assert (
        coord.post(
            f"/incontri/{meeting_id}/presenze/{ets_row.id}", data={"mark": "uscita", "at": "18:40"}
        ).status_code
        == 302
    )
    ets_row = next(a for a in load(db, meeting_id).attendances if a.user.email == "coord.ets@example.org")
    starts = load(db, meeting_id).starts_at
    assert ets_row.arrived_at == starts + timedelta(minutes=25) and ets_row.left_at == starts + timedelta(
        minutes=100
    )
    assert "arrivo 17:25" in coord.get(f"/incontri/{meeting_id}/regia").get_data(as_text=True)

    # Minutes: a paragraph added by the server (as a ballot's outcome is), one revision by its author.
    from pdz.db import unit_of_work
    from pdz.meetings import minutes
    from pdz.meetings.models import MinutesRevision

    item = load(db, meeting_id).items[0]
    with unit_of_work():
        minutes.append_minutes(
            load(db, meeting_id),
            item.id,
            "Si decide di aggiornare la mappa entro marzo.",
            actor=user("coord.pubblico@example.org"),
        )
    item = load(db, meeting_id).items[0]
    assert (
        item.minutes_source == "Si decide di aggiornare la mappa entro marzo."
        and "entro marzo" in item.minutes_html
    )
    assert [
        (r.number, r.author_id)
        for r in db.session.scalars(select(MinutesRevision).where(MinutesRevision.item_id == item.id))
    ] == [(1, user("coord.pubblico@example.org").id)]
    # Members read the minutes (rendered) but get no editor.
    page = member.get(f"/incontri/{meeting_id}/verbale").get_data(as_text=True)
    assert "entro marzo" in page and "data-coedit-doc" not in page

    # Decisions and action items.
    assert (
        coord.post(
            f"/incontri/{meeting_id}/decisioni", data={"item_id": str(item.id), "text": "Aggiornare la mappa"}
        ).status_code
        == 302
    )
    membro = user("membro@example.org")
    assert (
        coord.post(
            f"/incontri/{meeting_id}/azioni",
            data={
                "title": "Raccogliere i dati di Soncino",
                "owner_id": str(membro.id),
                "organisation_id": "",
                "item_id": "",
                "due_on": future_day(40),
            },
        ).status_code
        == 302
    )
    action = load(db, meeting_id).actions[0]
    assert action.owner_id == membro.id and action.organisation.name == "Banco di Solidarietà Cremasco ODV"
    assert "Raccogliere i dati di Soncino" in member.get("/incontri/").get_data(
        as_text=True
    )  # my open actions
    assert "Raccogliere i dati di Soncino" in member.get(f"/tavoli/{tavolo.id}/incontri").get_data(
        as_text=True
    )

    # Conclude; the code no longer works.
    assert coord.post(f"/incontri/{meeting_id}/chiudi").status_code == 302
    meeting = load(db, meeting_id)
    assert meeting.status == MeetingStatus.CONCLUDED and meeting.checkin_code is None

    # Approval happens at a later meeting of the same body; then minutes and attendance are frozen.
    later_id = started_meeting(coord, tavolo.id, day=future_day(40), title="Incontro successivo")
    assert (
        coord.post(
            f"/incontri/{meeting_id}/verbale/approva", data={"approving_meeting_id": str(later_id)}
        ).status_code
        == 302
    )
    meeting = load(db, meeting_id)
    assert meeting.minutes_status == MinutesStatus.APPROVED and meeting.minutes_approved_in_id == later_id
    with pytest.raises(Invalid, match="approvato"), unit_of_work():
        minutes.append_minutes(
            load(db, meeting_id), item.id, "cambio", actor=user("coord.pubblico@example.org")
        )
    assert load(db, meeting_id).items[0].minutes_source == "Si decide di aggiornare la mappa entro marzo."
    assert "data-coedit-doc" not in coord.get(f"/incontri/{meeting_id}/verbale").get_data(as_text=True)
    response = coord.post(
        f"/incontri/{meeting_id}/presenze/{ets_row.id}", data={"mark": "presente", "at": ""}
    )
    assert response.status_code == 422 and "approvato" in response.get_data(as_text=True)
    response = coord.post(f"/incontri/{meeting_id}/decisioni", data={"item_id": "", "text": "Altro"})
    assert response.status_code == 422
    assert (
        load(db, meeting_id).minutes_status == MinutesStatus.APPROVED
        and len(load(db, meeting_id).decisions) == 1
    )
    assert "definitivi" in member.get(f"/incontri/{meeting_id}/verbale").get_data(as_text=True)
    # The owner still closes their action: follow-up goes on after approval.
    assert (
        member.post(
            f"/incontri/{meeting_id}/azioni/{action.id}/stato", data={"status": "completata"}
        ).status_code
        == 302
    )
    assert load(db, meeting_id).actions[0].status.value == "completata"

    # Printable page and PDF.
    printable = member.get(f"/incontri/{meeting_id}/stampa").get_data(as_text=True)
    assert "entro marzo" in printable and "Aggiornare la mappa" in printable
    pdf = member.get(f"/incontri/{meeting_id}/verbale.pdf")
    assert pdf.status_code == 200 and pdf.mimetype == "application/pdf" and pdf.data.startswith(b"%PDF")

    actions = {
        e.action
        for e in db.session.scalars(
            select(AuditEntry).where(AuditEntry.object_type == "meetings", AuditEntry.object_id == meeting_id)
        )
    }
    assert {
        "meeting.scheduled",
        "meeting.published",
        "meeting.started",
        "meeting.checked_in",
        "meeting.minutes_saved",
        "meeting.concluded",
        "meeting.minutes_approved",
    } <= actions
