"""Pages of the Accordo di Programma: the cycle's accordo (signatures and amendments recorded by the Ufficio di
Piano), and its public pages under /pubblico/accordi."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user

from ..approvals.models import PlanDocument
from ..cycles.models import PlanningCycle
from ..errors import Invalid
from ..extensions import db
from ..inputs import parse_int
from ..policy import can, guard, public
from ..webutil import Problems, run
from . import bp, queries, services
from .models import Accordo


def _day(value: str | None) -> date | None:
    """A day typed as 2026-03-12 (date fields) or 12/03/2026; None when it is not one."""
    text = (value or "").strip()
    for pattern in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return datetime.strptime(text, pattern).date()  # noqa: DTZ007 - a calendar day, no time zone
        except ValueError:
            continue
    return None


def _context(cycle: PlanningCycle) -> dict[str, Any]:
    accordo = queries.of_cycle(cycle.id)
    signed, total = queries.signature_counts(accordo.id) if accordo else (0, 0)
    return {
        "cycle": cycle,
        "accordo": accordo,
        "plan": queries.plan_of(cycle.id),
        "approved_on": queries.approved_on(cycle.id),
        "signed": signed,
        "total": total,
        "adherents": queries.adherents(cycle.id),
    }


def _page(cycle: PlanningCycle, problems: Problems | None = None, form: str = "") -> Any:
    context = _context(cycle)
    accordo = context["accordo"]
    manage = can(current_user, "accordo.manage", cycle)
    return render_template(
        "accordo/accordo.html",
        **context,
        can_manage=manage,
        can_view_plan=can(current_user, "plan.view", context["plan"]),
        candidates=queries.candidates(accordo) if manage and accordo else [],
        today=services.today(),
        problems=problems or Problems(),
        failed=form,
        values=request.form if request.method == "POST" else {},
    )


def _accordo(cycle: PlanningCycle) -> Accordo:
    accordo = queries.of_cycle(cycle.id)
    if accordo is None:
        raise Invalid(_("L'Accordo di Programma di questo ciclo non è ancora stato predisposto."))
    return accordo


def _act(cycle: PlanningCycle, action: Any, done: str, form: str, once: str) -> Any:
    """Run a service on the cycle's accordo; refusals come back on the page, next to the form that failed."""

    def answer(_result: Any) -> Any:
        flash(done, "success")
        return redirect(url_for("accordo.page", cycle_id=cycle.id) + f"#{form}", 303)

    problems = Problems()
    return run(
        action, answer, page=lambda: _page(cycle, problems, form), form=problems, once=once, attempts=2
    )


@bp.get("/cicli/<int:cycle_id>/accordo")
@guard("accordo.view", PlanningCycle, "cycle_id", "cycle")
def page(cycle: PlanningCycle) -> Any:
    return _page(cycle)


@bp.post("/cicli/<int:cycle_id>/accordo")
@guard("accordo.manage", PlanningCycle, "cycle_id", "cycle")
def create(cycle: PlanningCycle) -> Any:
    return _act(
        cycle,
        lambda: services.create_accordo(cycle, actor=current_user),
        _("Accordo di Programma predisposto con i suoi sottoscrittori."),
        "sottoscrittori",
        "accordo.create",
    )


@bp.post("/cicli/<int:cycle_id>/accordo/firme")
@guard("accordo.manage", PlanningCycle, "cycle_id", "cycle")
def sign(cycle: PlanningCycle) -> Any:
    return _act(
        cycle,
        lambda: services.sign(
            _accordo(cycle),
            parse_int(request.form.get("signatory_id")),
            _day(request.form.get("signed_on")),
            actor=current_user,
        ),
        _("Firma registrata."),
        "sottoscrittori",
        "accordo.sign",
    )


@bp.post("/cicli/<int:cycle_id>/accordo/sottoscrittori")
@guard("accordo.manage", PlanningCycle, "cycle_id", "cycle")
def add_signatory(cycle: PlanningCycle) -> Any:
    return _act(
        cycle,
        lambda: services.add_signatory(
            _accordo(cycle), parse_int(request.form.get("organisation_id")), actor=current_user
        ),
        _("Sottoscrittore aggiunto."),
        "sottoscrittori",
        "accordo.add_signatory",
    )


@bp.post("/cicli/<int:cycle_id>/accordo/modifiche")
@guard("accordo.manage", PlanningCycle, "cycle_id", "cycle")
def amend(cycle: PlanningCycle) -> Any:
    return _act(
        cycle,
        lambda: services.add_amendment(
            _accordo(cycle),
            request.form.get("title", ""),
            request.form.get("description", ""),
            _day(request.form.get("decided_on")),
            actor=current_user,
        ),
        _("Modifica registrata."),
        "modifiche",
        "accordo.amend",
    )


# --- public ---------------------------------------------------------------------------------------


@bp.get("/pubblico/accordi/")
@public
def public_list() -> Any:
    accordi = queries.all_accordi()
    counts = {a.id: queries.signature_counts(a.id) for a in accordi}
    return render_template("accordo/public_list.html", accordi=accordi, counts=counts)


@bp.get("/pubblico/accordi/<int:cycle_id>")
@public
def public_page(cycle_id: int) -> Any:
    cycle = db.session.get(PlanningCycle, cycle_id)
    if cycle is None:
        abort(404)
    return render_template("accordo/public.html", **_context(cycle))


# --- the Piano di Zona's state on the plan pages ------------------------------------------------------


@bp.app_template_global("accordo_signing")
def accordo_signing(plan: PlanDocument) -> queries.PlanSigning | None:
    return queries.plan_signing(plan)
