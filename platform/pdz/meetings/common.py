"""What every meeting use case shares: the live room, Rome wall-clock times, the state guards, the body's
active members and one agenda item of a meeting."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from urllib.parse import urlsplit

from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..errors import Invalid, NotFound
from ..extensions import db
from ..formatting import ROME
from ..orgs.models import Organisation
from ..tavoli.models import Body, Membership
from .models import AgendaItem, Meeting, MeetingStatus


def room(meeting: Meeting) -> str:
    return f"meeting:{meeting.id}"


def local_to_utc(day: date, at: time) -> datetime:
    """A wall-clock time in Europe/Rome to UTC; a time skipped by the spring change is refused."""
    naive = datetime.combine(day, at.replace(tzinfo=None, fold=0))
    aware = naive.replace(tzinfo=ROME)
    if aware.astimezone(UTC).astimezone(ROME).replace(tzinfo=None) != naive:
        raise Invalid(
            errors={"start": _("Quest'ora non esiste in quel giorno per il passaggio all'ora legale.")}
        )
    return aware.astimezone(UTC)


def check_url(url: str, field_name: str) -> str:
    url = (url or "").strip()
    if not url:
        return ""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Invalid(errors={field_name: _("Il collegamento deve iniziare con http:// o https://.")})
    return url


def not_frozen(meeting: Meeting) -> None:
    if meeting.is_frozen:
        raise Invalid(
            _(
                "Il verbale di questo incontro è stato approvato: presenze e verbale non si possono più modificare."
            )
        )


def status_in(meeting: Meeting, *allowed: MeetingStatus, message: str) -> None:
    if meeting.status not in allowed:
        raise Invalid(message)


# --- recipients and notices ------------------------------------------------------------------------


def members(body: Body) -> list[Membership]:
    return list(
        db.session.scalars(
            select(Membership)
            .where(Membership.body_id == body.id, Membership.ended_at.is_(None))
            .options(
                selectinload(Membership.user),
                selectinload(Membership.organisation).selectinload(Organisation.comune),
            )
            .order_by(Membership.id)
        )
    )


def find_item(meeting: Meeting, item_id: int) -> AgendaItem:
    item = next((i for i in meeting.items if i.id == item_id), None)
    if item is None:
        raise NotFound(_("Questo punto non fa parte dell'ordine del giorno."))
    return item
