"""The one permission module: `can(user, action, obj)` answers every question.

Rules inherit: an object -> its tavolo (body) -> the user's membership role there; staff roles
(platform admin, Ufficio di Piano) sit above. An unknown action raises instead of answering "no".
The matrix is documented in docs/permissions.md; tests walk the URL map against it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any

from flask import abort, g
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .approvals.models import StepMode, SubmissionStatus
from .attachments import queries as attachment_queries
from .attachments.models import Attachment
from .cards.models import Card
from .comments.models import CommentStatus
from .errors import NotAllowed
from .extensions import db, login_manager
from .meetings.models import AgendaItem, Meeting, Rsvp
from .tavoli.models import (
    COORDINATOR_ROLES,
    WRITER_ROLES,
    Body,
    BodyKind,
    BodyStatus,
    Membership,
    MembershipRole,
)

Rule = Callable[[Any, Any], bool]
RULES: dict[str, Rule] = {}


def rule(*actions: str) -> Callable[[Rule], Rule]:
    def register(func: Rule) -> Rule:
        for action in actions:
            if action in RULES:
                raise ValueError(f"rule for {action!r} defined twice")
            RULES[action] = func
        return func

    return register


def can(user: Any, action: str, obj: Any = None) -> bool:
    try:
        check = RULES[action]
    except KeyError:
        raise LookupError(f"unknown policy action {action!r}") from None
    if user is None or not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_admin:
        return True
    return bool(check(user, obj))


def require(user: Any, action: str, obj: Any = None) -> None:
    if not can(user, action, obj):
        raise NotAllowed(_("Non hai i permessi per questa operazione."), action=action)


# --- membership lookups (cached per request) -------------------------------------------------------


def membership(user: Any, body: Any) -> Any:
    """The user's active membership in `body`, or None. One query per (user, body) per request."""
    if body is None or user is None or not getattr(user, "id", None):
        return None
    cache: dict[tuple[int, int], Any] = g.setdefault("pdz_memberships", {})
    key = (user.id, body.id)
    if key not in cache:
        cache[key] = db.session.scalar(
            select(Membership).where(
                Membership.user_id == user.id, Membership.body_id == body.id, Membership.ended_at.is_(None)
            )
        )
    return cache[key]


def forget_memberships() -> None:
    g.pop("pdz_memberships", None)
    g.pop("pdz_body_kinds", None)


def _role(user: Any, body: Any) -> Any:
    found = membership(user, body)
    return found.role if found is not None else None


def _writable(body: Any) -> bool:
    """Drafts, meetings, comments and submissions of a body are written only while it is active: a closed
    (`concluso`) or suspended (`sospeso`) body is read-only (docs/permissions.md, last column)."""
    return body is not None and body.status == BodyStatus.ACTIVE


# --- rules -----------------------------------------------------------------------------------------


@rule(
    "home.view",
    "account.view",
    "account.edit",
    "tavolo.list",
    "body.list",
    "org.list",
    "org.view",
    "comune.list",
)
def _signed_in(user: Any, obj: Any) -> bool:
    return True


@rule(
    "tavolo.create",
    "tavolo.edit",
    "org.create",
    "org.edit",
    "comune.edit",
    "user.list",
    "user.manage",
    "outbox.view",
    "audit.view",
    "cycle.manage",
    "mandate.decide",
    "admin.view",
)
def _udp_staff(user: Any, obj: Any) -> bool:
    return user.is_udp


@rule("user.grant_staff")
def _platform_admin_only(user: Any, obj: Any) -> bool:
    return False  # admins pass before any rule runs


@rule("tavolo.view")
def _tavolo_view(user: Any, body: Any) -> bool:
    return user.is_udp or _role(user, body) is not None


@rule("tavolo.write")
def _tavolo_write(user: Any, body: Any) -> bool:
    if not _writable(body):
        return False
    return user.is_udp or _role(user, body) in WRITER_ROLES


@rule("tavolo.members.manage", "mandate.propose")
def _tavolo_coordinate(user: Any, body: Any) -> bool:
    return user.is_udp or _role(user, body) in COORDINATOR_ROLES


# --- cards ---


@rule("card.view")
def _card_view(user: Any, card: Any) -> bool:
    return card is not None and can(user, "tavolo.view", card.body)


@rule("card.edit")
def _card_edit(user: Any, card: Any) -> bool:
    return card is not None and can(user, "tavolo.write", card.body)


