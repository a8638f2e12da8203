"""Live channels follow permissions at every moment, across processes (PostgreSQL + Redis).

A member follows every kind of room of the Tavolo Povertà from process B: the tavolo, a card, a meeting,
a SWOT self-evaluation, and the card's co-written document. A co-coordinator removes them through the
members page on process A. On B, that person's socket leaves every one of those rooms at once (and is told
so), while a witness who stays in the tavolo goes on receiving: after the removal, events published in
each room reach the witness and never the removed member."""

from __future__ import annotations

import re
import uuid
from typing import Any

import pytest
from tests.comments.test_comments_live import quick_websocket_close, scalar  # noqa: F401 - autouse fixture
from tests.comments.test_comments_redis import connect, two_processes, wait_for  # noqa: F401 - fixture

from pdz.coedit.pyclient import Editor

MEMBER, WITNESS, COORD = "membro@example.org", "coord.ets@example.org", "coord.pubblico@example.org"


def csrf(session: Any, url: str) -> str:
    page = session.get(url)
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', page.text) or re.search(
        r'name="csrf_token"[^>]*value="([^"]+)"', page.text
    )
    assert found, url
    return found.group(1)


def received(client: Any, name: str) -> list[Any]:
    return [data for event, data in list(client.received) if event == name]


@pytest.mark.redis
@pytest.mark.postgres
def test_a_removed_member_leaves_every_room_of_the_body_on_every_process(two_processes):  # noqa: F811
    a, b, database_url, logs = two_processes
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    card_id = int(scalar(database_url, "SELECT id FROM cards WHERE key = 'A'"))
    meeting_id = int(
        scalar(
            database_url,
            "SELECT max(id) FROM meetings WHERE body_id = :b AND status = 'convocata'",
            b=body_id,
        )
    )
    coordinator_on_a = connect(a, COORD)
    # A SWOT self-evaluation open now (the demo's is closed): opened through its page, on process A.
    http = coordinator_on_a.http
    opened = http.post(
        f"{a.url}/tavoli/{body_id}/swot",
        data={"csrf_token": csrf(http, f"{a.url}/tavoli/{body_id}/swot"), "year": "2026", "kind": "annuale"},
        allow_redirects=False,
    )
    assert opened.status_code in (302, 303), opened.text[:300]
    swot_id = int(
        scalar(
            database_url,
            "SELECT max(id) FROM swot_assessments WHERE body_id = :b AND status = 'aperta'",
            b=body_id,
        )
    )

    rooms = [f"tavolo:{body_id}", f"card:{card_id}", f"meeting:{meeting_id}", f"swot:{swot_id}"]
    member, witness = connect(b, MEMBER), connect(b, WITNESS)
    for client in (member, witness):
        for room in rooms:
            answer = client.call("room.join", {"room": room}, timeout=10)
            assert answer["ok"], (room, answer)
    member_doc, witness_doc = Editor(member, f"card:{card_id}"), Editor(witness, f"card:{card_id}")
    assert member_doc.join()["ok"] and witness_doc.join()["ok"]

    # Removed on process A, through the members page (CSRF on).
    membership_id = scalar(
        database_url,
        "SELECT m.id FROM memberships m JOIN users u ON u.id = m.user_id "
        "WHERE u.email = :e AND m.body_id = :b AND m.ended_at IS NULL",
        e=MEMBER,
        b=body_id,
    )
    members_page = f"{a.url}/tavoli/{body_id}/componenti"
    removed = http.post(
        f"{members_page}/{membership_id}/rimuovi",
        data={"csrf_token": csrf(http, members_page)},
        allow_redirects=False,
    )
    assert removed.status_code in (302, 303), removed.text[:300]

    # On process B the member leaves every room of the body, and is told so for each one.
    wait_for(
        lambda: {d["room"] for d in received(member, "room.revoked")} >= set(rooms),
        "room.revoked for each room",
    )
    wait_for(
        lambda: [d for d in received(member, "coedit.revoked") if d["doc"] == f"card:{card_id}"],
        "doc revoked",
    )
    assert not received(witness, "room.revoked") and not received(witness, "coedit.revoked")

    # After the removal, an event in each room reaches the witness and never the removed member.
    seen_before = len(member.received)
    marker = uuid.uuid4().hex[:8]
    # tavolo: a comment posted on process A
    posted = coordinator_on_a.call(
        "comment.create",
        {
            "body_id": body_id,
            "target_kind": "tavolo",
            "target_id": body_id,
            "text": f"Dopo l'uscita {marker}",
            "client_op_id": uuid.uuid4().hex,
        },
        timeout=10,
    )
    assert posted["ok"], posted
    # meeting: an agenda item added on process A
    meeting_page = f"{a.url}/incontri/{meeting_id}"
    added = http.post(
        f"{meeting_page}/ordine-del-giorno",
        data={"csrf_token": csrf(http, meeting_page), "title": f"Punto {marker}"},
        allow_redirects=False,
    )
    assert added.status_code in (302, 303), added.text[:300]
    # swot: an entry added on process A (JSON, CSRF header)
    swot_page = f"{a.url}/swot/{swot_id}"
    entry = http.post(
        f"{swot_page}/voci",
        json={"dimension": "mandato", "quadrant": "S", "text": f"Voce {marker}"},
        headers={"X-CSRFToken": csrf(http, swot_page)},
    )
    assert entry.status_code in (200, 201), entry.text[:300]
    # the card's co-written text: typed by the witness on process B
    assert witness_doc.append("context", f" {marker}", wait=True)["ok"] is True

    wait_for(lambda: any(marker in str(d) for e, d in witness.received if e == "comment.created"), "comment")
    wait_for(lambda: [d for e, d in witness.received if e == "meeting.agenda_changed"], "agenda event")
    wait_for(
        lambda: any(marker in str(d) for e, d in witness.received if e == "swot.entry_added"), "swot event"
    )
    wait_for(lambda: marker in witness_doc.text("context"), "text typed")
    # The structured card room: a witness-visible event published on the card room.
    after = member.received[seen_before:]
    leaked = [
        (event, data)
        for event, data in after
        if event
        in {"comment.created", "meeting.agenda_changed", "swot.entry_added", "coedit.update", "card.updated"}
    ]
    assert leaked == [], leaked
    assert marker not in member_doc.text("context")
    # And the member cannot come back in.
    for room in rooms:
        assert member.call("room.join", {"room": room}, timeout=10)["ok"] is False, room
    for log in logs:
        assert "Traceback" not in log.read_text(errors="replace"), log.read_text(errors="replace")[-3000:]


