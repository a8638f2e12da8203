"""The approval chain: configured steps per document kind, submissions of frozen versions, votes.

A submission is one round: an exact version (canonical content + SHA-256) travelling the chain that was
configured when it was sent. Sending it back ends the round; the revised document starts a new round that
points to the previous one. Every step taken is a `SubmissionEvent`; the Assemblea decides by a `Ballot`
held under an agenda item of one of its meetings, one `Vote` per comune.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..db import Base, StrEnumType, TimestampMixin, utcnow
from ..meetings.models import AgendaItem, Meeting
from ..orgs.models import Organisation
from ..tavoli.models import Body, BodyKind


class DocKind(StrEnum):
    CARD = "scheda"
    SWOT = "swot"
    MINUTES = "verbale"
    PIANO_OPERATIVO = "piano_operativo"
    REPORT_ANNUALE = "report_annuale"
    PIANO_DI_ZONA = "piano_di_zona"


PLAN_KINDS = frozenset({DocKind.PIANO_OPERATIVO, DocKind.REPORT_ANNUALE, DocKind.PIANO_DI_ZONA})


class StepMode(StrEnum):
    REVIEW = "esame"  # the body examines: forwards or sends back
    VOTE = "voto"  # the body decides by a vote in one of its meetings


@dataclass(frozen=True)
class Step:
    """One step of an approval chain: the kind of body that acts, and how."""

    body_kind: BodyKind
    mode: StepMode

    def as_json(self) -> dict[str, str]:
        return {"body_kind": self.body_kind.value, "mode": self.mode.value}


class StepList(TypeDecorator[list[Step]]):
    """A chain's steps, stored as JSON `[{"body_kind": ..., "mode": ...}]`, read back as `Step`s."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: list[Step] | None, dialect: Any) -> list[dict[str, str]] | None:
        return None if value is None else [step.as_json() for step in value]

    def process_result_value(self, value: Any, dialect: Any) -> list[Step] | None:
        if value is None:
            return None
        return [Step(BodyKind(step["body_kind"]), StepMode(step["mode"])) for step in value]


