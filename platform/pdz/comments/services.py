"""Comment use cases: write, reply, mention, edit (history kept), remove (soft), resolve / reopen, read.

Every path (HTTP JSON endpoint, socket event, tests) goes through these functions. They authorise,
validate, change, audit and queue live events; they never commit.
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from limits import parse as parse_limit
from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError

from .. import audit, policy, realtime, signals
from ..accounts.models import User
from ..db import utcnow
from ..errors import Invalid, NotFound, PdzError
from ..extensions import db
from ..idempotency import insert_once
from ..inputs import int32, positive_id, text_value
from ..tavoli.models import Body
from ..text import render_markdown
from . import targets
from .models import (
    Comment,
    CommentEdit,
    CommentMention,
    CommentStatus,
    CommentThread,
    FollowReason,
    ThreadFollow,
    ThreadRead,
)

MAX_COMMENT_CHARS = 10_000
MAX_MENTIONS = 20
CLIENT_OP_ID = re.compile(r"^[A-Za-z0-9_.:-]{8,64}$")


class RateLimited(PdzError):
    status = 429


def room_of(body_id: int) -> str:
    return f"tavolo:{body_id}"


# --- targets and threads ---------------------------------------------------------------------------


def resolve_target(
    body: Body, kind: str, target_id: Any, field_key: str | None = ""
) -> tuple[targets.Target, Any, str]:
    """The registered target `kind`/`target_id`, which must belong to `body`; else NotFound (no leak)."""
    target = targets.get(kind if isinstance(kind, str) else "")
    ident = positive_id(target_id)
    obj = target.load(ident) if target is not None and ident is not None else None
    if target is None or obj is None or getattr(target.body_of(obj), "id", None) != body.id:
        raise NotFound(_("Discussione sconosciuta in questo tavolo."))
    field_key = str(field_key or "")
    if field_key and (target.fields is None or field_key not in target.fields):
        raise NotFound(_("Campo sconosciuto per questa discussione."))
    return target, obj, field_key


def find_thread(kind: str, target_id: int, field_key: str) -> CommentThread | None:
    return db.session.scalar(
        select(CommentThread).where(
            CommentThread.target_kind == kind,
            CommentThread.target_id == target_id,
            CommentThread.field_key == field_key,
        )
    )


def _thread(body: Body, kind: str, target_id: int, field_key: str) -> CommentThread:
    thread = find_thread(kind, target_id, field_key)
    if thread is not None:
        return thread
    try:
        with db.session.begin_nested():
            thread = CommentThread(
                target_kind=kind, target_id=target_id, field_key=field_key, body_id=body.id
            )
            db.session.add(thread)
    except IntegrityError:  # created by a concurrent first comment
        thread = find_thread(kind, target_id, field_key)
        assert thread is not None
    return thread


# --- validation ------------------------------------------------------------------------------------


def _clean_text(text: Any) -> str:
    """The comment's Markdown: a text (a list or an object is refused, never stored as "['x']")."""
    text = text_value("" if text is None else text, "text").strip()
    if not text:
        raise Invalid(errors={"text": _("Scrivi il commento prima di inviarlo.")})
    if len(text) > MAX_COMMENT_CHARS:
        raise Invalid(
            errors={
                "text": _(
                    "Il commento è troppo lungo: massimo %(max)d caratteri, ne hai scritti %(n)d.",
                    max=MAX_COMMENT_CHARS,
                    n=len(text),
                )
            }
        )
    return text


def _check_rate(actor: User) -> None:
    limit = parse_limit(current_app.config.get("PDZ_COMMENT_RATE_LIMIT") or "20 per minute")
    since = utcnow() - timedelta(seconds=limit.get_expiry())
    recent = db.session.scalar(
        select(func.count(Comment.id)).where(Comment.author_id == actor.id, Comment.created_at > since)
    )
    if (recent or 0) >= limit.amount:
        raise RateLimited(
            _(
                "Hai scritto molti commenti in poco tempo (massimo %(n)d): attendi un momento e riprova. "
                "Il testo non è andato perso.",
                n=limit.amount,
            )
        )


