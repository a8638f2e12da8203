from __future__ import annotations

from typing import Any

from flask import Response, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import policy
from ..cards.models import Card, CardIndicator
from ..comments import queries as comment_queries
from ..cycles.models import PlanningCycle
from ..errors import Invalid, NotFound
from ..exports import csv_response
from ..extensions import db
from ..inputs import CLIENT_OP_ID, EmptyForm, int32, payload
from ..labels import label
from ..policy import guard
from ..realtime import last_event_id
from ..tavoli.models import Body
from ..webutil import Problems, run
from . import (
    bp,
    comment_targets,  # noqa: F401  (registers the threads on SWOT entries)
    queries,
    services,
)
from .models import Answer, ObjectiveEvaluation, SwotAssessment, SwotEntry, SwotKind


def _tags(raw: Any) -> list[str]:
    """Themes as a list of texts (JSON) or comma-separated (form); any other shape is refused."""
    if isinstance(raw, list) and all(isinstance(t, str) for t in raw):
        return raw
    if raw is not None and not isinstance(raw, str):
        raise Invalid(errors={"tags": _("Indica i temi come testi separati da virgole.")})
    return [t for t in (raw or "").split(",") if t.strip()]


def _op_id(raw: Any) -> str | None:
    if raw is None or raw == "":
        return None
    if not isinstance(raw, str) or not CLIENT_OP_ID.fullmatch(raw):
        raise Invalid(errors={"client_op_id": _("Identificativo di invio non valido: ricarica la pagina.")})
    return raw


def _entry_json(entry: SwotEntry) -> dict[str, Any]:
    return {
        "id": entry.id,
        "dimension": entry.dimension.value,
        "quadrant": entry.quadrant.value,
        "version": entry.version,
        "text": entry.text_source,
        "html": entry.text_html,
        "tags": [t.name for t in entry.tags],
    }


@bp.get("/tavoli/<int:body_id>/swot")
@guard("swot.view", Body, "body_id", "body")
def tavolo_swots(body: Body) -> Any:
    cycle = services.current_cycle()
    return render_template(
        "evaluation/tavolo.html",
        body=body,
        assessments=queries.assessments_of(body),
        cycle=cycle,
        form=EmptyForm(),
    )


@bp.post("/tavoli/<int:body_id>/swot")
@guard("swot.open", Body, "body_id", "body")
def open_swot(body: Body) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def page() -> Any:
        return render_template(
            "evaluation/tavolo.html",
            body=body,
            assessments=queries.assessments_of(body),
            cycle=services.current_cycle(),
            form=EmptyForm(),
        )

    try:
        kind = SwotKind(request.form.get("kind", SwotKind.ANNUAL.value))
    except ValueError:
        flash(_("Tipo di autovalutazione sconosciuto."), "error")
        return page(), 422

    def opened(assessment: SwotAssessment) -> Any:
        flash(_("Autovalutazione aperta: ora tutti i componenti possono scrivere."), "success")
        return redirect(url_for("evaluation.swot", assessment_id=assessment.id))

    return run(
        lambda: services.open_swot(body, request.form.get("year", type=int32), kind, actor=current_user),
        opened,
        page=page,
        once="swot.open",
    )


@bp.get("/swot/<int:assessment_id>")
@guard("swot.view", SwotAssessment, "assessment_id", "assessment")
def swot(assessment: SwotAssessment) -> Any:
    assessment = queries.assessment_page(assessment.id) or assessment

    entry_ids = [e.id for e in assessment.entries]
    return render_template(
        "evaluation/swot.html",
        entry_unread=comment_queries.unread_by_target(current_user, "swot_entry", entry_ids)
        if entry_ids
        else {},
        assessment=assessment,
        body=assessment.body,
        cells=queries.grid(assessment),
        dimensions=queries.DIMENSIONS,
        quadrants=queries.QUADRANTS,
        last_event_id=last_event_id(services.room(assessment)),
        max_entry=services.MAX_ENTRY,
        form=EmptyForm(),
    )


@bp.post("/swot/<int:assessment_id>/voci")
@guard("swot.write", SwotAssessment, "assessment_id", "assessment")
def add_entry(assessment: SwotAssessment) -> Any:
    data = payload()
    if not request.is_json and not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def added(entry: SwotEntry) -> Any:
        result = _entry_json(entry)
        if request.is_json:
            return jsonify(ok=True, entry=result)
        return redirect(url_for("evaluation.swot", assessment_id=assessment.id) + f"#voce-{result['id']}")

    return run(
        lambda: services.add_entry(
            assessment,
            str(data.get("dimension", "")),
            str(data.get("quadrant", "")),
            data.get("text", ""),
            _tags(data.get("tags")),
            _op_id(data.get("client_op_id")),
            actor=current_user,
        ),
        added,
        page=lambda: swot(assessment_id=assessment.id),
        once="swot.entry.create",
    )


