"""A body's mandate draft as one co-written document (`mandate:<body_id>`): one `Y.Text` per mandate part.

Whoever may propose or decide a mandate writes the draft together; its plain text lives in `MandateDraft`.
Turning the draft into a proposed version (co-coordinators) or the version in force (UdP) stays a service
(`services.submit_mandate_draft`), which reads the draft's current text and writes a `Mandate` as before.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import audit, policy
from ..coedit import DocKind, FieldChange, engine, register
from ..coedit.registry import extends
from ..extensions import db
from .models import MANDATE_PARTS, MAX_MANDATE_PART, Body, Mandate, MandateDraft, MandateStatus


def doc_key(body: Body) -> str:
    return f"mandate:{body.id}"


def _draft(body: Body) -> MandateDraft | None:
    return db.session.scalar(select(MandateDraft).where(MandateDraft.body_id == body.id))


def _starting_mandate(body: Body) -> Mandate | None:
    """The mandate in force, else the latest proposal."""
    rows = db.session.scalars(
        select(Mandate)
        .where(
            Mandate.body_id == body.id, Mandate.status.in_([MandateStatus.IN_FORCE, MandateStatus.PROPOSED])
        )
        .order_by(Mandate.version.desc())
    ).all()
    return next((m for m in rows if m.status == MandateStatus.IN_FORCE), rows[0] if rows else None)


class MandateDoc(DocKind):
    name = "mandate"

    def load(self, ref_id: int) -> Body | None:
        return db.session.get(Body, ref_id)

    def can_view(self, user: Any, obj: Body) -> bool:
        return policy.can(user, "tavolo.view", obj)

    def can_edit(self, user: Any, obj: Body) -> bool:
        return policy.can(user, "mandate.propose", obj) or policy.can(user, "mandate.decide", obj)

    def limits(self, obj: Body) -> dict[str, int]:
        return dict.fromkeys(MANDATE_PARTS, MAX_MANDATE_PART)

    def initial_texts(self, obj: Body) -> dict[str, str]:
        mandate = _starting_mandate(obj)
        return {part: getattr(mandate, f"{part}_source") if mandate else "" for part in MANDATE_PARTS}

    def materialise(self, obj: Body, changes: list[FieldChange], at: datetime) -> None:
        draft = _draft(obj)
        if draft is None:
            draft = MandateDraft(body_id=obj.id, updated_at=at)
            for part, text in self.initial_texts(obj).items():  # the parts nobody has touched yet
                setattr(draft, f"{part}_source", text)
            db.session.add(draft)
        for change in changes:
            if change.key not in MANDATE_PARTS:
                continue
            setattr(draft, f"{change.key}_source", change.after)
            if not extends(draft.updated_by_id, draft.updated_at, change.author_id, at):
                audit.record(  # someone starts writing (again): one entry per run, not per keystroke
                    SimpleNamespace(id=change.author_id),
                    "mandate.draft_edited",
                    draft,
                    {"body_id": obj.id, "part": change.key},
                )
            draft.updated_by_id, draft.updated_at = change.author_id, at


KIND = register(MandateDoc())


def draft_texts(body: Body) -> dict[str, str]:
    """The draft as it is now: the live document's texts once someone has opened it, else where it starts from."""
    if not engine.exists(KIND.name, body.id):
        return KIND.initial_texts(body)
    texts = engine.current_texts(doc_key(body))
    return {part: texts.get(part, "") for part in MANDATE_PARTS}
