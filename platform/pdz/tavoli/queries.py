"""Read side of tavoli and bodies: each page loads what it shows in a bounded number of queries."""

from __future__ import annotations

from typing import Any

from flask import has_request_context, request
from flask_login import current_user
from sqlalchemy import func, or_, select
from sqlalchemy.orm import contains_eager, selectinload

from .. import signals
from ..accounts.models import Invitation, InvitationStatus, User
from ..db import utcnow
from ..extensions import db
from ..orgs.models import Organisation
from .models import COORDINATOR_ROLES, THEMATIC_KINDS, Body, BodyKind, Mandate, MandateStatus, Membership


def _listed(user: User | None) -> Any:
    """What a list of bodies shows of their members: the coordinators and the reader's own memberships
    (not every member's objects: a tavolo may have hundreds); the count comes from `_count_members`."""
    shown: Any = Membership.role.in_(COORDINATOR_ROLES)
    if user is not None and getattr(user, "id", None):
        shown = or_(shown, Membership.user_id == user.id)
    listed = Body.memberships.and_(shown)
    return (  # person and organisation joined into the memberships' query (many-to-one)
        selectinload(listed).joinedload(Membership.user),
        selectinload(listed).joinedload(Membership.organisation),
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
    """A body for its pages: `memberships` holds the coordinators and the reader's own (not every member:
    a tavolo may have hundreds; `members_by_organisation` pages them), `member_count` all current members."""
    user = current_user if has_request_context() and current_user.is_authenticated else None
    body = db.session.scalar(
        select(Body)
        .where(Body.id == body_id)
        .options(*_listed(user), selectinload(Body.mandates).selectinload(Mandate.author))
    )
    return _count_members([body])[0] if body is not None else None


MEMBERS_PAGE = 25  # members a page on the workspace and the members page (a phone screen or two)


class MemberGroups(list[tuple[Any, list[Membership]]]):
    """One page of a body's current members as (organisation, its members) groups, organisations by name and
    people by name within each; `page` (1-based), `pages`, `total` (all current members) for the pager."""

    page: int = 1
    pages: int = 1
    total: int = 0


def _requested_page() -> int:
    raw = request.args.get("pagina", "1") if has_request_context() else "1"
    return int(raw) if raw.isdigit() and 0 < len(raw) < 7 else 1


def members_by_organisation(body: Body, page: int | None = None) -> MemberGroups:
    """Page `page` (default: `?pagina=`, out of range -> the nearest page) of the body's current members,
    MEMBERS_PAGE a page, in the order organisation name, person name: two queries whatever the size."""
    total = getattr(body, "member_count", None)
    if total is None:
        total = _count_members([body])[0].member_count  # type: ignore[attr-defined]
    pages = max(1, -(-total // MEMBERS_PAGE))
    page = min(max(1, page or _requested_page()), pages)
    # Code-point order, as Python sorted names before paging moved into SQL (PostgreSQL's default collation
    # would fold case and accents).
    collation = "C" if db.session.get_bind().dialect.name == "postgresql" else "BINARY"
    rows = db.session.scalars(
        select(Membership)
        .join(Organisation, Organisation.id == Membership.organisation_id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.body_id == body.id, Membership.ended_at.is_(None))
        .options(contains_eager(Membership.organisation), contains_eager(Membership.user))
        .order_by(
            Organisation.name.collate(collation),
            Organisation.id,
            User.full_name.collate(collation),
            Membership.id,
        )
        .limit(MEMBERS_PAGE)
        .offset((page - 1) * MEMBERS_PAGE)
    )
    groups = MemberGroups()
    for membership in rows:
        if groups and groups[-1][0].id == membership.organisation_id:
            groups[-1][1].append(membership)
        else:
            groups.append((membership.organisation, [membership]))
    groups.page, groups.pages, groups.total = page, pages, total
    return groups


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


@signals.organisation_memberships.connect
def memberships_of_organisation(org: Any) -> list[Membership]:
    """The current memberships of an organisation's people, with body and person (the organisation's page)."""
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.organisation_id == org.id, Membership.ended_at.is_(None))
            .options(selectinload(Membership.body), selectinload(Membership.user))
        )
    )
