"""Hostile comment input (issue #13 point 1): a clear Italian 4xx (or a refused socket answer), nothing stored."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select

HUGE = [2**31, 2**63, 99999999999999999999999]


def count(db: Any, model: Any) -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(model)) or 0


def send(client: Any, body: Any, **fields: Any) -> Any:
    payload = {
        "target_kind": "tavolo",
        "target_id": body.id,
        "text": "Va bene",
        "client_op_id": uuid.uuid4().hex,
    }
    payload.update(fields)
    return client.post(f"/tavoli/{body.id}/commenti", json=payload, headers={"Accept": "application/json"})


@pytest.fixture
def comments(db: Any) -> Any:
    from pdz.comments.models import Comment

    return lambda: count(db, Comment)


@pytest.mark.parametrize(
    "fields",
    [
        *[{"target_id": n} for n in HUGE],
        {"target_id": -1},
        {"target_id": True},
        {"target_id": [1]},
        *[{"parent_id": n} for n in HUGE],
        {"parent_id": -3},
        {"parent_id": {"id": 1}},
        *[{"mention_ids": [n]} for n in HUGE],
        {"mention_ids": [True]},
        {"mention_ids": "12"},
        {"mention_ids": {"1": 1}},
        {"text": ["x"]},
        {"text": {"x": 1}},
        {"text": 12},
    ],
    ids=repr,
)
def test_out_of_range_ids_and_wrong_shapes_are_refused(
    client_as: Any, tavolo: Any, comments: Any, fields: Any
):
    before = comments()
    response = send(client_as("membro@example.org"), tavolo, **fields)
    assert 400 <= response.status_code < 500, response.get_data(as_text=True)[:300]
    assert response.json["ok"] is False and response.json["error"]
    assert comments() == before


@pytest.mark.parametrize("text", ["a\x00b", "\ud800", "fine \udfff"], ids=repr)
def test_nul_and_broken_unicode_are_refused(client_as: Any, tavolo: Any, comments: Any, text: str):
    before = comments()
    response = send(client_as("membro@example.org"), tavolo, text=text)
    assert response.status_code == 400
    assert "carattere nullo" in response.json["error"] or "Unicode" in response.json["error"]
    assert comments() == before


@pytest.mark.parametrize("raw", [b'{"text": "x"', b"[1, 2]", b'"testo"', b"null", b"\xff\xfe"], ids=repr)
def test_malformed_json_is_called_a_bad_request_not_an_unknown_discussion(
    client_as: Any, tavolo: Any, comments: Any, raw: bytes
):
    before = comments()
    response = client_as("membro@example.org").post(
        f"/tavoli/{tavolo.id}/commenti", data=raw, content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json["error"].startswith("Richiesta non valida")
    assert "Discussione" not in response.json["error"]
    assert comments() == before


def test_edit_and_read_marker_refuse_the_same_input(client_as: Any, tavolo: Any, db: Any):
    client = client_as("membro@example.org")
    created = send(client, tavolo, text="Prima versione")
    assert created.status_code == 201
    comment_id = created.json["comment"]["id"]
    for text in (["x"], "a\x00b"):
        response = client.post(f"/tavoli/{tavolo.id}/commenti/{comment_id}/modifica", json={"text": text})
        assert 400 <= response.status_code < 500
    from pdz.comments.models import Comment

    db.session.expire_all()
    assert db.session.get(Comment, comment_id).body_source == "Prima versione"
    url = f"/tavoli/{tavolo.id}/commenti/letti"
    thread_id = created.json["comment"]["thread_id"]
    for fields, status in [
        ({"thread_id": 2**63, "last_comment_id": 1}, 404),
        ({"thread_id": "x", "last_comment_id": 1}, 404),
        ({"thread_id": thread_id, "last_comment_id": 1e999}, 422),
        ({"thread_id": thread_id, "last_comment_id": [1]}, 422),
        ({"thread_id": thread_id, "last_comment_id": 2**64}, 422),
    ]:
        assert client.post(url, json=fields).status_code == status, fields


def test_the_socket_refuses_the_same_input(live_server: Any, socket_client: Any) -> None:
    from pdz.comments.models import Comment
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        before = count(db, Comment)
    member = socket_client("membro@example.org")

    def create(payload: Any) -> Any:
        return member.call("comment.create", payload, timeout=10)

    good = {"body_id": tavolo_id, "target_kind": "tavolo", "target_id": tavolo_id, "client_op_id": "x" * 12}
    assert create((["x"],))["error"] == "invalid"
    assert create(None)["error"] == "invalid"
    assert create(({**good, "text": "a\x00b"},))["error"] == "invalid"
    assert create(({**good, "body_id": 2**63, "text": "x"},))["status"] == 404
    assert create(({**good, "text": ["x"]},))["status"] == 422
    assert create(({**good, "text": "ok", "mention_ids": [2**63]},))["status"] == 422
    with live_server.app.app_context():
        assert count(db, Comment) == before
