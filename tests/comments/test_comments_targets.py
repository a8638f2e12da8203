"""Threads on a card (and each of its fields), on a meeting agenda item and on a SWOT entry, over HTTP."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import func, select


def _scripts(html: str, name: str) -> int:
    """How many times the page loads the script `name` (static files are named with their content's hash)."""
    return len(re.findall(re.escape(name) + r"(\.[0-9a-f]{12})?\.js\b", html))


def post(client: Any, body: Any, kind: str, target_id: int, text: str, field: str = "") -> Any:
    payload = {
        "target_kind": kind,
        "target_id": target_id,
        "field_key": field,
        "text": text,
        "client_op_id": uuid.uuid4().hex,
    }
    return client.post(f"/tavoli/{body.id}/commenti", json=payload, headers={"Accept": "application/json"})


def listed(client: Any, body: Any, kind: str, target_id: int, field: str = "") -> Any:
    return client.get(f"/tavoli/{body.id}/commenti?kind={kind}&id={target_id}&field={field}")


def stored(db: Any, kind: str) -> int:
    from pdz.comments.models import Comment, CommentThread

    query = select(func.count(Comment.id)).join(CommentThread, CommentThread.id == Comment.thread_id)
    return (
        db.session.scalar(
            query.where(CommentThread.target_kind == kind, ~Comment.client_op_id.startswith("demo-"))
        )
        or 0
    )


def first_card(db: Any, body: Any) -> Any:
    from pdz.cards.models import Card

    return db.session.scalar(select(Card).where(Card.body_id == body.id).order_by(Card.id))


def a_meeting_with_items(db: Any, body: Any) -> Any:
    from pdz.meetings.models import AgendaItem, Meeting

    return db.session.scalar(
        select(Meeting)
        .where(Meeting.body_id == body.id, Meeting.items.any())
        .order_by(Meeting.starts_at.desc())
    ), AgendaItem


def an_entry(db: Any, body: Any) -> Any:
    from pdz.evaluation.models import SwotAssessment, SwotEntry

    assessment = db.session.scalar(select(SwotAssessment).where(SwotAssessment.body_id == body.id))
    return db.session.scalar(
        select(SwotEntry)
        .where(SwotEntry.assessment_id == assessment.id, SwotEntry.removed_at.is_(None))
        .order_by(SwotEntry.id)
    )


# --- cards ------------------------------------------------------------------------------------------


def test_comment_on_a_card_field_shown_beside_the_field(client_as, tavolo, db, user):
    from pdz.comments import queries

    card = first_card(db, tavolo)
    member = client_as("membro@example.org")
    page = member.get(f"/schede/{card.id}")
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "data-thread-box" in html and 'data-target-kind="card"' in html
    assert 'data-field-key="general_objective"' in html and "data-thread-toggle" in html
    assert _scripts(html, "js/comments") == 1 and _scripts(html, "socket.io.min") == 1

    response = post(member, tavolo, "card", card.id, "Obiettivo da precisare", field="general_objective")
    assert response.status_code == 201, response.json
    assert response.json["comment"]["field_key"] == "general_objective"
    assert post(member, tavolo, "card", card.id, "Sulla scheda intera").status_code == 201
    got = listed(client_as("osservatore@example.org"), tavolo, "card", card.id, "general_objective").json[
        "comments"
    ]
    assert [c["html"] for c in got] == ["<p>Obiettivo da precisare</p>"]
    assert listed(member, tavolo, "card", card.id, "title").json["comments"] == []
    coord = user("coord.ets@example.org")
    assert queries.unread_by_field(coord, "card", card.id) == {"general_objective": 1, "": 1}
    # the per-field unread count beside the field, the per-card count on the tavolo's list
    mine = client_as("coord.ets@example.org")
    assert 'class="count"' in mine.get(f"/schede/{card.id}").get_data(as_text=True)
    assert "2 commenti non letti" in mine.get(f"/tavoli/{tavolo.id}/schede").get_data(as_text=True)


def test_card_field_thread_refused_to_outsiders_and_unknown_fields(client_as, tavolo, body, db):
    card = first_card(db, tavolo)
    outsider = client_as("disabilita@example.org")
    assert post(outsider, tavolo, "card", card.id, "Da fuori", field="general_objective").status_code == 403
    assert listed(outsider, tavolo, "card", card.id, "general_objective").status_code == 403
    member = client_as("membro@example.org")
    assert post(member, tavolo, "card", card.id, "x", field="inventato").status_code == 404
    other = first_card(db, body("Tavolo Permanente Disabilità"))
    if other is not None:  # a card of another tavolo is not found through this one
        assert post(member, tavolo, "card", other.id, "x").status_code == 404
    assert stored(db, "card") == 0


# --- meeting agenda items -----------------------------------------------------------------------------


def test_comment_on_a_meeting_agenda_item(client_as, tavolo, db):
    meeting, _ = a_meeting_with_items(db, tavolo)
    item = meeting.items[0]
    member = client_as("membro@example.org")
    html = member.get(f"/incontri/{meeting.id}").get_data(as_text=True)
    assert 'data-target-kind="meeting_item"' in html and f'data-target-id="{item.id}"' in html
    assert _scripts(html, "socket.io.min") == 1
    response = post(member, tavolo, "meeting_item", item.id, "Portiamo i dati del 2025")
    assert response.status_code == 201, response.json
    got = listed(client_as("coord.pubblico@example.org"), tavolo, "meeting_item", item.id).json["comments"]
    assert [c["html"] for c in got] == ["<p>Portiamo i dati del 2025</p>"]
    assert (
        post(member, tavolo, "meeting_item", item.id, "x", field="titolo").status_code == 404
    )  # no field threads


def test_meeting_item_thread_refused_to_outsiders(client_as, tavolo, db):
    meeting, _ = a_meeting_with_items(db, tavolo)
    item = meeting.items[0]
    outsider = client_as("disabilita@example.org")
    assert post(outsider, tavolo, "meeting_item", item.id, "Da fuori").status_code == 403
    assert listed(outsider, tavolo, "meeting_item", item.id).status_code == 403
    assert stored(db, "meeting_item") == 0


# --- SWOT entries -------------------------------------------------------------------------------------


def test_comment_on_a_swot_entry(client_as, tavolo, db):
    entry = an_entry(db, tavolo)
    member = client_as("membro@example.org")
    html = member.get(f"/swot/{entry.assessment_id}").get_data(as_text=True)
    assert 'data-target-kind="swot_entry"' in html and f'data-target-id="{entry.id}"' in html
    assert 'class="entry-thread"' in html and _scripts(html, "socket.io.min") == 1
    response = post(member, tavolo, "swot_entry", entry.id, "Vale anche per il Soncinasco")
    assert response.status_code == 201, response.json
    got = listed(client_as("osservatore@example.org"), tavolo, "swot_entry", entry.id).json["comments"]
    assert [c["html"] for c in got] == ["<p>Vale anche per il Soncinasco</p>"]
    coord = client_as("coord.ets@example.org")
    assert 'title="non letti">1</span>' in coord.get(f"/swot/{entry.assessment_id}").get_data(as_text=True)


def test_swot_entry_thread_refused_to_outsiders_and_removed_entries(client_as, tavolo, db):
    from pdz.db import utcnow

    entry = an_entry(db, tavolo)
    outsider = client_as("disabilita@example.org")
    assert post(outsider, tavolo, "swot_entry", entry.id, "Da fuori").status_code == 403
    entry.removed_at = utcnow()
    db.session.commit()
    assert post(client_as("membro@example.org"), tavolo, "swot_entry", entry.id, "x").status_code == 404
    assert stored(db, "swot_entry") == 0


def test_notifications_link_to_the_target_page(app, tavolo, db):
    from pdz.comments import targets

    card = first_card(db, tavolo)
    meeting, _ = a_meeting_with_items(db, tavolo)
    entry = an_entry(db, tavolo)
    with app.test_request_context():
        assert targets.get("card").url_of(card) == f"/schede/{card.id}"
        assert targets.get("meeting_item").url_of(meeting.items[0]) == f"/incontri/{meeting.id}"
        assert targets.get("swot_entry").url_of(entry) == f"/swot/{entry.assessment_id}"
        assert targets.get("meeting_item").label(meeting.items[0]).endswith(meeting.items[0].title)
