"""Issue #16 point 4, in the browser under the strict CSP: every action that cannot be undone asks first, in the
page's own <dialog> (never window.confirm), and the dialog says what will happen. Going back (the button, or
Esc) sends nothing and changes nothing; confirming goes on.

Each irreversible button is clicked on a real page: publish a convocation, start a meeting on another day,
cancel a meeting, delete an agenda item, close a meeting, forward and send back a submission, open and close a
vote, remove a member."""

from __future__ import annotations

import os
import re
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from conftest import card_awaiting_vote

pytestmark = pytest.mark.browser


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


def _setup(app: Any, db: Any) -> dict[str, Any]:
    """Meetings in each state, a submission in review and a vote to open, made through the services."""
    from pdz.accounts.models import User
    from pdz.approvals import services as approvals
    from pdz.approvals.models import Submission, SubmissionStatus
    from pdz.meetings import agenda as meeting_agenda
    from pdz.meetings import lifecycle as meeting_lifecycle
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body, BodyKind, Membership, MembershipRole

    with app.test_request_context(base_url=app.config["PDZ_BASE_URL"]):

        def user(email: str) -> User:
            found = db.session.scalar(select(User).where(User.email == email))
            assert found is not None
            return found

        coord, udp = user("coord.pubblico@example.org"), user("udp@example.org")
        povertà = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
        assemblea = db.session.scalar(select(Body).where(Body.kind == BodyKind.ASSEMBLEA_SINDACI))
        later = date.today() + timedelta(days=9)
        ids: dict[str, Any] = {"tavolo": povertà.id}
        made = {}
        for name in ("draft", "convened", "running"):
            meeting = meeting_lifecycle.schedule_meeting(
                povertà,
                title=f"Prova {name}",
                day=later,
                start=time(17, 0),
                end=time(19, 0),
                place="Crema",
                actor=coord,
            )
            db.session.flush()
            meeting_agenda.add_agenda_item(meeting, title="Primo punto", actor=coord)
            if name != "draft":
                meeting_lifecycle.publish_meeting(meeting, actor=coord)
            if name == "running":
                meeting_lifecycle.start_meeting(meeting, actor=coord)
            db.session.commit()
            made[name] = meeting.id
        ids.update(made)
        review = db.session.scalar(
            select(Submission).where(Submission.status == SubmissionStatus.IN_REVIEW).order_by(Submission.id)
        )
        ids["review"] = review.id
        waiting = db.session.get(Submission, card_awaiting_vote(app, db))
        seduta = db.session.scalar(
            select(Meeting).where(Meeting.body_id == assemblea.id, Meeting.title == "Seduta n. 9")
        )
        ballot = approvals.schedule_vote(waiting, seduta, actor=udp)
        meeting_lifecycle.start_meeting(seduta, actor=udp)
        db.session.commit()
        ids["ballot"] = ballot.id
        ids["member"] = db.session.scalar(
            select(Membership.id).where(
                Membership.body_id == povertà.id,
                Membership.role == MembershipRole.MEMBER,
                Membership.ended_at.is_(None),
            )
        )
        db.session.remove()  # hold no read transaction while the live server writes to the SQLite file
    return ids


def _state(app: Any, ids: dict[str, Any]) -> dict[str, str]:
    from pdz.approvals.models import Ballot, Submission
    from pdz.extensions import db
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Membership

    with app.app_context():
        state = {
            name: str(db.session.get(Meeting, ids[name]).status) for name in ("draft", "convened", "running")
        }
        state["items"] = str(len(db.session.get(Meeting, ids["draft"]).items))
        state["review"] = str(db.session.get(Submission, ids["review"]).status)
        state["ballot"] = str(db.session.get(Ballot, ids["ballot"]).status)
        state["member"] = str(db.session.get(Membership, ids["member"]).ended_at)
        db.session.remove()
    return state


