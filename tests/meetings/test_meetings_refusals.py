"""How every refused meeting action answers (issue #18 point 5: the meeting views run their services through
`webutil.run`): bad input in a field sits next to that field and is not flashed; a refusal about the moment
(the meeting's state, not a field) is flashed on top of the page, and also shown by the form when the page has
one; the status says why (422 bad input, 409 a concurrent edit); JSON clients get {"ok": false, "error"}; and
nothing changes: no row, no audit entry, no notice."""

from __future__ import annotations

import html
import re

from meetings_support import (
    add_item,
    convened_meeting,
    create_meeting,
    future_day,
    load,
    started_meeting,
    text,
)
from sqlalchemy import func, select

COORD, CO_COORD, MEMBER = "coord.pubblico@example.org", "coord.ets@example.org", "membro@example.org"

_FLASH = re.compile(r'<p class="flash flash-error">(.*?)</p>', re.S)
_FIELD = re.compile(r'<p class="error" id="([\w-]+)-error">(.*?)</p>', re.S)
_SUMMARY = re.compile(r'<div class="error-summary" role="alert">(.*?)</div>', re.S)


def _flashes(response) -> list[str]:
    return [html.unescape(m) for m in _FLASH.findall(response.get_data(as_text=True))]


def _fields(response) -> dict[str, str]:
    return {name: html.unescape(m) for name, m in _FIELD.findall(response.get_data(as_text=True))}


def _summary(response) -> str:
    found = _SUMMARY.search(response.get_data(as_text=True))
    return html.unescape(found.group(1)) if found else ""


def _state(db) -> tuple[int, ...]:
    """What a refused request must leave untouched."""
    from pdz.audit import AuditEntry
    from pdz.meetings.models import (
        ActionItem,
        AgendaItem,
        AgendaProposal,
        Attendance,
        Decision,
        Meeting,
        QuorumRule,
        Rsvp,
    )
    from pdz.notifications.models import Notification

    db.session.expire_all()
    models = (Meeting, AgendaItem, AgendaProposal, Attendance, Rsvp, Decision, ActionItem, QuorumRule)
    return tuple(
        db.session.scalar(select(func.count()).select_from(model))
        for model in (*models, AuditEntry, Notification)
    )


def test_bad_fields_are_answered_next_to_the_field(app, db, client_as, tavolo, body):
    coord, co_coord, udp = client_as(COORD), client_as(CO_COORD), client_as("udp@example.org")
    meeting_id = create_meeting(coord, tavolo.id, title="Incontro di febbraio")
    add_item(coord, meeting_id, "Apertura")
    item = load(db, meeting_id).items[0]
    before = _state(db)
    late = {"title": "Prova", "day": future_day(), "start": "18:00", "end": "17:00", "place": "Crema"}
    end_first = "L'ora di fine deve essere successiva all'ora di inizio."

    for url in (f"/tavoli/{tavolo.id}/incontri/nuovo", f"/incontri/{meeting_id}/modifica"):
        response = coord.post(url, data=late)
        assert response.status_code == 422, url
        assert _flashes(response) == [] and _fields(response) == {"end": end_first}, url

    response = udp.post(
        f"/tavoli/{body('Comitato Ristretto').id}/incontri/numero-legale",
        data={"kind": "frazione", "numerator": "3", "denominator": "2"},
    )
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"numerator": "La frazione deve essere tra 1/100 e 1 (ad esempio 2/3)."}

    response = coord.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": " "})
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"title": "Indica il titolo del punto."}

    url = f"/incontri/{meeting_id}/ordine-del-giorno/{item.id}"
    response = coord.post(url, data={"version": str(item.version), "title": ""})
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"title": "Indica il titolo del punto."}
    assert 'data-testid="item-conflict"' not in response.get_data(as_text=True)

    # A save based on an old version: 409, the message on the form and the current version beside it.
    response = co_coord.post(url, data={"version": "0", "title": "Apertura dei lavori"})
    assert response.status_code == 409 and _flashes(response) == []
    assert "Nel frattempo qualcun altro ha modificato questo punto" in _summary(response)
    page = text(response)
    assert 'data-testid="item-conflict"' in page and 'value="1"' in page and "Apertura dei lavori" in page

    assert _state(db) == before
    meeting = load(db, meeting_id)
    assert meeting.title == "Incontro di febbraio" and meeting.items[0].title == "Apertura"


