"""Read side of tavoli and bodies: each page loads what it shows in a bounded number of queries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from flask import has_request_context
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import selectinload

from ..accounts.models import Invitation, InvitationStatus, User
from ..db import utcnow
from ..extensions import db
from .models import COORDINATOR_ROLES, THEMATIC_KINDS, Body, BodyKind, Mandate, MandateStatus, Membership


def _with_members() -> Any:
    return (
        selectinload(Body.memberships).selectinload(Membership.user),
        selectinload(Body.memberships).selectinload(Membership.organisation),
        selectinload(Body.areas),
    )


def _listed(user: User | None) -> Any:
    """What a list of bodies shows of their members: the coordinators and the reader's own memberships
    (not every member's objects: a tavolo may have hundreds); the count comes from `_count_members`."""
    shown: Any = Membership.role.in_(COORDINATOR_ROLES)
    if user is not None and getattr(user, "id", None):
        shown = or_(shown, Membership.user_id == user.id)
    listed = Body.memberships.and_(shown)
    return (
        selectinload(listed).selectinload(Membership.user),
        selectinload(listed).selectinload(Membership.organisation),
        selectinload(Body.areas),
    )


def _count_members(found: list[Body]) -> list[Body]:
    """Set `member_count` (current memberships) on each body, in one grouped query."""
    counts: dict[int, int] = {}
    if found:
        counts = dict(
            db.session.execute(
                select(Membership.body_id, func.count())
                .where(Membership.body_id.in_([b.id for b in found]), Membership.ended_at.is_(None))
                .group_by(Membership.body_id)
            ).all()
        )
    for body in found:
        body.member_count = counts.get(body.id, 0)  # type: ignore[attr-defined]
    return found


def bodies(thematic: bool, user: User | None = None) -> list[Body]:
    """Bodies for a list: `memberships` holds the coordinators and `user`'s own (default: the signed-in
    person), `member_count` all."""
    if user is None and has_request_context() and current_user.is_authenticated:
        user = current_user
    kinds = THEMATIC_KINDS if thematic else set(BodyKind) - THEMATIC_KINDS
    return _count_members(
        list(
            db.session.scalars(
                select(Body).where(Body.kind.in_(kinds)).options(*_listed(user)).order_by(Body.name)
            )
        )
    )


def my_bodies(user: User) -> list[Body]:
    """The user's bodies: `memberships` holds the coordinators and the user's own, `member_count` all."""
    return _count_members(
        list(
            db.session.scalars(
                select(Body)
                .join(Membership, Membership.body_id == Body.id)
                .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
                .options(*_listed(user))
                .order_by(Body.name)
            )
        )
    )


def workspace(body_id: int) -> Body | None:
    return db.session.scalar(
        select(Body)
        .where(Body.id == body_id)
        .options(*_with_members(), selectinload(Body.mandates).selectinload(Mandate.author))
    )


def members_by_organisation(body: Body) -> list[tuple[Any, list[Membership]]]:
    groups: dict[int, list[Membership]] = defaultdict(list)
    orgs = {}
    for membership in body.memberships:
        groups[membership.organisation_id].append(membership)
        orgs[membership.organisation_id] = membership.organisation
    return sorted(
        ((orgs[i], sorted(ms, key=lambda m: m.user.full_name)) for i, ms in groups.items()),
        key=lambda p: p[0].name,
    )


def mandate_in_force(body: Body) -> Mandate | None:
    return next((m for m in body.mandates if m.status == MandateStatus.IN_FORCE), None)


def mandate_proposals(body: Body) -> list[Mandate]:
    return [m for m in body.mandates if m.status == MandateStatus.PROPOSED]


def pending_invitations(body: Body) -> list[Invitation]:
    return list(
        db.session.scalars(
            select(Invitation)
            .where(
                Invitation.body_id == body.id,
                Invitation.status == InvitationStatus.PENDING,
                Invitation.expires_at > utcnow(),
            )
            .options(selectinload(Invitation.organisation))
            .order_by(Invitation.created_at.desc())
        )
    )