@rule("card.create")
def _card_create(user: Any, body: Any) -> bool:
    return _writable(body) and can(user, "tavolo.write", body)


@rule("card.move")
def _card_move(user: Any, card: Any) -> bool:
    """Moving a card between tavoli is the Ufficio di Piano's (docs/permissions.md)."""
    return card is not None and user.is_udp


# --- meetings ---


@rule("meeting.calendar")
def _meeting_calendar(user: Any, obj: Any) -> bool:
    return True  # one's own calendar, feed and action items


@rule("meeting.list")
def _meeting_list(user: Any, body: Any) -> bool:
    return _tavolo_view(user, body)


@rule("meeting.schedule")
def _meeting_schedule(user: Any, body: Any) -> bool:
    """Co-coordinators schedule and run their body's meetings; UdP staff any (governance bodies have none)."""
    if not _writable(body):
        return False
    return user.is_udp or _role(user, body) in COORDINATOR_ROLES


@rule("meeting.quorum.configure")
def _meeting_quorum(user: Any, body: Any) -> bool:
    return user.is_udp


def _named_delegate(user: Any, meeting: Any) -> bool:
    return bool(
        db.session.scalar(
            select(Rsvp.id).where(Rsvp.meeting_id == meeting.id, Rsvp.delegate_id == user.id).limit(1)
        )
    )


@rule("meeting.view")
def _meeting_view(user: Any, meeting: Any) -> bool:
    return meeting is not None and (_tavolo_view(user, meeting.body) or _named_delegate(user, meeting))


@rule("meeting.manage")
def _meeting_manage(user: Any, meeting: Any) -> bool:
    return meeting is not None and _meeting_schedule(user, meeting.body)


@rule("meeting.respond")
def _meeting_respond(user: Any, meeting: Any) -> bool:
    return meeting is not None and membership(user, meeting.body) is not None


@rule("meeting.checkin")
def _meeting_checkin(user: Any, meeting: Any) -> bool:
    return meeting is not None and (
        membership(user, meeting.body) is not None or _named_delegate(user, meeting)
    )


@rule("meeting.minutes.write")
def _meeting_minutes_write(user: Any, meeting: Any) -> bool:
    if meeting is None:
        return False
    return user.is_udp or _role(user, meeting.body) in COORDINATOR_ROLES | {MembershipRole.SECRETARY}


@rule("meeting.agenda.propose")
def _meeting_agenda_propose(user: Any, meeting: Any) -> bool:
    """Members of the body (not observers) propose agenda items; the service checks the moment (a draft)."""
    if meeting is None or not _writable(meeting.body):
        return False
    return user.is_udp or _role(user, meeting.body) not in (None, MembershipRole.OBSERVER)


@rule("meeting.agenda.review")
def _meeting_agenda_review(user: Any, meeting: Any) -> bool:
    """Accept or decline a proposed agenda item: whoever manages the meeting."""
    return _meeting_manage(user, meeting)


# --- comments ---


@rule("comment.create", "comment.resolve")
def _comment_write(user: Any, body: Any) -> bool:
    """Everyone who may read a tavolo may discuss it, observers included (comments are not drafts)."""
    if not _writable(body):
        return False
    return user.is_udp or _role(user, body) is not None


@rule("comment.edit")
def _comment_edit(user: Any, comment: Any) -> bool:
    return comment is not None and comment.author_id == user.id and comment.status != CommentStatus.REMOVED


@rule("comment.remove")
def _comment_remove(user: Any, comment: Any) -> bool:
    """The author, the tavolo's co-coordinators or the Ufficio di Piano."""
    if comment is None:
        return False
    if comment.author_id == user.id or user.is_udp:
        return True
    return _role(user, db.session.get(Body, comment.body_id)) in COORDINATOR_ROLES


@rule("notification.view", "notification.preferences")
def _notifications_own(user: Any, obj: Any) -> bool:
    return True


@rule("notification.open")
def _notification_owner(user: Any, notification: Any) -> bool:
    """One's own notification, about a tavolo one may still read."""
    if notification is None or notification.user_id != user.id:
        return False
    return can(user, "tavolo.view", db.session.get(Body, notification.body_id))


# --- routes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RouteRule:
    """What a route asks of the policy: `action` on the object loaded from `model` by URL argument `arg`."""

    action: str | None  # None: public route
    model: Any = None
    arg: str | None = None
    param: str | None = None


