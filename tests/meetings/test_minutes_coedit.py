"""The minutes of a meeting are one co-written document (`minutes:<meeting id>`), through a real server and
Socket.IO clients speaking the page's protocol: texts of agenda items and decisions, written at once by
several people, stored in the meeting's rows once acknowledged, with revisions grouped by author and pause;
only who may write the minutes, and only while they are open, can change them."""

from __future__ import annotations

import html
import re
import threading
import time
from collections.abc import Callable
from datetime import time as clock
from datetime import timedelta
from typing import Any

import pytest
from meetings_support import rome_today, text

from conftest import http_session

COORD, CO_COORD, MEMBER = "coord.pubblico@example.org", "coord.ets@example.org", "membro@example.org"


def in_app(server: Any, work: Callable[[], Any], *, commit: bool = True) -> Any:
    """Run `work` in the server's app, in one unit of work (or read-only), with a fresh session."""
    from pdz.db import unit_of_work
    from pdz.extensions import db

    with server.app.test_request_context(base_url=server.url):  # services build links for notices
        try:
            if not commit:
                return work()
            with unit_of_work():
                return work()
        finally:
            db.session.remove()


def person(email: str) -> Any:
    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.extensions import db

    return db.session.scalar(select(User).where(User.email == email))


def new_meeting(
    server: Any, *, days: int = 5, items: tuple[str, ...] = ("Apertura", "Mappatura"), start: bool = True
) -> dict[str, Any]:
    from sqlalchemy import select

    from pdz.meetings import agenda, lifecycle
    from pdz.tavoli.models import Body

    def work() -> dict[str, Any]:
        from pdz.extensions import db

        coord = person(COORD)
        body = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
        meeting = lifecycle.schedule_meeting(
            body,
            title="Incontro con verbale",
            day=rome_today() + timedelta(days=days),
            start=clock(17),
            end=clock(19),
            place="Crema",
            actor=coord,
        )
        for title in items:
            agenda.add_agenda_item(meeting, title=title, actor=coord)
        lifecycle.publish_meeting(meeting, actor=coord)
        if start:
            lifecycle.start_meeting(meeting, actor=coord)
        db.session.flush()
        return {"id": meeting.id, "items": [item.id for item in meeting.items]}

    return in_app(server, work)


def row(server: Any, model: Any, ident: int) -> Any:
    from pdz.extensions import db

    def read() -> Any:
        found = db.session.get(model, ident)
        db.session.expunge(found)
        return found

    return in_app(server, read, commit=False)


def revisions(server: Any, item_id: int) -> list[tuple[int, str, str]]:
    """(number, author e-mail, text) of an item's minutes revisions, in order."""
    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.extensions import db
    from pdz.meetings.models import MinutesRevision

    def read() -> list[tuple[int, str, str]]:
        rows = db.session.execute(
            select(MinutesRevision.number, User.email, MinutesRevision.text)
            .join(User, User.id == MinutesRevision.author_id)
            .where(MinutesRevision.item_id == item_id)
            .order_by(MinutesRevision.number)
        )
        return [tuple(r) for r in rows]  # type: ignore[misc]

    return in_app(server, read, commit=False)


def audit_actions(server: Any, meeting_id: int, action: str) -> list[dict[str, Any]]:
    from sqlalchemy import select

    from pdz.audit import AuditEntry
    from pdz.extensions import db

    def read() -> list[dict[str, Any]]:
        return list(
            db.session.scalars(
                select(AuditEntry.details)
                .where(
                    AuditEntry.object_type == "meetings",
                    AuditEntry.object_id == meeting_id,
                    AuditEntry.action == action,
                )
                .order_by(AuditEntry.id)
            )
        )

    return in_app(server, read, commit=False)


def editor(socket_client: Any, email: str, meeting_id: int) -> Any:
    from pdz.coedit.pyclient import Editor

    ed = Editor(socket_client(email), f"minutes:{meeting_id}")
    joined = ed.join()
    assert joined["ok"] is True, joined
    return ed


def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