class ApprovalChain(Base):
    """Which bodies a kind of document passes, in order, after its authors submit it."""

    __tablename__ = "approval_chains"
    id: Mapped[int] = mapped_column(primary_key=True)
    document_kind: Mapped[DocKind] = mapped_column(StrEnumType(DocKind, 30), unique=True)
    steps: Mapped[list[Step]] = mapped_column(StepList, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class SubmissionStatus(StrEnum):
    IN_REVIEW = "in_esame"
    AWAITING_VOTE = "in_attesa_di_voto"
    SENT_BACK = "restituita"
    APPROVED = "approvata"
    REJECTED = "respinta"


OPEN_STATUSES = frozenset({SubmissionStatus.IN_REVIEW, SubmissionStatus.AWAITING_VOTE})


class Submission(Base):
    __tablename__ = "submissions"
    __table_args__ = (
        UniqueConstraint("document_kind", "document_id", "round"),
        Index("ix_submissions_document", "document_kind", "document_id"),
        # covers the "latest approved version of each document" lists without reading the frozen content
        Index(
            "ix_submissions_status_decided", "status", "decided_at", "document_kind", "document_id", "round"
        ),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    document_kind: Mapped[DocKind] = mapped_column(StrEnumType(DocKind, 30))
    document_id: Mapped[int]
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)  # who submitted
    cycle_id: Mapped[int | None] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    round: Mapped[int] = mapped_column(default=1)
    previous_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    title: Mapped[str] = mapped_column(String(300))
    steps: Mapped[list[Step]] = mapped_column(StepList, default=list)  # the chain when it was sent
    step_index: Mapped[int] = mapped_column(default=0)
    status: Mapped[SubmissionStatus] = mapped_column(StrEnumType(SubmissionStatus, 30), index=True)
    version: Mapped[int] = mapped_column(default=1)  # compare-and-swap: one transition per version
    content: Mapped[str] = mapped_column(Text)  # canonical JSON, exactly the bytes fingerprinted
    fingerprint: Mapped[str] = mapped_column(String(64), index=True)
    submitted_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    submitted_at: Mapped[datetime] = mapped_column(default=utcnow)
    decided_at: Mapped[datetime | None]
    body: Mapped[Body] = relationship()
    submitted_by: Mapped[User] = relationship()
    cycle: Mapped[PlanningCycle | None] = relationship()
    previous: Mapped[Submission | None] = relationship(remote_side=[id], lazy="raise")
    events: Mapped[list[SubmissionEvent]] = relationship(
        back_populates="submission", order_by="SubmissionEvent.id", lazy="raise"
    )

    @property
    def current_step(self) -> Step | None:
        if self.status not in OPEN_STATUSES or self.step_index >= len(self.steps):
            return None
        return self.steps[self.step_index]


class EventAction(StrEnum):
    SUBMITTED = "inviata"
    FORWARDED = "inoltrata"
    SENT_BACK = "restituita"
    SCHEDULED = "iscritta_odg"
    VOTE_OPENED = "votazione_aperta"
    VOTE_CLOSED = "votazione_chiusa"
    APPROVED = "approvata"
    REJECTED = "respinta"


class SubmissionEvent(Base):
    """One step taken on a submission: who, when, at which step, with the reasons given."""

    __tablename__ = "submission_events"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    step_index: Mapped[int]
    body_kind: Mapped[str] = mapped_column(String(30), default="")
    action: Mapped[EventAction] = mapped_column(StrEnumType(EventAction, 30))
    actor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    note_source: Mapped[str] = mapped_column(Text, default="")
    note_html: Mapped[str] = mapped_column(Text, default="")
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submission: Mapped[Submission] = relationship(back_populates="events")
    actor: Mapped[User] = relationship()


class BallotStatus(StrEnum):
    SCHEDULED = "da_aprire"
    OPEN = "aperta"
    CLOSED = "chiusa"


class BallotOutcome(StrEnum):
    APPROVED = "approvata"
    REJECTED = "respinta"
    NO_QUORUM = "senza_quorum"


class VoteChoice(StrEnum):
    FOR = "favorevole"
    AGAINST = "contrario"
    ABSTAIN = "astenuto"


class Ballot(Base):
    """The Assemblea's vote on one submission, held under one agenda item of one of its meetings."""

    __tablename__ = "ballots"
    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    agenda_item_id: Mapped[int] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), unique=True
    )
    status: Mapped[BallotStatus] = mapped_column(
        StrEnumType(BallotStatus, 20), default=BallotStatus.SCHEDULED
    )
    version: Mapped[int] = mapped_column(default=1)
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    outcome: Mapped[BallotOutcome | None] = mapped_column(StrEnumType(BallotOutcome, 20))
    tally: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    submission: Mapped[Submission] = relationship()
    meeting: Mapped[Meeting] = relationship()
    item: Mapped[AgendaItem] = relationship()


