"""SWOT self-evaluation through HTTP: open, co-write without losing edits, close; bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def swot(client_as: Any, tavolo: Any, db: Any) -> Any:
    from pdz.evaluation.models import SwotAssessment

    response = client_as("coord.pubblico@example.org").post(f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"})
    assert response.status_code == 302
    return db.session.scalar(select(SwotAssessment).where(SwotAssessment.body_id == tavolo.id, SwotAssessment.year == 2026))


def add(client: Any, swot: Any, text: str, dimension: str = "mandato", quadrant: str = "S", **extra: Any) -> Any:
    return client.post(f"/swot/{swot.id}/voci", json={"dimension": dimension, "quadrant": quadrant, "text": text, **extra})


def test_members_write_entries_that_appear_in_the_grid(client_as: Any, swot: Any) -> None:
    member = client_as("membro@example.org")
    reply = add(member, swot, "Rete **ampia**", tags="comunicazione, Rete")
    assert reply.status_code == 200
    assert reply.get_json()["entry"]["tags"] == ["comunicazione", "rete"]
    page = member.get(f"/swot/{swot.id}").get_data(as_text=True)
    assert "Rete <strong>ampia</strong>" in page and "Punti di forza" in page and "Governance" in page


def test_observer_reads_but_cannot_write_and_outsider_sees_nothing(client_as: Any, swot: Any) -> None:
    assert client_as("osservatore@example.org").get(f"/swot/{swot.id}").status_code == 200
    assert add(client_as("osservatore@example.org"), swot, "x").status_code == 403
    assert client_as("disabilita@example.org").get(f"/swot/{swot.id}").status_code == 403
    assert add(client_as("disabilita@example.org"), swot, "x").status_code == 403


def test_retried_add_is_stored_once(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.evaluation.models import SwotEntry

    member = client_as("membro@example.org")
    first = add(member, swot, "Una voce", client_op_id="op-1").get_json()
    again = add(member, swot, "Una voce", client_op_id="op-1").get_json()
    assert first["entry"]["id"] == again["entry"]["id"]
    assert db.session.scalar(select(func.count(SwotEntry.id)).where(SwotEntry.assessment_id == swot.id)) == 1


def test_concurrent_edits_to_different_parts_merge_and_overlaps_conflict(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.evaluation.models import SwotEntryRevision

    alice, bob = client_as("membro@example.org"), client_as("coord.ets@example.org")
    entry = add(alice, swot, "Il tavolo si riunisce ogni mese. Le attività sono tre.").get_json()["entry"]
    url = f"/swot/{swot.id}/voci/{entry['id']}"
    a = alice.post(url, json={"text": "Il tavolo si riunisce ogni due settimane. Le attività sono tre.", "base_version": 1})
    b = bob.post(url, json={"text": "Il tavolo si riunisce ogni mese. Le attività sono quattro.", "base_version": 1})
    assert a.status_code == 200 and b.status_code == 200
    assert b.get_json()["entry"]["text"] == "Il tavolo si riunisce ogni due settimane. Le attività sono quattro."
    d = bob.post(url, json={"text": "Il tavolo si riunisce ogni tre settimane. Le attività sono quattro.", "base_version": 3})
    assert d.status_code == 200
    c = alice.post(url, json={"text": "Il tavolo si riunisce ogni settimana. Le attività sono quattro.", "base_version": 3})
    assert c.status_code == 409
    conflict = c.get_json()
    assert conflict["mine"] == "Il tavolo si riunisce ogni settimana. Le attività sono quattro."
    assert conflict["theirs"] == "Il tavolo si riunisce ogni tre settimane. Le attività sono quattro."
    assert conflict["version"] == 4
    texts = list(db.session.scalars(select(SwotEntryRevision.text).where(SwotEntryRevision.entry_id == entry["id"]).order_by(SwotEntryRevision.version)))
    assert len(texts) == 4 and texts[-1] == conflict["theirs"]  # the refused save changed nothing
    resolved = alice.post(url, json={"text": "Il tavolo si riunisce ogni settimana. Le attività sono quattro.", "base_version": 4})
    assert resolved.status_code == 200 and resolved.get_json()["entry"]["version"] == 5


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"dimension": "mandato", "quadrant": "S", "text": "   "}, "Scrivi il testo"),
        ({"dimension": "mandato", "quadrant": "S", "text": "x" * 2001}, "troppo lungo"),
        ({"dimension": "altro", "quadrant": "S", "text": "x"}, "sconosciuti"),
        ({"dimension": "mandato", "quadrant": "X", "text": "x"}, "sconosciuti"),
        ({"dimension": "mandato", "quadrant": "S", "text": "x", "tags": "a,b,c,d,e,f"}, "Al massimo 5 temi"),
    ],
)
def test_bad_entries_are_refused(client_as: Any, swot: Any, db: Any, payload: dict, message: str) -> None:
    from pdz.evaluation.models import SwotEntry

    reply = client_as("membro@example.org").post(f"/swot/{swot.id}/voci", json=payload)
    assert reply.status_code == 422 and message in reply.get_json()["error"]
    assert db.session.scalar(select(func.count(SwotEntry.id)).where(SwotEntry.assessment_id == swot.id)) == 0


def test_a_year_outside_the_cycle_or_twice_is_refused(client_as: Any, tavolo: Any, swot: Any) -> None:
    coordinator = client_as("coord.pubblico@example.org")
    outside = coordinator.post(f"/tavoli/{tavolo.id}/swot", data={"year": "2031", "kind": "annuale"})
    assert outside.status_code == 422 and "nel ciclo 2025-2027" in outside.get_data(as_text=True)
    twice = coordinator.post(f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"})
    assert twice.status_code == 422 and "esiste già" in twice.get_data(as_text=True)
    assert client_as("membro@example.org").post(f"/tavoli/{tavolo.id}/swot", data={"year": "2027"}).status_code == 403


def test_closing_freezes_the_swot(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.audit import AuditEntry

    member, coordinator = client_as("membro@example.org"), client_as("coord.ets@example.org")
    empty = coordinator.post(f"/swot/{swot.id}/chiudi")
    assert empty.status_code == 303
    entry = add(member, swot, "Prima voce").get_json()["entry"]
    assert member.post(f"/swot/{swot.id}/chiudi").status_code == 403
    assert coordinator.post(f"/swot/{swot.id}/chiudi").status_code == 302
    assert add(member, swot, "Dopo la chiusura").status_code == 422
    edit = member.post(f"/swot/{swot.id}/voci/{entry['id']}", json={"text": "cambiata", "base_version": 1})
    assert edit.status_code == 422 and "chiusa" in edit.get_json()["error"]
    assert db.session.scalar(select(AuditEntry.id).where(AuditEntry.action == "swot.closed", AuditEntry.object_id == swot.id))


def test_entry_of_another_swot_is_not_found(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.evaluation.models import SwotEntry

    other = db.session.scalar(select(SwotEntry).where(SwotEntry.assessment_id != swot.id))
    reply = client_as("membro@example.org").post(f"/swot/{swot.id}/voci/{other.id}", json={"text": "x", "base_version": 1})
    assert reply.status_code == 404


def test_swot_page_queries_do_not_grow_with_entries(client_as: Any, swot: Any, count_queries: Any) -> None:
    member = client_as("membro@example.org")
    add(member, swot, "uno", tags="a")
    with count_queries() as few:
        member.get(f"/swot/{swot.id}")
    for i in range(25):
        add(member, swot, f"voce {i}", dimension=["mandato", "budget", "esiti", "organizzazione", "governance"][i % 5], quadrant="SWOT"[i % 4], tags=f"tema{i % 3}")
    with count_queries() as many:
        member.get(f"/swot/{swot.id}")
    assert many() == few()
