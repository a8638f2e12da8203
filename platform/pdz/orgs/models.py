"""Organisations: comuni, ETS, ASST, ATS, the azienda consortile, the Ufficio di Piano, other bodies."""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from sqlalchemy import Column, ForeignKey, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..cycles.models import PlanningCycle, PolicyArea
from ..db import Base, StrEnumType, TimestampMixin
from ..territory.models import Comune, SubAmbito


class OrgKind(StrEnum):
    COMUNE = "comune"
    ETS = "ets"
    ASST = "asst"
    ATS = "ats"
    AZIENDA_CONSORTILE = "azienda_consortile"
    UDP = "ufficio_di_piano"
    PUBLIC = "ente_pubblico"
    SCHOOL = "scuola"
    UNION = "sindacato"
    OTHER = "altro"


PUBLIC_KINDS = frozenset(
    {
        OrgKind.COMUNE,
        OrgKind.ASST,
        OrgKind.ATS,
        OrgKind.AZIENDA_CONSORTILE,
        OrgKind.UDP,
        OrgKind.PUBLIC,
        OrgKind.SCHOOL,
    }
)


class LegalForm(StrEnum):
    APS = "aps"
    ODV = "odv"
    COOPERATIVA = "cooperativa_sociale"  # cooperativa sociale / impresa sociale
    FONDAZIONE = "fondazione"
    CONSORZIO = "consorzio"  # consorzio di cooperative sociali (e.g. Consorzio Arcobaleno)
    ALTRO_ETS = "altro_ets"


organisation_sub_ambiti = Table(
    "organisation_sub_ambiti",
    Base.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("sub_ambito_id", ForeignKey("sub_ambiti.id", ondelete="CASCADE"), primary_key=True),
)

organisation_areas = Table(
    "organisation_areas",
    Base.metadata,
    Column("organisation_id", ForeignKey("organisations.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("policy_areas.id", ondelete="CASCADE"), primary_key=True),
)


class Organisation(TimestampMixin, Base):
    __tablename__ = "organisations"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrgKind] = mapped_column(StrEnumType(OrgKind, 30), index=True)
    legal_form: Mapped[LegalForm | None] = mapped_column(StrEnumType(LegalForm, 30))
    runts_number: Mapped[str | None] = mapped_column(String(40))  # set when registered in RUNTS
    seat_comune_id: Mapped[int | None] = mapped_column(ForeignKey("comuni.id"), index=True)
    represents_comune_id: Mapped[int | None] = mapped_column(ForeignKey("comuni.id"), unique=True)
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    description: Mapped[str] = mapped_column(Text, default="")

    seat: Mapped[Comune | None] = relationship(foreign_keys=[seat_comune_id])
    comune: Mapped[Comune | None] = relationship(foreign_keys=[represents_comune_id])
    sub_ambiti: Mapped[list[SubAmbito]] = relationship(
        secondary=organisation_sub_ambiti, order_by="SubAmbito.name"
    )
    areas: Mapped[list[PolicyArea]] = relationship(
        secondary=organisation_areas, order_by="PolicyArea.position"
    )
    adhesions: Mapped[list[Adhesion]] = relationship(
        back_populates="organisation", order_by="Adhesion.adhered_on"
    )

    @property
    def is_public(self) -> bool:
        return self.kind in PUBLIC_KINDS

    @property
    def is_ets(self) -> bool:
        return self.kind == OrgKind.ETS

    @property
    def runts_registered(self) -> bool:
        return bool(self.runts_number)


class Adhesion(Base):
    """An organisation's formal adhesion to one Piano di Zona cycle."""

    __tablename__ = "adhesions"
    __table_args__ = (UniqueConstraint("organisation_id", "cycle_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    organisation_id: Mapped[int] = mapped_column(
        ForeignKey("organisations.id", ondelete="CASCADE"), index=True
    )
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    adhered_on: Mapped[date]
    organisation: Mapped[Organisation] = relationship(back_populates="adhesions")
    cycle: Mapped[PlanningCycle] = relationship()