def readers_ok(body: Body, users: list[User]) -> list[User]:
    """Those among `users` who may read the tavolo's discussions right now."""
    policy.forget_memberships()
    return [u for u in users if u.active and policy.can(u, "tavolo.view", body)]


def _mentioned(body: Body, mention_ids: Any, actor: User) -> list[User]:
    wanted = [positive_id(i) for i in mention_ids] if isinstance(mention_ids, (list, tuple)) else [None]
    if not mention_ids:
        wanted = []
    if None in wanted:
        raise Invalid(errors={"mentions": _("Menzioni non valide.")})
    ids = sorted({i for i in wanted if i is not None} - {actor.id})
    if len(ids) > MAX_MENTIONS:
        raise Invalid(errors={"mentions": _("Puoi menzionare al massimo %(n)d persone.", n=MAX_MENTIONS)})
    if not ids:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(ids)).order_by(User.full_name)))
    if len(users) != len(ids):
        raise Invalid(errors={"mentions": _("Hai menzionato una persona sconosciuta.")})
    allowed = {u.id for u in readers_ok(body, users)}
    outsiders = [u.full_name for u in users if u.id not in allowed]
    if outsiders:
        raise Invalid(
            errors={
                "mentions": _(
                    "Non puoi menzionare chi non può leggere questa discussione: %(names)s. "
                    "Togli la menzione oppure chiedi ai co-coordinatori di invitarli nel tavolo.",
                    names=", ".join(outsiders),
                )
            }
        )
    return users


# --- serialisation (live events, JSON endpoints) ---------------------------------------------------


def as_json(comment: Comment, thread: CommentThread, author_name: str) -> dict[str, Any]:
    removed = comment.status == CommentStatus.REMOVED
    return {
        "id": comment.id,
        "thread_id": thread.id,
        "body_id": thread.body_id,
        "target_kind": thread.target_kind,
        "target_id": thread.target_id,
        "field_key": thread.field_key,
        "parent_id": comment.parent_id,
        "author_id": comment.author_id,
        "author_name": author_name,
        "html": "" if removed else comment.body_html,
        "source": "" if removed else comment.body_source,  # the Markdown, for the author's edit box
        "status": str(comment.status),
        "created_at": comment.created_at.isoformat(),
        "edited": comment.edited_at is not None,
        "client_op_id": comment.client_op_id,
    }


def _publish(name: str, comment: Comment, thread: CommentThread, author_name: str) -> None:
    realtime.publish_after_commit(
        room_of(thread.body_id), name, {"comment": as_json(comment, thread, author_name)}
    )


def _follow(user_id: int, thread: CommentThread, reason: FollowReason) -> None:
    """Atomic on both databases (INSERT … ON CONFLICT DO NOTHING): two comments posted at once by one author
    in a thread they do not follow yet both go through (a check-then-insert raised UniqueViolation)."""
    db.session.flush()  # a follow added in this unit of work is in the table before the statement
    dialect = db.session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    db.session.execute(
        insert(ThreadFollow)
        .values(user_id=user_id, thread_id=thread.id, reason=str(reason), created_at=utcnow())
        .on_conflict_do_nothing(index_elements=["user_id", "thread_id"])
    )


# --- use cases -------------------------------------------------------------------------------------


