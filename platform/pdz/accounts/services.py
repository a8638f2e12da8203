"""Accounts: sign-in, passwords, resets, invitations. Every change audited, one transaction per call."""

from __future__ import annotations

import contextlib
import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from flask import current_app, session, url_for
from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, policy, signals
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..mail import send_mail
from . import second_factor, sessions
from .models import (
    Affiliation,
    Gender,
    Invitation,
    InvitationStatus,
    PasswordReset,
    User,
)

MIN_PASSWORD = 8


def _hasher() -> PasswordHasher:
    config = current_app.config
    return PasswordHasher(
        time_cost=config["PDZ_ARGON2_TIME_COST"], memory_cost=config["PDZ_ARGON2_MEMORY_COST"]
    )


_DUMMY_HASHES: dict[tuple[int, int], str] = {}


def _dummy_hash(hasher: PasswordHasher) -> str:
    """A hash with the configured parameters, made once per process: an unknown address then costs exactly
    one verification, as a wrong password for a real account does."""
    key = (hasher.time_cost, hasher.memory_cost)
    if key not in _DUMMY_HASHES:
        _DUMMY_HASHES[key] = hasher.hash(secrets.token_urlsafe(16))
    return _DUMMY_HASHES[key]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def normalise_email(email: str) -> str:
    return (email or "").strip().lower()


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def user_by_email(email: str) -> User | None:
    return db.session.scalar(select(User).where(func.lower(User.email) == normalise_email(email)))


def load_user(user_id: str) -> User | None:
    """Flask-Login loader: the cookie carries id and session token, and this browser's session row must
    still exist; a rotated token or a deleted row ends the session."""
    return sessions.load(user_id, session.get(sessions.SESSION_KEY))


