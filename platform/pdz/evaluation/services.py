"""SWOT self-evaluation (co-written, no lost edits) and objective evaluation cards."""

from __future__ import annotations

from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy, realtime
from ..accounts.models import User
from ..cycles.models import CycleStatus, PlanningCycle, PolicyArea
from ..db import utcnow
from ..errors import EditConflict, Invalid
from ..extensions import db
from ..merge import merge3
from ..tavoli.models import Body
from ..text import render_markdown
from .models import (
    Answer,
    Dimension,
    ObjectiveEvaluation,
    Quadrant,
    SwotAssessment,
    SwotEntry,
    SwotEntryRevision,
    SwotKind,
    SwotStatus,
    SwotTag,
)

MAX_ENTRY = 2000
MAX_TAGS = 5


def room(assessment: SwotAssessment) -> str:
    return f"swot:{assessment.id}"


def current_cycle() -> PlanningCycle | None:
    return db.session.scalar(select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING))


def open_swot(body: Body, year: int | None, kind: SwotKind, *, actor: User) -> SwotAssessment:
    policy.require(actor, "swot.open", body)
    cycle = current_cycle()
    if cycle is None:
        raise Invalid(_("Non c'è un ciclo di programmazione in corso."))
    if year is None or not (cycle.start_year <= year <= cycle.end_year):
        raise Invalid(errors={"year": _("L'anno deve cadere nel ciclo %(label)s.", label=cycle.label)})
    exists = db.session.scalar(
        select(SwotAssessment.id).where(
            SwotAssessment.body_id == body.id,
            SwotAssessment.cycle_id == cycle.id,
            SwotAssessment.year == year,
            SwotAssessment.kind == kind,
        )
    )
    if exists:
        raise Invalid(errors={"year": _("Questa autovalutazione esiste già.")})
    assessment = SwotAssessment(body_id=body.id, cycle_id=cycle.id, year=year, kind=kind, created_by_id=actor.id)
    db.session.add(assessment)
    db.session.flush()
    audit.record(actor, "swot.opened", assessment, {"body_id": body.id, "year": year, "kind": kind.value})
    return assessment


def _require_open(assessment: SwotAssessment, actor: User) -> None:
    policy.require(actor, "swot.write", assessment)
    if not assessment.is_open:
        raise Invalid(_("L'autovalutazione è chiusa: non si può più modificare."))


def _clean_text(text: str) -> str:
    text = (text or "").strip()
    if not text:
        raise Invalid(errors={"text": _("Scrivi il testo della voce.")})
    if len(text) > MAX_ENTRY:
        raise Invalid(errors={"text": _("Testo troppo lungo (massimo %(n)d caratteri).", n=MAX_ENTRY)})
    return text


def _tags(names: list[str]) -> list[SwotTag]:
    clean = sorted({" ".join(n.split()).lower()[:60] for n in names if n and n.strip()})
    if len(clean) > MAX_TAGS:
        raise Invalid(errors={"tags": _("Al massimo %(n)d temi per voce.", n=MAX_TAGS)})
    existing = {t.name: t for t in db.session.scalars(select(SwotTag).where(SwotTag.name.in_(clean)))}
    tags = []
    for name in clean:
        if name not in existing:
            existing[name] = SwotTag(name=name)
            db.session.add(existing[name])
        tags.append(existing[name])
    return tags


def _replayed(client_op_id: str | None) -> SwotEntry | None:
    if not client_op_id:
        return None
    revision = db.session.scalar(select(SwotEntryRevision).where(SwotEntryRevision.client_op_id == client_op_id))
    return db.session.get(SwotEntry, revision.entry_id) if revision else None


def _message(entry: SwotEntry, actor: User) -> dict[str, Any]:
    return {
        "entry_id": entry.id,
        "dimension": entry.dimension.value,
        "quadrant": entry.quadrant.value,
        "version": entry.version,
        "text": entry.text_source,
        "html": entry.text_html,
        "tags": [t.name for t in entry.tags],
        "author": actor.full_name,
    }


def add_entry(
    assessment: SwotAssessment,
    dimension: str,
    quadrant: str,
    text: str,
    tags: list[str] | None = None,
    client_op_id: str | None = None,
    *,
    actor: User,
) -> SwotEntry:
    _require_open(assessment, actor)
    if (replay := _replayed(client_op_id)) is not None:
        return replay
    try:
        dim, quad = Dimension(dimension), Quadrant(quadrant)
    except ValueError:
        raise Invalid(_("Dimensione o quadrante sconosciuti.")) from None
    text = _clean_text(text)
    entry = SwotEntry(
        assessment_id=assessment.id,
        dimension=dim,
        quadrant=quad,
        text_source=text,
        text_html=str(render_markdown(text)),
        author_id=actor.id,
    )
    entry.tags = _tags(tags or [])
    db.session.add(entry)
    db.session.flush()
    db.session.add(SwotEntryRevision(entry_id=entry.id, version=1, text=text, author_id=actor.id, client_op_id=client_op_id))
    audit.record(actor, "swot.entry_added", entry, {"assessment_id": assessment.id})
    realtime.publish_after_commit(room(assessment), "swot.entry_saved", _message(entry, actor))
    return entry