class Vote(Base):
    """One comune's vote: cast by its mayor or by the delegate standing in, present in the meeting."""

    __tablename__ = "votes"
    __table_args__ = (UniqueConstraint("ballot_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    ballot_id: Mapped[int] = mapped_column(ForeignKey("ballots.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    choice: Mapped[VoteChoice] = mapped_column(StrEnumType(VoteChoice, 20))
    weight: Mapped[int] = mapped_column(default=1)
    cast_at: Mapped[datetime] = mapped_column(default=utcnow)
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    user: Mapped[User] = relationship(lazy="raise")


class PlanDocument(TimestampMixin, Base):
    """A document the Ufficio di Piano assembles from approved cards: Piano di Zona, Piano Operativo, Report."""

    __tablename__ = "plan_documents"
    __table_args__ = (UniqueConstraint("kind", "cycle_id", "year"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[DocKind] = mapped_column(StrEnumType(DocKind, 30))
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), index=True)
    year: Mapped[int]  # the year planned or reported on (the cycle's first year for the Piano di Zona)
    due_on: Mapped[date | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cycle: Mapped[PlanningCycle] = relationship()
    entries: Mapped[list[PlanEntry]] = relationship(
        back_populates="plan", order_by="PlanEntry.id", lazy="raise"
    )


class PlanEntry(Base):
    """What the Ufficio di Piano adds per objective of a Report Annuale: what was done and spent. (`timing` was the
    Piano Operativo's per objective; its timing is now per chosen action, `PlanAction`.)"""

    __tablename__ = "plan_entries"
    __table_args__ = (UniqueConstraint("plan_id", "card_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_documents.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    timing: Mapped[str] = mapped_column(Text, default="")
    done: Mapped[str] = mapped_column(Text, default="")
    committed_cents: Mapped[int | None]
    plan: Mapped[PlanDocument] = relationship(back_populates="entries")


class PlanAction(Base):
    """One action of an objective card as the Ufficio di Piano plans it for the year of a Piano Operativo: chosen
    or not, its year's targets ("range di valutazione") and timing; referents and resources in the rows below.
    Unchoosing an action keeps what was written, so choosing it again brings it back."""

    __tablename__ = "plan_actions"
    __table_args__ = (UniqueConstraint("plan_id", "action_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_documents.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    action_id: Mapped[int] = mapped_column(ForeignKey("card_actions.id"), index=True)
    selected: Mapped[bool] = mapped_column(default=True)
    targets: Mapped[str] = mapped_column(Text, default="")
    timing: Mapped[str] = mapped_column(Text, default="")
    referents: Mapped[list[PlanActionReferent]] = relationship(
        order_by="PlanActionReferent.position", cascade="all, delete-orphan", lazy="raise"
    )
    budgets: Mapped[list[PlanActionBudget]] = relationship(
        order_by="PlanActionBudget.line_id", cascade="all, delete-orphan", lazy="raise"
    )


class PlanActionReferent(Base):
    """A person named referent of a planned action, for one of the organisations they belong to."""

    __tablename__ = "plan_action_referents"
    __table_args__ = (UniqueConstraint("plan_action_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_action_id: Mapped[int] = mapped_column(ForeignKey("plan_actions.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    position: Mapped[int] = mapped_column(default=0)
    user: Mapped[User] = relationship(lazy="raise")
    organisation: Mapped[Organisation] = relationship(lazy="raise")


class PlanActionBudget(Base):
    """The part of one of the card's budget lines (of its share for the plan's year) given to a planned action."""

    __tablename__ = "plan_action_budgets"
    __table_args__ = (UniqueConstraint("plan_action_id", "line_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_action_id: Mapped[int] = mapped_column(ForeignKey("plan_actions.id", ondelete="CASCADE"), index=True)
    line_id: Mapped[int] = mapped_column(ForeignKey("card_budget_lines.id"), index=True)
    amount_cents: Mapped[int]


class PlanExclusion(Base):
    """A card of the cycle the Ufficio di Piano leaves out of the Piano di Zona, and why (shown in the plan).

    The Piano di Zona goes to approval only when every card of its cycle is approved or excluded here."""

    __tablename__ = "plan_exclusions"
    __table_args__ = (UniqueConstraint("plan_id", "card_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_documents.id"), index=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("cards.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    excluded_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    excluded_at: Mapped[datetime] = mapped_column(default=utcnow)


class PlanNarrative(Base):
    """The plain text of one narrative chapter of the Piano di Zona, written together (`pdzplan:<plan_id>`)."""

    __tablename__ = "plan_narratives"
    __table_args__ = (UniqueConstraint("plan_id", "key"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("plan_documents.id"), index=True)
    key: Mapped[str] = mapped_column(String(40))
    text_source: Mapped[str] = mapped_column(Text, default="")
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
