"""The Accordo di Programma of a planning cycle: the agreement the Assemblea dei Sindaci approves together with
the Piano di Zona and that the comuni, ASST di Crema and the other bodies named in it sign.

One accordo per cycle. Its Piano di Zona is the cycle's plan document of kind `piano_di_zona` (looked up, not
stored: `queries.plan_of`). Each signatory is one organisation; its signature is the day it signed plus who
recorded it, set once. The enti aderenti are the cycle's adhesions (`orgs.Adhesion`), shown, not copied.
Amendments ("modifiche e integrazioni") are decided by the Assemblea during the triennium.
"""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..db import Base, TimestampMixin, utcnow
from ..orgs.models import Organisation, OrgKind

# Public bodies the Ufficio di Piano may add as signatories besides the comuni and ASST di Crema.
ADDABLE_KINDS = (OrgKind.ASST, OrgKind.ATS, OrgKind.PUBLIC, OrgKind.AZIENDA_CONSORTILE)


class Accordo(TimestampMixin, Base):
    __tablename__ = "accordi"
    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("planning_cycles.id"), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    cycle: Mapped[PlanningCycle] = relationship()
    signatories: Mapped[list[AccordoSignatory]] = relationship(
        back_populates="accordo", order_by="AccordoSignatory.position", lazy="raise"
    )
    amendments: Mapped[list[AccordoAmendment]] = relationship(
        back_populates="accordo",
        order_by=lambda: (AccordoAmendment.decided_on, AccordoAmendment.id),
        lazy="raise",
    )


class AccordoSignatory(Base):
    """A body that signs the accordo; `signed_on` (with who recorded it, and when) is set once."""

    __tablename__ = "accordo_signatories"
    __table_args__ = (UniqueConstraint("accordo_id", "organisation_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    accordo_id: Mapped[int] = mapped_column(ForeignKey("accordi.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    position: Mapped[int] = mapped_column(default=0)
    signed_on: Mapped[date | None]
    recorded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[datetime | None]
    accordo: Mapped[Accordo] = relationship(back_populates="signatories")
    organisation: Mapped[Organisation] = relationship(lazy="raise")
    recorded_by: Mapped[User | None] = relationship(lazy="raise")


class AccordoAmendment(Base):
    """A change or addition to the accordo approved by the Assemblea dei Sindaci during the triennium."""

    __tablename__ = "accordo_amendments"
    id: Mapped[int] = mapped_column(primary_key=True)
    accordo_id: Mapped[int] = mapped_column(ForeignKey("accordi.id", ondelete="CASCADE"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    description_source: Mapped[str] = mapped_column(Text, default="")
    description_html: Mapped[str] = mapped_column(Text, default="")
    decided_on: Mapped[date]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    accordo: Mapped[Accordo] = relationship(back_populates="amendments")
