"""The Piano di Zona's narrative chapters as one co-written document (`pdzplan:<plan_id>`): one `Y.Text` per
chapter (`pdz_chapters.NARRATIVES`). The Ufficio di Piano writes them (`plan.manage`), whoever may read the plan
drafts reads them (`plan.view`); their plain text lives in `PlanNarrative`, written by the engine, never by a
form. The plan's content reads those rows, so what was written is in the next version sent for approval.
"""

from __future__ import annotations

from datetime import datetime
from types import SimpleNamespace
from typing import Any

from sqlalchemy import select

from .. import audit, policy
from ..coedit import DocKind as CoDocKind
from ..coedit import FieldChange, register
from ..coedit.registry import extends
from ..extensions import db
from ..memo import per_request
from . import pdz_chapters
from .models import DocKind, PlanDocument, PlanNarrative

NARRATIVE_MAX = 40000


def doc_key(plan: PlanDocument) -> str:
    return f"pdzplan:{plan.id}"


@per_request
def narratives(plan: PlanDocument) -> dict[str, str]:
    rows = db.session.scalars(select(PlanNarrative).where(PlanNarrative.plan_id == plan.id))
    return {row.key: row.text_source for row in rows if row.key in pdz_chapters.NARRATIVE_KEYS}


class PlanChaptersDoc(CoDocKind):
    name = "pdzplan"

    def load(self, ref_id: int) -> PlanDocument | None:
        plan = db.session.get(PlanDocument, ref_id)
        return plan if plan is not None and plan.kind == DocKind.PIANO_DI_ZONA else None

    def can_view(self, user: Any, obj: PlanDocument) -> bool:
        return policy.can(user, "plan.view", obj)

    def can_edit(self, user: Any, obj: PlanDocument) -> bool:
        return policy.can(user, "plan.manage", obj)

    def limits(self, obj: PlanDocument) -> dict[str, int]:
        return dict.fromkeys(pdz_chapters.NARRATIVE_KEYS, NARRATIVE_MAX)

    def initial_texts(self, obj: PlanDocument) -> dict[str, str]:
        return narratives(obj)

    def materialise(self, obj: PlanDocument, changes: list[FieldChange], at: datetime) -> None:
        rows = {
            row.key: row
            for row in db.session.scalars(select(PlanNarrative).where(PlanNarrative.plan_id == obj.id))
        }
        for change in changes:
            if change.key not in pdz_chapters.NARRATIVE_KEYS:
                continue
            row = rows.get(change.key)
            if row is None:
                row = PlanNarrative(plan_id=obj.id, key=change.key, text_source="", updated_at=at)
                db.session.add(row)
                rows[change.key] = row
            elif change.after == row.text_source:
                continue
            if not extends(row.updated_by_id, row.updated_at, change.author_id, at) or change.restore:
                audit.record(  # one entry per run of writing, not per keystroke
                    SimpleNamespace(id=change.author_id),
                    "plan.narrative_edited",
                    obj,
                    {"chapter": change.key},
                )
            row.text_source, row.updated_by_id, row.updated_at = change.after, change.author_id, at


KIND = register(PlanChaptersDoc())
