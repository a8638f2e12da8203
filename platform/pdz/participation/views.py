from __future__ import annotations

from datetime import date
from typing import Any

from flask import Response, render_template, request
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import policy
from ..cycles.models import CycleStatus, PlanningCycle
from ..errors import Invalid, NotFound
from ..exports import csv_response
from ..extensions import db
from ..inputs import int32
from ..labels import label
from ..policy import guard
from ..tavoli.models import Body
from . import bp, queries


def _filters() -> tuple[PlanningCycle, queries.Period, dict[str, Any]]:
    cycles = list(db.session.scalars(select(PlanningCycle).order_by(PlanningCycle.start_year.desc())))
    cycle_id = request.args.get("ciclo", type=int32)
    cycle = (
        next((c for c in cycles if c.id == cycle_id), None)
        if cycle_id
        else next((c for c in cycles if c.status == CycleStatus.RUNNING), cycles[0] if cycles else None)
    )
    if cycle is None:
        raise NotFound(_("Ciclo di programmazione non trovato."))
    try:
        since = date.fromisoformat(request.args["dal"]) if request.args.get("dal") else None
        until = date.fromisoformat(request.args["al"]) if request.args.get("al") else None
    except ValueError:
        raise Invalid(_("Date non valide: usa il formato AAAA-MM-GG.")) from None
    if since and until and until < since:
        raise Invalid(_("La data di fine precede quella di inizio."))
    period = queries.Period.of(cycle, since, until)
    return cycle, period, {"cycles": cycles, "dal": since, "al": until}


def _makers(period: queries.Period, cycle: PlanningCycle, body: Body | None) -> dict[str, Any]:
    """How to compute each table of the dashboard (of the district, or of one tavolo with `body`)."""
    body_id = body.id if body else None
    makers: dict[str, Any] = {
        "tavoli": lambda: queries.by_tavolo(period, body_id),
        "enti": lambda: queries.by_organisation(period, body_id),
        "tipi": lambda: queries.by_kind(period, body_id),
        "sub_ambiti": lambda: queries.by_sub_ambito(period, body_id),
        "mesi": lambda: queries.by_month(period, body_id),
        "contributi_enti": lambda: queries.contributions(period, "organisation", body_id),
        "contributi_tavoli": lambda: queries.contributions(period, "body", body_id),
        "allerte": lambda: (
            queries.stopped_attending(body_id)
            + queries.quiet_tavoli(body_id=body_id)
            + queries.uncovered_sub_ambiti(body_id)
        ),
    }
    if body is None:
        makers["registro"] = lambda: queries.registry(cycle, period)
        makers["matrice_sub_ambiti"] = lambda: queries.by_tavolo_and_sub_ambito(period)
        makers["matrice_tipi"] = lambda: queries.by_tavolo_and_kind(period)
    if policy.can(current_user, "participation.people"):
        makers["persone"] = lambda: queries.by_person(period, body_id)
    return makers


PEOPLE_PAGE = 100  # people a page in the dashboard's table of individuals (the CSV has all of them)


