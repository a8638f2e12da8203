"""Use cases of attachments: add a file to a tavolo, a card, a meeting or an agenda item; remove one.

Each authorises through `policy`, checks the file (size, kind from its bytes), writes the row, the audit entry
and a live event, and flushes; the view's unit of work commits. Refused files store nothing.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Any

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy, realtime
from ..cards.models import Card
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..meetings.models import AgendaItem, Meeting, MeetingStatus
from ..tavoli.models import Body
from . import filetypes, storage
from .models import Attachment, AttachmentTarget

# Extensions a name may keep for each kind; any other gets the kind's own appended ("verbale.pdf.docx").
_EXTENSIONS = {"jpg": {"jpg", "jpeg"}}
_UNSAFE = re.compile(r'[\\/:*?"<>|]+')


class TooLarge(Invalid):
    """A file beyond `PDZ_UPLOAD_MAX_MB` (bad input): answered 413 with the limit in the message."""

    status = 413


def max_bytes() -> int:
    return int(current_app.config["PDZ_UPLOAD_MAX_MB"]) * 1024 * 1024


def too_large_message() -> str:
    return _(
        "Il file è troppo grande: il limite è %(mb)d MB. Riducilo (per esempio salvando il PDF in qualità "
        "più bassa) o dividilo in più file.",
        mb=int(current_app.config["PDZ_UPLOAD_MAX_MB"]),
    )


def refused_kind_message() -> str:
    return _(
        "Questo tipo di file non è ammesso (il tipo si riconosce dal contenuto, non dal nome). Si possono "
        "allegare PDF, documenti Word, Excel e PowerPoint, documenti OpenDocument e immagini PNG, JPEG, "
        "GIF o WebP."
    )


def target_of(holder: Any) -> tuple[AttachmentTarget, int, int, int | None]:
    """(kind, id, body id, meeting id) of the object a file is attached to."""
    if isinstance(holder, Body):
        return AttachmentTarget.TAVOLO, holder.id, holder.id, None
    if isinstance(holder, Card):
        return AttachmentTarget.CARD, holder.id, holder.body_id, None
    if isinstance(holder, Meeting):
        return AttachmentTarget.MEETING, holder.id, holder.body_id, holder.id
    if isinstance(holder, AgendaItem):
        return AttachmentTarget.AGENDA_ITEM, holder.id, holder.meeting.body_id, holder.meeting_id
    raise TypeError(f"cannot attach files to {type(holder).__name__}")


def edit_action(kind: AttachmentTarget) -> str:
    return "meeting.attachments" if kind in (AttachmentTarget.MEETING, AttachmentTarget.AGENDA_ITEM) else ""


def room_of(kind: AttachmentTarget, target_id: int, body_id: int, meeting_id: int | None) -> str:
    if meeting_id is not None:
        return f"meeting:{meeting_id}"
    if kind == AttachmentTarget.CARD:
        return f"card:{target_id}"
    return f"tavolo:{body_id}"


def clean_name(name: str, kind: filetypes.FileKind) -> str:
    """The name shown and given to downloads: no folders, no control or reserved characters, at most 255
    characters, and an extension that matches the content."""
    name = unicodedata.normalize("NFC", name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(c for c in name if unicodedata.category(c)[0] != "C")
    name = _UNSAFE.sub("_", name).strip(" .") or _("allegato")
    stem, dot, suffix = name.rpartition(".")
    if not dot or suffix.lower() not in _EXTENSIONS.get(kind.extension, {kind.extension}):
        stem, suffix = name, kind.extension
    return f"{stem[: 250 - len(suffix)]}.{suffix}"


def add_attachment(holder: Any, filename: str, data: bytes, *, actor: Any) -> tuple[Attachment, bool]:
    """Attach `data` to `holder`. (the attachment, True) when added; (the one already there, False) when the
    same content is already attached to the same object."""
    kind, target_id, body_id, meeting_id = target_of(holder)
    policy.require(actor, edit_action(kind) or "attachment.add", holder)
    _check_state(holder)
    if not data:
        raise Invalid(errors={"file": _("Scegli un file da allegare: quello inviato è vuoto.")})
    if len(data) > max_bytes():
        raise TooLarge(too_large_message())
    file_kind = filetypes.detect(data)
    if file_kind is None:
        raise Invalid(errors={"file": refused_kind_message()})
    sha256 = storage.digest(data)
    existing = db.session.scalar(
        select(Attachment).where(
            Attachment.target_kind == kind,
            Attachment.target_id == target_id,
            Attachment.sha256 == sha256,
            Attachment.removed_at.is_(None),
        )
    )
    if existing is not None:
        return existing, False
    storage.store(data)
    attachment = Attachment(
        body_id=body_id,
        target_kind=kind,
        target_id=target_id,
        meeting_id=meeting_id,
        sha256=sha256,
        filename=clean_name(filename, file_kind),
        content_type=file_kind.mime,
        size=len(data),
        uploaded_by_id=actor.id,
        uploaded_at=utcnow(),
    )
    db.session.add(attachment)
    db.session.flush()
    audit.record(
        actor,
        "attachment.added",
        attachment,
        {"name": attachment.filename, "kind": kind.value, "target": target_id, "size": len(data)},
    )
    realtime.publish_after_commit(
        room_of(kind, target_id, body_id, meeting_id),
        "attachment.added",
        {"attachment_id": attachment.id, "target_kind": kind.value, "target_id": target_id},
    )
    return attachment, True


def remove_attachment(attachment: Attachment, *, actor: Any) -> Attachment:
    """Take a file off its object; the row, the bytes and the audit entries stay (the history)."""
    policy.require(actor, edit_action(attachment.target_kind) or "attachment.remove", attachment)
    if attachment.removed_at is not None:
        raise Invalid(_("Questo allegato era già stato rimosso."))
    attachment.removed_at = utcnow()
    attachment.removed_by_id = actor.id
    audit.record(
        actor,
        "attachment.removed",
        attachment,
        {"name": attachment.filename, "kind": attachment.target_kind.value, "target": attachment.target_id},
    )
    realtime.publish_after_commit(
        room_of(attachment.target_kind, attachment.target_id, attachment.body_id, attachment.meeting_id),
        "attachment.removed",
        {
            "attachment_id": attachment.id,
            "target_kind": attachment.target_kind.value,
            "target_id": attachment.target_id,
        },
    )
    db.session.flush()
    return attachment


def _check_state(holder: Any) -> None:
    meeting = holder.meeting if isinstance(holder, AgendaItem) else holder
    if isinstance(meeting, Meeting) and meeting.status == MeetingStatus.CANCELLED:
        raise Invalid(_("Questo incontro è stato annullato: non si possono più allegare file."))
