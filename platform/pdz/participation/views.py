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


def _tables(period: queries.Period, cycle: PlanningCycle, body: Body | None) -> dict[str, Any]:
    body_id = body.id if body else None
    tables: dict[str, Any] = {
        "tavoli": queries.by_tavolo(period, body_id),
        "enti": queries.by_organisation(period, body_id),
        "tipi": queries.by_kind(period, body_id),
        "sub_ambiti": queries.by_sub_ambito(period, body_id),
        "mesi": queries.by_month(period, body_id),
        "contributi_enti": queries.contributions(period, "organisation", body_id),
        "contributi_tavoli": queries.contributions(period, "body", body_id),
        "allerte": queries.stopped_attending(body_id)
        + queries.quiet_tavoli(body_id=body_id)
        + queries.uncovered_sub_ambiti(body_id),
    }
    if body is None:
        tables["registro"] = queries.registry(cycle, period)
    if policy.can(current_user, "participation.people"):
        tables["persone"] = queries.by_person(period, body_id)
    return tables


PEOPLE_PAGE = 100  # people a page in the dashboard's table of individuals (the CSV has all of them)


def _page_people(tables: dict[str, Any]) -> dict[str, Any]:
    """The page of the people's table asked for (`persone_pagina`): the district may have thousands."""
    if "persone" in tables:
        people = tables["persone"]
        pages = max(1, -(-len(people) // PEOPLE_PAGE))
        page = min(max(request.args.get("persone_pagina", 1, type=int32) or 1, 1), pages)
        tables["persone"] = people[(page - 1) * PEOPLE_PAGE : page * PEOPLE_PAGE]
        tables["persone_pagine"] = {"page": page, "pages": pages, "total": len(people)}
    return tables


@bp.get("/partecipazione/")
@guard("participation.view")
def dashboard() -> Any:
    cycle, period, filters = _filters()
    return render_template(
        "participation/dashboard.html",
        cycle=cycle,
        body=None,
        tables=_page_people(_tables(period, cycle, None)),
        sources=queries.SOURCES,
        **filters,
    )


@bp.get("/tavoli/<int:body_id>/partecipazione")
@guard("participation.view_tavolo", Body, "body_id", "body")
def tavolo(body: Body) -> Any:
    cycle, period, filters = _filters()
    return render_template(
        "participation/dashboard.html",
        cycle=cycle,
        body=body,
        tables=_page_people(_tables(period, cycle, body)),
        sources=queries.SOURCES,
        **filters,
    )


def _rows(name: str, value: Any) -> list[list[Any]]:
    if name in {"tavoli", "enti", "tipi", "sub_ambiti", "mesi", "persone"}:
        return [["chiave", "nome", "presenze", "attese", "tasso_pct"]] + [
            [r.key, r.label, r.attended, r.expected, "" if r.pct is None else r.pct] for r in value
        ]
    if name.startswith("contributi"):
        kinds = list(queries.SOURCES)
        return [["nome", *kinds, "totale"]] + [
            [r.label, *(r.counts.get(k, 0) for k in kinds), r.total] for r in value
        ]
    if name == "registro":
        return [["ente", "forma_giuridica", "adesione", "tavoli", "incontri_con_presenza"]] + [
            [
                r.organisation.name,
                r.organisation.legal_form.value if r.organisation.legal_form else "",
                r.adhered_on.isoformat(),
                "; ".join(r.tavoli),
                r.attended_meetings,
            ]
            for r in value
        ]
    return [["tipo", "tavolo", "oggetto", "dettaglio"]] + [
        [a.kind, a.body, a.subject, a.detail] for a in value
    ]


def _csv(name: str, tables: dict[str, Any]) -> Response:
    if name not in tables:
        raise NotFound(_("Tabella sconosciuta."))
    return csv_response(_rows(name, tables[name]), f"partecipazione-{name}.csv")


@bp.get("/partecipazione/<name>.csv")
@guard("participation.view")
def export(name: str) -> Any:
    cycle, period, _filters_ = _filters()
    return _csv(name, _tables(period, cycle, None))


@bp.get("/tavoli/<int:body_id>/partecipazione/<name>.csv")
@guard("participation.view_tavolo", Body, "body_id", "body")
def tavolo_export(body: Body, name: str) -> Any:
    cycle, period, _filters_ = _filters()
    return _csv(name, _tables(period, cycle, body))


@bp.get("/profilo/partecipazione")
@guard("account.view")
def mine() -> Any:
    cycle, period, filters = _filters()
    rows = queries.by_person(period, user_id=current_user.id)
    return render_template("participation/mine.html", cycle=cycle, rows=rows, **filters)
