"""Read side of attachments: what is attached to an object, for its page, the convocation and the minutes."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from flask import current_app, url_for
from flask_babel import format_decimal
from flask_babel import gettext as _
from reportlab.platypus import Paragraph
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import policy, signals
from ..cards.models import Card
from ..extensions import db
from ..meetings.models import AgendaItem, Meeting
from ..tavoli.models import Body
from . import filetypes
from .models import Attachment, AttachmentTarget
from .services import target_of


def holder_of(attachment: Attachment) -> Any:
    """The object an attachment belongs to (None when it was deleted, e.g. an agenda item)."""
    model = {
        AttachmentTarget.TAVOLO: Body,
        AttachmentTarget.CARD: Card,
        AttachmentTarget.MEETING: Meeting,
        AttachmentTarget.AGENDA_ITEM: AgendaItem,
    }[attachment.target_kind]
    found = db.session.get(model, attachment.target_id)
    if found is None and attachment.meeting_id is not None:
        return db.session.get(Meeting, attachment.meeting_id)  # a deleted item's files stay with its meeting
    return found


def _loaded() -> Any:
    return select(Attachment).options(
        selectinload(Attachment.uploaded_by), selectinload(Attachment.removed_by)
    )


def of_holder(holder: Any) -> list[Attachment]:
    """Every attachment of `holder`, removed ones included, oldest first; a meeting's include its items'."""
    query = _loaded().order_by(Attachment.uploaded_at, Attachment.id)
    if isinstance(holder, Meeting):
        return list(db.session.scalars(query.where(Attachment.meeting_id == holder.id)))
    kind = AttachmentTarget.CARD if isinstance(holder, Card) else AttachmentTarget.TAVOLO
    assert isinstance(holder, (Card, Body))
    return list(
        db.session.scalars(query.where(Attachment.target_kind == kind, Attachment.target_id == holder.id))
    )


def find(holder: Any, attachment_id: int | None) -> Attachment | None:
    """The attachment `attachment_id` if it belongs to `holder` (a meeting: to it or to one of its items)."""
    if attachment_id is None:
        return None
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None:
        return None
    if isinstance(holder, Meeting):
        return attachment if attachment.meeting_id == holder.id else None
    kind, target_id = _key(holder)
    return attachment if (attachment.target_kind, attachment.target_id) == (kind, target_id) else None


def _key(holder: Any) -> tuple[AttachmentTarget, int]:
    kind, target_id, _body, _meeting = target_of(holder)
    return kind, target_id


# --- presentation ----------------------------------------------------------------------------------


def size_label(size: int) -> str:
    if size < 1024:
        return _("%(n)s byte", n=size)
    if size < 1024 * 1024:
        return _("%(n)s KB", n=format_decimal(round(size / 1024)))
    return _("%(n)s MB", n=format_decimal(round(size / (1024 * 1024), 1)))


def kind_label(attachment: Attachment) -> str:
    kind = filetypes.BY_MIME.get(attachment.content_type)
    return kind.label if kind is not None else attachment.content_type


def download_url(attachment: Attachment) -> str:
    if attachment.meeting_id is not None:
        return url_for(
            "attachments.download_meeting", meeting_id=attachment.meeting_id, attachment_id=attachment.id
        )
    if attachment.target_kind == AttachmentTarget.CARD:
        return url_for("attachments.download_card", card_id=attachment.target_id, attachment_id=attachment.id)
    return url_for("attachments.download_tavolo", body_id=attachment.body_id, attachment_id=attachment.id)


@dataclass
class Group:
    title: str  # "" for the object itself
    item_id: int | None
    active: list[Attachment] = field(default_factory=list)
    removed: list[Attachment] = field(default_factory=list)


@dataclass
class Box:
    """What `templates/attachments/_list.html` shows for one object."""

    key: str
    holder: Any
    groups: list[Group]
    upload_url: str
    remove_url: str
    can_edit: bool
    items: list[Any]  # agenda items a meeting's file may be attached to

    @property
    def active_count(self) -> int:
        return sum(len(g.active) for g in self.groups)

    @property
    def removed(self) -> list[Attachment]:
        return [a for g in self.groups for a in g.removed]


def box(holder: Any, user: Any) -> Box:
    attachments = of_holder(holder)
    if isinstance(holder, Meeting):
        groups = [Group("", None)]
        by_item = {}
        for item in holder.items:
            by_item[item.id] = Group(_("Punto %(n)d. %(t)s", n=item.position, t=item.title), item.id)
        groups.extend(by_item.values())
        for attachment in attachments:
            group = groups[0]
            if attachment.target_kind == AttachmentTarget.AGENDA_ITEM:
                group = by_item.get(attachment.target_id, groups[0])
            (group.removed if attachment.removed_at else group.active).append(attachment)
        key, action = f"meeting-{holder.id}", "meeting.attachments"
        upload = url_for("attachments.upload_meeting", meeting_id=holder.id)
        remove = url_for("attachments.remove_meeting", meeting_id=holder.id)
        items = list(holder.items)
    else:
        group = Group("", None)
        for attachment in attachments:
            (group.removed if attachment.removed_at else group.active).append(attachment)
        groups, items = [group], []
        if isinstance(holder, Card):
            key, action = f"card-{holder.id}", "attachment.add"
            upload = url_for("attachments.upload_card", card_id=holder.id)
            remove = url_for("attachments.remove_card", card_id=holder.id)
        else:
            key, action = f"tavolo-{holder.id}", "attachment.add"
            upload = url_for("attachments.upload_tavolo", body_id=holder.id)
            remove = url_for("attachments.remove_tavolo", body_id=holder.id)
    return Box(key, holder, groups, upload, remove, policy.can(user, action, holder), items)


def _absolute(path: str) -> str:
    return current_app.config["PDZ_BASE_URL"].rstrip("/") + path


@signals.meeting_mail_lines.connect
def mail_lines(meeting: Any) -> list[str]:
    """The convocation's list of files (meeting and agenda items), with their download addresses."""
    groups = [g for g in box(meeting, None).groups if g.active]
    if not groups:
        return []
    lines = ["", _("Allegati (per scaricarli serve l'accesso a PdZ):")]
    for group in groups:
        for attachment in group.active:
            where = f"{group.title}: " if group.title else ""
            lines.append(
                f"- {where}{attachment.filename} ({kind_label(attachment)}, {size_label(attachment.size)})"
            )
            lines.append(f"  {_absolute(download_url(attachment))}")
    return lines


@signals.meeting_minutes_flowables.connect
def minutes_flowables(meeting: Any, heading: Any, normal: Any) -> list[Any]:
    """The minutes PDF's list of files (reportlab paragraphs), empty when nothing is attached."""
    groups = [g for g in box(meeting, None).groups if g.active]
    if not groups:
        return []
    story: list[Any] = [Paragraph(escape(_("Allegati")), heading)]
    for group in groups:
        for attachment in group.active:
            where = f"{group.title}: " if group.title else ""
            text = f"{where}{attachment.filename} ({kind_label(attachment)}, {size_label(attachment.size)})"
            story.append(Paragraph(escape(text), normal))
    return story
