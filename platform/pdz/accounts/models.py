"""People: accounts, their affiliations to organisations, invitations, password resets, second factors and
the sessions they have open."""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, StrEnumType, TimestampMixin

if TYPE_CHECKING:  # relationships declared by name to higher domains: for the type checker only
    from ..orgs.models import Organisation
    from ..tavoli.models import Body, Membership


class MembershipRole(StrEnum):
    """The role a person holds in a body (`tavoli.models.Membership`); defined here because an invitation
    carries it before the membership exists."""

    MEMBER = "membro"
    COORD_PUBLIC = "coordinatore_pubblico"
    COORD_ETS = "coordinatore_ets"
    SECRETARY = "segretario"
    OBSERVER = "osservatore"
    DELEGATE = "delegato"  # stands for a comune in place of its mayor


class StaffRole(StrEnum):
    ADMIN = "amministratore"
    UDP = "ufficio_di_piano"


class Gender(StrEnum):
    """How a person's roles are named ("Co-coordinatrice", "Co-coordinatore"), as they say in their profile;
    unknown (None) keeps the usual form."""

    FEMININE = "f"
    MASCULINE = "m"


class Function(StrEnum):
    """What a person does in the organisation they belong to."""

    SINDACO = "sindaco"
    ASSESSORE = "assessore"
    CONSIGLIERE = "consigliere_delegato"
    ASSISTENTE_SOCIALE = "assistente_sociale"
    REFERENTE_ETS = "referente_ets"
    COORDINATORE = "coordinatore"
    DIRIGENTE = "dirigente"
    FUNZIONARIO = "funzionario"
    OPERATORE = "operatore"
    VOLONTARIO = "volontario"
    ALTRO = "altro"


def new_session_token() -> str:
    return secrets.token_urlsafe(16)


class User(TimestampMixin, Base):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # always stored lower-case
    full_name: Mapped[str] = mapped_column(String(120))
    password_hash: Mapped[str | None] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="it")
    staff_role: Mapped[StaffRole | None] = mapped_column(StrEnumType(StaffRole, 30))
    gender: Mapped[Gender | None] = mapped_column(StrEnumType(Gender, 1))
    # Part of the login cookie: rotating it signs the user out of every session.
    session_token: Mapped[str] = mapped_column(String(40), default=new_session_token)
    last_login_at: Mapped[datetime | None]

    affiliations: Mapped[list[Affiliation]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Affiliation.id"
    )
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", foreign_keys="Membership.user_id", viewonly=True
    )

    # Flask-Login protocol
    @property
    def is_authenticated(self) -> bool:
        return True

    @property
    def is_active(self) -> bool:
        return self.active

    @property
    def is_anonymous(self) -> bool:
        return False

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    @property
    def is_admin(self) -> bool:
        return self.staff_role == StaffRole.ADMIN

    @property
    def is_udp(self) -> bool:
        return self.staff_role in (StaffRole.ADMIN, StaffRole.UDP)


class Affiliation(Base):
    __tablename__ = "affiliations"
    __table_args__ = (UniqueConstraint("user_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    function: Mapped[Function] = mapped_column(StrEnumType(Function, 30), default=Function.ALTRO)
    title: Mapped[str] = mapped_column(
        String(120), default=""
    )  # free text, e.g. "Assessore ai servizi sociali"
    user: Mapped[User] = relationship(back_populates="affiliations")
    organisation: Mapped[Organisation] = relationship()


class InvitationStatus(StrEnum):
    PENDING = "in_attesa"
    ACCEPTED = "accettato"
    REVOKED = "revocato"


class Invitation(TimestampMixin, Base):
    __tablename__ = "invitations"
    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), index=True)
    full_name: Mapped[str] = mapped_column(String(120), default="")
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[MembershipRole] = mapped_column(StrEnumType(MembershipRole, 30))
    function: Mapped[Function] = mapped_column(StrEnumType(Function, 30), default=Function.ALTRO)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    invited_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    expires_at: Mapped[datetime]
    status: Mapped[InvitationStatus] = mapped_column(
        StrEnumType(InvitationStatus, 20), default=InvitationStatus.PENDING
    )
    accepted_at: Mapped[datetime | None]
    accepted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    body: Mapped[Body] = relationship()
    organisation: Mapped[Organisation] = relationship()
    invited_by: Mapped[User] = relationship(foreign_keys=[invited_by_id])


class PasswordReset(Base):
    __tablename__ = "password_resets"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]
    user: Mapped[User] = relationship()


class SecondFactor(Base):
    """A person's authenticator app (TOTP, RFC 6238). A new secret waits in `pending_secret` until a first
    valid code confirms it; `last_step` is the last time step accepted, so a code is never accepted twice."""

    __tablename__ = "second_factors"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    secret: Mapped[str | None] = mapped_column(String(64))  # base32; None until the first confirmation
    pending_secret: Mapped[str | None] = mapped_column(String(64))
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int] = mapped_column(default=0)
    failed_attempts: Mapped[int] = mapped_column(default=0)  # wrong codes in a row, from any address
    locked_until: Mapped[datetime | None]
    user: Mapped[User] = relationship()


class RecoveryCode(Base):
    """A one-time code for when the authenticator app is lost: stored as a keyed hash, used once."""

    __tablename__ = "recovery_codes"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class TrustedDevice(Base):
    """A browser where the second factor is not asked again until `expires_at` (cookie bound to this row)."""

    __tablename__ = "trusted_devices"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class UserSession(Base):
    """One signed-in browser: the session cookie carries the token whose digest is stored here."""

    __tablename__ = "user_sessions"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    ip: Mapped[str] = mapped_column(String(45), default="")
    user_agent: Mapped[str] = mapped_column(String(300), default="")
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
