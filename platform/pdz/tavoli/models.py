"""Governance bodies and tavoli: membership and mandates."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, Index, String, Table, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import MembershipRole, User
from ..cycles.models import PolicyArea
from ..db import Base, StrEnumType, TimestampMixin, utcnow
from ..orgs.models import Organisation
from ..territory.models import SubAmbito


class BodyKind(StrEnum):
    ASSEMBLEA_SINDACI = "assemblea_sindaci"
    COMITATO_RISTRETTO = "comitato_ristretto"
    ASSEMBLEA_SUB_AMBITO = "assemblea_sub_ambito"
    UDP = "ufficio_di_piano"
    UDP_INTEGRATO = "udp_integrato"
    COORDINAMENTO_TECNICO = "coordinamento_tecnico"
    TAVOLO = "tavolo"
    RETE = "rete"
    GRUPPO_LAVORO = "gruppo_di_lavoro"
    ORGANISMO = "organismo"


THEMATIC_KINDS = frozenset({BodyKind.TAVOLO, BodyKind.RETE, BodyKind.GRUPPO_LAVORO, BodyKind.ORGANISMO})


class BodyStatus(StrEnum):
    ACTIVE = "attivo"
    SUSPENDED = "sospeso"
    CLOSED = "concluso"


COORDINATOR_ROLES = frozenset({MembershipRole.COORD_PUBLIC, MembershipRole.COORD_ETS})
WRITER_ROLES = frozenset(
    {
        MembershipRole.MEMBER,
        MembershipRole.COORD_PUBLIC,
        MembershipRole.COORD_ETS,
        MembershipRole.SECRETARY,
        MembershipRole.DELEGATE,
    }
)

body_areas = Table(
    "body_areas",
    Base.metadata,
    Column("body_id", ForeignKey("bodies.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("policy_areas.id", ondelete="CASCADE"), primary_key=True),
)


class Body(TimestampMixin, Base):
    """A governance body (Assemblea dei Sindaci, UdP Integrato, ...) or a tavolo / rete / gruppo di lavoro."""

    __tablename__ = "bodies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    short_name: Mapped[str] = mapped_column(String(80), default="")
    kind: Mapped[BodyKind] = mapped_column(StrEnumType(BodyKind, 30), index=True)
    status: Mapped[BodyStatus] = mapped_column(StrEnumType(BodyStatus, 20), default=BodyStatus.ACTIVE)
    description: Mapped[str] = mapped_column(Text, default="")
    sub_ambito_id: Mapped[int | None] = mapped_column(ForeignKey("sub_ambiti.id"))
    areas: Mapped[list[PolicyArea]] = relationship(secondary=body_areas, order_by="PolicyArea.position")
    sub_ambito: Mapped[SubAmbito | None] = relationship()
    memberships: Mapped[list[Membership]] = relationship(
        back_populates="body",
        primaryjoin="and_(Body.id == Membership.body_id, Membership.ended_at.is_(None))",
        viewonly=True,
        order_by="Membership.id",
    )
    mandates: Mapped[list[Mandate]] = relationship(back_populates="body", order_by="Mandate.version.desc()")

    @property
    def is_thematic(self) -> bool:
        return self.kind in THEMATIC_KINDS

    @property
    def display_name(self) -> str:
        return self.short_name or self.name


class Membership(Base):
    """A person sitting in a body for an organisation, with a role. Ending it keeps the row (history)."""

    __tablename__ = "memberships"
    __table_args__ = (
        Index(
            "uq_memberships_active",
            "body_id",
            "user_id",
            unique=True,
            sqlite_where=text("ended_at IS NULL"),
            postgresql_where=text("ended_at IS NULL"),
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[MembershipRole] = mapped_column(
        StrEnumType(MembershipRole, 30), default=MembershipRole.MEMBER
    )
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[datetime | None]
    body: Mapped[Body] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships", foreign_keys=[user_id])
    organisation: Mapped[Organisation] = relationship()

    @property
    def is_coordinator(self) -> bool:
        return self.role in COORDINATOR_ROLES


class MandateStatus(StrEnum):
    PROPOSED = "proposta"
    IN_FORCE = "vigente"
    SUPERSEDED = "superata"
    REJECTED = "respinta"


MANDATE_PARTS = ("finalita", "attivita", "tempi", "step_valutazione", "risorse_umane")
MAX_MANDATE_PART = 20_000  # characters of one part of a mandate


class Mandate(TimestampMixin, Base):
    """The orientation document the UdP Integrato gives a tavolo; each change is a new version."""

    __tablename__ = "mandates"
    __table_args__ = (UniqueConstraint("body_id", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    version: Mapped[int]
    status: Mapped[MandateStatus] = mapped_column(StrEnumType(MandateStatus, 20))
    finalita_source: Mapped[str] = mapped_column(Text, default="")
    finalita_html: Mapped[str] = mapped_column(Text, default="")
    attivita_source: Mapped[str] = mapped_column(Text, default="")
    attivita_html: Mapped[str] = mapped_column(Text, default="")
    tempi_source: Mapped[str] = mapped_column(Text, default="")
    tempi_html: Mapped[str] = mapped_column(Text, default="")
    step_valutazione_source: Mapped[str] = mapped_column(Text, default="")
    step_valutazione_html: Mapped[str] = mapped_column(Text, default="")
    risorse_umane_source: Mapped[str] = mapped_column(Text, default="")
    risorse_umane_html: Mapped[str] = mapped_column(Text, default="")
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    body: Mapped[Body] = relationship(back_populates="mandates")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])


class MandateDraft(Base):
    """The plain text of a body's co-written mandate draft (the `mandate:<body_id>` document), one column per
    part; a co-coordinator turns it into a proposed version, the UdP into the version in force."""

    __tablename__ = "mandate_drafts"
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), unique=True)
    finalita_source: Mapped[str] = mapped_column(Text, default="")
    attivita_source: Mapped[str] = mapped_column(Text, default="")
    tempi_source: Mapped[str] = mapped_column(Text, default="")
    step_valutazione_source: Mapped[str] = mapped_column(Text, default="")
    risorse_umane_source: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    def parts(self) -> dict[str, str]:
        return {part: getattr(self, f"{part}_source") for part in MANDATE_PARTS}
