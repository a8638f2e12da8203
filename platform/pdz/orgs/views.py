from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import signals
from ..cycles.models import PlanningCycle
from ..extensions import db
from ..inputs import int32
from ..labels import options
from ..policy import guard
from ..territory.models import SubAmbito
from ..webutil import run
from . import bp, queries, services
from .forms import AdhesionForm, OrganisationForm
from .models import LegalForm, Organisation, OrgKind


def _sub_ambiti() -> list[SubAmbito]:
    return list(db.session.scalars(select(SubAmbito).order_by(SubAmbito.name)))


@bp.get("/enti/")
@guard("org.list")
def index() -> Any:
    kind = request.args.get("tipo", "")
    legal_form = request.args.get("forma", "")
    sub_ambito_id = request.args.get("sub_ambito", type=int32)
    q = request.args.get("q", "").strip()
    organisations = queries.directory(kind, legal_form, sub_ambito_id, q)
    return render_template(
        "orgs/index.html",
        organisations=organisations,
        kinds=list(OrgKind),
        legal_forms=list(LegalForm),
        sub_ambiti=_sub_ambiti(),
        selected={"tipo": kind, "forma": legal_form, "sub_ambito": sub_ambito_id, "q": q},
    )


@bp.get("/enti/<int:org_id>")
@guard("org.view", Organisation, "org_id", "org")
def detail(org: Organisation) -> Any:
    org = queries.detail(org.id) or org
    cycles = list(db.session.scalars(select(PlanningCycle).order_by(PlanningCycle.start_year.desc())))
    return render_template(
        "orgs/detail.html",
        org=org,
        memberships=[m for _receiver, rows in signals.organisation_memberships.send(org) for m in rows],
        adhesion_form=AdhesionForm(),
        cycles=cycles,
    )


def _save(org: Organisation | None) -> Any:
    form = OrganisationForm(obj=org)
    form.sub_ambito_ids.choices = options([(s.id, s.name) for s in _sub_ambiti()])
    if org is not None and not form.is_submitted():
        form.sub_ambito_ids.data = [s.id for s in org.sub_ambiti]
        form.legal_form.data = org.legal_form.value if org.legal_form else ""
    if form.validate_on_submit():

        def saved(saved: Organisation) -> Any:
            flash(_("Ente salvato."), "success")
            return redirect(url_for("orgs.detail", org_id=saved.id))

        return run(
            lambda: services.save_organisation(
                org,
                name=form.name.data,
                kind=OrgKind(form.kind.data),
                legal_form=LegalForm(form.legal_form.data) if form.legal_form.data else None,
                runts_number=form.runts_number.data,
                sub_ambito_ids=form.sub_ambito_ids.data,
                email=form.email.data,
                website=form.website.data,
                description=form.description.data,
                actor=current_user,
            ),
            saved,
            page=lambda: render_template("orgs/edit.html", form=form, org=org),
            form=form,
            once="org.create" if org is None else None,
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("orgs/edit.html", form=form, org=org), status


@bp.route("/enti/nuovo", methods=["GET", "POST"])
@guard("org.create")
def create() -> Any:
    return _save(None)


@bp.route("/enti/<int:org_id>/modifica", methods=["GET", "POST"])
@guard("org.edit", Organisation, "org_id", "org")
def edit(org: Organisation) -> Any:
    return _save(org)


@bp.post("/enti/<int:org_id>/adesioni")
@guard("org.edit", Organisation, "org_id", "org")
def add_adhesion(org: Organisation) -> Any:
    form = AdhesionForm()
    if form.validate_on_submit():

        def record() -> Any:
            cycle = db.session.get(PlanningCycle, form.cycle_id.data) if form.cycle_id.data else None
            return services.record_adhesion(org, cycle, form.adhered_on.data, actor=current_user)

        def recorded(_result: Any) -> Any:
            flash(_("Adesione registrata."), "success")
            return redirect(url_for("orgs.detail", org_id=org.id))

        return run(
            record,
            recorded,
            page=lambda: redirect(url_for("orgs.detail", org_id=org.id)),
            once="org.adhesion.create",
        )
    flash(_("Data di adesione non valida."), "error")
    return redirect(url_for("orgs.detail", org_id=org.id))
