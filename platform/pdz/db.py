"""Declarative base, shared column types and mixins, and the unit of work."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import DateTime, MetaData, String, TypeDecorator, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, registry

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC: the same on SQLite and PostgreSQL."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class StrEnumType(TypeDecorator[Any]):
    """A StrEnum stored as its value in a VARCHAR; read back as the enum member (not a bare string)."""

    impl = String
    cache_ok = True

    def __init__(self, enum_class: type[StrEnum], length: int = 30) -> None:
        super().__init__(length)
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Any) -> str | None:
        return None if value is None else self.enum_class(value).value

    def process_result_value(self, value: Any, dialect: Any) -> Any:
        return None if value is None else self.enum_class(value)


class Base(DeclarativeBase):
    registry = registry(
        metadata=MetaData(naming_convention=NAMING_CONVENTION),
        type_annotation_map={datetime: UTCDateTime()},
    )


class TimestampMixin:
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


@contextmanager
def unit_of_work() -> Iterator[Any]:
    """One transaction: commit on success, roll back on any exception."""
    from .extensions import db  # function-level: extensions builds its SQLAlchemy on this module's Base

    try:
        yield db.session
        db.session.commit()
    except BaseException:
        db.session.rollback()
        raise


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection: Any, connection_record: Any) -> None:
    """WAL, synchronous=FULL, a busy timeout and enforced foreign keys on every SQLite connection."""
    module = type(dbapi_connection).__module__
    if not module.startswith("sqlite3"):
        return
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def on_commit(session: Any, callback: Any) -> None:
    """Run `callback()` once the current transaction commits; drop it if it rolls back."""
    session.info.setdefault("pdz_on_commit", []).append(callback)


def on_rollback(session: Any, callback: Any) -> None:
    """Run `callback()` if the current transaction rolls back (to forget state kept outside the database)."""
    session.info.setdefault("pdz_on_rollback", []).append(callback)


def install_session_hooks(session_class: Any) -> None:
    @event.listens_for(session_class, "after_commit")
    def _run_after_commit(session: Any) -> None:
        if session.in_nested_transaction():  # SQLAlchemy 2.1 also fires this when a SAVEPOINT is released
            return
        session.info.pop("pdz_on_rollback", None)
        callbacks = session.info.pop("pdz_on_commit", [])
        for callback in callbacks:
            callback()

    @event.listens_for(session_class, "after_rollback")
    def _drop_after_rollback(session: Any) -> None:
        if session.in_nested_transaction():  # a SAVEPOINT rolled back: the transaction goes on
            return
        session.info.pop("pdz_on_commit", None)
        for callback in session.info.pop("pdz_on_rollback", []):
            callback()


def release_session() -> None:
    """End a background thread's session. A connection that died meanwhile (the database restarted, or a
    test's database dropped) is only logged: an exception must never end a background thread."""
    from .extensions import db  # function-level: extensions builds its SQLAlchemy on this module's Base

    try:
        db.session.remove()
    except Exception as error:  # noqa: BLE001 - see above
        logging.getLogger("pdz").warning("background session release failed: %s", error)
