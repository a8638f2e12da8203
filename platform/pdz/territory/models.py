"""The Ambito, its sub-ambiti and comuni."""

from __future__ import annotations

from enum import StrEnum

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base, StrEnumType, TimestampMixin


class Ambito(TimestampMixin, Base):
    __tablename__ = "ambiti"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    province: Mapped[str] = mapped_column(String(100))
    region: Mapped[str] = mapped_column(String(100))
    population: Mapped[int | None]
    population_year: Mapped[int | None]
    area_km2: Mapped[int | None]


class AssignmentSource(StrEnum):
    """Where a comune's sub-ambito comes from: the documents name only six."""

    DOCUMENTED = "documentata"
    TO_CHECK = "da_verificare"
    CONFIRMED = "verificata"


class SubAmbito(TimestampMixin, Base):
    __tablename__ = "sub_ambiti"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    comuni: Mapped[list[Comune]] = relationship(
        back_populates="sub_ambito", order_by="Comune.name", foreign_keys="Comune.sub_ambito_id"
    )


class Comune(TimestampMixin, Base):
    __tablename__ = "comuni"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    population: Mapped[int | None]
    population_year: Mapped[int | None]
    population_source: Mapped[str] = mapped_column(String(200), default="")
    sub_ambito_id: Mapped[int | None] = mapped_column(ForeignKey("sub_ambiti.id"), index=True)
    assignment: Mapped[AssignmentSource] = mapped_column(
        StrEnumType(AssignmentSource, 20), default=AssignmentSource.TO_CHECK
    )
    is_capofila: Mapped[bool] = mapped_column(default=False)  # capofila of its sub-ambito
    sub_ambito: Mapped[SubAmbito | None] = relationship(back_populates="comuni", foreign_keys=[sub_ambito_id])
