"""Planning cycles (Piano di Zona) with their years, and the plan's policy areas."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, StrEnumType, TimestampMixin


class CycleStatus(StrEnum):
    PREPARATION = "in_preparazione"
    RUNNING = "in_corso"
    CLOSED = "concluso"


class PlanningCycle(TimestampMixin, Base):
    __tablename__ = "planning_cycles"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    start_year: Mapped[int]
    end_year: Mapped[int]
    status: Mapped[CycleStatus] = mapped_column(StrEnumType(CycleStatus, 20), default=CycleStatus.PREPARATION)
    years: Mapped[list[CycleYear]] = relationship(back_populates="cycle", order_by="CycleYear.year")

    @property
    def label(self) -> str:
        return f"{self.start_year}-{self.end_year}"


class CycleYear(Base):
    __tablename__ = "cycle_years"
    __table_args__ = (UniqueConstraint("cycle_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    year: Mapped[int]
    cycle: Mapped[PlanningCycle] = relationship(back_populates="years")


class PolicyArea(Base):
    """A policy area of the plan. Letter codes repeat (four 'L' areas), so `key` is the identity."""

    __tablename__ = "policy_areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(20), unique=True)  # "D-E", "L-BIB", ...
    code: Mapped[str] = mapped_column(String(10))  # as printed: "D - E", "L"
    name: Mapped[str] = mapped_column(String(200))
    co_programming_area: Mapped[str] = mapped_column(String(40), default="")
    position: Mapped[int] = mapped_column(default=0)


class BudgetSource(StrEnum):
    """Where money comes from: the source of a card's budget line and of a fund allocation."""

    AMBITO = "risorse_ambito"
    FNPS = "fnps"
    FSR = "fsr"
    FNA = "fna"
    FSOL = "fsol"
    COMUNI = "comuni"
    POVERTA = "fondo_poverta"
    ZERO_SEI = "fondo_0_6"
    PNRR = "pnrr"
    BANDI = "bandi"
    VALORIZZATE = "risorse_valorizzate"
    UMANE = "risorse_umane"
    MISTE = "fonti_miste"  # one line paid from several funds in undeclared shares (card K's UdP cost)
    ALTRO = "altro"


SOURCE_LABELS = {
    BudgetSource.AMBITO: "Risorse d'Ambito",
    BudgetSource.FNPS: "FNPS – Fondo Nazionale Politiche Sociali",
    BudgetSource.FSR: "FSR – Fondo Sociale Regionale",
    BudgetSource.FNA: "FNA – Fondo Non Autosufficienze",
    BudgetSource.FSOL: "FSOL – Fondo di Solidarietà",
    BudgetSource.COMUNI: "Comuni",
    BudgetSource.POVERTA: "Fondo Povertà / QSFP",
    BudgetSource.ZERO_SEI: "Fondo Nazionale 0-6",
    BudgetSource.PNRR: "PNRR",
    BudgetSource.BANDI: "Bandi e progetti",
    BudgetSource.VALORIZZATE: "Risorse valorizzate dai partner",
    BudgetSource.UMANE: "Risorse umane valorizzate (non monetarie)",
    BudgetSource.MISTE: "Fonti miste (fondi indicati nella descrizione)",
    BudgetSource.ALTRO: "Altro",
}


class FundAllocation(TimestampMixin, Base):
    """Money assigned to the Ambito for one year from one fund, with the act that assigned it (e.g. FSR 2024,
    1.171.075,29 €, "DGR XII - 2915 e DGR XII - 2976"). The Assemblea dei Sindaci decides its use.

    `source` is the card budget lines' source it is compared with (a `BudgetSource` value): several
    allocations may share one (FNA and the FNA caregiver fund are both "fna")."""

    __tablename__ = "fund_allocations"
    id: Mapped[int] = mapped_column(primary_key=True)
    year: Mapped[int] = mapped_column(index=True)
    source: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(200))
    act: Mapped[str] = mapped_column(String(300), default="")
    amount_cents: Mapped[int]
    position: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class BudgetLineYear(Base):
    """The part of a card's budget line planned for one year of the cycle; the parts of a line sum exactly to
    its amount (even split by default, remainder cents on the last year)."""

    __tablename__ = "card_budget_years"
    __table_args__ = (UniqueConstraint("line_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("card_budget_lines.id"), index=True)
    year: Mapped[int]
    amount_cents: Mapped[int]
