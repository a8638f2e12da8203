"""The agenda (ordine del giorno): items with their documents and linked cards, edited by the
co-coordinators before the meeting starts, with an optimistic version."""

from __future__ import annotations

from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import audit, policy
from ..accounts.models import User
from ..cards.models import Card
from ..errors import EditConflict, Invalid
from ..extensions import db
from ..formatting import format_local
from ..realtime import publish_after_commit
from .common import check_url, find_item, room, status_in
from .models import AgendaItem, Meeting, MeetingStatus, MinutesStatus

MAX_CARDS_PER_ITEM = 20


def parse_links(text: str) -> list[dict[str, str]]:
    """One document per line: `Title | https://...` (or just the address)."""
    links = []
    for line in (text or "").splitlines():
        line = line.strip()
        if not line:
            continue
        title, _sep, url = line.rpartition("|") if "|" in line else ("", "", line)
        url = check_url(url.strip(), "links")
        links.append({"title": (title.strip() or url)[:200], "url": url[:500]})
    if len(links) > 20:
        raise Invalid(errors={"links": _("Al massimo 20 documenti per punto.")})
    return links


def _item_values(
    title: str, description: str, presenter: str, planned_minutes: int | None, links: str
) -> dict[str, Any]:
    title = (title or "").strip()
    if not title:
        raise Invalid(errors={"title": _("Indica il titolo del punto.")})
    if planned_minutes is not None and not 1 <= planned_minutes <= 600:
        raise Invalid(errors={"planned_minutes": _("I minuti previsti devono essere tra 1 e 600.")})
    return {
        "title": title[:200],
        "description": (description or "").strip()[:5000],
        "presenter": (presenter or "").strip()[:200],
        "planned_minutes": planned_minutes,
        "links": parse_links(links),
    }


def agenda_editable(meeting: Meeting) -> None:
    status_in(
        meeting,
        MeetingStatus.DRAFT,
        MeetingStatus.CONVENED,
        message=_("L'ordine del giorno si modifica solo prima dell'inizio dell'incontro."),
    )


def _agenda_changed(meeting: Meeting) -> None:
    publish_after_commit(room(meeting), "meeting.agenda_changed", {"meeting_id": meeting.id})


def card_linkable(meeting: Meeting, card: Card, actor: User) -> bool:
    """A tavolo's agenda links the tavolo's own cards; governance bodies (UdP Integrato, Assemblea, ...)
    may discuss any card. Either way only cards the person editing the agenda can see."""
    if meeting.body.is_thematic and card.body_id != meeting.body_id:
        return False
    return policy.can(actor, "card.view", card)


def linkable_cards(meeting: Meeting, *, actor: User) -> list[Card]:
    """The cards offered by the agenda form, in one query (plus areas and bodies for the labels)."""
    stmt = (
        select(Card)
        .options(selectinload(Card.area), selectinload(Card.body))
        .order_by(Card.key.is_(None), Card.key, Card.title)
    )
    if meeting.body.is_thematic:
        stmt = stmt.where(Card.body_id == meeting.body_id)
    return [card for card in db.session.scalars(stmt) if card_linkable(meeting, card, actor)]


def load_item_cards(item: AgendaItem) -> list[Card]:
    """Loads the (lazy="raise") cards of an item already in the session."""
    db.session.scalars(
        select(AgendaItem).where(AgendaItem.id == item.id).options(selectinload(AgendaItem.cards))
    ).one()
    return item.cards


def linked_cards(meeting: Meeting, card_ids: list[int], actor: User) -> list[Card]:
    ids = sorted(set(card_ids))
    if len(ids) > MAX_CARDS_PER_ITEM:
        raise Invalid(errors={"cards": _("Al massimo %(n)d schede per punto.", n=MAX_CARDS_PER_ITEM)})
    cards = list(db.session.scalars(select(Card).where(Card.id.in_(ids)).order_by(Card.id))) if ids else []
    if len(cards) != len(ids) or not all(card_linkable(meeting, card, actor) for card in cards):
        raise Invalid(errors={"cards": _("La scheda non è visibile a questo organismo.")})
    return cards


def add_agenda_item(
    meeting: Meeting,
    *,
    title: str,
    description: str = "",
    presenter: str = "",
    planned_minutes: int | None = None,
    links: str = "",
    card_ids: list[int] | None = None,
    actor: User,
) -> AgendaItem:
    policy.require(actor, "meeting.manage", meeting)
    agenda_editable(meeting)
    values = _item_values(title, description, presenter, planned_minutes, links)
    cards = linked_cards(meeting, card_ids or [], actor)
    item = AgendaItem(meeting=meeting, position=len(meeting.items) + 1, cards=cards, **values)
    db.session.add(item)
    db.session.flush()
    audit.record(
        actor, "meeting.item_added", meeting, {"item_id": item.id, "card_ids": [c.id for c in cards]}
    )
    _agenda_changed(meeting)
    return item


