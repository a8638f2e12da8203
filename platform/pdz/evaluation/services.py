"""SWOT self-evaluation (entries added and removed here, their text co-written: see `coedit`) and objective
evaluation cards."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from .. import audit, policy, realtime
from ..accounts.models import User
from ..cards.models import Card, CardIndicator, IndicatorKind
from ..coedit import engine
from ..cycles.models import CycleStatus, PlanningCycle
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..inputs import line_problem, text_value
from ..tavoli.models import Body
from ..text import render_markdown
from .models import (
    Answer,
    Dimension,
    IndicatorValue,
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
    assessment = SwotAssessment(
        body_id=body.id, cycle_id=cycle.id, year=year, kind=kind, created_by_id=actor.id
    )
    db.session.add(assessment)
    db.session.flush()
    audit.record(actor, "swot.opened", assessment, {"body_id": body.id, "year": year, "kind": kind.value})
    return assessment


def _require_open(assessment: SwotAssessment, actor: User) -> None:
    policy.require(actor, "swot.write", assessment)
    if not assessment.is_open:
        raise Invalid(_("L'autovalutazione è chiusa: non si può più modificare."))


def _clean_text(text: Any) -> str:
    text = text_value("" if text is None else text, "text").strip()
    if not text:
        raise Invalid(errors={"text": _("Scrivi il testo della voce.")})
    if len(text) > MAX_ENTRY:
        raise Invalid(errors={"text": _("Testo troppo lungo (massimo %(n)d caratteri).", n=MAX_ENTRY)})
    return text


def _tags(names: list[str]) -> list[SwotTag]:
    for name in names:
        problem = line_problem(name) if isinstance(name, str) else _("Indica i temi come testi.")
        if problem:
            raise Invalid(errors={"tags": problem})
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
    revision = db.session.scalar(
        select(SwotEntryRevision).where(SwotEntryRevision.client_op_id == client_op_id)
    )
    return db.session.get(SwotEntry, revision.entry_id) if revision else None


def _message(entry: SwotEntry, actor: User) -> dict[str, Any]:
    return {
        "entry_id": entry.id,
        "dimension": entry.dimension.value,
        "quadrant": entry.quadrant.value,
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
    db.session.add(
        SwotEntryRevision(
            entry_id=entry.id, version=1, text=text, author_id=actor.id, client_op_id=client_op_id
        )
    )
    # from now on its text is co-written: it enters the SWOT's document in this same transaction
    engine.write_in_transaction(f"swot:{assessment.id}", f"entry:{entry.id}", text, actor=actor)
    audit.record(actor, "swot.entry_added", entry, {"assessment_id": assessment.id})
    realtime.publish_after_commit(room(assessment), "swot.entry_added", _message(entry, actor))
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
    texts = {
        key: (data.get(key) or "").strip()
        for key in ("users_evaluation", "problems", "positive_change_note", "resource_match_basis")
    }
    for key, value in texts.items():
        if len(value) > 5000:
            raise Invalid(errors={key: _("Testo troppo lungo (massimo 5000 caratteri).")})
    before = {
        "achievement_pct": evaluation.achievement_pct,
        "resource_match_pct": evaluation.resource_match_pct,
    }
    evaluation.achievement_pct, evaluation.resource_match_pct = achievement, match
    for key, value in answers.items():
        setattr(evaluation, key, value)
    for key, value in texts.items():
        setattr(evaluation, key, value[:200] if key == "resource_match_basis" else value)
    audit.record(
        actor,
        "evaluation.updated",
        evaluation,
        {"before": before, "after": {"achievement_pct": achievement, "resource_match_pct": match}},
    )


# --- monitoring of the cards' indicators ------------------------------------------------------------

PERIOD = re.compile(r"^(\d{4})(?:-S([12]))?$")
YES = {"sì", "si", "s", "yes", "presente", "presenza", "1", "vero"}
NO = {"no", "n", "assente", "assenza", "0", "falso"}
MAX_VALUE, MAX_SOURCE, MAX_NOTE = 60, 300, 2000
THOUSANDS = re.compile(r"^-?\d{1,3}(\.\d{3})+(,\d+)?$")


def parse_period(raw: str) -> tuple[int, int]:
    """(year, half) with half 0 for the whole year; raises Invalid on anything else."""
    match = PERIOD.match((raw or "").strip().upper())
    if match is None:
        raise Invalid(
            errors={
                "period": _("Periodo non valido: indica un anno (2025) o un semestre (2025-S1, 2025-S2).")
            }
        )
    return int(match.group(1)), int(match.group(2) or 0)


def period_order(period: str) -> tuple[int, int]:
    """Chronological order: 2025-S1, 2025-S2, then the whole year 2025 (it ends with S2), then 2026-S1."""
    year, half = parse_period(period)
    return year, half or 3


def parse_number(raw: str) -> Decimal | None:
    """A number as people type it in Italian: "12", "12,5", "1.234,50", "€ 1.200", "80%"; None if it is not one."""
    text = (raw or "").strip().replace("€", "").replace("%", "").replace(" ", "").replace("\u00a0", "")
    if not text:
        return None
    if THOUSANDS.match(text) or "," in text:
        text = text.replace(".", "").replace(",", ".")
    try:
        number = Decimal(text)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def parse_presence(raw: str) -> bool | None:
    text = (raw or "").strip().lower()
    return True if text in YES else False if text in NO else None


def _indicator_value(kind: IndicatorKind, raw: str) -> tuple[str, Decimal]:
    """The value as it will be shown and its number; raises Invalid with the reason in Italian."""
    text = " ".join((raw or "").split())
    if not text:
        raise Invalid(errors={"value": _("Indica il valore rilevato.")})
    if len(text) > MAX_VALUE:
        raise Invalid(errors={"value": _("Valore troppo lungo (massimo %(n)d caratteri).", n=MAX_VALUE)})
    if kind == IndicatorKind.PRESENCE:
        present = parse_presence(text)
        if present is None:
            raise Invalid(errors={"value": _("Per un indicatore di presenza/assenza rispondi «sì» o «no».")})
        return ("sì" if present else "no"), Decimal(1 if present else 0)
    number = parse_number(text)
    if number is None:
        raise Invalid(errors={"value": _("Indica un numero (per esempio 12 oppure 12,5).")})
    if abs(number) >= Decimal(10) ** 14:
        raise Invalid(errors={"value": _("Numero troppo grande.")})
    if kind == IndicatorKind.PERCENTAGE and not Decimal(0) <= number <= Decimal(100):
        raise Invalid(errors={"value": _("La percentuale deve essere tra 0 e 100.")})
    if kind in {IndicatorKind.COUNT, IndicatorKind.AMOUNT, IndicatorKind.TIME} and number < 0:
        raise Invalid(errors={"value": _("Il valore non può essere negativo.")})
    return text, number


def record_indicator_value(
    card: Card,
    indicator: CardIndicator,
    period: str,
    value: str,
    source: str = "",
    note: str = "",
    *,
    actor: User,
) -> IndicatorValue:
    """Record the value of one of the card's indicators for a period of the card's cycle (a new version if
    the period already has one: history is kept, pages show the latest)."""
    policy.require(actor, "indicator.record", card)
    if indicator.card_id != card.id or indicator.removed:
        raise Invalid(errors={"indicator": _("L'indicatore non appartiene a questa scheda.")})
    year, half = parse_period(period)
    cycle = db.session.get(PlanningCycle, card.cycle_id)
    assert cycle is not None
    if not cycle.start_year <= year <= cycle.end_year:
        raise Invalid(
            errors={
                "period": _("Il periodo deve cadere nel ciclo della scheda (%(label)s).", label=cycle.label)
            }
        )
    text, number = _indicator_value(IndicatorKind(indicator.kind), value)
    source, note = " ".join((source or "").split()), (note or "").strip()
    if not source:
        raise Invalid(errors={"source": _("Indica la fonte del dato.")})
    if len(source) > MAX_SOURCE:
        raise Invalid(errors={"source": _("Fonte troppo lunga (massimo %(n)d caratteri).", n=MAX_SOURCE)})
    if len(note) > MAX_NOTE:
        raise Invalid(errors={"note": _("Nota troppo lunga (massimo %(n)d caratteri).", n=MAX_NOTE)})
    canonical = f"{year}-S{half}" if half else str(year)
    previous = db.session.scalar(
        select(IndicatorValue)
        .where(IndicatorValue.indicator_id == indicator.id, IndicatorValue.period == canonical)
        .order_by(IndicatorValue.version.desc())
        .limit(1)
    )
    row = IndicatorValue(
        indicator_id=indicator.id,
        card_id=card.id,
        period=canonical,
        version=previous.version + 1 if previous else 1,
        value=text,
        number=number,
        source=source,
        note=note,
        recorded_by_id=actor.id,
    )
    db.session.add(row)
    db.session.flush()
    audit.record(
        actor,
        "indicator.value_recorded",
        row,
        {
            "card_id": card.id,
            "indicator_id": indicator.id,
            "period": canonical,
            "version": row.version,
            "value": text,
            "before": previous.value if previous else None,
        },
    )
    realtime.publish_after_commit(
        f"card:{card.id}",
        "indicator.value_recorded",
        {"card_id": card.id, "indicator_id": indicator.id, "period": canonical, "value": text},
    )
    return row