def authenticate(email: str, password: str) -> User | None:
    """The password step. The account is not signed in yet: see `sign_in`."""
    user = user_by_email(email)
    hasher = _hasher()
    if user is None or not user.password_hash:
        # Same work whether or not the account exists: one verification against a hash of equal cost.
        with contextlib.suppress(VerificationError, InvalidHashError):
            hasher.verify(_dummy_hash(hasher), password or "x")
        audit.record(None, "account.sign_in_failed", None, {"email": normalise_email(email)[:254]})
        return None
    try:
        hasher.verify(user.password_hash, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        audit.record(None, "account.sign_in_failed", user, {"email": user.email})
        return None
    if not user.active:
        audit.record(user, "account.sign_in_refused_inactive", user)
        return None
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    return user


class SignInStep(StrEnum):
    REFUSED = "refused"  # wrong address or password, or account not active
    DONE = "done"  # signed in: the session token goes in the cookie
    CODE = "code"  # the password is right: a code from the authenticator app comes next
    ENROL = "enrol"  # the password is right, a second factor is required and missing: enrol first


@dataclass
class SignIn:
    step: SignInStep
    user: User | None = None
    session_token: str = ""
    suggest_second_factor: bool = False


def sign_in(email: str, password: str, *, device_cookie: str, ip: str, user_agent: str) -> SignIn:
    """The password step and what follows it. Nobody is signed in before their second factor (if they
    have one, or must have one); a trusted device cookie stands for the code until it expires."""
    user = authenticate(email, password)
    if user is None:
        return SignIn(SignInStep.REFUSED)
    if second_factor.is_enrolled(user):
        if second_factor.trusted_device(user, device_cookie) is None:
            return SignIn(SignInStep.CODE, user)
        audit.record(user, "account.mfa_verified", user, {"method": "trusted_device"})
        token = sessions.start_session(user, ip=ip, user_agent=user_agent, method="trusted_device")
        return SignIn(SignInStep.DONE, user, token)
    if second_factor.is_required(user):
        second_factor.start_enrolment(user, actor=user)
        return SignIn(SignInStep.ENROL, user)
    token = sessions.start_session(user, ip=ip, user_agent=user_agent, method="none")
    return SignIn(SignInStep.DONE, user, token, suggest_second_factor=second_factor.is_suggested(user))


def pending_user(user_id: int, session_token: str) -> User | None:
    """The person between the password step and the second factor, if nothing changed meanwhile
    (password, sign-out everywhere, deactivation all rotate the session token)."""
    user = db.session.get(User, user_id)
    if user is None or not user.active or not secrets.compare_digest(user.session_token, session_token):
        return None
    return user


def second_step(
    user: User, code: str, *, remember: bool, ip: str, user_agent: str
) -> tuple[second_factor.Check, str, str]:
    """The code step: (check, session token, trusted-device cookie value); tokens are empty unless the
    check passed (and the device was to be remembered)."""
    check = second_factor.verify_code(user, code)
    if not check.ok:
        return check, "", ""
    device = second_factor.remember_device(user, user_agent) if remember else ""
    return check, sessions.start_session(user, ip=ip, user_agent=user_agent, method=check.value), device


def enrol_at_sign_in(user: User, code: str, *, ip: str, user_agent: str) -> tuple[list[str] | None, str]:
    """Mandatory enrolment between the password and the session: (recovery codes, session token)."""
    codes = second_factor.confirm_enrolment(user, code, actor=user)
    if codes is None:
        return None, ""
    return codes, sessions.start_session(user, ip=ip, user_agent=user_agent, method="totp")


def disable_second_factor(user: User, password: str, *, actor: User) -> None:
    policy.require(actor, "account.edit", user)
    if second_factor.is_required(user):
        raise Invalid(
            _("Per il tuo ruolo la verifica in due passaggi è obbligatoria: non si può disattivare.")
        )
    try:
        _hasher().verify(user.password_hash or "", password or "")
    except (VerificationError, InvalidHashError):
        raise Invalid(errors={"password": _("La password non è corretta.")}) from None
    if not second_factor.is_enrolled(user):
        raise Invalid(_("La verifica in due passaggi non è attiva."))
    second_factor.remove(user)
    audit.record(actor, "account.mfa_disabled", user)


def reset_second_factor(user: User, *, actor: User) -> None:
    """An administrator removes someone's authenticator (lost phone): their sessions and trusted devices
    end, and at the next sign-in they enrol again if their role requires it."""
    policy.require(actor, "user.grant_staff", user)  # administrators only
    if user.id == actor.id:
        raise Invalid(
            _("Non puoi azzerare la tua verifica in due passaggi: chiedilo a un altro amministratore.")
        )
    if not second_factor.is_enrolled(user):
        raise Invalid(_("%(name)s non ha attivato la verifica in due passaggi.", name=user.full_name))
    second_factor.remove(user)
    sessions.end_sessions(user)
    audit.record(actor, "account.mfa_reset", user)


def validate_new_password(password: str, confirm: str | None = None) -> None:
    if len(password or "") < MIN_PASSWORD:
        raise Invalid(
            errors={"password": _("La password deve avere almeno %(n)d caratteri.", n=MIN_PASSWORD)}
        )
    if len(password) > 200:
        raise Invalid(errors={"password": _("La password è troppo lunga (massimo 200 caratteri).")})
    if confirm is not None and confirm != password:
        raise Invalid(errors={"confirm": _("Le due password non coincidono.")})


def change_password(
    user: User, current: str, new: str, confirm: str, *, actor: User, keep_session: str | None = None
) -> None:
    """A new password; every session ends except the one holding `keep_session` (this browser)."""
    policy.require(actor, "account.edit", user)
    try:
        _hasher().verify(user.password_hash or "", current or "")
    except (VerificationError, InvalidHashError):
        raise Invalid(errors={"current": _("La password attuale non è corretta.")}) from None
    validate_new_password(new, confirm)
    user.password_hash = hash_password(new)
    sessions.end_sessions(user, keep_token=keep_session)
    audit.record(actor, "account.password_changed", user)


def sign_out_everywhere(user: User, *, actor: User) -> None:
    policy.require(actor, "account.edit", user)
    sessions.end_sessions(user)
    audit.record(actor, "account.signed_out_everywhere", user)


def update_profile(
    user: User, full_name: str, locale: str, *, actor: User, gender: str | None = None
) -> None:
    """Name, language and (when given: "" clears it) the form in which the person's roles are named."""
    policy.require(actor, "account.edit", user)
    full_name = (full_name or "").strip()
    if not full_name:
        raise Invalid(errors={"full_name": _("Indica nome e cognome.")})
    if locale not in current_app.config["PDZ_LOCALES"]:
        raise Invalid(errors={"locale": _("Lingua non disponibile.")})
    if gender is not None:
        if gender not in ("", *(g.value for g in Gender)):
            raise Invalid(errors={"gender": _("Scegli una delle forme proposte.")})
        user.gender = Gender(gender) if gender else None
    user.full_name, user.locale = full_name[:120], locale
    audit.record(actor, "account.profile_updated", user)


def set_active(user: User, active: bool, *, actor: User) -> None:
    policy.require(actor, "user.manage", user)
    if user.id == actor.id and not active:
        raise Invalid(_("Non puoi disattivare il tuo stesso account."))
    user.active = active
    sessions.end_sessions(user)
    audit.record(actor, "account.activated" if active else "account.deactivated", user)


def set_staff_role(user: User, role: Any, *, actor: User) -> None:
    policy.require(actor, "user.grant_staff", user)
    user.staff_role = role
    if role is not None and not second_factor.is_enrolled(user):
        sessions.end_sessions(user)  # staff need a second factor: they enrol at their next sign-in
    audit.record(actor, "account.staff_role_set", user, {"role": role.value if role else None})


# --- password reset --------------------------------------------------------------------------------


def request_password_reset(email: str) -> None:
    """Always looks the same from outside; mails a single-use link only to an existing active account."""
    user = user_by_email(email)
    if user is None or not user.active:
        audit.record(None, "account.reset_requested_unknown", None, {"email": normalise_email(email)[:254]})
        return
    token = secrets.token_urlsafe(32)
    now = utcnow()
    db.session.add(
        PasswordReset(
            user_id=user.id,
            token_hash=token_digest(token),
            created_at=now,
            expires_at=now + timedelta(hours=current_app.config["PDZ_RESET_TOKEN_HOURS"]),
        )
    )
    link = current_app.config["PDZ_BASE_URL"].rstrip("/") + url_for("accounts.reset_password", token=token)
    send_mail(
        user.email,
        _("PdZ – reimposta la password"),
        _(
            "Ciao %(name)s,\n\nper scegliere una nuova password apri questo collegamento (vale %(hours)d ore e una sola volta):\n%(link)s\n\nSe non hai chiesto tu di reimpostare la password, ignora questo messaggio.",
            name=user.full_name,
            hours=current_app.config["PDZ_RESET_TOKEN_HOURS"],
            link=link,
        ),
    )
    audit.record(user, "account.reset_requested", user)


def valid_reset(token: str) -> PasswordReset | None:
    reset = db.session.scalar(
        select(PasswordReset).where(PasswordReset.token_hash == token_digest(token or ""))
    )
    if reset is None or reset.used_at is not None or reset.expires_at < utcnow() or not reset.user.active:
        return None
    return reset


def reset_password(token: str, password: str, confirm: str) -> User:
    reset = valid_reset(token)
    if reset is None:
        raise Invalid(_("Il collegamento non è valido o è scaduto: chiedine uno nuovo."))
    validate_new_password(password, confirm)
    reset.used_at = utcnow()
    user = reset.user
    user.password_hash = hash_password(password)
    sessions.end_sessions(user)
    audit.record(user, "account.password_reset", user)
    return user


# --- invitations -----------------------------------------------------------------------------------


def valid_invitation(token: str) -> Invitation | None:
    invitation = db.session.scalar(
        select(Invitation).where(Invitation.token_hash == token_digest(token or ""))
    )
    if (
        invitation is None
        or invitation.status != InvitationStatus.PENDING
        or invitation.expires_at < utcnow()
    ):
        return None
    return invitation


def accept_invitation(
    token: str, *, full_name: str = "", password: str = "", confirm: str = "", actor: User | None = None
) -> User:
    """A new person sets name and password; an existing account (signed in as the invited e-mail) just joins."""
    invitation = valid_invitation(token)
    if invitation is None:
        raise Invalid(_("L'invito non è valido, è già stato usato o è scaduto. Chiedi un nuovo invito."))
    user = user_by_email(invitation.email)
    if user is None:
        full_name = (full_name or "").strip()
        if not full_name:
            raise Invalid(errors={"full_name": _("Indica nome e cognome.")})
        validate_new_password(password, confirm)
        user = User(email=invitation.email, full_name=full_name[:120], password_hash=hash_password(password))
        db.session.add(user)
        db.session.flush()
        audit.record(user, "account.created_from_invitation", user)
    elif actor is None or actor.id != user.id:
        raise Invalid(
            _("Esiste già un account con questo indirizzo: accedi e apri di nuovo il collegamento.")
        )
    if not any(a.organisation_id == invitation.organisation_id for a in user.affiliations):
        user.affiliations.append(
            Affiliation(organisation_id=invitation.organisation_id, function=invitation.function)
        )
    signals.invitation_accepted.send(invitation, user=user)  # the tavolo adds the membership
    invitation.status = InvitationStatus.ACCEPTED
    invitation.accepted_at = utcnow()
    invitation.accepted_by_id = user.id
    audit.record(user, "invitation.accepted", invitation, {"body_id": invitation.body_id})
    return user


def revoke_invitation(invitation: Invitation, *, actor: User) -> None:
    policy.require(actor, "tavolo.members.manage", invitation.body)
    if invitation.status != InvitationStatus.PENDING:
        raise Invalid(_("L'invito non è più in attesa."))
    invitation.status = InvitationStatus.REVOKED
    audit.record(actor, "invitation.revoked", invitation)
