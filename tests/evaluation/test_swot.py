"""SWOT self-evaluation through HTTP: open, add and remove entries, close; bad input changes nothing.
(The entries' text is co-written: tests/evaluation/test_swot_coedit.py.)"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def swot(client_as: Any, tavolo: Any, db: Any) -> Any:
    from pdz.evaluation.models import SwotAssessment

    response = client_as("coord.pubblico@example.org").post(
        f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"}
    )
    assert response.status_code == 302
    return db.session.scalar(
        select(SwotAssessment).where(SwotAssessment.body_id == tavolo.id, SwotAssessment.year == 2026)
    )


def add(
    client: Any, swot: Any, text: str, dimension: str = "mandato", quadrant: str = "S", **extra: Any
) -> Any:
    return client.post(
        f"/swot/{swot.id}/voci", json={"dimension": dimension, "quadrant": quadrant, "text": text, **extra}
    )


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


def test_adding_records_the_first_revision_and_removing_hides_the_entry(
    client_as: Any, swot: Any, db: Any
) -> None:
    from pdz.evaluation.models import SwotEntry, SwotEntryRevision

    member = client_as("membro@example.org")
    entry = add(member, swot, "Il tavolo si riunisce ogni mese.").get_json()["entry"]
    revisions = db.session.execute(
        select(SwotEntryRevision.version, SwotEntryRevision.text).where(
            SwotEntryRevision.entry_id == entry["id"]
        )
    ).all()
    assert [tuple(r) for r in revisions] == [(1, "Il tavolo si riunisce ogni mese.")]
    page = member.get(f"/swot/{swot.id}").get_data(as_text=True)
    assert f'data-coedit-field="entry:{entry["id"]}"' in page and f'data-coedit-doc="swot:{swot.id}"' in page
    assert member.post(f"/swot/{swot.id}/voci/{entry['id']}/rimuovi", json={}).status_code == 200
    db.session.expire_all()
    assert db.session.get(SwotEntry, entry["id"]).removed_at is not None
    assert f'data-coedit-field="entry:{entry["id"]}"' not in member.get(f"/swot/{swot.id}").get_data(
        as_text=True
    )


def test_the_old_edit_route_is_gone(client_as: Any, swot: Any) -> None:
    member = client_as("membro@example.org")
    entry = add(member, swot, "Una voce").get_json()["entry"]
    assert member.post(
        f"/swot/{swot.id}/voci/{entry['id']}", json={"text": "x", "base_version": 1}
    ).status_code in (404, 405)


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
    assert (
        client_as("membro@example.org").post(f"/tavoli/{tavolo.id}/swot", data={"year": "2027"}).status_code
        == 403
    )


def test_closing_freezes_the_swot(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.audit import AuditEntry

    member, coordinator = client_as("membro@example.org"), client_as("coord.ets@example.org")
    empty = coordinator.post(f"/swot/{swot.id}/chiudi")
    assert empty.status_code == 422  # refused, with the reason on the SWOT's page
    entry = add(member, swot, "Prima voce").get_json()["entry"]
    assert member.post(f"/swot/{swot.id}/chiudi").status_code == 403
    assert coordinator.post(f"/swot/{swot.id}/chiudi").status_code == 302
    assert add(member, swot, "Dopo la chiusura").status_code == 422
    removal = member.post(f"/swot/{swot.id}/voci/{entry['id']}/rimuovi", json={})
    assert removal.status_code == 422 and "chiusa" in removal.get_json()["error"]
    assert db.session.scalar(
        select(AuditEntry.id).where(AuditEntry.action == "swot.closed", AuditEntry.object_id == swot.id)
    )


def test_entry_of_another_swot_is_not_found(client_as: Any, swot: Any, db: Any) -> None:
    from pdz.evaluation.models import SwotEntry

    other = db.session.scalar(select(SwotEntry).where(SwotEntry.assessment_id != swot.id))
    reply = client_as("membro@example.org").post(f"/swot/{swot.id}/voci/{other.id}/rimuovi", json={})
    assert reply.status_code == 404
    db.session.expire_all()
    assert db.session.get(SwotEntry, other.id).removed_at is None


def test_swot_page_queries_do_not_grow_with_entries(client_as: Any, swot: Any, count_queries: Any) -> None:
    member = client_as("membro@example.org")
    add(member, swot, "uno", tags="a")
    with count_queries() as few:
        member.get(f"/swot/{swot.id}")
    for i in range(25):
        add(
            member,
            swot,
            f"voce {i}",
            dimension=["mandato", "budget", "esiti", "organizzazione", "governance"][i % 5],
            quadrant="SWOT"[i % 4],
            tags=f"tema{i % 3}",
        )
    with count_queries() as many:
        member.get(f"/swot/{swot.id}")
    assert many() == few()
