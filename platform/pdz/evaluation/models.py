"""Evaluation: the tavoli's SWOT self-evaluation, the evaluation card of each objective at the end of a cycle,
and the monitoring values of the cards' indicators."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import Column, ForeignKey, Numeric, String, Table, Text, TypeDecorator, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..cards.models import CardIndicator
from ..cycles.models import PlanningCycle, PolicyArea
from ..db import Base, StrEnumType, TimestampMixin, utcnow
from ..tavoli.models import Body


class Dimension(StrEnum):
    """The five dimensions the Ambito's tavoli evaluate themselves on."""

    MANDATE = "mandato"
    BUDGET = "budget"
    OUTCOMES = "esiti"
    ORGANISATION = "organizzazione"
    GOVERNANCE = "governance"


class Quadrant(StrEnum):
    STRENGTH = "S"
    WEAKNESS = "W"
    OPPORTUNITY = "O"
    THREAT = "T"


class SwotKind(StrEnum):
    ANNUAL = "annuale"
    END_OF_CYCLE = "fine_ciclo"


class SwotStatus(StrEnum):
    OPEN = "aperta"
    CLOSED = "chiusa"  # closed by the co-coordinators and handed to the UdP Integrato


class SwotAssessment(TimestampMixin, Base):
    __tablename__ = "swot_assessments"
    __table_args__ = (UniqueConstraint("body_id", "cycle_id", "year", "kind"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    year: Mapped[int]
    kind: Mapped[SwotKind] = mapped_column(StrEnumType(SwotKind, 20), default=SwotKind.ANNUAL)
    status: Mapped[SwotStatus] = mapped_column(StrEnumType(SwotStatus, 20), default=SwotStatus.OPEN)
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    closed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    closed_at: Mapped[datetime | None]
    body: Mapped[Body] = relationship()
    cycle: Mapped[PlanningCycle] = relationship()
    closed_by: Mapped[User | None] = relationship(foreign_keys=[closed_by_id])
    entries: Mapped[list[SwotEntry]] = relationship(
        back_populates="assessment",
        primaryjoin="and_(SwotAssessment.id == SwotEntry.assessment_id, SwotEntry.removed_at.is_(None))",
        order_by="SwotEntry.id",
        viewonly=True,
    )

    @property
    def is_open(self) -> bool:
        return self.status == SwotStatus.OPEN


swot_entry_tags = Table(
    "swot_entry_tags",
    Base.metadata,
    Column("entry_id", ForeignKey("swot_entries.id", ondelete="CASCADE"), primary_key=True),
    Column("tag_id", ForeignKey("swot_tags.id", ondelete="CASCADE"), primary_key=True),
)


class SwotTag(Base):
    """A recurring theme, shared by all tavoli so the UdP Integrato can compare them."""

    __tablename__ = "swot_tags"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(60), unique=True)


class SwotEntry(TimestampMixin, Base):
    __tablename__ = "swot_entries"
    id: Mapped[int] = mapped_column(primary_key=True)
    assessment_id: Mapped[int] = mapped_column(ForeignKey("swot_assessments.id"), index=True)
    dimension: Mapped[Dimension] = mapped_column(StrEnumType(Dimension, 20))
    quadrant: Mapped[Quadrant] = mapped_column(StrEnumType(Quadrant, 1))
    text_source: Mapped[str] = mapped_column(Text)
    text_html: Mapped[str] = mapped_column(Text)
    version: Mapped[int] = mapped_column(default=1)  # bumped by every saved change
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    removed_at: Mapped[datetime | None]
    assessment: Mapped[SwotAssessment] = relationship(back_populates="entries")
    author: Mapped[User] = relationship(foreign_keys=[author_id])
    tags: Mapped[list[SwotTag]] = relationship(secondary=swot_entry_tags, order_by="SwotTag.name")


class SwotEntryRevision(Base):
    """Every saved change of an entry: nothing is lost, concurrent edits merge or are shown as conflicts."""

    __tablename__ = "swot_entry_revisions"
    __table_args__ = (UniqueConstraint("entry_id", "version"), UniqueConstraint("client_op_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("swot_entries.id"), index=True)
    version: Mapped[int]
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    client_op_id: Mapped[str | None] = mapped_column(String(64))


class Answer(StrEnum):
    YES = "si"
    NO = "no"
    PARTLY = "in_parte"
    NOT_GIVEN = "non_indicato"


objective_evaluation_areas = Table(
    "objective_evaluation_areas",
    Base.metadata,
    Column("evaluation_id", ForeignKey("objective_evaluations.id", ondelete="CASCADE"), primary_key=True),
    Column("area_id", ForeignKey("policy_areas.id", ondelete="CASCADE"), primary_key=True),
)


class ObjectiveEvaluation(TimestampMixin, Base):
    """The evaluation card of one objective at the end of a cycle ("DIMENSIONE OUTPUT")."""

    __tablename__ = "objective_evaluations"
    __table_args__ = (UniqueConstraint("cycle_id", "title"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    achievement_pct: Mapped[int | None]  # grado di raggiungimento rispetto alla programmazione
    users_evaluation: Mapped[str] = mapped_column(Text, default="")
    resource_match_pct: Mapped[int | None]  # coincidenza tra risorse stanziate e impegnate/liquidate
    resource_match_basis: Mapped[str] = mapped_column(String(200), default="")
    problems: Mapped[str] = mapped_column(Text, default="")
    positive_change: Mapped[Answer] = mapped_column(StrEnumType(Answer, 20), default=Answer.NOT_GIVEN)
    positive_change_note: Mapped[str] = mapped_column(Text, default="")
    continuity: Mapped[Answer] = mapped_column(StrEnumType(Answer, 20), default=Answer.NOT_GIVEN)
    reproposed: Mapped[Answer] = mapped_column(StrEnumType(Answer, 20), default=Answer.NOT_GIVEN)
    cycle: Mapped[PlanningCycle] = relationship()
    areas: Mapped[list[PolicyArea]] = relationship(
        secondary=objective_evaluation_areas, order_by="PolicyArea.position"
    )


# --- monitoring ------------------------------------------------------------------------------------


class DecimalNumber(TypeDecorator[Decimal]):
    """A NUMERIC(18, 4) read back as an exact Decimal on SQLite too (no float rounding warning)."""

    impl = Numeric(18, 4, asdecimal=False)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Any) -> Any:
        return None if value is None else Decimal(value).quantize(Decimal("0.0001"))

    def process_result_value(self, value: Any, dialect: Any) -> Decimal | None:
        return None if value is None else Decimal(str(value)).quantize(Decimal("0.0001"))


class IndicatorValue(Base):
    """One recorded value of a card indicator for a period ("2025", "2025-S1", "2025-S2").

    Never updated: a new value for the same period is a new row with the next `version`; pages show
    the latest version of each period, the monitoring page keeps the history.
    """

    __tablename__ = "indicator_values"
    __table_args__ = (UniqueConstraint("indicator_id", "period", "version"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = mapped_column(ForeignKey("card_indicators.id"), index=True)
    card_id: Mapped[int] = mapped_column(
        ForeignKey("cards.id"), index=True
    )  # the page reads a card's values at once
    period: Mapped[str] = mapped_column(String(7))
    version: Mapped[int] = mapped_column(default=1)
    value: Mapped[str] = mapped_column(String(60))  # as typed ("12,5", "sì")
    number: Mapped[Decimal | None] = mapped_column(
        DecimalNumber()
    )  # parsed, for numeric kinds and presence (1/0)
    source: Mapped[str] = mapped_column(String(300), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(default=utcnow)
    indicator: Mapped[CardIndicator] = relationship(lazy="raise")
    recorded_by: Mapped[User] = relationship(lazy="raise")