def _entry_of(assessment: SwotAssessment, entry_id: int) -> SwotEntry:
    entry = db.session.get(SwotEntry, entry_id)
    if entry is None or entry.assessment_id != assessment.id:
        raise NotFound(_("Voce non trovata."))
    return entry


@bp.post("/swot/<int:assessment_id>/voci/<int:entry_id>/rimuovi")
@guard("swot.write", SwotAssessment, "assessment_id", "assessment")
def remove_entry(assessment: SwotAssessment, entry_id: int) -> Any:
    if not request.is_json and not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    entry = _entry_of(assessment, entry_id)

    def removed(_result: Any) -> Any:
        if request.is_json:
            return jsonify(ok=True)
        return redirect(url_for("evaluation.swot", assessment_id=assessment.id))

    return run(
        lambda: services.remove_entry(entry, actor=current_user),
        removed,
        page=lambda: swot(assessment_id=assessment.id),
    )


@bp.post("/swot/<int:assessment_id>/chiudi")
@guard("swot.close", SwotAssessment, "assessment_id", "assessment")
def close(assessment: SwotAssessment) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def closed(_result: Any) -> Any:
        flash(_("Autovalutazione chiusa e consegnata all'Ufficio di Piano Integrato."), "success")
        return redirect(url_for("evaluation.swot", assessment_id=assessment.id))

    return run(
        lambda: services.close_swot(assessment, actor=current_user),
        closed,
        page=lambda: swot(assessment_id=assessment.id),
    )


# --- UdP synthesis -------------------------------------------------------------------------------


def _cycle() -> PlanningCycle:
    cycle_id = request.args.get("ciclo", type=int32)
    cycle = db.session.get(PlanningCycle, cycle_id) if cycle_id else services.current_cycle()
    if cycle is None:
        raise NotFound(_("Ciclo di programmazione non trovato."))
    return cycle


def _previous_cycle(cycle: PlanningCycle) -> PlanningCycle | None:
    return db.session.scalar(
        select(PlanningCycle)
        .where(PlanningCycle.end_year < cycle.start_year)
        .order_by(PlanningCycle.end_year.desc())
    )


@bp.get("/valutazione/")
@guard("evaluation.view")
def synthesis() -> Any:
    cycle = _cycle()
    year = request.args.get("anno", type=int32)
    include_open = request.args.get("anche_aperte") == "1"
    evaluated = _previous_cycle(cycle) or cycle
    return render_template(
        "evaluation/synthesis.html",
        cycle=cycle,
        year=year,
        include_open=include_open,
        themes=queries.themes(cycle, year, only_closed=not include_open),
        entries=queries.synthesis_entries(cycle, year, only_closed=not include_open),
        dimensions=queries.DIMENSIONS,
        quadrants=queries.QUADRANTS,
        evaluated=evaluated,
        areas=queries.per_area(evaluated),
        evaluations=queries.evaluations(evaluated),
        printable=request.args.get("stampa") == "1",
    )


def _csv(rows: list[list[Any]], filename: str) -> Response:
    return csv_response(rows, filename, excel_bom=True)


@bp.get("/valutazione/sintesi.csv")
@guard("evaluation.view")
def synthesis_csv() -> Any:
    cycle = _cycle()
    year = request.args.get("anno", type=int32)
    include_open = request.args.get("anche_aperte") == "1"
    rows: list[list[Any]] = [["dimensione", "quadrante", "tavolo", "voce", "temi"]]
    for entry, body in queries.synthesis_entries(cycle, year, only_closed=not include_open):
        rows.append(
            [
                label(entry.dimension),
                label(entry.quadrant),
                body.name,
                entry.text_source,
                "; ".join(t.name for t in entry.tags),
            ]
        )
    rows.append([])
    rows.append(["dimensione", "quadrante", "tema", "tavoli", "voci"])
    for theme in queries.themes(cycle, year, only_closed=not include_open):
        rows.append(
            [
                label(theme.dimension),
                label(theme.quadrant),
                theme.theme or "(senza tema)",
                theme.tavoli,
                theme.entries,
            ]
        )
    return _csv(rows, f"sintesi-swot-{cycle.label}.csv")