def create_comment(
    body: Body,
    target_kind: str,
    target_id: Any,
    field_key: str | None,
    text: Any,
    *,
    client_op_id: Any,
    parent_id: Any = None,
    mention_ids: Any = (),
    actor: User,
) -> tuple[Comment, bool]:
    """Store a comment once per (author, client_op_id). Returns (comment, created)."""
    policy.require(actor, "comment.create", body)
    target, obj, field_key = resolve_target(body, target_kind, target_id, field_key)
    op_id = str(client_op_id or "")
    if not CLIENT_OP_ID.match(op_id):
        raise Invalid(errors={"client_op_id": _("Identificativo di invio non valido: ricarica la pagina.")})
    existing = db.session.scalar(
        select(Comment).where(Comment.author_id == actor.id, Comment.client_op_id == op_id)
    )
    if existing is not None:
        return _same_send(existing, target.kind, obj.id, field_key), False
    clean = _clean_text(text)
    _check_rate(actor)
    parent = _parent(parent_id, target.kind, obj.id, field_key)
    mentioned = _mentioned(body, mention_ids, actor)
    thread = _thread(body, target.kind, obj.id, field_key)
    comment = Comment(
        thread_id=thread.id,
        body_id=body.id,
        author_id=actor.id,
        parent_id=parent.id if parent is not None else None,
        client_op_id=op_id,
        body_source=clean,
        body_html=str(render_markdown(clean)),
    )
    comment.mentions = [CommentMention(user_id=u.id) for u in mentioned]
    try:
        with db.session.begin_nested():
            db.session.add(comment)
    except IntegrityError:  # the same send arrived twice at once: keep the first
        again = db.session.scalar(
            select(Comment).where(Comment.author_id == actor.id, Comment.client_op_id == op_id)
        )
        if again is None:
            raise
        return _same_send(again, target.kind, obj.id, field_key), False
    if parent is not None and parent.status == CommentStatus.RESOLVED:
        parent.status, parent.resolved_at, parent.resolved_by_id = CommentStatus.VISIBLE, None, None
        _publish("comment.reopened", parent, thread, _author_name(parent))
    _follow(actor.id, thread, FollowReason.COMMENTED)
    for user in mentioned:
        _follow(user.id, thread, FollowReason.MENTIONED)
    db.session.flush()
    audit.record(
        actor,
        "comment.created",
        comment,
        {
            "thread_id": thread.id,
            "target": f"{target.kind}:{obj.id}",
            "field": field_key,
            "mentions": [u.id for u in mentioned],
        },
    )
    _publish("comment.created", comment, thread, actor.full_name)
    signals.comment_posted.send(  # notifications tells the followers, the mentioned, the replied-to
        comment,
        thread=thread,
        target=target,
        obj=obj,
        body=body,
        parent=parent,
        mentioned=mentioned,
        actor=actor,
    )
    _mark_read(actor, thread, comment.id)
    return comment, True


def _same_send(comment: Comment, kind: str, target_id: int, field_key: str) -> Comment:
    thread = db.session.get(CommentThread, comment.thread_id)
    if thread is None or (thread.target_kind, thread.target_id, thread.field_key) != (
        kind,
        target_id,
        field_key,
    ):
        raise Invalid(errors={"client_op_id": _("Questo invio è già stato usato per un altro commento.")})
    return comment


def _parent(parent_id: Any, kind: str, target_id: int, field_key: str) -> Comment | None:
    if parent_id is None or parent_id == "":
        return None
    ident = positive_id(parent_id)
    parent = db.session.get(Comment, ident) if ident is not None else None
    thread = db.session.get(CommentThread, parent.thread_id) if parent is not None else None
    if (
        parent is None
        or thread is None
        or (thread.target_kind, thread.target_id, thread.field_key) != (kind, target_id, field_key)
    ):
        raise Invalid(errors={"parent_id": _("Non puoi rispondere a un commento di un'altra discussione.")})
    if parent.parent_id is not None:  # replies stay one level deep: answer the conversation's first comment
        parent = db.session.get(Comment, parent.parent_id)
        assert parent is not None
    if parent.status == CommentStatus.REMOVED:
        raise Invalid(errors={"parent_id": _("Il commento a cui rispondi è stato rimosso.")})
    return parent


def _author_name(comment: Comment) -> str:
    return db.session.scalar(select(User.full_name).where(User.id == comment.author_id)) or ""


def comment_in(body: Body, comment_id: int) -> tuple[Comment, CommentThread]:
    comment = db.session.get(Comment, comment_id)
    if comment is None or comment.body_id != body.id:
        raise NotFound(_("Commento non trovato."))
    thread = db.session.get(CommentThread, comment.thread_id)
    assert thread is not None
    return comment, thread


