"""Meetings of a body: convocation, agenda, attendance and quorum, minutes with decisions and actions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Column, ForeignKey, Index, String, Table, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..cards.models import Card
from ..db import Base, StrEnumType, TimestampMixin, utcnow
from ..orgs.models import Organisation
from ..tavoli.models import Body


class MeetingStatus(StrEnum):
    DRAFT = "bozza"
    CONVENED = "convocata"
    IN_PROGRESS = "in_corso"
    CONCLUDED = "conclusa"
    CANCELLED = "annullata"


class MinutesStatus(StrEnum):
    DRAFT = "bozza"
    APPROVED = "approvato"


class RsvpAnswer(StrEnum):
    YES = "partecipa"
    NO = "non_partecipa"
    DELEGATE = "delega"


class AttendanceStatus(StrEnum):
    PRESENT = "presente"
    ABSENT = "assente"
    EXCUSED = "giustificato"
    REPRESENTED = "rappresentato"  # a delegate of the same organisation stands in


class ActionStatus(StrEnum):
    OPEN = "aperta"
    DONE = "completata"


class ProposalStatus(StrEnum):
    PENDING = "proposta"
    ACCEPTED = "accettata"
    DECLINED = "respinta"


class MajorityKind(StrEnum):
    PRESENT = "presenti"  # favourable votes above half of those present (abstaining counts as present)
    VOTERS = "votanti"  # more favourable than contrary votes


class QuorumKind(StrEnum):
    NONE = "nessuno"
    MAJORITY = "maggioranza"
    FRACTION = "frazione"


class QuorumRule(Base):
    """How a body's quorum is computed: seats are the organisations (comuni) its members represent."""

    __tablename__ = "quorum_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), unique=True)
    kind: Mapped[QuorumKind] = mapped_column(StrEnumType(QuorumKind, 20), default=QuorumKind.NONE)
    numerator: Mapped[int] = mapped_column(default=1)
    denominator: Mapped[int] = mapped_column(default=2)
    weighted: Mapped[bool] = mapped_column(default=False)  # weight = population of the comune represented
    majority: Mapped[MajorityKind] = mapped_column(
        StrEnumType(MajorityKind, 20), default=MajorityKind.PRESENT, server_default=MajorityKind.PRESENT.value
    )


class Meeting(TimestampMixin, Base):
    __tablename__ = "meetings"
    id: Mapped[int] = mapped_column(primary_key=True)
    body_id: Mapped[int] = mapped_column(ForeignKey("bodies.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    place: Mapped[str] = mapped_column(String(300), default="")
    video_url: Mapped[str] = mapped_column(String(500), default="")
    status: Mapped[MeetingStatus] = mapped_column(
        StrEnumType(MeetingStatus, 20), default=MeetingStatus.DRAFT, index=True
    )
    sequence: Mapped[int] = mapped_column(default=0)  # iCalendar SEQUENCE, bumped by every published change
    published_at: Mapped[datetime | None]
    started_at: Mapped[datetime | None]
    concluded_at: Mapped[datetime | None]
    checkin_code: Mapped[str | None] = mapped_column(String(12))
    current_item_id: Mapped[int | None]  # the agenda item under discussion (no FK: items point here)
    minutes_status: Mapped[MinutesStatus] = mapped_column(
        StrEnumType(MinutesStatus, 20), default=MinutesStatus.DRAFT
    )
    minutes_approved_at: Mapped[datetime | None]
    minutes_approved_in_id: Mapped[int | None] = mapped_column(ForeignKey("meetings.id"))
    minutes_approved_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))

    body: Mapped[Body] = relationship()
    items: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting",
        order_by="AgendaItem.position",
        cascade="all, delete-orphan",
        foreign_keys="AgendaItem.meeting_id",
    )
    attendances: Mapped[list[Attendance]] = relationship(back_populates="meeting", order_by="Attendance.id")
    rsvps: Mapped[list[Rsvp]] = relationship(back_populates="meeting", order_by="Rsvp.id")
    decisions: Mapped[list[Decision]] = relationship(back_populates="meeting", order_by="Decision.id")
    actions: Mapped[list[ActionItem]] = relationship(back_populates="meeting", order_by="ActionItem.id")
    approved_in: Mapped[Meeting | None] = relationship(
        remote_side=[id], foreign_keys=[minutes_approved_in_id]
    )

    @property
    def uid(self) -> str:
        return f"pdz-meeting-{self.id}@ambito-cremasco"

    @property
    def is_frozen(self) -> bool:
        return self.minutes_status == MinutesStatus.APPROVED


# Cards discussed under an agenda item. Rows go with the item or the card (database cascade).
agenda_item_cards = Table(
    "agenda_item_cards",
    Base.metadata,
    Column("agenda_item_id", ForeignKey("agenda_items.id", ondelete="CASCADE"), primary_key=True),
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    presenter: Mapped[str] = mapped_column(String(200), default="")
    planned_minutes: Mapped[int | None]
    links: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)  # [{"title", "url"}]
    version: Mapped[int] = mapped_column(default=1)  # optimistic lock for co-editing the item
    minutes_source: Mapped[str] = mapped_column(Text, default="")
    minutes_html: Mapped[str] = mapped_column(Text, default="")
    minutes_rev: Mapped[int] = mapped_column(default=0)  # number of the item's last MinutesRevision
    # "Approvazione del verbale della seduta precedente": the earlier meeting whose minutes this item approves
    minutes_of_id: Mapped[int | None] = mapped_column(
        ForeignKey("meetings.id", ondelete="SET NULL"), index=True
    )
    meeting: Mapped[Meeting] = relationship(back_populates="items", foreign_keys=[meeting_id])
    # Loaded explicitly (queries.meeting_page, services); passive deletes leave the link rows to the database.
    cards: Mapped[list[Card]] = relationship(
        secondary=agenda_item_cards, order_by="Card.title", lazy="raise", passive_deletes=True
    )


