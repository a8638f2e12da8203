"""Who hears about a comment, in the app and by e-mail (immediately for mentions, daily digest for the rest).

Notifications go only to people who may read the target when they are created, and again when the
digest is sent. Every mail carries an unsubscribe link that works without signing in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select, update

from .. import audit, policy, realtime, signals
from ..accounts.models import User
from ..comments.models import ThreadFollow
from ..db import utcnow
from ..extensions import db
from ..formatting import format_local
from ..mail import send_mail
from ..tavoli.models import Body
from . import queries
from .models import MailMode, MailState, Notification, NotificationKind, NotificationPreference

EXCERPT_CHARS = 160


# --- preferences and unsubscribe -------------------------------------------------------------------


def preferences(user_id: int) -> NotificationPreference:
    """The stored preferences, or unsaved defaults (mentions: subito; the rest: riepilogo)."""
    return db.session.get(NotificationPreference, user_id) or _defaults(user_id)


def _defaults(user_id: int) -> NotificationPreference:
    return NotificationPreference(user_id=user_id, mentions=MailMode.IMMEDIATE, others=MailMode.DIGEST)


def save_preferences(
    user: User, mentions: MailMode, others: MailMode, *, actor: User
) -> NotificationPreference:
    policy.require(actor, "notification.preferences")
    if actor.id != user.id:
        policy.require(actor, "user.manage")
    row = db.session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id)
        db.session.add(row)
    row.mentions, row.others = MailMode(mentions), MailMode(others)
    db.session.flush()
    audit.record(
        actor,
        "notification_preferences.saved",
        user,
        {"mentions": str(row.mentions), "others": str(row.others)},
    )
    return row


def _serializer() -> URLSafeSerializer:
    return URLSafeSerializer(current_app.config["SECRET_KEY"], salt="pdz-unsubscribe")


def unsubscribe_token(user: User) -> str:
    return _serializer().dumps({"u": user.id, "e": user.email})


def user_for_token(token: str) -> User | None:
    try:
        data = _serializer().loads(token)
    except BadSignature:
        return None
    user = db.session.get(User, int(data.get("u", 0))) if isinstance(data, dict) else None
    return user if user is not None and user.email == data.get("e") else None


def unsubscribe(user: User) -> None:
    """From the link in a mail (no login): no more e-mail of any kind; in-app notifications stay."""
    row = db.session.get(NotificationPreference, user.id)
    if row is None:
        row = NotificationPreference(user_id=user.id)
        db.session.add(row)
    row.mentions = row.others = MailMode.NEVER
    db.session.execute(
        update(Notification)
        .where(Notification.user_id == user.id, Notification.mail_state == MailState.PENDING)
        .values(mail_state=MailState.NONE)
    )
    db.session.flush()
    audit.record(None, "notification_preferences.unsubscribed", user, {"user_id": user.id})


def _footer(user: User) -> str:
    base = current_app.config["PDZ_BASE_URL"].rstrip("/")
    return _(
        "\n\n--\nHai ricevuto questa e-mail perché partecipi al Piano di Zona dell'Ambito Cremasco.\n"
        "Scegli quali e-mail ricevere: %(prefs)s\nNon ricevere più e-mail: %(unsub)s\n",
        prefs=f"{base}/notifiche/preferenze",
        unsub=f"{base}/notifiche/disiscriviti/{unsubscribe_token(user)}",
    )


# --- creating notifications ------------------------------------------------------------------------


def _excerpt(source: str) -> str:
    flat = " ".join(source.split())
    return flat if len(flat) <= EXCERPT_CHARS else flat[: EXCERPT_CHARS - 1] + "…"


def _text(kind: NotificationKind, actor: User, where: str, excerpt: str) -> str:
    if kind == NotificationKind.MENTION:
        return _(
            "%(who)s ti ha menzionato in «%(where)s»: %(text)s",
            who=actor.full_name,
            where=where,
            text=excerpt,
        )
    if kind == NotificationKind.REPLY:
        return _(
            "%(who)s ha risposto al tuo commento in «%(where)s»: %(text)s",
            who=actor.full_name,
            where=where,
            text=excerpt,
        )
    return _("%(who)s ha commentato in «%(where)s»: %(text)s", who=actor.full_name, where=where, text=excerpt)


@dataclass(frozen=True)
class Recipient:
    """Who hears about something, as what, and through which body they may read it."""

    user: User
    kind: NotificationKind
    body: Body


def notify(
    recipients: Iterable[Recipient],
    *,
    actor: User | None,
    target_kind: str,
    target_id: int,
    url: str,
    text: str | Callable[[Recipient], str],
    mail_subject: Callable[[Notification], str] | None = None,
    mail_text: Callable[[Notification], str] | None = None,
    attachments: list[Any] | None = None,
    comment_id: int | None = None,
    created_at: datetime | None = None,
    urgent: bool = False,
    readers_only: bool = True,
) -> list[Notification]:
    """The one way PdZ tells people something (comments, approvals, meetings): an in-app notification, a
    live event, and e-mail as each person prefers (mentions by their own setting, the rest by the other;
    "mai" means no mail at all), always with the footer that leads to the preferences and the unsubscribe
    link. `urgent` mail (a convocation) goes at once rather than in the daily digest, unless the person chose
    "mai". Nobody hears of their own act; with `readers_only`, only people who may read the body do."""
    wanted: dict[int, Recipient] = {}
    for recipient in recipients:
        if actor is not None and recipient.user.id == actor.id:
            continue
        wanted.setdefault(recipient.user.id, recipient)
    if readers_only:
        policy.forget_memberships()
    chosen = [
        r
        for r in wanted.values()
        if r.user.active and (not readers_only or policy.can(r.user, "tavolo.view", r.body))
    ]
    if not chosen:
        return []
    prefs = {
        p.user_id: p
        for p in db.session.scalars(
            select(NotificationPreference).where(
                NotificationPreference.user_id.in_([r.user.id for r in chosen])
            )
        )
    }
    base = current_app.config["PDZ_BASE_URL"].rstrip("/")
    created = []
    for recipient in sorted(chosen, key=lambda r: r.user.id):
        user, kind = recipient.user, recipient.kind
        pref = prefs.get(user.id) or _defaults(user.id)  # every stored row was read above
        mode = pref.mentions if kind == NotificationKind.MENTION else pref.others
        if mode == MailMode.NEVER:
            state = MailState.NONE
        elif mode == MailMode.IMMEDIATE or urgent:
            state = MailState.SENT
        else:
            state = MailState.PENDING
        note = Notification(
            user_id=user.id,
            kind=kind,
            actor_id=actor.id if actor is not None else None,
            body_id=recipient.body.id,
            target_kind=target_kind,
            target_id=target_id,
            comment_id=comment_id,
            text=text(recipient) if callable(text) else text,
            url=url,
            mail_state=state,
        )
        if created_at is not None:
            note.created_at = created_at
        db.session.add(note)
        if state == MailState.SENT:
            subject = (
                mail_subject(note) if mail_subject else _("PdZ: %(text)s", text=_excerpt(note.text)[:200])
            )
            message = mail_text(note) if mail_text else note.text + "\n\n" + _("Apri: %(u)s", u=base + url)
            send_mail(user.email, subject, message + _footer(user), attachments=attachments)
        created.append(note)
    db.session.flush()
    for note in created:
        realtime.publish_after_commit(
            f"user:{note.user_id}",
            "notification.created",
            {"notification": {"id": note.id, "kind": str(note.kind), "text": note.text, "url": note.url}},
        )
    return created


@signals.comment_posted.connect
def notify_comment(
    comment: Any,
    *,
    thread: Any,
    target: Any,
    obj: Any,
    body: Body,
    parent: Any,
    mentioned: list[User],
    actor: User,
) -> list[Notification]:
    wanted: dict[int, NotificationKind] = {u.id: NotificationKind.MENTION for u in mentioned}
    if parent is not None and parent.author_id not in wanted:
        wanted[parent.author_id] = NotificationKind.REPLY
    for user_id in db.session.scalars(
        select(ThreadFollow.user_id).where(ThreadFollow.thread_id == thread.id)
    ):
        wanted.setdefault(user_id, NotificationKind.NEW_COMMENT)
    wanted.pop(actor.id, None)
    if not wanted:
        return []
    users = list(db.session.scalars(select(User).where(User.id.in_(wanted))))
    where = target.label(obj)
    url = target.url_of(obj) + f"#commento-{comment.id}"
    excerpt = _excerpt(comment.body_source)
    base = current_app.config["PDZ_BASE_URL"].rstrip("/")

    def mail_text(note: Notification) -> str:
        return (
            note.text
            + "\n"
            + _("Scritto il %(when)s (ora italiana).", when=format_local(comment.created_at))
            + "\n\n"
            + _("Apri la discussione: %(url)s", url=base + url)
        )

    return notify(
        [Recipient(user, wanted[user.id], body) for user in users],
        actor=actor,
        target_kind=thread.target_kind,
        target_id=thread.target_id,
        url=url,
        text=lambda r: _text(r.kind, actor, where, excerpt),
        mail_text=mail_text,
        comment_id=comment.id,
        created_at=comment.created_at,  # the comment's moment: thread, notification and mail agree
    )


# --- reading ---------------------------------------------------------------------------------------


def mark_read(user: User, notification: Notification | None = None, *, actor: User) -> int:
    """One notification (or all of them) read. Personal state: not audited."""
    if notification is not None:
        policy.require(actor, "notification.open", notification)
    query = update(Notification).where(Notification.user_id == user.id, Notification.read_at.is_(None))
    if notification is not None:
        query = query.where(Notification.id == notification.id)
    result = db.session.execute(query.values(read_at=utcnow()))
    return int(getattr(result, "rowcount", 0) or 0)


def unread_count(user: User) -> int:
    return queries.unread_count(user)


# --- daily digest ----------------------------------------------------------------------------------


def send_digests() -> int:
    """One mail per person with the pending notifications still unread and still readable. Idempotent."""
    pending = list(
        db.session.scalars(
            select(Notification).where(Notification.mail_state == MailState.PENDING).order_by(Notification.id)
        )
    )
    by_user: dict[int, list[Notification]] = defaultdict(list)
    for note in pending:
        by_user[note.user_id].append(note)
    sent = 0
    for user_id, notes in sorted(by_user.items()):
        user = db.session.get(User, user_id)
        pref = preferences(user_id)
        policy.forget_memberships()
        keep = []
        for note in notes:
            mode = pref.mentions if note.kind == NotificationKind.MENTION else pref.others
            body = db.session.get(Body, note.body_id)
            readable = user is not None and user.active and policy.can(user, "tavolo.view", body)
            if readable and note.read_at is None and mode != MailMode.NEVER:
                keep.append(note)
            else:
                note.mail_state = MailState.NONE
        if not keep or user is None:
            continue
        base = current_app.config["PDZ_BASE_URL"].rstrip("/")
        lines = [f"- {format_local(note.created_at)} · {note.text}\n  {base}{note.url}" for note in keep]
        send_mail(
            user.email,
            _("PdZ: %(n)d novità nelle tue discussioni", n=len(keep)),
            _("Ecco le novità dall'ultimo riepilogo:") + "\n\n" + "\n".join(lines) + _footer(user),
        )
        for note in keep:
            note.mail_state = MailState.SENT
        sent += 1
    db.session.flush()
    if sent:
        audit.record(None, "notifications.digest_sent", None, {"mails": sent})
    return sent