def test_two_people_write_the_same_item_at_once_and_both_texts_survive(live_server, socket_client):
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server)
    key = f"item:{meeting['items'][0]}"
    first, second = (
        editor(socket_client, COORD, meeting["id"]),
        editor(socket_client, CO_COORD, meeting["id"]),
    )
    # Both type at the start of the same empty text before seeing each other's change.
    barrier = threading.Barrier(2)
    acks: list[Any] = []

    def write(ed: Any, words: str) -> None:
        barrier.wait()
        acks.append(ed.insert(key, 0, words, wait=True))

    threads = [
        threading.Thread(target=write, args=(first, "Si apre alle 17. ")),
        threading.Thread(target=write, args=(second, "Presenti in dodici. ")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(15)
    assert [a["ok"] for a in acks] == [True, True], acks
    until(
        lambda: (
            first.text(key) == second.text(key)
            and len(first.text(key)) == len("Si apre alle 17. Presenti in dodici. ")
        )
    )
    shared = first.text(key)
    assert "Si apre alle 17. " in shared and "Presenti in dodici. " in shared
    # Either order is a valid merge; what is stored is exactly what both editors show.
    assert row(live_server, AgendaItem, meeting["items"][0]).minutes_source == shared
    # Someone opening the minutes now gets the same text.
    late = editor(socket_client, COORD, meeting["id"])
    assert late.text(key) == shared


def test_acknowledged_text_is_in_the_item_row_rendered(live_server, socket_client):
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server)
    item_id = meeting["items"][1]
    ed = editor(socket_client, COORD, meeting["id"])
    ack = ed.insert(f"item:{item_id}", 0, "Si decide di **aggiornare** la mappa.", wait=True)
    assert ack["ok"] is True and ack["seq"] >= 1
    item = row(live_server, AgendaItem, item_id)
    assert item.minutes_source == "Si decide di **aggiornare** la mappa."
    assert "<strong>aggiornare</strong>" in item.minutes_html
    other = row(live_server, AgendaItem, meeting["items"][0])
    assert other.minutes_source == "" and other.minutes_rev == 0  # the other item is untouched


def test_revisions_are_grouped_by_author_and_pause(live_server, socket_client, monkeypatch):
    from pdz.coedit import registry
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server)
    item_id = meeting["items"][0]
    key = f"item:{item_id}"
    coord, co_coord = (
        editor(socket_client, COORD, meeting["id"]),
        editor(socket_client, CO_COORD, meeting["id"]),
    )

    # Two quick edits by one author: one revision holding the text after both.
    assert coord.insert(key, 0, "Prima frase.", wait=True)["ok"]
    assert coord.append(key, " Seconda frase.", wait=True)["ok"]
    assert revisions(live_server, item_id) == [(1, COORD, "Prima frase. Seconda frase.")]
    # Someone else writes: a new revision, theirs.
    until(lambda: co_coord.text(key) == "Prima frase. Seconda frase.")
    assert co_coord.append(key, " Nota del co-coordinatore.", wait=True)["ok"]
    # The first author again: a new revision (someone wrote in between).
    until(lambda: coord.text(key).endswith("co-coordinatore."))
    assert coord.append(key, " Chiusura.", wait=True)["ok"]
    full = "Prima frase. Seconda frase. Nota del co-coordinatore. Chiusura."
    assert revisions(live_server, item_id) == [
        (1, COORD, "Prima frase. Seconda frase."),
        (2, CO_COORD, "Prima frase. Seconda frase. Nota del co-coordinatore."),
        (3, COORD, full),
    ]
    # The same author after a pause: a new revision too.
    monkeypatch.setattr(registry, "PAUSE", timedelta(0))  # every later edit now comes after a pause
    assert coord.append(key, " Dopo la pausa.", wait=True)["ok"]
    assert [r[:2] for r in revisions(live_server, item_id)][-1] == (4, COORD)
    assert row(live_server, AgendaItem, item_id).minutes_rev == 4
    # One audit entry per revision opened, not one per keystroke.
    assert [d["rev"] for d in audit_actions(live_server, meeting["id"], "meeting.minutes_saved")] == [
        1,
        2,
        3,
        4,
    ]


