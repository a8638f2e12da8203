"""Tavoli and governance bodies: creation, membership and roles, mandates."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from flask import current_app, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, policy, realtime, signals
from ..accounts import services as account_services
from ..accounts.models import Function, Invitation, User
from ..cycles.models import PolicyArea
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..mail import send_mail
from ..orgs.models import Organisation
from ..text import MAX_SOURCE_CHARS, render_markdown
from .coedit import draft_texts
from .models import (
    COORDINATOR_ROLES,
    MANDATE_PARTS,
    MAX_MANDATE_PART,
    Body,
    BodyKind,
    BodyStatus,
    Mandate,
    MandateStatus,
    Membership,
    MembershipRole,
)


def _check_body_fields(name: str, description: str, body: Body | None = None) -> dict[str, str]:
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Indica il nome.")
    elif len(name) > 200:
        errors["name"] = _("Il nome è troppo lungo (massimo 200 caratteri).")
    else:
        clash = db.session.scalar(select(Body.id).where(func.lower(Body.name) == name.lower()))
        if clash is not None and (body is None or clash != body.id):
            errors["name"] = _("Esiste già un tavolo o organismo con questo nome.")
    if len(description or "") > 5000:
        errors["description"] = _("La descrizione è troppo lunga (massimo 5000 caratteri).")
    return errors


def _areas(area_ids: list[int]) -> list[PolicyArea]:
    areas = list(db.session.scalars(select(PolicyArea).where(PolicyArea.id.in_(area_ids or []))))
    if len(areas) != len(set(area_ids or [])):
        raise Invalid(errors={"area_ids": _("Area di policy sconosciuta.")})
    return areas


def create_body(
    name: str, kind: BodyKind, area_ids: list[int], description: str, short_name: str = "", *, actor: User
) -> Body:
    policy.require(actor, "tavolo.create")
    errors = _check_body_fields(name, description)
    if errors:
        raise Invalid(errors=errors)
    body = Body(
        name=name.strip(),
        short_name=(short_name or "").strip()[:80],
        kind=kind,
        description=description or "",
    )
    body.areas = _areas(area_ids)
    db.session.add(body)
    db.session.flush()
    audit.record(actor, "body.created", body, {"name": body.name, "kind": kind.value})
    return body


def update_body(
    body: Body,
    name: str,
    short_name: str,
    status: BodyStatus,
    area_ids: list[int],
    description: str,
    *,
    actor: User,
) -> None:
    policy.require(actor, "tavolo.edit", body)
    errors = _check_body_fields(name, description, body)
    if errors:
        raise Invalid(errors=errors)
    before = {"name": body.name, "status": body.status.value}
    body.name, body.short_name, body.status = name.strip(), (short_name or "").strip()[:80], status
    body.description = description or ""
    body.areas = _areas(area_ids)
    audit.record(
        actor, "body.updated", body, {"before": before, "after": {"name": body.name, "status": status.value}}
    )


# --- members ---------------------------------------------------------------------------------------


def _check_coordinator(body: Body, membership: Membership, role: MembershipRole) -> None:
    if role == MembershipRole.COORD_PUBLIC and not membership.organisation.is_public:
        raise Invalid(errors={"role": _("Il co-coordinatore pubblico deve rappresentare un ente pubblico.")})
    if role == MembershipRole.COORD_ETS and not membership.organisation.is_ets:
        raise Invalid(errors={"role": _("Il co-coordinatore del Terzo Settore deve rappresentare un ETS.")})
    holder = next((m for m in body.memberships if m.role == role and m.id != membership.id), None)
    if holder is not None:
        raise Invalid(
            errors={
                "role": _(
                    "%(name)s ha già questo ruolo: assegnagli prima un altro ruolo.",
                    name=holder.user.full_name,
                )
            }
        )


@signals.invitation_accepted.connect
def join_by_invitation(invitation: Any, user: User) -> Membership | None:
    """The invited person joins the body named by an accepted invitation (nothing if they already belong to
    it). The invitation was the manager's decision; the body's state is checked now, when it takes effect."""
    if policy.membership(user, invitation.body) is not None:
        return None
    organisation = db.session.get(Organisation, invitation.organisation_id)
    if organisation is None:
        raise Invalid(_("L'ente dell'invito non esiste più. Chiedi un nuovo invito."))
    return _create_membership(
        invitation.body,
        user,
        organisation,
        invitation.role,
        actor=user,
        details={"invitation_id": invitation.id},
    )


# --- invitations ---------------------------------------------------------------------------------


def invite(
    body: Body,
    email: str,
    full_name: str,
    organisation_id: int | None,
    role: MembershipRole,
    function: Function,
    *,
    actor: User,
) -> Invitation:
    policy.require(actor, "tavolo.members.manage", body)
    email = account_services.normalise_email(email)
    errors: dict[str, str] = {}
    organisation = db.session.get(Organisation, organisation_id) if organisation_id else None
    if organisation is None:
        errors["organisation_id"] = _("Ente sconosciuto: scegline uno dall'elenco.")
    if role in COORDINATOR_ROLES:
        errors["role"] = _(
            "Il ruolo di co-coordinatore si assegna a chi fa già parte del tavolo: invita la persona come componente."
        )
    existing = account_services.user_by_email(email)
    if existing is not None and policy.membership(existing, body) is not None:
        errors["email"] = _("Questa persona fa già parte di %(body)s.", body=body.display_name)
    if errors:
        raise Invalid(errors=errors)
    assert organisation is not None
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        email=email,
        full_name=(full_name or "").strip()[:120],
        body_id=body.id,
        organisation_id=organisation.id,
        role=role,
        function=function,
        token_hash=account_services.token_digest(token),
        invited_by_id=actor.id,
        expires_at=utcnow() + timedelta(days=current_app.config["PDZ_INVITATION_DAYS"]),
    )
    db.session.add(invitation)
    link = current_app.config["PDZ_BASE_URL"].rstrip("/") + url_for("accounts.accept_invitation", token=token)
    send_mail(
        email,
        _("PdZ – invito a partecipare a %(body)s", body=body.display_name),
        _(
            "Buongiorno,\n\n%(who)s ti invita a partecipare a «%(body)s» per %(org)s sulla piattaforma PdZ dell'Ambito Cremasco.\n\nPer accettare apri questo collegamento (vale %(days)d giorni):\n%(link)s\n",
            who=actor.full_name,
            body=body.name,
            org=organisation.name,
            days=current_app.config["PDZ_INVITATION_DAYS"],
            link=link,
        ),
    )
    audit.record(
        actor, "invitation.created", invitation, {"email": email, "body_id": body.id, "role": role.value}
    )
    return invitation


def _create_membership(
    body: Body,
    user: User,
    organisation: Organisation,
    role: MembershipRole,
    *,
    actor: User,
    details: dict[str, Any],
) -> Membership:
    """The one writer of new memberships: the body must be active, a co-coordinator's role is assigned only
    to someone already in the body (with its own checks), and every new member is audited and announced
    live (their open pages gain the body's rooms)."""
    if body.status != BodyStatus.ACTIVE:
        raise Invalid(
            _(
                "%(body)s è concluso o sospeso: non può accogliere nuovi componenti.",
                body=body.display_name,
            )
        )
    if role in COORDINATOR_ROLES:
        raise Invalid(
            errors={
                "role": _(
                    "Aggiungi prima la persona come componente, poi assegnale il ruolo di co-coordinatore."
                )
            }
        )
    membership = Membership(body_id=body.id, user_id=user.id, organisation_id=organisation.id, role=role)
    db.session.add(membership)
    db.session.flush()
    policy.forget_memberships()
    audit.record(
        actor,
        "membership.created",
        membership,
        {"body_id": body.id, "user_id": user.id, "role": role.value, **details},
    )
    realtime.publish_after_commit(f"user:{user.id}", "membership.created", {"body_id": body.id})
    return membership


def member_of(body: Body, membership_id: int) -> Membership:
    membership = db.session.get(Membership, membership_id)
    if membership is None or membership.body_id != body.id or membership.ended_at is not None:
        raise Invalid(errors={"user": _("La persona non fa parte di %(body)s.", body=body.display_name)})
    return membership


def set_member_role(body: Body, membership_id: int, role: MembershipRole, *, actor: User) -> Membership:
    policy.require(actor, "tavolo.members.manage", body)
    membership = member_of(body, membership_id)
    if role in COORDINATOR_ROLES:
        _check_coordinator(body, membership, role)
    before = membership.role
    membership.role = role
    policy.forget_memberships()
    audit.record(actor, "membership.role_changed", membership, {"before": before.value, "after": role.value})
    # pdz.livecheck notices the change: after the commit their live rooms and documents are re-checked
    return membership


def end_membership(body: Body, membership_id: int, *, actor: User) -> Membership:
    policy.require(actor, "tavolo.members.manage", body)
    membership = member_of(body, membership_id)
    membership.ended_at = utcnow()
    policy.forget_memberships()
    audit.record(actor, "membership.ended", membership, {"body_id": body.id, "user_id": membership.user_id})
    # Open pages and sockets of that person drop the tavolo's rooms when they see this.
    realtime.publish_after_commit(f"user:{membership.user_id}", "membership.ended", {"body_id": body.id})
    # pdz.livecheck notices the ended membership: after the commit, on every process, that person's sockets
    # leave every room of the body (tavolo, cards, meetings, SWOT) and every co-written document of it.
    return membership


# --- mandate ---------------------------------------------------------------------------------------


def _mandate_parts(parts: dict[str, str]) -> dict[str, str]:
    errors = {}
    clean: dict[str, str] = {}
    for part in MANDATE_PARTS:
        value = (parts.get(part) or "").strip()
        if len(value) > MAX_MANDATE_PART:
            errors[part] = _("Testo troppo lungo (massimo %(n)d caratteri).", n=MAX_MANDATE_PART)
        clean[part] = value
    if not clean["finalita"]:
        errors["finalita"] = _("Indica le finalità del tavolo.")
    if errors:
        raise Invalid(errors=errors)
    assert MAX_MANDATE_PART <= MAX_SOURCE_CHARS
    return clean


def _new_mandate(body: Body, parts: dict[str, str], status: MandateStatus, actor: User) -> Mandate:
    version = (
        db.session.scalar(select(func.max(Mandate.version)).where(Mandate.body_id == body.id)) or 0
    ) + 1
    mandate = Mandate(body_id=body.id, version=version, status=status, author_id=actor.id)
    for part, value in parts.items():
        setattr(mandate, f"{part}_source", value)
        setattr(mandate, f"{part}_html", str(render_markdown(value)))
    db.session.add(mandate)
    return mandate


def _put_in_force(body: Body, mandate: Mandate, actor: User) -> None:
    for other in db.session.scalars(
        select(Mandate).where(
            Mandate.body_id == body.id, Mandate.status == MandateStatus.IN_FORCE, Mandate.id != mandate.id
        )
    ):
        other.status = MandateStatus.SUPERSEDED
    mandate.status = MandateStatus.IN_FORCE
    mandate.decided_by_id, mandate.decided_at = actor.id, utcnow()


def write_mandate(body: Body, parts: dict[str, str], *, actor: User) -> Mandate:
    """UdP staff (for the UdP Integrato) set the mandate in force; co-coordinators propose a new version."""
    clean = _mandate_parts(parts)
    if policy.can(actor, "mandate.decide", body):
        mandate = _new_mandate(body, clean, MandateStatus.PROPOSED, actor)
        db.session.flush()
        _put_in_force(body, mandate, actor)
        audit.record(actor, "mandate.set", mandate, {"body_id": body.id, "version": mandate.version})
        return mandate
    policy.require(actor, "mandate.propose", body)
    mandate = _new_mandate(body, clean, MandateStatus.PROPOSED, actor)
    db.session.flush()
    audit.record(actor, "mandate.proposed", mandate, {"body_id": body.id, "version": mandate.version})
    return mandate


def submit_mandate_draft(body: Body, *, actor: User) -> Mandate:
    """Turn the co-written draft, as it is now, into a new version: proposed (co-coordinators) or in force (UdP)."""
    policy.require(actor, "mandate.propose", body)  # whoever may decide may propose too
    parts = draft_texts(body)
    latest = db.session.scalar(
        select(Mandate)
        .where(
            Mandate.body_id == body.id, Mandate.status.in_([MandateStatus.IN_FORCE, MandateStatus.PROPOSED])
        )
        .order_by(Mandate.version.desc())
        .limit(1)
    )
    if latest is not None and all(
        getattr(latest, f"{p}_source") == (parts.get(p) or "").strip() for p in MANDATE_PARTS
    ):
        raise Invalid(_("La bozza è uguale all'ultima versione del mandato: modificala prima di inviarla."))
    return write_mandate(body, parts, actor=actor)


def decide_mandate(body: Body, mandate_id: int, accept: bool, *, actor: User) -> Mandate:
    policy.require(actor, "mandate.decide", body)
    mandate = db.session.get(Mandate, mandate_id)
    if mandate is None or mandate.body_id != body.id:
        raise Invalid(_("Proposta di mandato sconosciuta."))
    if mandate.status != MandateStatus.PROPOSED:
        raise Invalid(_("Questa proposta è già stata decisa."))
    if accept:
        _put_in_force(body, mandate, actor)
    else:
        mandate.status = MandateStatus.REJECTED
        mandate.decided_by_id, mandate.decided_at = actor.id, utcnow()
    audit.record(actor, "mandate.accepted" if accept else "mandate.rejected", mandate, {"body_id": body.id})
    return mandate
