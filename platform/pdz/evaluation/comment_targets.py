"""Comment threads on SWOT entries, behind a small toggle on the SWOT page (registered with
`comments.targets`; imported by `evaluation.views`, so every app knows the kind)."""

from __future__ import annotations

from typing import Any

from flask import url_for

from ..comments.targets import register
from ..extensions import db
from .models import SwotEntry


def _load_swot_entry(ident: int) -> Any:
    entry = db.session.get(SwotEntry, ident)
    return entry if entry is not None and entry.removed_at is None else None


def _swot_url(entry: Any) -> str:
    assessment = entry.assessment
    return url_for("evaluation.swot", assessment_id=assessment.id)


def _short(text: str, limit: int = 80) -> str:
    text = " ".join(str(text or "").split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


register(
    "swot_entry",
    load=_load_swot_entry,
    body_of=lambda entry: entry.assessment.body,
    url_of=_swot_url,
    label=lambda entry: _short(entry.text_source),
)
