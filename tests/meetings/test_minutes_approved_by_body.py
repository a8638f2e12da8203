"""Issue #15 point 5: a body approves its own minutes at its next meeting, under the agenda item "Approvazione
del verbale della seduta precedente" (the usual first item of an Italian sitting), not the Assemblea dei
Sindaci. The approved minutes are frozen with their SHA-256 like every approved document, and verify."""

from __future__ import annotations

import hashlib
import re
from datetime import date

from meetings_support import create_meeting, future_day, load, started_meeting, text
from sqlalchemy import func, select

ITALIAN_MONTHS = [
    "gennaio",
    "febbraio",
    "marzo",
    "aprile",
    "maggio",
    "giugno",
    "luglio",
    "agosto",
    "settembre",
    "ottobre",
    "novembre",
    "dicembre",
]
ITEM = "Approvazione del verbale della seduta precedente"


def _long_date(day: str) -> str:
    d = date.fromisoformat(day)
    return f"{d.day} {ITALIAN_MONTHS[d.month - 1]} {d.year}"


def test_a_tavolo_approves_its_minutes_at_its_next_meeting(app, db, client_as, tavolo):
    from pdz.approvals.models import Ballot, Submission
    from pdz.meetings.models import Decision, MinutesStatus

    coord, member = client_as("coord.pubblico@example.org"), client_as("membro@example.org")
    first_day, next_day = future_day(10), future_day(40)

    # The first meeting is held and concluded: its minutes wait.
    first = started_meeting(coord, tavolo.id, day=first_day, title="Incontro di dicembre")
    assert coord.post(f"/incontri/{first}/chiudi").status_code == 302

    # The next meeting of the same tavolo: its agenda offers the item with one click.
    later = create_meeting(coord, tavolo.id, day=next_day, title="Incontro di gennaio")
    page = text(coord.get(f"/incontri/{later}"))
    assert 'data-testid="add-minutes-item"' in page and "Incontro di dicembre" in page
    assert 'data-testid="add-minutes-item"' not in text(member.get(f"/incontri/{later}"))  # members: no
    assert member.post(f"/incontri/{later}/odg/approvazione-verbale").status_code == 403
    assert coord.post(f"/incontri/{later}/odg/approvazione-verbale").status_code == 302
    meeting = load(db, later)
    item = meeting.items[0]
    assert (item.title, item.minutes_of_id, item.position) == (ITEM, first, 1)
    assert item.links[0]["url"] == f"/incontri/{first}/verbale"
    assert 'data-testid="add-minutes-item"' not in text(coord.get(f"/incontri/{later}"))  # offered once
    again = coord.post(f"/incontri/{later}/odg/approvazione-verbale")
    assert again.status_code == 422 and len(load(db, later).items) == 1

    # Nothing is decided before the meeting starts.
    early = coord.post(
        f"/incontri/{later}/punti/{item.id}/approvazione-verbale", data={"decision": "approva"}
    )
    assert early.status_code == 422 and "avvia prima l'incontro" in text(early)
    assert load(db, first).minutes_status == MinutesStatus.DRAFT

    assert coord.post(f"/incontri/{later}/ordine-del-giorno", data={"title": "Varie"}).status_code == 302
    assert coord.post(f"/incontri/{later}/convoca").status_code == 302
    assert coord.post(f"/incontri/{later}/avvia").status_code == 302
    decide = f"/incontri/{later}/punti/{item.id}/approvazione-verbale"

    # Only the co-coordinators record the body's decision; asking changes needs to say which.
    assert member.post(decide, data={"decision": "approva"}).status_code == 403
    bare = coord.post(decide, data={"decision": "modifiche", "note": " "})
    assert bare.status_code == 422 and "quali modifiche" in text(bare)
    asked = coord.post(decide, data={"decision": "modifiche", "note": "Correggere il nome del relatore."})
    assert asked.status_code == 302
    assert load(db, first).minutes_status == MinutesStatus.DRAFT  # still a draft, still editable

    # Then the body approves them: recorded in this meeting's minutes, with its attendance.
    page = text(coord.get(f"/incontri/{later}"))
    assert 'data-testid="approve-minutes"' in page
    assert coord.post(decide, data={"decision": "approva"}).status_code == 302
    earlier = load(db, first)
    assert earlier.minutes_status == MinutesStatus.APPROVED and earlier.minutes_approved_in_id == later
    decisions = [
        d.text
        for d in db.session.scalars(select(Decision).where(Decision.item_id == item.id).order_by(Decision.id))
    ]
    assert len(decisions) == 2
    assert "chieste modifiche: Correggere il nome del relatore." in decisions[0]
    assert "è approvato" in decisions[1] and re.search(r"Enti presenti \d+ su \d+\.", decisions[1])
    assert "è approvato" in load(db, later).items[0].minutes_source

    # Frozen like every approved document: by the tavolo itself, no Assemblea step, no ballot.
    frozen = db.session.scalars(
        select(Submission).where(Submission.document_kind == "verbale", Submission.document_id == first)
    ).all()
    assert len(frozen) == 1
    sub = frozen[0]
    assert sub.status == "approvata" and sub.body_id == tavolo.id
    assert [s.as_json() for s in sub.steps] == [{"body_kind": "tavolo", "mode": "esame"}]
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.submission_id == sub.id)) == 0
    assert hashlib.sha256(sub.content.encode("utf-8")).hexdigest() == sub.fingerprint
    assert "Incontro di dicembre" in sub.content

    # The minutes page says when it was approved and shows the fingerprint, which verifies.
    minutes = text(member.get(f"/incontri/{first}/verbale"))
    assert f"Verbale approvato nella seduta del {_long_date(next_day)}" in minutes
    assert sub.fingerprint in minutes
    verified = text(client_as("membro@example.org").post("/verifica", data={"fingerprint": sub.fingerprint}))
    assert (
        "Incontro di dicembre" in verified and "NON" not in verified.split("Incontro di dicembre")[0][-200:]
    )
    assert client_as("udp@example.org").get(f"/pubblico/{sub.id}").status_code == 200
    assert sub.fingerprint in text(member.get(f"/approvazioni/{sub.id}"))
    approval_page = text(coord.get(f"/incontri/{first}/verbale/approvazione"))
    assert 'data-testid="same-body"' in approval_page and f"/approvazioni/{sub.id}" in approval_page

    # Approved is final: no second decision.
    twice = coord.post(decide, data={"decision": "approva"})
    assert twice.status_code == 422 and "già stato approvato" in text(twice)


