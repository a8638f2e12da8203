"""Exactly once (issue #13 point 2): every create action sent twice at the same moment (a double click, two
tabs of the same person) and then once more stores one row, and every answer is the first one: the same
redirect, or the same JSON with the same id.

Each case signs the same person in twice (two browsers), sends the identical request from both at once
(two threads behind a barrier), then resends it from the first browser."""

from __future__ import annotations

import re
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from conftest import login

ROW_COUNT = "SELECT count(*) FROM {table}"


@dataclass
class Create:
    """One create action: who sends it, where, what, and which table gets the row."""

    email: str
    url: str
    table: str
    data: dict[str, Any] = field(default_factory=dict)
    json: dict[str, Any] | None = None
    where: str = ""


def _count(db: Any, case: Create) -> int:
    db.session.rollback()
    sql = ROW_COUNT.format(table=case.table) + (f" WHERE {case.where}" if case.where else "")
    return int(db.session.execute(text(sql)).scalar_one())


def _send(client: Any, case: Create, key: str) -> Any:
    if case.json is not None:
        return client.post(case.url, json={**case.json, "idempotency_key": key})
    return client.post(case.url, data={**case.data, "idempotency_key": key})


def _answer(response: Any) -> tuple[int, str]:
    """What the person gets: the status and the redirect target, or the JSON without volatile parts."""
    if response.is_json:
        data = response.get_json()
        data.pop("created", None)  # a comment's retry says so (`created: false`); the comment is the same
        return response.status_code, str(data)
    return response.status_code, response.headers.get("Location", response.get_data(as_text=True)[:300])


def exactly_once(app: Any, db: Any, case: Create) -> tuple[int, str]:
    clients = [login(app.test_client(), case.email), login(app.test_client(), case.email)]
    key = uuid.uuid4().hex
    before = _count(db, case)
    barrier = threading.Barrier(2)
    answers: list[Any] = [None, None]

    def send(i: int) -> None:
        barrier.wait()
        answers[i] = _send(clients[i], case, key)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    again = _send(clients[0], case, key)
    first = _answer(answers[0])
    assert first[0] < 400, first
    assert _answer(answers[1]) == first
    assert _answer(again) == first
    assert _count(db, case) == before + 1, case.table
    return first


def _id(db: Any, sql: str, **params: Any) -> int:
    db.session.rollback()
    return int(db.session.execute(text(sql), params).scalar_one())