def update_agenda_item(
    meeting: Meeting,
    item_id: int,
    *,
    version: int,
    title: str,
    description: str = "",
    presenter: str = "",
    planned_minutes: int | None = None,
    links: str = "",
    card_ids: list[int] | None = None,
    actor: User,
) -> AgendaItem:
    """Both co-coordinators edit the agenda: a save based on an old version is refused, nothing lost.
    `card_ids=None` leaves the linked cards as they are."""
    policy.require(actor, "meeting.manage", meeting)
    agenda_editable(meeting)
    item = find_item(meeting, item_id)
    values = _item_values(title, description, presenter, planned_minutes, links)
    cards = linked_cards(meeting, card_ids, actor) if card_ids is not None else None
    if version != item.version:
        raise EditConflict(
            _(
                "Nel frattempo qualcun altro ha modificato questo punto: rileggi la versione attuale e riapplica le tue modifiche."
            ),
            current={k: getattr(item, k) for k in values},
            mine=values,
        )
    for key, value in values.items():
        setattr(item, key, value)
    details: dict[str, Any] = {"item_id": item.id}
    if cards is not None:
        load_item_cards(item)
        item.cards = cards
        details["card_ids"] = [c.id for c in cards]
    item.version += 1
    audit.record(actor, "meeting.item_updated", meeting, details)
    _agenda_changed(meeting)
    return item


def delete_agenda_item(meeting: Meeting, item_id: int, *, actor: User) -> None:
    policy.require(actor, "meeting.manage", meeting)
    agenda_editable(meeting)
    item = find_item(meeting, item_id)
    meeting.items.remove(item)
    for position, other in enumerate(meeting.items, start=1):
        other.position = position
    audit.record(actor, "meeting.item_removed", meeting, {"item_id": item_id, "title": item.title})
    _agenda_changed(meeting)


def move_agenda_item(meeting: Meeting, item_id: int, direction: int, *, actor: User) -> None:
    policy.require(actor, "meeting.manage", meeting)
    agenda_editable(meeting)
    items = list(meeting.items)
    item = find_item(meeting, item_id)
    index = items.index(item)
    target = index + (1 if direction > 0 else -1)
    if not 0 <= target < len(items):
        return
    items[index], items[target] = items[target], items[index]
    for position, other in enumerate(items, start=1):
        other.position = position
    audit.record(actor, "meeting.item_moved", meeting, {"item_id": item_id, "position": target + 1})
    _agenda_changed(meeting)


# --- "Approvazione del verbale della seduta precedente" ---------------------------------------------


def previous_minutes(meeting: Meeting) -> Meeting | None:
    """The latest earlier meeting of the same body whose minutes still wait for approval (concluded, not yet
    approved), unless this meeting's agenda already has the item approving them."""
    earlier = db.session.scalar(
        select(Meeting)
        .where(
            Meeting.body_id == meeting.body_id,
            Meeting.id != meeting.id,
            Meeting.starts_at < meeting.starts_at,
            Meeting.status == MeetingStatus.CONCLUDED,
            Meeting.minutes_status == MinutesStatus.DRAFT,
        )
        .order_by(Meeting.starts_at.desc())
        .limit(1)
    )
    if earlier is None or any(item.minutes_of_id == earlier.id for item in meeting.items):
        return None
    return earlier


def add_minutes_item(meeting: Meeting, *, actor: User) -> AgendaItem:
    """Put "Approvazione del verbale della seduta precedente" first on the agenda, linked to the minutes of
    the body's previous meeting: during this meeting the body approves them or asks for changes."""
    policy.require(actor, "meeting.manage", meeting)
    agenda_editable(meeting)
    earlier = previous_minutes(meeting)
    if earlier is None:
        raise Invalid(
            _(
                "Non c'è un verbale da approvare: l'incontro precedente di questo organismo non è concluso, "
                "il suo verbale è già approvato o è già all'ordine del giorno."
            )
        )
    day = format_local(earlier.starts_at, "day")
    with force_locale("it"):  # the agenda is written in Italian whatever the language of who adds the item
        title = _("Approvazione del verbale della seduta precedente")
        description = _("Verbale dell'incontro «%(t)s» del %(d)s.", t=earlier.title, d=day)
        link_title = _("Verbale della seduta del %(d)s", d=day)
    others = list(meeting.items)
    item = AgendaItem(
        meeting=meeting,
        position=1,
        title=title,
        description=description[:5000],
        links=[{"title": link_title[:200], "url": url_for("meetings.minutes", meeting_id=earlier.id)}],
        minutes_of_id=earlier.id,
    )
    for position, other in enumerate(others, start=2):
        other.position = position
    db.session.add(item)
    db.session.flush()
    audit.record(actor, "meeting.item_added", meeting, {"item_id": item.id, "minutes_of": earlier.id})
    _agenda_changed(meeting)
    return item
