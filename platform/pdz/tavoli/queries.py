"""Read side of tavoli and bodies: each page loads what it shows in a bounded number of queries."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts.models import Invitation, InvitationStatus, User
from ..db import utcnow
from ..extensions import db
from .models import THEMATIC_KINDS, Body, BodyKind, Mandate, MandateStatus, Membership


def _with_members() -> Any:
    return (
        selectinload(Body.memberships).selectinload(Membership.user),
        selectinload(Body.memberships).selectinload(Membership.organisation),
        selectinload(Body.areas),
    )


def bodies(thematic: bool) -> list[Body]:
    kinds = THEMATIC_KINDS if thematic else set(BodyKind) - THEMATIC_KINDS
    return list(
        db.session.scalars(
            select(Body).where(Body.kind.in_(kinds)).options(*_with_members()).order_by(Body.name)
        )
    )


def my_bodies(user: User) -> list[Body]:
    return list(
        db.session.scalars(
            select(Body)
            .join(Membership, Membership.body_id == Body.id)
            .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
            .options(*_with_members())
            .order_by(Body.name)
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
