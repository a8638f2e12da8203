"""Threads, comments, their edit history, mentions, follows and read markers."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..db import Base, StrEnumType, utcnow


class CommentStatus(StrEnum):
    VISIBLE = "visibile"
    RESOLVED = "risolto"  # only on a root comment: its conversation is resolved
    REMOVED = "rimosso"  # soft delete: the page shows "commento rimosso"


class FollowReason(StrEnum):
    COMMENTED = "commentato"
    MENTIONED = "menzionato"
    EXPLICIT = "scelto"


class CommentThread(Base):
    """All comments on one target (or one field of it): (target_kind, target_id, field_key)."""

    __tablename__ = "comment_threads"
    __table_args__ = (UniqueConstraint("target_kind", "target_id", "field_key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    target_kind: Mapped[str] = mapped_column(String(30))
    target_id: Mapped[int]
    field_key: Mapped[str] = mapped_column(String(60), default="")
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)  # whose members may read it
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class Comment(Base):
    __tablename__ = "comments"
    __table_args__ = (
        UniqueConstraint("author_id", "client_op_id"),  # a retried send is stored once
        Index("ix_comments_author_created", "author_id", "created_at"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("comment_threads.id"), index=True)
    body_id: Mapped[int] = mapped_column(
        ForeignKey("bodies.id"), index=True
    )  # copied from the thread: counts per tavolo
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("comments.id"), index=True
    )  # root comment of a reply
    client_op_id: Mapped[str] = mapped_column(String(64))
    body_source: Mapped[str] = mapped_column(Text)
    body_html: Mapped[str] = mapped_column(Text)
    status: Mapped[CommentStatus] = mapped_column(
        StrEnumType(CommentStatus, 20), default=CommentStatus.VISIBLE
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    edited_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    resolved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]
    removed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    thread: Mapped[CommentThread] = relationship(lazy="raise")
    author: Mapped[User] = relationship(foreign_keys=[author_id], lazy="raise")
    mentions: Mapped[list[CommentMention]] = relationship(
        back_populates="comment", cascade="all, delete-orphan", lazy="raise"
    )


class CommentMention(Base):
    __tablename__ = "comment_mentions"
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True, index=True)
    comment: Mapped[Comment] = relationship(back_populates="mentions")
    user: Mapped[User] = relationship(lazy="raise")


class CommentEdit(Base):
    """The text a comment had before an edit: the history is kept, newest last."""

    __tablename__ = "comment_edits"
    id: Mapped[int] = mapped_column(primary_key=True)
    comment_id: Mapped[int] = mapped_column(ForeignKey("comments.id", ondelete="CASCADE"), index=True)
    editor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    before_source: Mapped[str] = mapped_column(Text)
    before_html: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    editor: Mapped[User] = relationship(lazy="raise")


class ThreadFollow(Base):
    __tablename__ = "thread_follows"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("comment_threads.id"), primary_key=True, index=True)
    reason: Mapped[FollowReason] = mapped_column(StrEnumType(FollowReason, 20))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ThreadRead(Base):
    """How far a person has read a thread: comments with a larger id are unread."""

    __tablename__ = "thread_reads"
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("comment_threads.id"), primary_key=True, index=True)
    last_comment_id: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
