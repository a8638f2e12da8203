from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..db import unit_of_work
from ..extensions import db
from ..inputs import EmptyForm, int32
from ..money import format_cents
from ..policy import can, guard
from ..webutil import Problems, run
from . import bp, services
from . import funds as fund_services
from .models import SOURCE_LABELS, CycleStatus, FundAllocation, PlanningCycle


def _page(errors: dict[str, str] | None = None, status: int = 200) -> Any:
    cycles = list(
        db.session.scalars(
            select(PlanningCycle)
            .options(selectinload(PlanningCycle.years))
            .order_by(PlanningCycle.start_year.desc())
        )
    )
    return render_template(
        "cycles/index.html", cycles=cycles, errors=errors or {}, form=EmptyForm(), statuses=services.ALLOWED
    ), status


@bp.get("/cicli/")
@guard("cycle.manage")
def index() -> Any:
    return _page()


@bp.post("/cicli/")
@guard("cycle.manage")
def create() -> Any:
    if not EmptyForm().validate_on_submit():
        return _page({"": _("Il modulo è scaduto: ricarica la pagina e riprova.")}, 400)

    def created(_result: Any) -> Any:
        flash(_("Ciclo creato."), "success")
        return redirect(url_for("cycles.index"))

    problems = Problems()
    return run(
        lambda: services.create_cycle(
            request.form.get("start_year", type=int32),
            request.form.get("end_year", type=int32),
            actor=current_user,
        ),
        created,
        page=lambda: _page(problems.errors),
        form=problems,
        once="cycle.create",
    )


@bp.post("/cicli/<int:cycle_id>/stato")
@guard("cycle.manage", PlanningCycle, "cycle_id", "cycle")
def set_status(cycle: PlanningCycle) -> Any:
    if not EmptyForm().validate_on_submit():
        return _page({"": _("Il modulo è scaduto: ricarica la pagina e riprova.")}, 400)
    try:
        status = CycleStatus(request.form.get("status", ""))
    except ValueError:
        return _page({"": _("Stato sconosciuto.")}, 422)

    def updated(_result: Any) -> Any:
        flash(_("Stato del ciclo aggiornato."), "success")
        return redirect(url_for("cycles.index"))

    problems = Problems()
    return run(
        lambda: services.set_status(cycle, status, actor=current_user),
        updated,
        page=lambda: _page({"": problems.message}),
        form=problems,
    )


# --- money by fund and by year ---------------------------------------------------------------------------


def _funds_page(cycle: PlanningCycle, errors: dict[str, str] | None = None, status: int = 200) -> Any:
    return render_template(
        "cycles/funds.html",
        cycle=cycle,
        tables=fund_services.comparison(cycle),
        allocations=fund_services.allocations_by_year(),
        sources={k.value: v for k, v in SOURCE_LABELS.items()},
        format_cents=format_cents,
        can_manage=can(current_user, "plan.manage"),
        errors=errors or {},
        values=request.form if request.method == "POST" else {},
        form=EmptyForm(),
    ), status


@bp.get("/cicli/<int:cycle_id>/fondi")
@guard("plan.view", PlanningCycle, "cycle_id", "cycle")
def funds(cycle: PlanningCycle) -> Any:
    return _funds_page(cycle)


@bp.post("/cicli/<int:cycle_id>/fondi")
@guard("plan.manage", PlanningCycle, "cycle_id", "cycle")
def add_allocation(cycle: PlanningCycle) -> Any:
    if not EmptyForm().validate_on_submit():
        return _funds_page(cycle, {"": _("Il modulo è scaduto: ricarica la pagina e riprova.")}, 400)

    def added(_result: Any) -> Any:
        flash(_("Assegnazione registrata."), "success")
        return redirect(url_for("cycles.funds", cycle_id=cycle.id), 303)

    problems = Problems()
    return run(
        lambda: fund_services.add_allocation(
            request.form.get("year", type=int32),
            request.form.get("source", ""),
            request.form.get("name", ""),
            request.form.get("act", ""),
            request.form.get("amount", ""),
            actor=current_user,
        ),
        added,
        page=lambda: _funds_page(cycle, problems.errors),
        form=problems,
        once="fund.allocate",
    )


@bp.post("/cicli/<int:cycle_id>/fondi/<int:allocation_id>/rimuovi")
@guard("plan.manage", PlanningCycle, "cycle_id", "cycle")
def remove_allocation(cycle: PlanningCycle, allocation_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        return _funds_page(cycle, {"": _("Il modulo è scaduto: ricarica la pagina e riprova.")}, 400)
    allocation = db.session.get(FundAllocation, allocation_id)
    if allocation is None:  # removed already (a second click, another tab): nothing left to do
        flash(_("Questa assegnazione era già stata eliminata."), "info")
    else:
        with unit_of_work():
            fund_services.remove_allocation(allocation, actor=current_user)
        flash(_("Assegnazione eliminata."), "success")
    return redirect(url_for("cycles.funds", cycle_id=cycle.id), 303)
