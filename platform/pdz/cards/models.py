"""Objective cards, their field values, list rows, revisions and recorded conflicts."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..cycles.models import BudgetSource, PlanningCycle, PolicyArea
from ..db import Base, StrEnumType, TimestampMixin, utcnow
from ..labels import label
from ..tavoli.models import Body


class CardStatus(StrEnum):
    DRAFT = "bozza"
    REVIEW = "in_revisione"
    AGREED = "condivisa"


class IndicatorSet(StrEnum):
    PROCESS = "processo"
    OUTPUT = "output"
    OUTCOME = "outcome"


class IndicatorKind(StrEnum):
    PRESENCE = "presenza"
    COUNT = "numero"
    PERCENTAGE = "percentuale"
    AMOUNT = "importo"
    TIME = "tempo"
    LEVEL = "livello"
    RATIO = "rapporto"


class RevisionKind(StrEnum):
    EDIT = "modifica"
    MERGE = "unione"
    RESTORE = "ripristino"
    RESOLVE = "risoluzione"


class Card(TimestampMixin, Base):
    __tablename__ = "cards"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    area_id: Mapped[int | None] = mapped_column(ForeignKey("policy_areas.id"), index=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    key: Mapped[str | None] = mapped_column(
        String(20)
    )  # the plan's card key ("D-E", "L-BIB"), None for new cards
    title: Mapped[str] = mapped_column(String(300))  # mirror of the "title" field, for lists
    status: Mapped[CardStatus] = mapped_column(StrEnumType(CardStatus, 20), default=CardStatus.DRAFT)
    revision_no: Mapped[int] = mapped_column(default=0)  # bumped by every saved change
    declared_total_cents: Mapped[
        int | None
    ]  # "TOTALE STIMATO" as printed / declared; checked against the lines
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    last_change_at: Mapped[datetime | None]
    last_change_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))

    body: Mapped[Body] = relationship()  # many-to-one: the policy reads it
    area: Mapped[PolicyArea | None] = relationship(lazy="raise")
    cycle: Mapped[PlanningCycle] = relationship(lazy="raise")
    last_change_by: Mapped[User | None] = relationship(foreign_keys=[last_change_by_id], lazy="raise")
    values: Mapped[list[CardValue]] = relationship(
        back_populates="card", lazy="raise", order_by="CardValue.id"
    )
    objectives: Mapped[list[CardObjective]] = relationship(
        primaryjoin="and_(Card.id == CardObjective.card_id, CardObjective.removed.is_(False))",
        order_by="(CardObjective.position, CardObjective.id)",
        viewonly=True,
        lazy="raise",
    )
    actions: Mapped[list[CardAction]] = relationship(
        primaryjoin="and_(Card.id == CardAction.card_id, CardAction.removed.is_(False))",
        order_by="(CardAction.position, CardAction.id)",
        viewonly=True,
        lazy="raise",
    )
    budget_lines: Mapped[list[CardBudgetLine]] = relationship(
        primaryjoin="and_(Card.id == CardBudgetLine.card_id, CardBudgetLine.removed.is_(False))",
        order_by="(CardBudgetLine.position, CardBudgetLine.id)",
        viewonly=True,
        lazy="raise",
    )
    personnel: Mapped[list[CardPersonnel]] = relationship(
        primaryjoin="and_(Card.id == CardPersonnel.card_id, CardPersonnel.removed.is_(False))",
        order_by="(CardPersonnel.position, CardPersonnel.id)",
        viewonly=True,
        lazy="raise",
    )
    indicators: Mapped[list[CardIndicator]] = relationship(
        primaryjoin="and_(Card.id == CardIndicator.card_id, CardIndicator.removed.is_(False))",
        order_by="(CardIndicator.position, CardIndicator.id)",
        viewonly=True,
        lazy="raise",
    )
    pnrr: Mapped[list[CardPnrr]] = relationship(
        primaryjoin="and_(Card.id == CardPnrr.card_id, CardPnrr.removed.is_(False))",
        order_by="(CardPnrr.position, CardPnrr.id)",
        viewonly=True,
        lazy="raise",
    )

    @property
    def status_label(self) -> str:
        return label(self.status)

    def value_map(self) -> dict[str, CardValue]:
        return {v.key: v for v in self.values}


class CardValue(Base):
    """The current value of one scalar field of a card (Markdown fields keep source and sanitised HTML)."""

    __tablename__ = "card_values"
    __table_args__ = (UniqueConstraint("card_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    value_source: Mapped[str] = mapped_column(Text, default="")
    value_html: Mapped[str] = mapped_column(Text, default="")
    card: Mapped[Card] = relationship(back_populates="values", lazy="raise")


class _Row:
    """Shared columns of a card's list rows. Removing a row only flags it: history keeps everything."""

    id: Mapped[int] = mapped_column(primary_key=True)
    position: Mapped[int] = mapped_column(default=0)
    removed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class CardObjective(_Row, Base):
    __tablename__ = "card_objectives"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    text: Mapped[str] = mapped_column(Text, default="")