def test_every_event_is_checked_before_it_goes_out(live_server, socket_client, database_url):
    """Even when no change of rights was announced (here the membership ends behind the app's back, straight
    in the database), an event published in the room is checked against the policy before it is delivered:
    the former member does not get it, is taken out of the room and told; the witness gets it."""
    from sqlalchemy import create_engine, text

    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    room = f"tavolo:{body_id}"
    member, witness = socket_client(MEMBER), socket_client(WITNESS)
    for client in (member, witness):
        assert client.call("room.join", {"room": room}, timeout=10)["ok"]
    engine = create_engine(database_url)
    with engine.begin() as connection:
        connection.execute(
            text(
                "UPDATE memberships SET ended_at = CURRENT_TIMESTAMP WHERE body_id = :b AND ended_at IS NULL "
                "AND user_id = (SELECT id FROM users WHERE email = :e)"
            ),
            {"b": body_id, "e": MEMBER},
        )
    engine.dispose()
    marker = uuid.uuid4().hex[:8]
    posted = witness.call(
        "comment.create",
        {
            "body_id": body_id,
            "target_kind": "tavolo",
            "target_id": body_id,
            "text": f"Controllato {marker}",
            "client_op_id": uuid.uuid4().hex,
        },
        timeout=10,
    )
    assert posted["ok"], posted
    wait_for(lambda: any(marker in str(d) for e, d in witness.received if e == "comment.created"), "witness")
    wait_for(lambda: {"room": room} in received(member, "room.revoked"), "member told")
    assert not [d for e, d in member.received if e == "comment.created" and marker in str(d)]
    # Out of the room: a second event does not even need a check for that socket.
    second = uuid.uuid4().hex[:8]
    witness.call(
        "comment.create",
        {
            "body_id": body_id,
            "target_kind": "tavolo",
            "target_id": body_id,
            "text": f"Ancora {second}",
            "client_op_id": uuid.uuid4().hex,
        },
        timeout=10,
    )
    wait_for(lambda: any(second in str(d) for e, d in witness.received if e == "comment.created"), "second")
    assert not [d for e, d in member.received if e == "comment.created" and second in str(d)]


def test_a_disabled_account_and_a_closed_body_are_followed_at_once(live_server, socket_client, database_url):
    """An administrator disables the member: their socket leaves the tavolo room and its documents. Then the
    UdP closes the tavolo: the open co-written documents of those still inside turn read-only."""
    from sqlalchemy import select
    from tests.conftest import http_session

    from pdz.accounts.models import User
    from pdz.db import unit_of_work
    from pdz.extensions import db
    from pdz.tavoli import services
    from pdz.tavoli.models import Body, BodyStatus

    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    card_id = int(scalar(database_url, "SELECT id FROM cards WHERE key = 'A'"))
    member_id = int(scalar(database_url, "SELECT id FROM users WHERE email = :e", e=MEMBER))
    room = f"tavolo:{body_id}"
    member, witness = socket_client(MEMBER), socket_client(WITNESS)
    docs = {}
    for name, client in (("member", member), ("witness", witness)):
        assert client.call("room.join", {"room": room}, timeout=10)["ok"]
        docs[name] = Editor(client, f"card:{card_id}")
        assert docs[name].join()["ok"]

    admin = http_session(live_server, "admin@example.org")
    token = csrf(admin, f"{live_server.url}/admin/persone")
    toggled = admin.post(
        f"{live_server.url}/admin/persone/{member_id}/stato",
        data={"csrf_token": token},
        allow_redirects=False,
    )
    assert toggled.status_code in (302, 303), toggled.text[:300]
    wait_for(lambda: {"room": room} in received(member, "room.revoked"), "disabled: room revoked")
    wait_for(
        lambda: [d for d in received(member, "coedit.revoked") if d["gone"]], "disabled: document revoked"
    )
    assert not received(witness, "room.revoked") and not received(witness, "coedit.revoked")

    with live_server.app.test_request_context():
        try:
            with unit_of_work():
                body = db.session.get(Body, body_id)
                udp = db.session.scalar(select(User).where(User.email == "udp@example.org"))
                services.update_body(
                    body,
                    body.name,
                    body.short_name,
                    BodyStatus.CLOSED,
                    [a.id for a in body.areas],
                    body.description,
                    actor=udp,
                )
        finally:
            db.session.remove()
    wait_for(
        lambda: [
            d for d in received(witness, "coedit.revoked") if d["doc"] == f"card:{card_id}" and d["readonly"]
        ],
        "closed body: read-only",
    )
    answer = docs["witness"].append("context", " dopo la chiusura", wait=True)
    assert answer["ok"] is False and answer["error"] == "forbidden", answer
