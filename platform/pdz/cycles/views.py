from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import idempotency
from ..accounts.forms import EmptyForm
from ..db import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..inputs import int32
from ..policy import guard
from . import bp, services
from .models import CycleStatus, PlanningCycle


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
    try:
        with unit_of_work():
            first = idempotency.claim("cycle.create", actor=current_user)
            if first is None:
                services.create_cycle(
                    request.form.get("start_year", type=int32),
                    request.form.get("end_year", type=int32),
                    actor=current_user,
                )
                flash(_("Ciclo creato."), "success")
                first = idempotency.answer(redirect(url_for("cycles.index")))
    except Invalid as error:
        return _page(error.errors, 422)
    return first


@bp.post("/cicli/<int:cycle_id>/stato")
@guard("cycle.manage", PlanningCycle, "cycle_id", "cycle")
def set_status(cycle: PlanningCycle) -> Any:
    if not EmptyForm().validate_on_submit():
        return _page({"": _("Il modulo è scaduto: ricarica la pagina e riprova.")}, 400)
    try:
        status = CycleStatus(request.form.get("status", ""))
        with unit_of_work():
            services.set_status(cycle, status, actor=current_user)
    except ValueError:
        return _page({"": _("Stato sconosciuto.")}, 422)
    except Invalid as error:
        return _page({"": error.message}, 422)
    flash(_("Stato del ciclo aggiornato."), "success")
    return redirect(url_for("cycles.index"))
