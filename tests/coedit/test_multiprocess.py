"""Co-writing across two server processes (PostgreSQL + Redis): text, presence and revocation."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.comments.test_comments_live import (  # noqa: F401 - autouse fixture
    quick_websocket_close,
    remove_member,
    scalar,
)
from tests.comments.test_comments_redis import (  # noqa: F401 - fixture
    connect,
    print_logs,
    processes_on_redis,
    two_processes,
    wait_for,
)

from pdz.coedit.engine import unwire, wire
from pdz.coedit.pyclient import Editor
from pdz.coedit.sockets import decode_awareness, encode_awareness


def _awareness_from(client: Any, doc: str) -> list[Any]:
    states = []
    for event, data in list(client.received):
        if event == "coedit.awareness" and data.get("doc") == doc:
            states.extend(decode_awareness(unwire(data["msg"])))
    return states


@pytest.mark.redis
@pytest.mark.postgres
def test_editors_on_two_processes_write_one_card_and_a_removed_member_is_cut_off(two_processes):  # noqa: F811
    a, b, database_url, logs = two_processes
    card_id = int(scalar(database_url, "SELECT id FROM cards WHERE key = 'A'"))
    body_id = int(scalar(database_url, "SELECT body_id FROM cards WHERE key = 'A'"))
    key = f"card:{card_id}"
    coord_on_a, member_on_b = connect(a, "coord.ets@example.org"), connect(b, "membro@example.org")
    other_on_b = connect(b, "coord.pubblico@example.org")
    try:
        ed_a, ed_b, ed_other = Editor(coord_on_a, key), Editor(member_on_b, key), Editor(other_on_b, key)
        for editor in (ed_a, ed_b, ed_other):
            assert editor.join()["ok"]
        start = ed_a.text("context")
        assert start and start == ed_b.text("context")

        # Text typed on each process reaches the other, and the database holds both.
        assert ed_a.insert("context", 0, "[A] ", wait=True)["ok"]
        assert ed_b.append("context", " [B]", wait=True)["ok"]
        for editor in (ed_a, ed_b, ed_other):
            wait_for(lambda e=editor: e.text("context") == f"[A] {start} [B]", message="converged text")
        stored = scalar(
            database_url,
            "SELECT value_source FROM card_values WHERE card_id = :c AND key = 'context'",
            c=card_id,
        )
        assert stored == f"[A] {start} [B]"

        # Presence is shared across processes, with the sender's real name (set by the server).
        coord_on_a.emit(
            "coedit.awareness",
            {
                "doc": key,
                "msg": wire(
                    encode_awareness([(4242, 1, {"field": "context", "user": {"name": "Qualcun altro"}})])
                ),
            },
        )
        found = wait_for(
            lambda: [s for s in _awareness_from(member_on_b, key) if s[0] == 4242 and s[2]],
            message="presence from A on B",
        )
        assert found[0][2]["field"] == "context"
        full_name = scalar(database_url, "SELECT full_name FROM users WHERE email = 'coord.ets@example.org'")
        assert found[0][2]["user"]["name"] == full_name

        # The member is removed on process A: their socket on process B is told at once and can write no more.
        remove_member(coord_on_a.http, a.url, database_url, body_id, "membro@example.org")
        wait_for(
            lambda: any(e == "coedit.revoked" and d.get("doc") == key for e, d in list(member_on_b.received)),
            message="coedit.revoked on B",
        )
        refused = ed_b.append("context", " dopo", wait=True)
        assert refused["ok"] is False and refused["error"] in {"forbidden", "not_joined"}
        # The others keep writing, and the removed member receives none of it.
        seen_before = ed_b.remote_updates
        assert ed_other.append("context", " [C]", wait=True)["ok"]
        wait_for(lambda: ed_a.text("context").endswith(" [C]"), message="update after removal on A")
        assert ed_b.remote_updates == seen_before
        assert " dopo" not in scalar(
            database_url,
            "SELECT value_source FROM card_values WHERE card_id = :c AND key = 'context'",
            c=card_id,
        )
    except BaseException:
        print_logs(logs)
        raise
    finally:
        for client in (coord_on_a, member_on_b, other_on_b):
            client.disconnect()


CATCH_UP_AFTER = 6.0  # seconds: long enough for the steps below to happen before it, even on a busy machine


@pytest.fixture
def late_catch_up(templates: dict[str, str], run_dir: Path) -> Iterator[Any]:
    with processes_on_redis(templates, run_dir, {"PDZ_COEDIT_CATCH_UP": str(CATCH_UP_AFTER)}) as running:
        yield running


@pytest.mark.redis
@pytest.mark.postgres
def test_the_late_catch_up_is_not_sent_to_a_member_removed_meanwhile(late_catch_up):
    """A socket that joins a document is sent, a few seconds later, what was stored since it joined (with
    several processes, some of it may have been broadcast before it entered the room). That message goes
    to the socket, not through the room: found on a loaded machine, it reached a member removed from the
    tavolo after joining, carrying text written after the removal."""
    a, b, database_url, logs = late_catch_up
    card_id = int(scalar(database_url, "SELECT id FROM cards WHERE key = 'A'"))
    body_id = int(scalar(database_url, "SELECT body_id FROM cards WHERE key = 'A'"))
    key = f"card:{card_id}"
    coord_on_a, member_on_b = connect(a, "coord.ets@example.org"), connect(b, "membro@example.org")
    witness_on_b = connect(b, "coord.pubblico@example.org")
    try:
        ed_a, ed_member = Editor(coord_on_a, key), Editor(member_on_b, key)
        assert ed_a.join()["ok"] and ed_member.join()["ok"]  # the member's catch-up is due in 6 s

        remove_member(coord_on_a.http, a.url, database_url, body_id, "membro@example.org")
        wait_for(
            lambda: any(e == "coedit.revoked" and d.get("doc") == key for e, d in list(member_on_b.received)),
            message="coedit.revoked on B",
        )
        # A witness on the member's process joins after the removal: its catch-up is due after the member's.
        ed_witness = Editor(witness_on_b, key)
        assert ed_witness.join()["ok"]
        assert ed_a.append("context", " [dopo la rimozione]", wait=True)["ok"]  # stored before both are due
        seen = ed_member.remote_updates
        wait_for(lambda: ed_witness.catch_ups >= 1, message="the witness's catch-up")
        wait_for(lambda: ed_witness.text("context").endswith(" [dopo la rimozione]"), message="witness text")
        # The member's was due earlier on the same process: nothing came, before or after a round trip.
        assert member_on_b.call("coedit.leave", {"doc": key}, timeout=10) is not None
        assert ed_member.catch_ups == 0
        assert ed_member.remote_updates == seen
        assert "dopo la rimozione" not in ed_member.text("context")
    except BaseException:
        print_logs(logs)
        raise
    finally:
        for client in (coord_on_a, member_on_b, witness_on_b):
            client.disconnect()