def test_who_may_not_write_is_refused_and_nothing_changes(live_server, socket_client):
    from pdz.meetings import lifecycle, minutes
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server)
    item_id = meeting["items"][0]
    key = f"item:{item_id}"
    coord = editor(socket_client, COORD, meeting["id"])
    assert coord.insert(key, 0, "Testo del coordinatore.", wait=True)["ok"]

    # A member reads the minutes but does not write them.
    member = editor(socket_client, MEMBER, meeting["id"])
    assert member.joined["readonly"] is True
    refused = member.append(key, " Aggiunta del membro.", wait=True)
    assert refused["ok"] is False and refused["error"] == "forbidden"
    # Someone outside the tavolo cannot even open the minutes.
    outsider = editor_ack(socket_client, "disabilita@example.org", meeting["id"])
    assert outsider["ok"] is False and outsider["error"] == "forbidden"

    # Concluded, then approved at a later meeting: the minutes are final, for the coordinator too.
    def approve() -> None:
        from pdz.extensions import db
        from pdz.meetings.models import Meeting

        lifecycle.conclude_meeting(db.session.get(Meeting, meeting["id"]), actor=person(COORD))

    in_app(live_server, approve)
    assert coord.append(key, " Scritto a incontro concluso.", wait=True)["ok"], (
        "concluded minutes are still open"
    )
    later = new_meeting(live_server, days=40, items=("Approvazione del verbale",))

    def approve_minutes() -> None:
        from pdz.extensions import db
        from pdz.meetings.models import Meeting

        minutes.approve_minutes(db.session.get(Meeting, meeting["id"]), later["id"], actor=person(COORD))

    in_app(live_server, approve_minutes)
    final = "Testo del coordinatore. Scritto a incontro concluso."
    before = revisions(live_server, item_id)
    refused = coord.append(key, " Modifica tardiva.", wait=True)
    assert refused["ok"] is False and refused["error"] == "forbidden"
    item = row(live_server, AgendaItem, item_id)
    assert item.minutes_source == final and revisions(live_server, item_id) == before
    fresh = editor(socket_client, COORD, meeting["id"])
    assert fresh.joined["readonly"] is True and fresh.text(key) == final


def editor_ack(socket_client: Any, email: str, meeting_id: int) -> dict[str, Any]:
    from pdz.coedit.pyclient import Editor

    return Editor(socket_client(email), f"minutes:{meeting_id}").join()


def test_a_decision_is_registered_by_form_then_its_text_is_co_written(live_server, socket_client):
    import re

    from pdz.meetings.models import Decision

    meeting = new_meeting(live_server)
    item_id = meeting["items"][1]
    url = f"{live_server.url}/incontri/{meeting['id']}"
    coord = http_session(live_server, COORD)
    token = re.search(r'name="csrf-token" content="([^"]+)"', coord.get(url + "/verbale").text).group(1)
    response = coord.post(
        url + "/decisioni",
        data={"csrf_token": token, "item_id": str(item_id), "text": "Aggiornare la mappa"},
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:1000]
    [decision_id] = _decision_ids(live_server, meeting["id"])
    key = f"decision:{decision_id}"

    # The registered text is in the shared document; two people complete it.
    first, second = (
        editor(socket_client, COORD, meeting["id"]),
        editor(socket_client, CO_COORD, meeting["id"]),
    )
    assert first.text(key) == second.text(key) == "Aggiornare la mappa"
    assert first.append(key, " entro marzo", wait=True)["ok"]
    until(lambda: second.text(key) == "Aggiornare la mappa entro marzo")
    assert second.insert(key, 0, "All'unanimità: ", wait=True)["ok"]
    until(lambda: first.text(key) == "All'unanimità: Aggiornare la mappa entro marzo")
    assert row(live_server, Decision, decision_id).text == "All'unanimità: Aggiornare la mappa entro marzo"
    # Each author's run is in the audit log once.
    edits = audit_actions(live_server, meeting["id"], "meeting.decision_edited")
    assert edits == [{"decision_id": decision_id}, {"decision_id": decision_id}]
    # The page of a reader shows it.
    page = html.unescape(http_session(live_server, MEMBER).get(url + "/verbale").text)
    assert "All'unanimità: Aggiornare la mappa entro marzo" in page