def public(view: Callable[..., Any]) -> Callable[..., Any]:
    view._pdz_rule = RouteRule(action=None)  # type: ignore[attr-defined]
    return view


def guard(action: str, model: Any = None, arg: str | None = None, param: str | None = None) -> Callable:
    """Require a signed-in user allowed to `action`; with `model`, load it by `arg` (404) and pass it as `param`."""
    if action not in RULES:
        raise LookupError(f"unknown policy action {action!r}")
    route_rule = RouteRule(action, model, arg, param)

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(**kwargs: Any) -> Any:
            if not current_user.is_authenticated:
                return login_manager.unauthorized()
            obj = None
            if model is not None:
                assert arg is not None
                obj = db.session.get(model, kwargs.pop(arg))
                if obj is None:
                    abort(404)
                kwargs[param or arg] = obj
            require(current_user, action, obj)
            return view(**kwargs)

        wrapped._pdz_rule = route_rule  # type: ignore[attr-defined]
        return wrapped

    return decorate


# --- evaluation ---


@rule("swot.view")
def _swot_view(user: Any, assessment: Any) -> bool:
    return _tavolo_view(user, getattr(assessment, "body", assessment))


@rule("swot.write")
def _swot_write(user: Any, assessment: Any) -> bool:
    return _tavolo_write(user, getattr(assessment, "body", assessment))


@rule("swot.open", "swot.close")
def _swot_coordinate(user: Any, assessment: Any) -> bool:
    return _tavolo_coordinate(user, getattr(assessment, "body", assessment))


@rule("evaluation.view")
def _evaluation_view(user: Any, obj: Any) -> bool:
    """The UdP synthesis is for the UdP Integrato: its members and UdP staff."""
    if user.is_udp:
        return True
    return (
        db.session.scalar(
            select(Membership.id)
            .join(Body, Body.id == Membership.body_id)
            .where(
                Membership.user_id == user.id,
                Membership.ended_at.is_(None),
                Body.kind == BodyKind.UDP_INTEGRATO,
            )
            .limit(1)
        )
        is not None
    )


@rule("evaluation.edit")
def _evaluation_edit(user: Any, obj: Any) -> bool:
    return user.is_udp


@rule("indicator.record")
def _indicator_record(user: Any, card: Any) -> bool:
    """Monitoring values of a card's indicators: whoever may edit the card (its tavolo's writers, UdP staff)."""
    return _card_edit(user, card)


# --- participation ---


@rule("participation.view", "participation.people")
def _participation_udp(user: Any, obj: Any) -> bool:
    return user.is_udp


@rule("participation.view_tavolo")
def _participation_tavolo(user: Any, body: Any) -> bool:
    return _tavolo_coordinate(user, body)


# --- approvals ---


def _body_kinds_of(user: Any) -> set[str]:
    """The kinds of body the user is an active member of. One query per user per request."""
    cache: dict[int, set[str]] = g.setdefault("pdz_body_kinds", {})
    if user.id not in cache:
        cache[user.id] = {
            str(kind)
            for kind in db.session.scalars(
                select(Body.kind)
                .join(Membership, Membership.body_id == Body.id)
                .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
            )
        }
    return cache[user.id]


def active_body_of_kind(kind: str) -> Any:
    """The active body of a kind (the UdP Integrato, the Assemblea, ...). One query per kind per request."""
    cache: dict[str, Any] = g.setdefault("pdz_step_bodies", {})
    if kind not in cache:
        cache[kind] = db.session.scalar(
            select(Body).where(Body.kind == kind, Body.status == BodyStatus.ACTIVE).order_by(Body.id).limit(1)
        )
    return cache[kind]


def _in_chain_body(user: Any, submission: Any) -> bool:
    """A member of one of the governance bodies the submission passes (UdP Integrato, Comitato, Assemblea)."""
    return bool({step.body_kind.value for step in submission.steps} & _body_kinds_of(user))


@rule("approval.view")
def _approval_view(user: Any, submission: Any) -> bool:
    """Approved versions are public; the others are read by the authors' tavolo, the bodies of the chain and
    the Ufficio di Piano."""
    if submission is None:
        return False
    if submission.status == SubmissionStatus.APPROVED or user.is_udp:
        return True
    return _tavolo_view(user, submission.body) or _in_chain_body(user, submission)