def test_every_irreversible_button_asks_in_a_dialog(
    app: Any, db: Any, live_server: Any, page_as: Any, run_dir: Path
) -> None:
    ids = _setup(app, db)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir)  # screenshots kept as artifacts
    out.mkdir(parents=True, exist_ok=True)
    base = live_server.url
    before = _state(live_server.app, ids)

    coord = page_as("coord.pubblico@example.org")
    udp = page_as("udp@example.org")
    problems: list[str] = []
    posts: list[str] = []
    for page in (coord, udp):
        page.on("dialog", lambda d: (problems.append("window dialog: " + d.message), d.dismiss()))
        page.on("pageerror", lambda error: problems.append(str(error)))
        page.on("request", lambda r: posts.append(r.url) if r.method == "POST" else None)

    cases = [
        # (page, url, button, words the dialog must say)
        (coord, f"/incontri/{ids['draft']}", "publish", r"\d+ person[ae] ricever"),
        (coord, f"/incontri/{ids['draft']}", "cancel-meeting", r"non si potrà ripristinare"),
        (coord, f"/incontri/{ids['draft']}", None, r"Eliminare il punto «Primo punto»"),
        (coord, f"/incontri/{ids['convened']}", "start", r"non per oggi"),
        (coord, f"/incontri/{ids['convened']}", "cancel-meeting", r"\d+ person[ae] ricever"),
        (coord, f"/incontri/{ids['running']}/regia", "conclude", r"non si potrà riaprire"),
        (udp, f"/approvazioni/{ids['review']}", "forward", r"versione \d+"),
        (udp, f"/approvazioni/{ids['review']}", "send-back", r"torna al tavolo"),
        (udp, f"/votazioni/{ids['ballot']}", "open-ballot", r"potrà votare subito"),
        (coord, f"/tavoli/{ids['tavolo']}/componenti", None, r"non farà più parte"),
    ]
    shot = 0
    for page, url, testid, words in cases:
        page.goto(base + url)
        if testid:
            button = page.get_by_test_id(testid)
        elif "componenti" in url:
            button = page.get_by_role("button", name="Rimuovi").first
        else:
            button = page.get_by_role("button", name="Elimina").first
        dialog = page.get_by_test_id("confirm-dialog")
        for way_back in ("button", "Escape"):
            posts.clear()
            button.click()
            dialog.wait_for(state="visible")
            text = dialog.inner_text()
            assert re.search(words, text), (url, testid, text)
            # The focus is on the safe choice; the dialog is modal and named by its question.
            assert page.evaluate("() => document.activeElement.dataset.testid") == "confirm-cancel"
            assert page.evaluate("() => document.getElementById('confirm-dialog').matches(':modal')")
            if way_back == "button" and shot < 3:
                for width in (1280, 390):
                    page.set_viewport_size({"width": width, "height": 900})
                    page.screenshot(path=str(out / f"confirm-{shot}-{width}.png"))
                page.set_viewport_size({"width": 1280, "height": 900})
                shot += 1
            if way_back == "button":
                page.get_by_test_id("confirm-cancel").click()
            else:
                page.keyboard.press("Escape")
            dialog.wait_for(state="hidden")
            assert posts == [], (url, testid, posts)
            assert page.url == base + url
    assert _state(live_server.app, ids) == before
    assert problems == []

    # Confirming goes on: the vote opens, then closing it asks in turn.
    udp.goto(f"{base}/votazioni/{ids['ballot']}")
    udp.get_by_test_id("open-ballot").click()
    udp.get_by_test_id("confirm-ok").click()
    udp.get_by_test_id("close-ballot").click()
    dialog = udp.get_by_test_id("confirm-dialog")
    dialog.wait_for(state="visible")
    assert "Non si potrà più votare" in dialog.inner_text()
    udp.keyboard.press("Escape")
    dialog.wait_for(state="hidden")
    assert _state(live_server.app, ids)["ballot"] != before["ballot"]

    # A member removed only after saying yes.
    coord.goto(f"{base}/tavoli/{ids['tavolo']}/componenti")
    rows = coord.locator("tbody tr").count()
    coord.get_by_role("button", name="Rimuovi").first.click()
    coord.get_by_test_id("confirm-ok").click()
    coord.wait_for_function("n => document.querySelectorAll('tbody tr').length === n - 1", arg=rows)
    assert problems == []