def test_refusals_about_the_moment_are_flashed(app, db, client_as, tavolo):
    from pdz.meetings.models import AgendaProposal, MeetingStatus, ProposalStatus

    coord, member = client_as(COORD), client_as(MEMBER)
    empty = create_meeting(coord, tavolo.id, day=future_day(10))
    draft = create_meeting(coord, tavolo.id, day=future_day(12))
    add_item(coord, draft, "Apertura")
    proposed = member.post(
        f"/incontri/{draft}/proposte",
        data={"proposta-title": "Sportello casa", "proposta-description": "Serve un punto sugli sfratti."},
    )
    assert proposed.status_code == 302
    proposal = db.session.scalar(select(AgendaProposal).where(AgendaProposal.meeting_id == draft))
    convened = convened_meeting(coord, tavolo.id, day=future_day(14))
    started = started_meeting(coord, tavolo.id, day=future_day(16))
    before = _state(db)

    nothing = "Aggiungi almeno un punto all'ordine del giorno prima di convocare."
    response = coord.post(f"/incontri/{empty}/convoca")
    assert response.status_code == 422 and _flashes(response) == [nothing]
    response = coord.post(f"/incontri/{empty}/convoca", headers={"Accept": "application/json"})
    assert response.status_code == 422
    assert response.get_json()["ok"] is False and response.get_json()["error"] == nothing

    # The agenda of a started meeting: flashed, and on the agenda form's summary when the page shows it.
    closed = "L'ordine del giorno si modifica solo prima dell'inizio dell'incontro."
    response = coord.post(f"/incontri/{started}/ordine-del-giorno", data={"title": "Varie"})
    assert response.status_code == 422 and _flashes(response) == [closed]

    response = member.post(
        f"/incontri/{convened}/proposte",
        data={"proposta-title": "Sportello casa", "proposta-description": "Serve un punto sugli sfratti."},
    )
    assert response.status_code == 422
    assert _flashes(response) == [
        "Le proposte si raccolgono finché l'incontro è in bozza: la convocazione è già stata inviata "
        "con l'ordine del giorno. Scrivi ai co-coordinatori."
    ]

    # Declining: a missing reason sits under the proposal's reason box, not on top.
    url = f"/incontri/{draft}/proposte/respingi"
    response = coord.post(url, data={"proposal_id": str(proposal.id), "reason": " "})
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {
        f"reason-{proposal.id}": "Scrivi il motivo: chi ha proposto il punto lo leggerà."
    }
    response = coord.post(url, data={"proposal_id": "0", "reason": "Non è di competenza del tavolo."})
    assert response.status_code == 422
    assert _flashes(response) == ["Questa proposta non riguarda questo incontro."]

    assert _state(db) == before
    assert load(db, empty).status == MeetingStatus.DRAFT and len(load(db, started).items) == 3
    db.session.expire_all()
    assert db.session.get(AgendaProposal, proposal.id).status == ProposalStatus.PENDING


def test_attendance_refusals(app, db, client_as, tavolo, user):
    from pdz.meetings.models import Attendance

    coord, member = client_as(COORD), client_as(MEMBER)
    meeting_id = convened_meeting(coord, tavolo.id)
    before = _state(db)
    response = member.post(
        f"/incontri/{meeting_id}/risposta",
        data={"answer": "delega", "delegate_id": str(user(MEMBER).id)},
    )
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"delegate_id": "Non puoi delegare te stesso."}
    assert _state(db) == before

    assert coord.post(f"/incontri/{meeting_id}/avvia").status_code == 302
    before = _state(db)
    wrong = "Codice non valido: controlla il codice mostrato in sala."
    response = member.post(f"/incontri/{meeting_id}/registrazione", data={"code": "ZZZZZZ"})
    assert response.status_code == 422 and _flashes(response) == [] and _fields(response) == {"code": wrong}
    response = member.post(f"/incontri/{meeting_id}/presenza", data={"code": "ZZZZZZ"})  # the QR code's page
    assert response.status_code == 422 and _flashes(response) == []
    assert f'data-testid="checkin-refused"><p>{wrong}</p></div>' in text(response)

    response = coord.post(f"/incontri/{meeting_id}/presenze", data={"user_id": "", "stands_for_id": ""})
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"user_id": "Scegli la persona da registrare."}

    row = db.session.scalar(select(Attendance.id).where(Attendance.meeting_id == meeting_id).limit(1))
    response = coord.post(f"/incontri/{meeting_id}/presenze/{row}", data={"mark": "in-volo", "at": ""})
    assert response.status_code == 422 and _flashes(response) == ["Scegli uno stato valido."]

    stale = "Questa modifica non si può più annullare: nel frattempo le presenze sono cambiate."
    response = coord.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": "0"})
    assert response.status_code == 422 and _flashes(response) == [stale]
    assert _state(db) == before

    assert coord.post(f"/incontri/{meeting_id}/presenze/tutti-presenti").status_code == 302
    before = _state(db)
    response = coord.post(f"/incontri/{meeting_id}/presenze/tutti-presenti")
    assert response.status_code == 422 and _flashes(response) == ["Nessuno risulta assente."]
    assert _state(db) == before


def test_minutes_refusals(app, db, client_as, tavolo):
    coord = client_as(COORD)
    convened = convened_meeting(coord, tavolo.id, day=future_day(10))
    meeting_id = started_meeting(coord, tavolo.id, day=future_day(12))
    before = _state(db)

    response = coord.post(f"/incontri/{convened}/decisioni", data={"item_id": "", "text": "Approvato."})
    assert response.status_code == 422
    assert _flashes(response) == ["Il verbale si scrive durante o dopo l'incontro."]

    response = coord.post(f"/incontri/{meeting_id}/decisioni", data={"item_id": "", "text": " "})
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"text": "Scrivi il testo della decisione."}

    response = coord.post(
        f"/incontri/{meeting_id}/azioni",
        data={"item_id": "", "title": "Mappare gli sportelli", "owner_id": "", "due_on": "2027-02-31"},
    )
    assert response.status_code == 422 and _flashes(response) == []
    assert _fields(response) == {"due_on": "Data di scadenza non valida."}
    assert _state(db) == before

    assert coord.post(f"/incontri/{meeting_id}/chiudi").status_code == 302
    before = _state(db)
    response = coord.post(f"/incontri/{meeting_id}/verbale/approva", data={"approving_meeting_id": "0"})
    assert response.status_code == 422 and _flashes(response) == []
    # no later meeting to choose from: the field is not shown, the form's summary is
    assert _fields(response) == {} and "Controlla i campi evidenziati." in _summary(response)
    assert _state(db) == before
