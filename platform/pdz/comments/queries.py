"""Read side of comments: a thread with its comments, unread counts per thread / target / tavolo (in SQL)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import and_, func, select
from sqlalchemy.orm import selectinload

from .. import realtime
from ..accounts.models import StaffRole, User
from ..extensions import db
from ..tavoli.models import Body, Membership
from .models import (
    Comment,
    CommentEdit,
    CommentMention,
    CommentStatus,
    CommentThread,
    ThreadFollow,
    ThreadRead,
)
from .services import as_json, find_thread, room_of


def thread_view(body: Body, kind: str, target_id: int, field_key: str, user: User) -> dict[str, Any]:
    """Everything a thread box shows, in a fixed number of queries whatever the number of comments."""
    thread = find_thread(kind, target_id, field_key)
    comments: list[dict[str, Any]] = []
    read_marker, following = 0, False
    if thread is not None:
        rows = db.session.scalars(
            select(Comment)
            .where(Comment.thread_id == thread.id)
            .options(
                selectinload(Comment.author), selectinload(Comment.mentions).selectinload(CommentMention.user)
            )
            .order_by(Comment.id)
        )
        for comment in rows:
            item = as_json(comment, thread, comment.author.full_name)
            if comment.status != CommentStatus.REMOVED:
                item["mentions"] = [{"id": m.user_id, "name": m.user.full_name} for m in comment.mentions]
            comments.append(item)
        read = db.session.get(ThreadRead, (user.id, thread.id))
        read_marker = read.last_comment_id if read is not None else 0
        following = db.session.get(ThreadFollow, (user.id, thread.id)) is not None
    return {
        "thread_id": thread.id if thread is not None else None,
        "body_id": body.id,
        "target_kind": kind,
        "target_id": target_id,
        "field_key": field_key,
        "room": room_of(body.id),
        "last_event_id": realtime.last_event_id(room_of(body.id)),
        "read_marker": read_marker,
        "following": following,
        "comments": comments,
    }


def _unread_query(user: User, *columns: Any) -> Any:
    return (
        select(*columns, func.count(Comment.id))
        .select_from(Comment)
        .join(CommentThread, CommentThread.id == Comment.thread_id)
        .outerjoin(ThreadRead, and_(ThreadRead.thread_id == CommentThread.id, ThreadRead.user_id == user.id))
        .where(
            Comment.author_id != user.id,
            Comment.status != CommentStatus.REMOVED,
            Comment.id > func.coalesce(ThreadRead.last_comment_id, 0),
        )
    )


def unread_by_body(user: User, body_ids: list[int] | None = None) -> dict[int, int]:
    """Unread comments per tavolo the user may read (members: their tavoli; UdP staff: every tavolo)."""
    query = _unread_query(user, Comment.body_id).group_by(Comment.body_id)
    if body_ids is not None:
        query = query.where(Comment.body_id.in_(body_ids))
    if not user.is_udp:
        mine = select(Membership.body_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        query = query.where(Comment.body_id.in_(mine))
    return {body_id: n for body_id, n in db.session.execute(query)}


UNREAD_CAP = 100  # a count that reaches it is shown as "99+"


def unread_in_body(user: User, body_id: int, cap: int = UNREAD_CAP) -> int:
    """Unread comments in one tavolo, counted up to `cap`: the count stops after `cap` rows, so a tavolo
    with years of discussion nobody marked as read costs what a new one does."""
    rows = (
        select(Comment.id)
        .join(CommentThread, CommentThread.id == Comment.thread_id)
        .outerjoin(ThreadRead, and_(ThreadRead.thread_id == CommentThread.id, ThreadRead.user_id == user.id))
        .where(
            Comment.body_id == body_id,
            Comment.author_id != user.id,
            Comment.status != CommentStatus.REMOVED,
            Comment.id > func.coalesce(ThreadRead.last_comment_id, 0),
        )
        .limit(cap)
    )
    if not user.is_udp:
        mine = select(Membership.body_id).where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        rows = rows.where(Comment.body_id.in_(mine))
    return int(db.session.scalar(select(func.count()).select_from(rows.subquery())) or 0)


def unread_by_target(user: User, kind: str, target_ids: list[int]) -> dict[int, int]:
    """Unread comments per target (all its field threads included), e.g. for a list of cards."""
    query = (
        _unread_query(user, CommentThread.target_id)
        .where(CommentThread.target_kind == kind, CommentThread.target_id.in_(target_ids))
        .group_by(CommentThread.target_id)
    )
    return {target_id: n for target_id, n in db.session.execute(query)}


def unread_by_field(user: User, kind: str, target_id: int) -> dict[str, int]:
    query = (
        _unread_query(user, CommentThread.field_key)
        .where(CommentThread.target_kind == kind, CommentThread.target_id == target_id)
        .group_by(CommentThread.field_key)
    )
    return {field: n for field, n in db.session.execute(query)}


def edits(comment: Comment) -> list[dict[str, Any]]:
    rows = db.session.scalars(
        select(CommentEdit)
        .where(CommentEdit.comment_id == comment.id)
        .options(selectinload(CommentEdit.editor))
        .order_by(CommentEdit.id)
    )
    return [
        {"at": e.created_at.isoformat(), "editor": e.editor.full_name, "html": e.before_html} for e in rows
    ]


def mention_candidates(body: Body, query: str, limit: int = 10) -> list[dict[str, Any]]:
    """People who may read the tavolo's discussions (its members and the Ufficio di Piano), by name."""
    members = select(Membership.user_id).where(Membership.body_id == body.id, Membership.ended_at.is_(None))
    stmt = select(User).where(
        User.active.is_(True),
        (User.id.in_(members)) | (User.staff_role.in_([StaffRole.ADMIN, StaffRole.UDP])),
    )
    query = (query or "").strip().lower()
    if query:
        stmt = stmt.where(func.lower(User.full_name).contains(query, autoescape=True))
    return [
        {"id": u.id, "name": u.full_name}
        for u in db.session.scalars(stmt.order_by(User.full_name).limit(limit))
    ]