def edit_entry(
    entry: SwotEntry,
    text: str,
    base_version: int,
    tags: list[str] | None = None,
    client_op_id: str | None = None,
    *,
    actor: User,
) -> SwotEntry:
    """Save against the version the editor started from; concurrent edits merge, overlaps raise EditConflict."""
    assessment = entry.assessment
    _require_open(assessment, actor)
    if entry.removed_at is not None:
        raise Invalid(_("Questa voce è stata rimossa."))
    if (replay := _replayed(client_op_id)) is not None:
        return replay
    text = _clean_text(text)
    if base_version != entry.version:
        base = db.session.scalar(
            select(SwotEntryRevision.text).where(SwotEntryRevision.entry_id == entry.id, SwotEntryRevision.version == base_version)
        )
        if base is None:
            raise Invalid(_("Versione di partenza sconosciuta: ricarica la pagina."))
        merged = merge3(base, text, entry.text_source)
        if not merged.clean:
            raise EditConflict(
                _("Qualcun altro ha modificato la stessa parte di questa voce: scegli quale testo tenere."),
                mine=text,
                theirs=entry.text_source,
                version=entry.version,
            )
        text = merged.text
    entry.version += 1
    entry.text_source, entry.text_html = text, str(render_markdown(text))
    if tags is not None:
        entry.tags = _tags(tags)
    db.session.add(
        SwotEntryRevision(entry_id=entry.id, version=entry.version, text=text, author_id=actor.id, client_op_id=client_op_id)
    )
    audit.record(actor, "swot.entry_edited", entry, {"version": entry.version})
    realtime.publish_after_commit(room(assessment), "swot.entry_saved", _message(entry, actor))
    return entry


def remove_entry(entry: SwotEntry, *, actor: User) -> None:
    _require_open(entry.assessment, actor)
    if entry.removed_at is None:
        entry.removed_at = utcnow()
        audit.record(actor, "swot.entry_removed", entry)
        realtime.publish_after_commit(room(entry.assessment), "swot.entry_removed", {"entry_id": entry.id})


def close_swot(assessment: SwotAssessment, *, actor: User) -> None:
    policy.require(actor, "swot.close", assessment)
    if not assessment.is_open:
        raise Invalid(_("L'autovalutazione è già chiusa."))
    if not assessment.entries:
        raise Invalid(_("Non si può chiudere un'autovalutazione vuota."))
    assessment.status = SwotStatus.CLOSED
    assessment.closed_by_id, assessment.closed_at = actor.id, utcnow()
    audit.record(actor, "swot.closed", assessment)
    realtime.publish_after_commit(room(assessment), "swot.closed", {"assessment_id": assessment.id})


# --- objective evaluation ---------------------------------------------------------------------------


def _percentage(raw: Any, field: str) -> int | None:
    if raw in (None, ""):
        return None
    try:
        value = int(str(raw).strip().rstrip("%").strip())
    except ValueError:
        raise Invalid(errors={field: _("Indica una percentuale intera tra 0 e 100.")}) from None
    if not 0 <= value <= 100:
        raise Invalid(errors={field: _("La percentuale deve essere tra 0 e 100.")})
    return value


def update_evaluation(evaluation: ObjectiveEvaluation, data: dict[str, Any], *, actor: User) -> None:
    policy.require(actor, "evaluation.edit", evaluation)
    achievement = _percentage(data.get("achievement_pct"), "achievement_pct")
    match = _percentage(data.get("resource_match_pct"), "resource_match_pct")
    answers = {}
    for key in ("positive_change", "continuity", "reproposed"):
        try:
            answers[key] = Answer(data.get(key) or Answer.NOT_GIVEN)
        except ValueError:
            raise Invalid(errors={key: _("Risposta non valida.")}) from None
    texts = {key: (data.get(key) or "").strip() for key in ("users_evaluation", "problems", "positive_change_note", "resource_match_basis")}
    for key, value in texts.items():
        if len(value) > 5000:
            raise Invalid(errors={key: _("Testo troppo lungo (massimo 5000 caratteri).")})
    before = {"achievement_pct": evaluation.achievement_pct, "resource_match_pct": evaluation.resource_match_pct}
    evaluation.achievement_pct, evaluation.resource_match_pct = achievement, match
    for key, value in answers.items():
        setattr(evaluation, key, value)
    for key, value in texts.items():
        setattr(evaluation, key, value[:200] if key == "resource_match_basis" else value)
    audit.record(actor, "evaluation.updated", evaluation, {"before": before, "after": {"achievement_pct": achievement, "resource_match_pct": match}})


def area_by_key(key: str) -> PolicyArea | None:
    return db.session.scalar(select(PolicyArea).where(PolicyArea.key == key))