def _tables(period: queries.Period, cycle: PlanningCycle, body: Body | None) -> dict[str, Any]:
    """Every table of the page; the people's table is the page asked for (`persone_pagina`), read alone
    from the database (the district may have thousands of people)."""
    makers = _makers(period, cycle, body)
    tables = {name: make() for name, make in makers.items() if name != "persone"}
    if "persone" in makers:
        wanted = request.args.get("persone_pagina", 1, type=int32) or 1
        rows, total = queries.people_page(period, body.id if body else None, max(wanted, 1), PEOPLE_PAGE)
        pages = max(1, -(-total // PEOPLE_PAGE))
        if wanted > pages:  # past the last page: the last one
            rows, total = queries.people_page(period, body.id if body else None, pages, PEOPLE_PAGE)
        tables["persone"] = rows
        tables["persone_pagine"] = {"page": min(max(wanted, 1), pages), "pages": pages, "total": total}
    return tables


ALERTS_PAGE = 50  # rows a page of the table of every alert
ALERTS_NAMED = 5  # alerts named under each tavolo in the grouped view; the others are counted


def _alerts_of(tables: dict[str, Any]) -> dict[str, Any]:
    """The grouped alerts, and the page of their table asked for (`allerte_pagina`): with many
    organisations the list grows, the page does not."""
    alerts = tables["allerte"]
    pages = max(1, -(-len(alerts) // ALERTS_PAGE))
    page = min(max(request.args.get("allerte_pagina", 1, type=int32) or 1, 1), pages)
    return {
        "alert_groups": alert_groups(alerts),
        "alert_labels": alert_labels(),
        "alert_rows": alerts[(page - 1) * ALERTS_PAGE : page * ALERTS_PAGE],
        "alert_pages": {"page": page, "pages": pages, "asked": "allerte_pagina" in request.args},
    }


@bp.get("/partecipazione/")
@guard("participation.view")
def dashboard() -> Any:
    cycle, period, filters = _filters()
    tables = _tables(period, cycle, None)
    return render_template(
        "participation/dashboard.html",
        cycle=cycle,
        body=None,
        tables=tables,
        sources=queries.SOURCES,
        **_alerts_of(tables),
        **filters,
    )


@bp.get("/tavoli/<int:body_id>/partecipazione")
@guard("participation.view_tavolo", Body, "body_id", "body")
def tavolo(body: Body) -> Any:
    cycle, period, filters = _filters()
    tables = _tables(period, cycle, body)
    return render_template(
        "participation/dashboard.html",
        cycle=cycle,
        body=body,
        tables=tables,
        sources=queries.SOURCES,
        **_alerts_of(tables),
        **filters,
    )


def alert_labels() -> dict[str, str]:
    return {
        "stopped": _("Ente che non partecipa più"),
        "quiet": _("Tavolo fermo da due mesi"),
        "uncovered": _("Sub-ambito assente"),
    }


def alert_groups(alerts: list[queries.Alert]) -> list[dict[str, Any]]:
    """The alerts by kind (in the order above), then by tavolo: each group with its count, each tavolo
    with its count and its first ALERTS_NAMED alerts."""
    labels = alert_labels()
    groups: list[dict[str, Any]] = []
    for kind, title in labels.items():
        mine = [a for a in alerts if a.kind == kind]
        if not mine:
            continue
        tavoli: dict[str, list[queries.Alert]] = {}
        for alert in mine:
            tavoli.setdefault(alert.body, []).append(alert)
        named = [(name, items[:ALERTS_NAMED], len(items)) for name, items in tavoli.items()]
        groups.append({"kind": kind, "label": title, "count": len(mine), "tavoli": named})
    return groups


def _pct(value: float | None) -> Any:
    return "" if value is None else value


def _rows(name: str, value: Any) -> list[list[Any]]:
    head = [_("Codice"), _("Nome"), _("Presenze"), _("Attese"), _("Tasso (%)")]
    if name in {"tavoli", "enti", "tipi", "sub_ambiti", "mesi", "persone"}:
        # kind keys are codes like "ets:cooperativa_sociale": written with hyphens, as codes, not identifiers
        return [head] + [
            [r.key.replace("_", "-"), r.label, r.attended, r.expected, _pct(r.pct)] for r in value
        ]
    if name.startswith("matrice_"):
        column = _("Sub-ambito") if name == "matrice_sub_ambiti" else _("Tipo di ente")
        return [[_("Tavolo"), column, _("Presenze"), _("Attese"), _("Tasso (%)")]] + [
            [row_label, column_label, cell.attended, cell.expected, _pct(cell.pct)]
            for row_key, row_label in value.rows
            for column_key, column_label in value.columns
            if (cell := value.cell(row_key, column_key)) is not None
        ]
    if name.startswith("contributi"):
        return [[_("Nome"), *(label for label, _source in queries.SOURCES.values()), _("Totale")]] + [
            [r.label, *(r.counts.get(k, 0) for k in queries.SOURCES), r.total] for r in value
        ]
    if name == "registro":
        return [[_("Ente"), _("Forma giuridica"), _("Adesione"), _("Tavoli"), _("Incontri con presenza")]] + [
            [
                r.organisation.name,
                label(r.organisation.legal_form) if r.organisation.legal_form else "",
                r.adhered_on.isoformat(),
                "; ".join(r.tavoli),
                r.attended_meetings,
            ]
            for r in value
        ]
    labels = alert_labels()
    return [[_("Segnale"), _("Tavolo"), _("Chi o dove"), _("Dettaglio")]] + [
        [labels[a.kind], a.body, a.subject, a.detail] for a in value
    ]


def _csv(name: str, makers: dict[str, Any]) -> Response:
    if name not in makers:
        raise NotFound(_("Tabella sconosciuta."))
    return csv_response(_rows(name, makers[name]()), f"partecipazione-{name}.csv")


@bp.get("/partecipazione/<name>.csv")
@guard("participation.view")
def export(name: str) -> Any:
    cycle, period, _filters_ = _filters()
    return _csv(name, _makers(period, cycle, None))


@bp.get("/tavoli/<int:body_id>/partecipazione/<name>.csv")
@guard("participation.view_tavolo", Body, "body_id", "body")
def tavolo_export(body: Body, name: str) -> Any:
    cycle, period, _filters_ = _filters()
    return _csv(name, _makers(period, cycle, body))


@bp.get("/profilo/partecipazione")
@guard("account.view")
def mine() -> Any:
    cycle, period, filters = _filters()
    rows = queries.by_person(period, user_id=current_user.id)
    return render_template("participation/mine.html", cycle=cycle, rows=rows, **filters)
