"""The tavolo's "Discussione" tab counts the comments the person has not read: written by others, not
removed, after the person's read marker of their thread. Past 99 it reads "99+" (the count stops there, so
a tavolo with years of unread discussion costs no more than a new one). Expected counts come from the rule
above, counted here in SQL over the demo's rows."""

from __future__ import annotations

import re
import uuid
from typing import Any

from sqlalchemy import text


def _tab(client: Any, body_id: int) -> str | None:
    html = client.get(f"/tavoli/{body_id}").get_data(as_text=True)
    tab = re.search(r'data-testid="tab-discussione">(.*?)</a>', html, re.S)
    assert tab is not None
    count = re.search(r'<span class="count"[^>]*>([^<]*)</span>', tab.group(1))
    return count.group(1) if count else None


def _unread(db: Any, user_id: int, body_id: int) -> int:
    return int(
        db.session.execute(
            text(
                "SELECT count(*) FROM comments c "
                "LEFT JOIN thread_reads r ON r.thread_id = c.thread_id AND r.user_id = :u "
                "WHERE c.body_id = :b AND c.author_id != :u AND c.status != 'rimosso' "
                "AND c.id > coalesce(r.last_comment_id, 0)"
            ),
            {"u": user_id, "b": body_id},
        ).scalar()
    )


def test_the_discussion_tab_counts_unread_comments_and_stops_at_99_plus(client_as: Any, db: Any, tavolo: Any):
    from pdz.accounts.models import User
    from pdz.comments.models import Comment, CommentStatus, CommentThread
    from pdz.tavoli.models import Membership

    assert CommentStatus.REMOVED.value == "rimosso"
    coord = db.session.scalar(db.select(User).where(User.email == "coord.pubblico@example.org"))
    other = db.session.scalar(
        db.select(Membership.user_id).where(
            Membership.body_id == tavolo.id, Membership.user_id != coord.id, Membership.ended_at.is_(None)
        )
    )
    client = client_as("coord.pubblico@example.org")
    before = _unread(db, coord.id, tavolo.id)
    assert before < 99
    assert _tab(client, tavolo.id) == (str(before) if before else None)

    thread = CommentThread(target_kind="tavolo", target_id=tavolo.id, field_key="", body_id=tavolo.id)
    db.session.add(thread)
    db.session.flush()

    def write(n: int) -> None:
        for i in range(n):
            db.session.add(
                Comment(
                    thread_id=thread.id,
                    body_id=tavolo.id,
                    author_id=other,
                    client_op_id=uuid.uuid4().hex,
                    body_source=f"Commento {i}",
                    body_html=f"<p>Commento {i}</p>",
                )
            )
        db.session.commit()

    write(98 - before)  # 98 unread
    assert _unread(db, coord.id, tavolo.id) == 98
    assert _tab(client, tavolo.id) == "98"
    write(1)
    assert _tab(client, tavolo.id) == "99"
    write(1)
    assert _tab(client, tavolo.id) == "99+"  # 100 unread: "99+" from there on, never a larger number
    write(150)
    assert _unread(db, coord.id, tavolo.id) == 250
    assert _tab(client, tavolo.id) == "99+"
    # The coordinator's own comments are not unread for them.
    db.session.execute(
        text("UPDATE comments SET author_id = :u WHERE thread_id = :t"), {"u": coord.id, "t": thread.id}
    )
    db.session.commit()
    assert _tab(client, tavolo.id) == (str(before) if before else None)