def edit_comment(comment: Comment, thread: CommentThread, text: Any, *, actor: User) -> Comment:
    if comment.status == CommentStatus.REMOVED:
        raise Invalid(errors={"text": _("Questo commento è stato rimosso e non si può modificare.")})
    policy.require(actor, "comment.edit", comment)
    clean = _clean_text(text)
    if clean == comment.body_source:
        return comment
    db.session.add(
        CommentEdit(
            comment_id=comment.id,
            editor_id=actor.id,
            before_source=comment.body_source,
            before_html=comment.body_html,
        )
    )
    comment.body_source, comment.body_html, comment.edited_at = clean, str(render_markdown(clean)), utcnow()
    db.session.flush()
    audit.record(actor, "comment.edited", comment, {"thread_id": thread.id})
    _publish("comment.updated", comment, thread, _author_name(comment))
    return comment


def remove_comment(comment: Comment, thread: CommentThread, *, actor: User) -> Comment:
    policy.require(actor, "comment.remove", comment)
    if comment.status == CommentStatus.REMOVED:
        return comment
    comment.status, comment.removed_at, comment.removed_by_id = CommentStatus.REMOVED, utcnow(), actor.id
    db.session.flush()
    audit.record(
        actor,
        "comment.removed",
        comment,
        {"thread_id": thread.id, "by_author": actor.id == comment.author_id},
    )
    _publish("comment.removed", comment, thread, _author_name(comment))
    return comment


def set_resolved(comment: Comment, thread: CommentThread, resolved: bool, *, actor: User) -> Comment:
    body = db.session.get(Body, thread.body_id)
    policy.require(actor, "comment.resolve", body)
    if comment.parent_id is not None:
        raise Invalid(_("Si risolve la conversazione dal suo primo commento."))
    if comment.status == CommentStatus.REMOVED:
        raise Invalid(_("Questo commento è stato rimosso."))
    wanted = CommentStatus.RESOLVED if resolved else CommentStatus.VISIBLE
    if comment.status == wanted:
        return comment
    comment.status = wanted
    comment.resolved_at, comment.resolved_by_id = (utcnow(), actor.id) if resolved else (None, None)
    db.session.flush()
    action = "comment.resolved" if resolved else "comment.reopened"
    audit.record(actor, action, comment, {"thread_id": thread.id})
    _publish(action, comment, thread, _author_name(comment))
    return comment


def _mark_read(user: User, thread: CommentThread, last_comment_id: int) -> int:
    row = insert_once(
        ThreadRead, ["user_id", "thread_id"], user_id=user.id, thread_id=thread.id, last_comment_id=0
    )
    row.last_comment_id = max(row.last_comment_id or 0, last_comment_id)
    return row.last_comment_id


def mark_read(thread: CommentThread, last_comment_id: Any, *, actor: User) -> int:
    """Personal read marker (not audited: it changes nothing anyone else sees). Only moves forward."""
    policy.require(actor, "tavolo.view", db.session.get(Body, thread.body_id))
    try:
        wanted = int32(last_comment_id)
    except ValueError:
        raise Invalid(_("Segnalibro di lettura non valido.")) from None
    newest = db.session.scalar(select(func.max(Comment.id)).where(Comment.thread_id == thread.id)) or 0
    marker = _mark_read(actor, thread, min(wanted, newest))
    db.session.flush()
    realtime.publish_after_commit(
        f"user:{actor.id}",
        "thread.read",
        {"thread_id": thread.id, "body_id": thread.body_id, "last_comment_id": marker},
    )
    return marker


def set_follow(
    body: Body, kind: str, target_id: Any, field_key: str | None, follow: bool, *, actor: User
) -> bool:
    policy.require(actor, "tavolo.view", body)
    target, obj, field_key = resolve_target(body, kind, target_id, field_key)
    thread = _thread(body, target.kind, obj.id, field_key)
    if follow:
        _follow(actor.id, thread, FollowReason.EXPLICIT)  # atomic: two clicks at once follow once
    else:
        row = db.session.get(ThreadFollow, (actor.id, thread.id))
        if row is not None:
            db.session.delete(row)
    db.session.flush()
    audit.record(actor, "thread.followed" if follow else "thread.unfollowed", thread, {})
    return follow