def _future(days: int = 21) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _meeting(client: Any, body_id: int, *, start: bool = False) -> int:
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": "Incontro", "day": _future(), "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    meeting_id = int(re.search(r"/incontri/(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    assert (
        client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Apertura"}).status_code
        == 302
    )
    if start:
        assert client.post(f"/incontri/{meeting_id}/convoca").status_code == 302
        assert client.post(f"/incontri/{meeting_id}/avvia").status_code == 302
    return meeting_id


COORD = "coord.pubblico@example.org"
UDP = "udp@example.org"


def _cases(app: Any, db: Any, tavolo: Any) -> dict[str, Callable[[], Create]]:
    def coord() -> Any:
        return login(app.test_client(), COORD)

    def meeting_item() -> Create:
        meeting_id = _meeting(coord(), tavolo.id)
        return Create(
            COORD,
            f"/incontri/{meeting_id}/ordine-del-giorno",
            "agenda_items",
            {"title": "Mappatura dei servizi"},
            where=f"meeting_id = {meeting_id}",
        )

    def decision() -> Create:
        meeting_id = _meeting(coord(), tavolo.id, start=True)
        return Create(
            COORD,
            f"/incontri/{meeting_id}/decisioni",
            "meeting_decisions",
            {"item_id": "", "text": "Si approva la mappatura."},
            where=f"meeting_id = {meeting_id}",
        )

    def action() -> Create:
        meeting_id = _meeting(coord(), tavolo.id, start=True)
        owner = _id(db, "SELECT id FROM users WHERE email = 'membro@example.org'")
        return Create(
            COORD,
            f"/incontri/{meeting_id}/azioni",
            "action_items",
            {"item_id": "", "title": "Inviare la mappatura", "owner_id": str(owner), "organisation_id": ""},
            where=f"meeting_id = {meeting_id}",
        )

    def card() -> Create:
        return Create(
            COORD, f"/tavoli/{tavolo.id}/schede/nuova", "cards", {"title": "Nuova scheda", "area_id": "0"}
        )

    def swot() -> Create:
        return Create(
            COORD, f"/tavoli/{tavolo.id}/swot", "swot_assessments", {"year": "2026", "kind": "annuale"}
        )

    def swot_entry() -> Create:
        opened = coord().post(f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"})
        swot_id = int(re.search(r"/swot/(\d+)", opened.headers["Location"]).group(1))  # type: ignore[union-attr]
        return Create(
            "membro@example.org",
            f"/swot/{swot_id}/voci",
            "swot_entries",
            json={
                "dimension": "mandato",
                "quadrant": "S",
                "text": "Rete ampia",
                "client_op_id": uuid.uuid4().hex,
            },
        )

    def comment() -> Create:
        return Create(
            "membro@example.org",
            f"/tavoli/{tavolo.id}/commenti",
            "comments",
            json={
                "target_kind": "tavolo",
                "target_id": tavolo.id,
                "text": "Un commento inviato due volte",
                "client_op_id": uuid.uuid4().hex,
            },
        )

    def card_row() -> Create:
        card_id = _id(db, "SELECT id FROM cards WHERE key = 'A'")
        return Create(
            "membro@example.org",
            f"/schede/{card_id}/righe/risorse",
            "card_budget_lines",
            json={
                "values": {"source": "fsr", "description": "Quota", "amount_cents": "10,00", "counted": True},
                "client_op_id": uuid.uuid4().hex,
            },
        )

    def invitation() -> Create:
        org_id = _id(db, "SELECT id FROM organisations WHERE name = 'Auser Cremasco'")
        return Create(
            "coord.ets@example.org",
            f"/tavoli/{tavolo.id}/componenti/invito",
            "invitations",
            {
                "email": "nuova.volontaria@example.org",
                "full_name": "Nuova Volontaria",
                "organisation_id": str(org_id),
                "role": "membro",
                "function": "volontario",
            },
        )

    def organisation() -> Create:
        return Create(
            UDP,
            "/enti/nuovo",
            "organisations",
            {
                "name": "Associazione Nuovi Orizzonti APS",
                "kind": "ets",
                "legal_form": "aps",
                "runts_number": "123",
            },
        )

    def body() -> Create:
        return Create(
            UDP,
            "/tavoli/nuovo",
            "bodies",
            {"name": "Tavolo Salute Mentale", "kind": "tavolo", "status": "attivo", "description": "Nuovo"},
        )

    def cycle() -> Create:
        return Create(UDP, "/cicli/", "planning_cycles", {"start_year": "2028", "end_year": "2030"})

    def meeting() -> Create:
        return Create(
            COORD,
            f"/tavoli/{tavolo.id}/incontri/nuovo",
            "meetings",
            {
                "title": "Incontro di dicembre",
                "day": _future(),
                "start": "17:00",
                "end": "19:00",
                "place": "Crema",
            },
        )

    return {
        "meeting": meeting,
        "agenda item": meeting_item,
        "decision": decision,
        "action item": action,
        "card": card,
        "card row": card_row,
        "SWOT evaluation": swot,
        "SWOT entry": swot_entry,
        "comment": comment,
        "invitation": invitation,
        "organisation": organisation,
        "body": body,
        "cycle": cycle,
    }


CASES = [
    "meeting",
    "agenda item",
    "decision",
    "action item",
    "card",
    "card row",
    "SWOT evaluation",
    "SWOT entry",
    "comment",
    "invitation",
    "organisation",
    "body",
    "cycle",
]


@pytest.mark.parametrize("name", CASES)
def test_a_create_sent_twice_at_once_and_again_stores_one_row(
    app: Any, db: Any, tavolo: Any, name: str
) -> None:
    exactly_once(app, db, _cases(app, db, tavolo)[name]())


def test_a_failed_create_does_not_use_up_its_key(app: Any, db: Any, client_as: Any, tavolo: Any) -> None:
    """A refused form rolls its key back with it: corrected and resent with the same key, it creates."""
    coord = client_as(COORD)
    url, key = f"/tavoli/{tavolo.id}/incontri/nuovo", uuid.uuid4().hex
    data = {"title": "Incontro", "day": _future(), "start": "19:00", "end": "17:00", "place": "Crema"}
    before = _count(db, Create(COORD, url, "meetings"))
    assert coord.post(url, data={**data, "idempotency_key": key}).status_code == 422
    assert _count(db, Create(COORD, url, "meetings")) == before
    fixed = coord.post(url, data={**data, "end": "20:00", "idempotency_key": key})
    assert fixed.status_code == 302 and "/incontri/" in fixed.headers["Location"]
    assert _count(db, Create(COORD, url, "meetings")) == before + 1


def test_a_key_cannot_be_reused_for_another_action_or_by_someone_else(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    coord, key = client_as(COORD), uuid.uuid4().hex
    meeting = {"title": "Incontro", "day": _future(), "start": "17:00", "end": "19:00", "place": "Crema"}
    assert (
        coord.post(
            f"/tavoli/{tavolo.id}/incontri/nuovo", data={**meeting, "idempotency_key": key}
        ).status_code
        == 302
    )
    cards = _count(db, Create(COORD, "", "cards"))
    other = coord.post(f"/tavoli/{tavolo.id}/schede/nuova", data={"title": "Scheda", "idempotency_key": key})
    assert other.status_code == 422 and "già stato usato" in other.get_data(as_text=True)
    stranger = client_as("coord.ets@example.org").post(
        f"/tavoli/{tavolo.id}/incontri/nuovo", data={**meeting, "idempotency_key": key}
    )
    assert stranger.status_code == 422
    assert _count(db, Create(COORD, "", "cards")) == cards
    bad = coord.post(f"/tavoli/{tavolo.id}/schede/nuova", data={"title": "Scheda", "idempotency_key": "a b"})
    assert bad.status_code == 422 and _count(db, Create(COORD, "", "cards")) == cards


def test_every_form_a_browser_gets_carries_a_fresh_key(client_as: Any, tavolo: Any, app: Any) -> None:
    """Forms built on pdz.inputs.Form render the key beside their CSRF token (CSRF is on in browsers)."""
    coord = client_as(COORD)
    app.config["WTF_CSRF_ENABLED"] = True
    try:
        pages = [coord.get(f"/tavoli/{tavolo.id}/incontri/nuovo").get_data(as_text=True) for _ in range(2)]
    finally:
        app.config["WTF_CSRF_ENABLED"] = False
    keys = [re.findall(r'name="idempotency_key" value="([^"]+)"', page) for page in pages]
    assert keys[0] and keys[1] and set(keys[0]).isdisjoint(keys[1])


def _at_once(clients: list[Any], send: Callable[[Any], Any]) -> list[Any]:
    barrier = threading.Barrier(len(clients))
    answers: list[Any] = [None] * len(clients)

    def run(i: int) -> None:
        barrier.wait()
        answers[i] = send(clients[i])

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(clients))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return answers


def test_two_answers_to_one_invitation_at_once_store_one(app: Any, db: Any, tavolo: Any) -> None:
    """Two tabs (two different keys) answer the same convocation at the same moment: both succeed and the
    member has one answer (the check-then-insert failed on the unique key)."""
    meeting_id = _meeting(login(app.test_client(), COORD), tavolo.id)
    coord = login(app.test_client(), COORD)
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302
    member = _id(db, "SELECT id FROM users WHERE email = 'membro@example.org'")
    for answer in ("partecipa", "non_partecipa"):
        clients = [login(app.test_client(), "membro@example.org") for _ in range(2)]
        answers = _at_once(
            clients, lambda c, a=answer: c.post(f"/incontri/{meeting_id}/risposta", data={"answer": a})
        )
        assert [a.status_code for a in answers] == [302, 302], [
            a.get_data(as_text=True)[:300] for a in answers
        ]
        rows = _id(
            db,
            "SELECT count(*) FROM meeting_rsvps WHERE meeting_id = :m AND user_id = :u",
            m=meeting_id,
            u=member,
        )
        assert rows == 1


def test_following_a_thread_twice_at_once_follows_once(app: Any, db: Any, tavolo: Any) -> None:
    clients = [login(app.test_client(), "membro@example.org") for _ in range(2)]
    url = f"/tavoli/{tavolo.id}/commenti/segui"
    payload = {"target_kind": "tavolo", "target_id": tavolo.id, "follow": True}
    answers = _at_once(clients, lambda c: c.post(url, json=payload))
    assert [a.status_code for a in answers] == [200, 200], [a.get_json() for a in answers]
    member = _id(db, "SELECT id FROM users WHERE email = 'membro@example.org'")
    follows = _id(
        db,
        "SELECT count(*) FROM thread_follows f JOIN comment_threads t ON t.id = f.thread_id "
        "WHERE f.user_id = :u AND t.target_kind = 'tavolo' AND t.target_id = :b",
        u=member,
        b=tavolo.id,
    )
    assert follows == 1