@rule("approval.submit")
def _approval_submit(user: Any, body: Any) -> bool:
    """Co-coordinators submit their tavolo's documents; the Ufficio di Piano submits its own and any other."""
    return _writable(body) and _tavolo_coordinate(user, body)


@rule("card.submit", "swot.submit", "minutes.submit")
def _document_submit(user: Any, obj: Any) -> bool:
    """Submitting a tavolo's card, SWOT or minutes: as `approval.submit` on the body that owns it."""
    return obj is not None and _approval_submit(user, obj.body)


@rule("approval.review")
def _approval_review(user: Any, submission: Any) -> bool:
    """A review step is taken by the Ufficio di Piano's staff or by the co-coordinators of the step's body."""
    step = submission.current_step if submission is not None else None
    if step is None or step.mode is not StepMode.REVIEW:
        return False
    if user.is_udp:
        return True
    return _role(user, active_body_of_kind(step.body_kind)) in COORDINATOR_ROLES


@rule("approval.schedule")
def _approval_schedule(user: Any, submission: Any) -> bool:
    """The Ufficio di Piano puts a decision on the voting body's agenda."""
    return submission is not None and user.is_udp


@rule("approval.configure", "plan.manage")
def _approval_configure(user: Any, obj: Any) -> bool:
    return user.is_udp


@rule("approval.overview")
def _approval_overview(user: Any, obj: Any) -> bool:
    return True  # each row shown is filtered through approval.view


@rule("ballot.manage")
def _ballot_manage(user: Any, ballot: Any) -> bool:
    return ballot is not None and _meeting_manage(user, ballot.meeting)


@rule("ballot.vote")
def _ballot_vote(user: Any, ballot: Any) -> bool:
    """Members of the voting body and the delegates named for the meeting; presence is checked when voting."""
    return ballot is not None and _meeting_checkin(user, ballot.meeting)


@rule("ballot.view")
def _ballot_view(user: Any, ballot: Any) -> bool:
    return ballot is not None and _meeting_view(user, ballot.meeting)


@rule("plan.view")
def _plan_view(user: Any, plan: Any) -> bool:
    """Plan drafts: the Ufficio di Piano and members of the bodies that prepare and decide them."""
    if user.is_udp:
        return True
    return bool(
        {BodyKind.UDP_INTEGRATO.value, BodyKind.COMITATO_RISTRETTO.value, BodyKind.ASSEMBLEA_SINDACI.value}
        & _body_kinds_of(user)
    )


# --- accordo di programma ---


@rule("accordo.view")
def _accordo_view(user: Any, obj: Any) -> bool:
    """The accordo, its signatures and amendments are public (its /pubblico page needs no account)."""
    return True


@rule("accordo.manage")
def _accordo_manage(user: Any, obj: Any) -> bool:
    """The Ufficio di Piano prepares the accordo and records signatures and amendments."""
    return user.is_udp


# --- attachments ---


def _attachment_holder(obj: Any) -> Any:
    """What an attachment's rights come from: the object it is attached to (an Attachment is resolved to
    its tavolo, card or meeting; an agenda item to its meeting)."""
    if isinstance(obj, Attachment):
        obj = attachment_queries.holder_of(obj)
    if isinstance(obj, AgendaItem):
        return obj.meeting
    return obj


@rule("attachment.add", "attachment.remove")
def _attachment_edit(user: Any, obj: Any) -> bool:
    """Files of a tavolo or of a card: whoever may write that tavolo's drafts (`tavolo.write`)."""
    holder = _attachment_holder(obj)
    if isinstance(holder, Card):
        return _card_edit(user, holder)
    return isinstance(holder, Body) and _tavolo_write(user, holder)


@rule("meeting.attachments")
def _meeting_attachments(user: Any, obj: Any) -> bool:
    """Files of a meeting and of its agenda items: whoever manages the meeting (`meeting.manage`)."""
    holder = _attachment_holder(obj)
    return isinstance(holder, Meeting) and _meeting_manage(user, holder)


@rule("attachment.view")
def _attachment_view(user: Any, obj: Any) -> bool:
    """Downloading a file: whoever may see the object it is attached to."""
    holder = _attachment_holder(obj)
    if isinstance(holder, Card):
        return _card_view(user, holder)
    if isinstance(holder, Meeting):
        return _meeting_view(user, holder)
    return isinstance(holder, Body) and _tavolo_view(user, holder)