@bp.get("/valutazione/obiettivi.csv")
@guard("evaluation.view")
def objectives_csv() -> Any:
    cycle = _cycle()
    evaluated = _previous_cycle(cycle) or cycle
    rows: list[list[Any]] = [
        [
            "obiettivo",
            "aree",
            "raggiungimento_pct",
            "coincidenza_risorse_pct",
            "cambiamento_positivo",
            "riproposto",
        ]
    ]
    for evaluation in queries.evaluations(evaluated):
        rows.append(
            [
                evaluation.title,
                " ".join(a.key for a in evaluation.areas),
                "" if evaluation.achievement_pct is None else evaluation.achievement_pct,
                "" if evaluation.resource_match_pct is None else evaluation.resource_match_pct,
                label(evaluation.positive_change),
                label(evaluation.reproposed),
            ]
        )
    rows.append([])
    rows.append(["area", "nome", "raggiungimento_medio_pct", "coincidenza_media_pct", "obiettivi"])
    for figure in queries.per_area(evaluated):
        rows.append(
            [
                figure.key,
                figure.name,
                figure.achievement if figure.achievement is not None else "",
                figure.resource_match if figure.resource_match is not None else "",
                figure.objectives,
            ]
        )
    return _csv(rows, f"valutazione-obiettivi-{evaluated.label}.csv")


@bp.route("/valutazione/obiettivi/<int:evaluation_id>", methods=["GET", "POST"])
@guard("evaluation.edit", ObjectiveEvaluation, "evaluation_id", "evaluation")
def edit_evaluation(evaluation: ObjectiveEvaluation) -> Any:
    problems = Problems()
    values: dict[str, Any] = {}

    def page() -> Any:
        return render_template(
            "evaluation/objective_edit.html",
            evaluation=evaluation,
            errors=problems.errors,
            values=values,
            answers=list(Answer),
        )

    if request.method == "POST":
        values = request.form.to_dict()
        if not EmptyForm().validate_on_submit():
            problems.errors[""] = _("Il modulo è scaduto: ricarica la pagina e riprova.")
        else:

            def saved(_result: Any) -> Any:
                flash(_("Scheda di valutazione salvata."), "success")
                return redirect(url_for("evaluation.synthesis", ciclo=request.args.get("ciclo", type=int32)))

            return run(
                lambda: services.update_evaluation(evaluation, values, actor=current_user),
                saved,
                page=page,
                form=problems,
            )
    return page(), (422 if problems.errors else 200)


# --- monitoring of the cards' indicators ------------------------------------------------------------


def _monitoring_page(
    card_id: int,
    problem: str = "",
    errors: dict[int, dict[str, str]] | None = None,
    typed: dict[str, Any] | None = None,
) -> str:
    card = queries.monitoring_card(card_id)
    assert card is not None
    return render_template(
        "evaluation/monitoring.html",
        card=card,
        rows=queries.monitoring(card, with_authors=True),
        problem=problem,
        errors=errors or {},
        typed=typed or {},
        editable=policy.can(current_user, "indicator.record", card),
        periods=_periods(card.cycle),
    )


def _periods(cycle: PlanningCycle) -> list[str]:
    return [
        p
        for year in range(cycle.start_year, cycle.end_year + 1)
        for p in (f"{year}-S1", f"{year}-S2", str(year))
    ]


@bp.get("/schede/<int:card_id>/monitoraggio")
@guard("card.view", Card, "card_id", "card")
def monitoring(card: Card) -> Any:
    return _monitoring_page(card.id)


@bp.post("/schede/<int:card_id>/indicatori/<int:indicator_id>/valori")
@guard("indicator.record", Card, "card_id", "card")
def record_value(card: Card, indicator_id: int) -> Any:
    indicator = db.get_or_404(CardIndicator, indicator_id)
    data = payload()

    def recorded(row: Any) -> Any:
        saved = {
            "id": row.id,
            "indicator_id": indicator.id,
            "period": row.period,
            "version": row.version,
            "value": row.value,
        }
        if request.is_json:
            return jsonify(ok=True, value=saved)
        flash(_("Valore registrato: %(period)s.", period=saved["period"]))
        return redirect(
            url_for("evaluation.monitoring", card_id=card.id, _anchor=f"indicatore-{indicator.id}"), 303
        )

    def page() -> Any:
        typed = {k: str(data.get(k) or "") for k in ("period", "value", "source", "note")}
        return _monitoring_page(
            card.id,
            problems.message,
            {indicator_id: problems.errors},
            {**typed, "indicator_id": indicator_id},
        )

    problems = Problems()
    return run(
        lambda: services.record_indicator_value(
            card,
            indicator,
            str(data.get("period") or ""),
            str(data.get("value") or ""),
            str(data.get("source") or ""),
            str(data.get("note") or ""),
            actor=current_user,
        ),
        recorded,
        page=page,
        form=problems,
        once="indicator.value.create",
    )


@bp.app_context_processor
def monitoring_helpers() -> dict[str, Any]:
    """`card_monitoring(card)` for the card page's partial: one query for all the card's indicator values."""
    return {"card_monitoring": queries.monitoring}