def test_minutes_no_longer_go_to_the_assemblea(app, db, client_as, tavolo):
    """The chain's submit of minutes (once UdP Integrato, then the Assemblea's vote) is refused, and the
    chains page explains who approves minutes instead of offering a chain for them."""
    from pdz.approvals.models import Submission

    coord, udp = client_as("coord.pubblico@example.org"), client_as("udp@example.org")
    held = started_meeting(coord, tavolo.id, day=future_day(10), title="Incontro di dicembre")
    assert coord.post(f"/incontri/{held}/chiudi").status_code == 302
    page = text(coord.get(f"/incontri/{held}/verbale/approvazione"))
    assert 'data-testid="same-body"' in page and 'name="fingerprint"' not in page
    refused = coord.post(f"/incontri/{held}/verbale/approvazione", data={"fingerprint": "0" * 64})
    assert refused.status_code == 422 and "lo approva lo stesso organismo" in text(refused)
    assert (
        db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.document_kind == "verbale", Submission.document_id == held
            )
        )
        == 0
    )
    chains = text(udp.get("/approvazioni/catene"))
    assert 'data-testid="chain-minutes"' in chains and 'data-testid="chain-verbale"' not in chains
    configured = udp.post(
        "/approvazioni/catene",
        data={"document_kind": "verbale", "body_kind_0": "assemblea_sindaci", "mode_0": "voto"},
    )
    assert configured.status_code == 422