class CardAction(_Row, Base):
    __tablename__ = "card_actions"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    text_source: Mapped[str] = mapped_column(Text, default="")
    text_html: Mapped[str] = mapped_column(Text, default="")


class CardBudgetLine(_Row, Base):
    __tablename__ = "card_budget_lines"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    source: Mapped[BudgetSource] = mapped_column(StrEnumType(BudgetSource, 30), default=BudgetSource.AMBITO)
    description: Mapped[str] = mapped_column(String(300), default="")
    amount_cents: Mapped[int | None]  # None: non-monetary (e.g. people valued by the networks)
    counted: Mapped[bool] = mapped_column(default=True)  # counted in "TOTALE STIMATO"


class CardPersonnel(_Row, Base):
    __tablename__ = "card_personnel"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    organisation: Mapped[str] = mapped_column(String(200), default="")
    quantity: Mapped[str] = mapped_column(String(40), default="")
    function: Mapped[str] = mapped_column(String(300), default="")


class CardIndicator(_Row, Base):
    __tablename__ = "card_indicators"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    set: Mapped[IndicatorSet] = mapped_column(StrEnumType(IndicatorSet, 20), default=IndicatorSet.PROCESS)
    name: Mapped[str] = mapped_column(String(300), default="")
    kind: Mapped[IndicatorKind] = mapped_column(StrEnumType(IndicatorKind, 20), default=IndicatorKind.COUNT)
    baseline: Mapped[str] = mapped_column(String(60), default="")
    target: Mapped[str] = mapped_column(String(60), default="")
    unit: Mapped[str] = mapped_column(String(40), default="")


class CardPnrr(_Row, Base):
    __tablename__ = "card_pnrr"
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    measure: Mapped[str] = mapped_column(String(20), default="")
    amount_cents: Mapped[int | None]
    note: Mapped[str] = mapped_column(Text, default="")


class CardRevision(Base):
    """One saved change of one field (or list row) of a card. Never updated, never deleted."""

    __tablename__ = "card_revisions"
    __table_args__ = (
        UniqueConstraint("card_id", "number", "field"),
        UniqueConstraint("client_op_id", "field"),
        Index("ix_card_revisions_card_field_number", "card_id", "field", "number"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    number: Mapped[int]
    field: Mapped[str] = mapped_column(String(60))  # a field key, "declared_total" or "<rows>:<id>"
    before: Mapped[str] = mapped_column(Text, default="")
    after: Mapped[str] = mapped_column(Text, default="")
    kind: Mapped[RevisionKind] = mapped_column(StrEnumType(RevisionKind, 20), default=RevisionKind.EDIT)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    client_op_id: Mapped[str] = mapped_column(String(64))
    author: Mapped[User | None] = relationship(lazy="raise")

    @property
    def kind_label(self) -> str:
        return {
            "modifica": "modifica",
            "unione": "unione automatica",
            "ripristino": "ripristino",
            "risoluzione": "scelta dopo conflitto",
        }.get(str(self.kind), str(self.kind))