# Cards a proposed agenda item concerns (copied to the item when the proposal is accepted).
agenda_proposal_cards = Table(
    "agenda_proposal_cards",
    Base.metadata,
    Column("proposal_id", ForeignKey("agenda_proposals.id", ondelete="CASCADE"), primary_key=True),
    Column("card_id", ForeignKey("cards.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class AgendaProposal(TimestampMixin, Base):
    """An item a member proposes for the agenda of a meeting in draft; a co-coordinator accepts it (it becomes
    an agenda item at the end of the agenda) or declines it with a reason."""

    __tablename__ = "agenda_proposals"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    proposer_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[ProposalStatus] = mapped_column(
        StrEnumType(ProposalStatus, 20), default=ProposalStatus.PENDING
    )
    reason: Mapped[str] = mapped_column(Text, default="")  # why it was declined
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    decided_at: Mapped[datetime | None]
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    proposer: Mapped[User] = relationship(foreign_keys=[proposer_id])
    decided_by: Mapped[User | None] = relationship(foreign_keys=[decided_by_id])
    # Loaded explicitly (queries.proposals), like the agenda items' cards.
    cards: Mapped[list[Card]] = relationship(
        secondary=agenda_proposal_cards, order_by="Card.title", lazy="raise", passive_deletes=True
    )


class MinutesRevision(Base):
    """One author's run of writing in an item's minutes (co-written: `pdz.meetings.coedit`): the full text after
    it, who, and when it last grew. A run ends when someone else writes or the author pauses."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("item_id", "number"), UniqueConstraint("item_id", "op_id"))
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    number: Mapped[int]
    text: Mapped[str] = mapped_column(Text, default="")
    op_id: Mapped[str] = mapped_column(
        String(64)
    )  # a random id (unique per item, from the former HTTP saves)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column("created_at", default=utcnow)  # when the revision last grew
    merged: Mapped[bool] = mapped_column(default=False)  # only in revisions saved before co-writing
    author: Mapped[User] = relationship()


class Rsvp(TimestampMixin, Base):
    __tablename__ = "meeting_rsvps"
    __table_args__ = (UniqueConstraint("meeting_id", "user_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    answer: Mapped[RsvpAnswer] = mapped_column(StrEnumType(RsvpAnswer, 20))
    delegate_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    meeting: Mapped[Meeting] = relationship(back_populates="rsvps")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    delegate: Mapped[User | None] = relationship(foreign_keys=[delegate_id])


class Attendance(Base):
    """One person at one meeting. Late arrival = present with `arrived_at`; early leave = `left_at`."""

    __tablename__ = "attendances"
    __table_args__ = (
        UniqueConstraint("meeting_id", "user_id"),
        # Did an organisation come to a meeting (the participation alerts): one seek, not a scan of the sheet.
        Index("ix_attendances_meeting_org", "meeting_id", "organisation_id"),
    )
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    status: Mapped[AttendanceStatus] = mapped_column(
        StrEnumType(AttendanceStatus, 20), default=AttendanceStatus.ABSENT
    )
    stands_for_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # delegate for this member
    arrived_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    self_checkin: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    meeting: Mapped[Meeting] = relationship(back_populates="attendances")
    user: Mapped[User] = relationship(foreign_keys=[user_id])
    stands_for: Mapped[User | None] = relationship(foreign_keys=[stands_for_id])
    organisation: Mapped[Organisation] = relationship()

    @property
    def counts_now(self) -> bool:
        return self.status == AttendanceStatus.PRESENT and self.left_at is None

    @property
    def is_late(self) -> bool:
        return bool(self.arrived_at and self.arrived_at > self.meeting.starts_at)


class Decision(Base):
    __tablename__ = "meeting_decisions"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    meeting: Mapped[Meeting] = relationship(back_populates="decisions")
    item: Mapped[AgendaItem | None] = relationship()


class ActionItem(TimestampMixin, Base):
    __tablename__ = "action_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id"), index=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("agenda_items.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(String(300))
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    due_on: Mapped[date | None]
    status: Mapped[ActionStatus] = mapped_column(
        StrEnumType(ActionStatus, 20), default=ActionStatus.OPEN, index=True
    )
    completed_at: Mapped[datetime | None]
    meeting: Mapped[Meeting] = relationship(back_populates="actions")
    owner: Mapped[User] = relationship()
    organisation: Mapped[Organisation] = relationship()


class CalendarFeed(Base):
    """A user's private calendar feed; the random token is the only credential, revoked by replacing it."""

    __tablename__ = "calendar_feeds"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    user: Mapped[User] = relationship()
