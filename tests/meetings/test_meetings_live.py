"""Following a meeting live over Socket.IO (real server, CSRF on): current item, attendance/quorum, minutes,
replay after a reconnect; only people who may view the meeting can join its room."""

from __future__ import annotations

import re
import time

from meetings_support import future_day

from conftest import http_session


def _token(session, url):
    page = session.get(url).text
    match = re.search(r'name="csrf-token" content="([^"]+)"', page) or re.search(
        r'name="csrf_token" type="hidden" value="([^"]+)"', page
    )
    assert match, page[:500]
    return match.group(1)


def _post(session, server, path, data, page):
    token = _token(session, server.url + page)
    response = session.post(server.url + path, data={"csrf_token": token, **data}, allow_redirects=False)
    assert response.status_code == 302, (path, response.status_code, response.text[:1500])
    return response


def _wait_for(client, name, predicate=lambda data: True, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for event, data in list(client.received):
            if event == name and predicate(data):
                return data
        time.sleep(0.02)
    raise AssertionError(f"{name} not received; got {[e for e, _ in client.received]}")


def test_meeting_followed_live(live_server, socket_client):
    from sqlalchemy import select

    from pdz.accounts.models import User
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        member_id = db.session.scalar(select(User.id).where(User.email == "membro@example.org"))
        db.session.remove()
    coord = http_session(live_server, "coord.pubblico@example.org")
    new = f"/tavoli/{tavolo_id}/incontri/nuovo"
    response = _post(
        coord,
        live_server,
        new,
        {
            "title": "Incontro in diretta",
            "day": future_day(5),
            "start": "17:00",
            "end": "19:00",
            "place": "Crema",
        },
        new,
    )
    meeting_id = int(re.search(r"/incontri/(\d+)", response.headers["Location"]).group(1))
    page = f"/incontri/{meeting_id}"
    for title in ("Apertura", "Bilancio sociale", "Varie"):
        _post(coord, live_server, f"{page}/ordine-del-giorno", {"title": title}, page)
    _post(coord, live_server, f"{page}/convoca", {}, page)
    _post(coord, live_server, f"{page}/avvia", {}, page)
    regia = coord.get(live_server.url + f"{page}/regia").text
    code = re.search(r'data-testid="checkin-code">(\w+)<', regia).group(1)
    items = [int(i) for i in re.findall(r'name="item_id" value="(\d+)"', regia)]
    assert len(items) == 3

    follower = socket_client("membro@example.org", transports=["polling"])
    assert follower.call("room.join", {"room": f"meeting:{meeting_id}"}, timeout=5)["ok"] is True
    outsider = socket_client("disabilita@example.org", transports=["polling"])
    assert outsider.call("room.join", {"room": f"meeting:{meeting_id}"}, timeout=5) == {
        "ok": False,
        "error": "forbidden",
    }
    screen = socket_client("coord.pubblico@example.org", transports=["polling"])
    joined = screen.call("room.join", {"room": f"meeting:{meeting_id}"}, timeout=5)
    assert joined["ok"] is True

    # The coordinator's screen moves the current item: followers see it at once.
    token = _token(coord, live_server.url + f"{page}/regia")
    response = coord.post(
        live_server.url + f"{page}/punto-corrente",
        json={"item_id": items[1]},
        headers={"X-CSRFToken": token, "Accept": "application/json"},
    )
    assert response.status_code == 200, response.text[:500]
    event = _wait_for(follower, "meeting.item_changed", lambda d: d["item_id"] == items[1])
    assert event["title"] == "Bilancio sociale" and event["position"] == 2
    # Without the CSRF token the same request is refused.
    assert (
        coord.post(
            live_server.url + f"{page}/punto-corrente",
            json={"item_id": items[2]},
            headers={"Accept": "application/json"},
        ).status_code
        == 400
    )

    # A member checks in with the code: the quorum/attendance update reaches the coordinator's screen.
    member = follower.http
    _post(member, live_server, f"{page}/registrazione", {"code": code}, page)
    _wait_for(screen, "meeting.attendance_changed", lambda d: d["meeting_id"] == meeting_id)
    assert not [e for e, _ in outsider.received if e.startswith("meeting.")]

    # Minutes co-written by the coordinator: followers of the meeting are told the minutes changed (the text
    # itself travels in the minutes' document, to those who write it).
    from pdz.coedit.pyclient import Editor

    writer = Editor(screen, f"minutes:{meeting_id}")
    assert writer.join()["ok"] is True
    assert writer.insert(f"item:{items[0]}", 0, "Apertura alle 17.", wait=True)["ok"] is True
    changed = _wait_for(follower, "meeting.minutes_changed")
    assert changed["item_id"] == items[0] and changed["what"] == "text"
    assert not [e for e, _ in follower.received if e == "coedit.update"], (
        "only who joined the document gets its updates"
    )

    # A page that reconnects asks for what it missed.
    replay = follower.call(
        "events.since", {"rooms": [f"meeting:{meeting_id}"], "after": joined["last_event_id"]}, timeout=5
    )
    names = [e["name"] for e in replay["events"]]
    assert names[0] == "meeting.item_changed" and "meeting.minutes_changed" in names
    # The convocation reached the member in-app too (their own room), replayable after the fact.
    notices = follower.call("events.since", {"rooms": [f"user:{member_id}"], "after": 0}, timeout=5)["events"]
    assert any(e["name"] == "meeting.convened" and e["meeting_id"] == meeting_id for e in notices)
    assert (
        outsider.call("events.since", {"rooms": [f"meeting:{meeting_id}"], "after": 0}, timeout=5)["events"]
        == []
    )
