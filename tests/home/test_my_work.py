""" "La mia pagina" and "Da fare" list what waits for the signed-in person (issue #16 point 3)."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select


def rows(page: str, section: str) -> str:
    found = re.search(rf'data-testid="work-{section}">(.*?)</div>', page, re.S)
    return found.group(1) if found else ""


def test_membro_sees_his_overdue_action_highlighted(db: Any, client_as: Any, user: Any) -> None:
    """An open action whose due date has passed is listed and marked overdue. The demo's meetings are laid out
    backwards from today, so the test makes membro's open action overdue by a known date instead of relying
    on the calendar (it read "18/10/2026" on 30 November and broke the next day)."""
    from datetime import timedelta

    from sqlalchemy import select

    from pdz.db import utcnow
    from pdz.meetings.models import ActionItem, ActionStatus

    owner = user("membro@example.org")
    action = db.session.scalar(
        select(ActionItem)
        .where(ActionItem.owner_id == owner.id, ActionItem.status == ActionStatus.OPEN)
        .order_by(ActionItem.id)
    )
    assert action is not None, "the demo gives membro an open action"
    due = utcnow().date() - timedelta(days=44)
    action.due_on = due
    db.session.commit()
    membro = client_as("membro@example.org")
    for path in ("/", "/da-fare"):
        page = membro.get(path).get_data(as_text=True)
        actions = rows(page, "azioni")
        assert f"Scaduta il {due:%d/%m/%Y}" in actions, path
        assert 'class="work-azione overdue"' in actions and "data-overdue" in actions
        assert "Niente in attesa" not in page


def test_co_coordinator_sees_minutes_left_in_draft(db: Any, client_as: Any) -> None:
    page = client_as("coord.pubblico@example.org").get("/da-fare").get_data(as_text=True)
    assert "Completa il verbale di «" in rows(page, "verbali")
    assert "Completa il verbale" not in client_as("membro@example.org").get("/da-fare").get_data(as_text=True)


def test_meetings_to_answer_and_to_convene(db: Any, client_as: Any, user: Any, tavolo: Any) -> None:
    from datetime import timedelta

    from pdz.db import utcnow
    from pdz.meetings.models import Meeting, MeetingStatus

    coord = user("coord.pubblico@example.org")
    start = utcnow() + timedelta(days=20)
    draft = Meeting(
        body_id=tavolo.id,
        title="Incontro Tamerice",
        starts_at=start,
        ends_at=start + timedelta(hours=2),
        status=MeetingStatus.DRAFT,
        created_by_id=coord.id,
    )
    db.session.add(draft)
    db.session.commit()
    coord_page = client_as("coord.pubblico@example.org").get("/da-fare").get_data(as_text=True)
    assert "Convoca «Incontro Tamerice»" in rows(coord_page, "incontri")
    member_page = client_as("membro@example.org").get("/da-fare").get_data(as_text=True)
    assert "Tamerice" not in member_page  # a draft is for those who convene it
    assert "Rispondi alla convocazione di «" in rows(member_page, "incontri")


def test_cards_with_required_fields_empty(client_as: Any) -> None:
    page = client_as("membro@example.org").get("/da-fare").get_data(as_text=True)
    assert re.search(r"Completa «[^»]+»: \d+ campi obbligatori vuoti", rows(page, "schede"))


def test_reviews_votes_and_mentions(db: Any, client_as: Any, user: Any, tavolo: Any) -> None:
    from pdz.comments.models import Comment
    from pdz.notifications.models import Notification, NotificationKind

    udp_page = client_as("udp@example.org").get("/").get_data(as_text=True)
    assert "Esamina «" in rows(udp_page, "approvazioni")
    membro = user("membro@example.org")
    comment = db.session.scalar(select(Comment).where(Comment.body_id == tavolo.id).order_by(Comment.id))
    note = Notification(
        user_id=membro.id,
        kind=NotificationKind.MENTION,
        body_id=tavolo.id,
        target_kind="tavolo",
        target_id=tavolo.id,
        comment_id=comment.id if comment else None,
        text="Anna ti ha menzionato: <b>leggi</b>",
        url=f"/tavoli/{tavolo.id}/discussione",
    )
    db.session.add(note)
    db.session.commit()
    page = client_as("membro@example.org").get("/da-fare").get_data(as_text=True)
    assert "Anna ti ha menzionato: &lt;b&gt;leggi&lt;/b&gt;" in rows(page, "menzioni")


def test_due_date_before_the_meeting_is_refused(db: Any, client_as: Any, user: Any) -> None:
    from pdz.meetings.models import ActionItem, Meeting, MeetingStatus, MinutesStatus
    from pdz.tavoli.models import Membership

    coord = user("coord.pubblico@example.org")
    bodies = select(Membership.body_id).where(Membership.user_id == coord.id, Membership.ended_at.is_(None))
    meeting = db.session.scalar(
        select(Meeting)
        .where(
            Meeting.body_id.in_(bodies),
            Meeting.status == MeetingStatus.CONCLUDED,
            Meeting.minutes_status == MinutesStatus.DRAFT,
        )
        .order_by(Meeting.id)
    )
    assert meeting is not None
    before = db.session.scalar(select(ActionItem.id).order_by(ActionItem.id.desc()).limit(1))
    response = client_as("coord.pubblico@example.org").post(
        f"/incontri/{meeting.id}/azioni",
        data={
            "title": "Azione Tiglio",
            "owner_id": str(coord.id),
            "organisation_id": "",
            "item_id": "",
            "due_on": "2019-01-01",
        },
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "La scadenza non può essere prima dell" in page and meeting.starts_at.strftime("%d/%m/%Y") in page
    db.session.expire_all()
    assert db.session.scalar(select(ActionItem.id).order_by(ActionItem.id.desc()).limit(1)) == before


def test_nothing_pending_says_what_comes_here(db: Any, client_as: Any) -> None:
    page = client_as("sindaco@example.org").get("/da-fare").get_data(as_text=True)
    assert 'data-testid="todo"' in page or "Niente in attesa per te" in page
