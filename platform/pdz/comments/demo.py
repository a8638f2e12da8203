"""Demo: a short general discussion on the Tavolo Politiche Abitative (idempotent)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..text import render_markdown
from .models import Comment, CommentMention, CommentThread, FollowReason, ThreadFollow

TAVOLO = "Tavolo Politiche Abitative"
# (author, text, reply to the comment at this index or None, mentioned e-mails)
DISCUSSION: list[tuple[str, str, int | None, list[str]]] = [
    (
        "membro@example.org",
        "Per la prossima annualità proporrei di mappare gli alloggi sfitti dei comuni del sub-ambito: "
        "chi ha già dati aggiornati?",
        None,
        [],
    ),
    (
        "udp@example.org",
        "L'Ufficio di Piano può condividere la ricognizione **2024**: la carico tra i materiali.",
        0,
        [],
    ),
    ("membro@example.org", "Grazie! Ne parliamo al prossimo incontro del tavolo.", 0, []),
]


def load(demo: Any) -> None:
    body = demo.bodies.get(TAVOLO)
    if body is None:
        return
    exists = db.session.scalar(
        select(CommentThread.id).where(
            CommentThread.target_kind == "tavolo", CommentThread.target_id == body.id
        )
    )
    if exists is not None:
        return
    thread = CommentThread(target_kind="tavolo", target_id=body.id, field_key="", body_id=body.id)
    db.session.add(thread)
    db.session.flush()
    created: list[Comment] = []
    for n, (email, text, reply_to, mentions) in enumerate(DISCUSSION):
        author = demo.users[email]
        comment = Comment(
            thread_id=thread.id,
            body_id=body.id,
            author_id=author.id,
            parent_id=created[reply_to].id if reply_to is not None else None,
            client_op_id=f"demo-{body.id}-{n:04d}",
            body_source=text,
            body_html=str(render_markdown(text)),
        )
        comment.mentions = [CommentMention(user_id=demo.users[m].id) for m in mentions]
        db.session.add(comment)
        db.session.flush()
        created.append(comment)
        if db.session.get(ThreadFollow, (author.id, thread.id)) is None:
            db.session.add(
                ThreadFollow(user_id=author.id, thread_id=thread.id, reason=FollowReason.COMMENTED)
            )
            db.session.flush()
