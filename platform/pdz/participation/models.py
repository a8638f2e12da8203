"""Participation rollups: the dashboard's figures per tavolo and month, so a request never scans history.

`ParticipationRollup` holds, per tavolo and (Rome) month, the attendance pairs per organisation (kind "org"),
the attendance per person (kind "person") and the contributions per organisation and source (kind = the
source key, e.g. "cards"). Next to the monthly rows ("2026-03"), `queries.refresh` keeps, summed from them
in the database, yearly rows (month "Y2026": a period of whole years reads one row per year) and each
tavolo's monthly total of organisations' attendance (kind "org", no organisation, month "M202603": the
monthly table). Both sort after every "YYYY-MM", so a range of months never reads them.
`ParticipationStale` marks a (tavolo, month) whose raw rows changed since its rollup was computed ("" =
every month of that tavolo): the mark is written in the same transaction as the change (see rollups.py),
and the next reader recomputes only the marked buckets.
"""

from __future__ import annotations

from sqlalchemy import Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from ..meetings.models import Meeting

__all__ = ["ALL_MONTHS", "MEETINGS_BY_BODY", "ParticipationRollup", "ParticipationStale"]

ALL_MONTHS = ""


class ParticipationRollup(Base):
    __tablename__ = "participation_rollups"
    __table_args__ = (Index("ix_participation_rollups_month_body", "month", "body_id"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # "org", "person" or a contribution source key
    body_id: Mapped[int] = mapped_column(index=True)
    month: Mapped[str] = mapped_column(String(7))  # "YYYY-MM" on the clocks of Rome
    organisation_id: Mapped[int | None]
    user_id: Mapped[int | None]
    attended: Mapped[int] = mapped_column(default=0)  # attended pairs, or the number of contributions
    expected: Mapped[int] = mapped_column(default=0)  # expected pairs (0 for contributions)


class ParticipationStale(Base):
    __tablename__ = "participation_stale"
    body_id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7), primary_key=True)  # ALL_MONTHS: the whole history


def _meetings_index() -> Index:
    """Meetings of a body by status and start: the participation alerts seek the last concluded ones per
    body (queries.stopped_attending) instead of ranking every meeting. Declared here, on the meetings
    table, so the index lives with the queries that need it."""
    return Index("ix_meetings_body_status_starts", Meeting.body_id, Meeting.status, Meeting.starts_at)


MEETINGS_BY_BODY = _meetings_index()
