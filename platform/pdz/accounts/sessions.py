"""Signed-in sessions: one row per browser, listed on the "Sessioni attive" page and ended one by one.

The Flask session cookie carries a random token (`SESSION_KEY`) whose SHA-256 is stored in `user_sessions`;
the login id also carries `User.session_token`, so rotating it still ends every session at once. A session
whose row is gone is signed out at its next request (or Socket.IO event).
"""

from __future__ import annotations

import hashlib
import re
import secrets
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm.attributes import set_committed_value

from .. import audit, policy
from ..db import utcnow
from ..extensions import db
from .models import User, UserSession, new_session_token

SESSION_KEY = "pdz_sid"
TOUCH_EVERY = timedelta(minutes=5)  # "last seen" is written at most this often per session


def digest(token: str) -> str:
    return hashlib.sha256((token or "").encode()).hexdigest()


def lifetime() -> timedelta:
    value = current_app.config["PERMANENT_SESSION_LIFETIME"]
    return value if isinstance(value, timedelta) else timedelta(seconds=int(value))


def start_session(user: User, *, ip: str, user_agent: str, method: str) -> str:
    """Record a new signed-in browser for `user`; returns the token to keep in its session cookie."""
    now = utcnow()
    db.session.execute(
        delete(UserSession).where(UserSession.user_id == user.id, UserSession.last_seen_at < now - lifetime())
    )
    token = secrets.token_urlsafe(32)
    db.session.add(
        UserSession(
            user_id=user.id,
            token_hash=digest(token),
            ip=(ip or "")[:45],
            user_agent=(user_agent or "")[:300],
            created_at=now,
            last_seen_at=now,
        )
    )
    user.last_login_at = now
    audit.record(user, "account.signed_in", user, {"second_factor": method})
    return token


def load(user_id: str, token: str | None) -> User | None:
    """Flask-Login loader: the login id (user id and session token) and this browser's session row."""
    ident, _sep, user_token = (user_id or "").partition(":")
    if not ident.isdigit() or not user_token or not token:
        return None
    row = db.session.execute(
        select(User, UserSession)
        .join(UserSession, UserSession.user_id == User.id)
        .where(User.id == int(ident), UserSession.token_hash == digest(token))
    ).first()
    if row is None:
        return None
    user, record = row
    if not user.active or not secrets.compare_digest(user.session_token, user_token):
        return None
    now = utcnow()
    if record.last_seen_at < now - lifetime():
        return None
    if record.last_seen_at < now - TOUCH_EVERY:
        _touch(record, now)
    return user


def _touch(record: UserSession, now: datetime) -> None:
    """Write "last seen" on its own connection: the request's transaction is left as it was."""
    try:
        with db.engine.begin() as connection:
            connection.execute(
                update(UserSession).where(UserSession.id == record.id).values(last_seen_at=now)
            )
    except SQLAlchemyError:  # best effort: a busy database must not sign anyone out
        current_app.logger.warning("could not record the last activity of session %s", record.id)
        return
    set_committed_value(record, "last_seen_at", now)


def sessions_of(user: User) -> list[UserSession]:
    return list(
        db.session.scalars(
            select(UserSession)
            .where(UserSession.user_id == user.id, UserSession.last_seen_at >= utcnow() - lifetime())
            .order_by(UserSession.last_seen_at.desc(), UserSession.id.desc())
        )
    )


def end_session(user: User, session_id: int, *, actor: User) -> UserSession | None:
    """Sign one of `user`'s browsers out (from the "Sessioni attive" page); returns it, or None if unknown."""
    policy.require(actor, "account.edit", user)
    record = db.session.scalar(
        select(UserSession).where(UserSession.id == session_id, UserSession.user_id == user.id)
    )
    if record is None:
        return None
    db.session.delete(record)
    audit.record(actor, "account.session_revoked", user, {"session_id": session_id})
    return record


def end_current(user: User, token: str | None) -> None:
    """Signing out: this browser's row goes."""
    if token:
        db.session.execute(
            delete(UserSession).where(UserSession.user_id == user.id, UserSession.token_hash == digest(token))
        )
        audit.record(user, "account.signed_out", user)


def end_sessions(user: User, *, keep_token: str | None = None) -> None:
    """Every session of `user` ends, except the one holding `keep_token` (which must sign in again with the
    new session token: the view calls login_user)."""
    query = delete(UserSession).where(UserSession.user_id == user.id)
    if keep_token:
        query = query.where(UserSession.token_hash != digest(keep_token))
    db.session.execute(query)
    user.session_token = new_session_token()


# --- user agents in plain Italian ------------------------------------------------------------------

_BROWSERS = [  # order matters: Edge and Opera also say "Chrome", Chrome also says "Safari"
    (r"Edg(e|A|iOS)?/", "Edge"),
    (r"OPR/|Opera", "Opera"),
    (r"SamsungBrowser/", "Samsung Internet"),
    (r"Firefox/|FxiOS/", "Firefox"),
    (r"Chrome/|CriOS/|Chromium/", "Chrome"),
    (r"Safari/", "Safari"),
]
_SYSTEMS = [
    (r"iPhone", "iPhone"),
    (r"iPad", "iPad"),
    (r"Android", "Android"),
    (r"Windows", "Windows"),
    (r"Mac OS X|Macintosh", "Mac"),
    (r"CrOS", "ChromeOS"),
    (r"Linux", "Linux"),
]


def describe_user_agent(user_agent: str) -> str:
    """ "Firefox su Windows", "Safari su iPhone", "Browser sconosciuto"…"""
    text = user_agent or ""
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, text)), None)
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, text)), None)
    if browser and system:
        return _("%(browser)s su %(system)s", browser=browser, system=system)
    if browser:
        return browser
    if system:
        return _("Browser su %(system)s", system=system)
    return _("Browser o programma sconosciuto")