def _decision_ids(server: Any, meeting_id: int) -> list[int]:
    from sqlalchemy import select

    from pdz.extensions import db
    from pdz.meetings.models import Decision

    return in_app(
        server,
        lambda: list(
            db.session.scalars(
                select(Decision.id).where(Decision.meeting_id == meeting_id).order_by(Decision.id)
            )
        ),
        commit=False,
    )


def test_keys_outside_the_meeting_are_refused(live_server, socket_client):
    from pdz.meetings.models import AgendaItem

    meeting = new_meeting(live_server)
    other = new_meeting(live_server, days=8, items=("Altro incontro",))
    ed = editor(socket_client, COORD, meeting["id"])
    for key in (f"item:{other['items'][0]}", "item:999999", "titolo", "decision:999999"):
        refused = ed.insert(key, 0, "Testo fuori posto", wait=True)
        assert refused["ok"] is False and refused["error"] == "invalid", (key, refused)
    assert row(live_server, AgendaItem, other["items"][0]).minutes_source == ""
    # The document is untouched: a new editor sees none of it, and writing in the right key still works.
    fresh = editor(socket_client, COORD, meeting["id"])
    assert not any(fresh.texts().values())
    assert fresh.insert(f"item:{meeting['items'][0]}", 0, "Giusto", wait=True)["ok"] is True


def test_a_paragraph_added_by_the_server_reaches_open_editors(live_server, socket_client):
    """A ballot's outcome is appended to the item's minutes through the engine, like anyone's typing."""
    from pdz.extensions import db
    from pdz.meetings import minutes
    from pdz.meetings.models import AgendaItem, Meeting

    meeting = new_meeting(live_server)
    item_id = meeting["items"][0]
    key = f"item:{item_id}"
    ed = editor(socket_client, CO_COORD, meeting["id"])
    assert ed.insert(key, 0, "Discussione sul bilancio.", wait=True)["ok"]
    in_app(
        live_server,
        lambda: minutes.append_minutes(
            db.session.get(Meeting, meeting["id"]),
            item_id,
            "Esito della votazione: approvato.",
            actor=person(COORD),
        ),
    )
    expected = "Discussione sul bilancio.\n\nEsito della votazione: approvato."
    until(lambda: ed.text(key) == expected)
    assert row(live_server, AgendaItem, item_id).minutes_source == expected
    assert [r[1] for r in revisions(live_server, item_id)] == [CO_COORD, COORD]


@pytest.mark.parametrize("started", [True, False])
def test_minutes_page_offers_editors_only_while_the_minutes_are_open(app, db, client_as, tavolo, started):
    from meetings_support import convened_meeting, load, started_meeting

    coord = client_as(COORD)
    meeting_id = (started_meeting if started else convened_meeting)(coord, tavolo.id)
    page = text(coord.get(f"/incontri/{meeting_id}/verbale"))
    assert ('data-coedit-doc="minutes:' in page) is started
    assert ('data-coedit-field="item:' in page) is started
    # the script's address carries a content hash since static files are cache-busted (js/coedit.<hash>.js)
    assert bool(re.search(r"js/coedit(\.[0-9a-f]+)?\.js", page)) is started
    member_page = text(client_as(MEMBER).get(f"/incontri/{meeting_id}/verbale"))
    assert "data-coedit-doc" not in member_page and "data-minutes-html" in member_page
    # The former HTTP save of an item's minutes is gone.
    item_id = load(db, meeting_id).items[0].id
    assert coord.post(f"/incontri/{meeting_id}/verbale/{item_id}", json={"text": "x"}).status_code in (
        404,
        405,
    )
