from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..accounts import services as account_services
from ..accounts.models import Function, Invitation
from ..cycles.models import PolicyArea
from ..db import unit_of_work
from ..errors import Invalid, NotFound
from ..extensions import db
from ..inputs import EmptyForm
from ..labels import options
from ..orgs.models import Organisation
from ..policy import guard
from ..webutil import Problems, run
from . import bp, queries, services
from .coedit import draft_texts
from .forms import MANDATE_LABELS, BodyForm, DecisionForm, InviteForm, RoleForm
from .models import Body, BodyKind, BodyStatus, MandateStatus, MembershipRole


def _area_choices() -> list[Any]:
    return options(
        [
            (a.id, f"{a.code} – {a.name}")
            for a in db.session.scalars(select(PolicyArea).order_by(PolicyArea.position))
        ]
    )


def _organisations() -> list[Organisation]:
    return list(db.session.scalars(select(Organisation).order_by(Organisation.kind, Organisation.name)))


@bp.get("/tavoli/")
@guard("tavolo.list")
def index() -> Any:
    return render_template("tavoli/index.html", bodies=queries.bodies(thematic=True), thematic=True)


@bp.get("/organi/")
@guard("body.list")
def governance() -> Any:
    return render_template("tavoli/index.html", bodies=queries.bodies(thematic=False), thematic=False)


@bp.get("/tavoli/<int:body_id>")
@guard("tavolo.view", Body, "body_id", "body")
def workspace(body: Body) -> Any:
    page = queries.workspace(body.id)  # eager-loaded for the page
    assert page is not None
    return render_template(
        "tavoli/workspace.html",
        body=page,
        groups=queries.members_by_organisation(page),
        mandate=queries.mandate_in_force(page),
        proposals=queries.mandate_proposals(page),
    )


@bp.route("/tavoli/nuovo", methods=["GET", "POST"])
@guard("tavolo.create")
def create() -> Any:
    form = BodyForm(kind=BodyKind.TAVOLO.value, status=BodyStatus.ACTIVE.value)
    form.area_ids.choices = _area_choices()
    if form.validate_on_submit():

        def created(body: Body) -> Any:
            flash(_("Tavolo creato. Ora scrivi il mandato e invita i componenti."), "success")
            return redirect(url_for("tavoli.workspace", body_id=body.id))

        return run(
            lambda: services.create_body(
                form.name.data,
                BodyKind(form.kind.data),
                form.area_ids.data,
                form.description.data,
                form.short_name.data,
                actor=current_user,
            ),
            created,
            page=lambda: render_template("tavoli/edit.html", form=form, body=None),
            form=form,
            once="tavolo.create",
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("tavoli/edit.html", form=form, body=None), status


@bp.route("/tavoli/<int:body_id>/modifica", methods=["GET", "POST"])
@guard("tavolo.edit", Body, "body_id", "body")
def edit(body: Body) -> Any:
    form = BodyForm(obj=body)
    form.area_ids.choices = _area_choices()
    if not form.is_submitted():
        form.area_ids.data = [a.id for a in body.areas]
    if form.validate_on_submit():

        def saved(_result: Any) -> Any:
            flash(_("Modifiche salvate."), "success")
            return redirect(url_for("tavoli.workspace", body_id=body.id))

        return run(
            lambda: services.update_body(
                body,
                form.name.data,
                form.short_name.data,
                BodyStatus(form.status.data),
                form.area_ids.data,
                form.description.data,
                actor=current_user,
            ),
            saved,
            page=lambda: render_template("tavoli/edit.html", form=form, body=body),
            form=form,
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("tavoli/edit.html", form=form, body=body), status


def _mandate_page(
    body: Body, problem: str = "", errors: dict[str, str] | None = None, status: int = 200
) -> Any:
    return render_template(
        "tavoli/mandate.html",
        body=body,
        current=queries.mandate_in_force(body),
        draft=draft_texts(body),
        labels=MANDATE_LABELS,
        limit=services.MAX_MANDATE_PART,
        form=EmptyForm(),
        problem=problem,
        errors=errors or {},
    ), status


@bp.get("/tavoli/<int:body_id>/mandato")
@guard("mandate.propose", Body, "body_id", "body")
def mandate(body: Body) -> Any:
    return _mandate_page(body)


@bp.post("/tavoli/<int:body_id>/mandato")
@guard("mandate.propose", Body, "body_id", "body")
def submit_mandate(body: Body) -> Any:
    if not EmptyForm().validate_on_submit():
        return _mandate_page(body, _("Il modulo è scaduto: ricarica la pagina e riprova."), status=422)

    def submitted(mandate: Any) -> Any:
        in_force = mandate.status == MandateStatus.IN_FORCE
        flash(
            _("Mandato aggiornato.") if in_force else _("Proposta di mandato inviata all'Ufficio di Piano."),
            "success",
        )
        return redirect(url_for("tavoli.workspace", body_id=body.id))

    problems = Problems()
    return run(
        lambda: services.submit_mandate_draft(body, actor=current_user),
        submitted,
        page=lambda: _mandate_page(body, problems.message, problems.errors),
        form=problems,
        once="mandate.submit",
    )


@bp.post("/tavoli/<int:body_id>/mandato/<int:mandate_id>/decisione")
@guard("mandate.decide", Body, "body_id", "body")
def decide_mandate(body: Body, mandate_id: int) -> Any:
    form = DecisionForm()
    if not form.validate_on_submit():
        raise Invalid(_("Scelta non valida."))
    with unit_of_work():
        services.decide_mandate(body, mandate_id, form.decision.data == "accept", actor=current_user)
    flash(_("Decisione registrata."), "success")
    return redirect(url_for("tavoli.workspace", body_id=body.id))


def _members_page(body: Body, invite_form: InviteForm, status: int = 200) -> Any:
    body = queries.workspace(body.id) or body
    return (
        render_template(
            "tavoli/members.html",
            body=body,
            groups=queries.members_by_organisation(body),
            invitations=queries.pending_invitations(body),
            invite_form=invite_form,
            organisations=_organisations(),
            roles=list(MembershipRole),
            empty_form=EmptyForm(),
        ),
        status,
    )


@bp.get("/tavoli/<int:body_id>/componenti")
@guard("tavolo.members.manage", Body, "body_id", "body")
def members(body: Body) -> Any:
    return _members_page(
        body, InviteForm(role=MembershipRole.MEMBER.value, function=Function.REFERENTE_ETS.value)
    )


@bp.post("/tavoli/<int:body_id>/componenti/invito")
@guard("tavolo.members.manage", Body, "body_id", "body")
def invite(body: Body) -> Any:
    form = InviteForm()
    if form.validate_on_submit():

        def invited(_result: Any) -> Any:
            flash(_("Invito inviato a %(email)s.", email=form.email.data), "success")
            return redirect(url_for("tavoli.members", body_id=body.id))

        return run(
            lambda: services.invite(
                body,
                form.email.data,
                form.full_name.data,
                form.organisation_id.data,
                MembershipRole(form.role.data),
                Function(form.function.data),
                actor=current_user,
            ),
            invited,
            page=lambda: _members_page(body, form),
            form=form,
            once="tavolo.invite",
        )
    return _members_page(body, form, 422)


@bp.post("/tavoli/<int:body_id>/componenti/<int:membership_id>/ruolo")
@guard("tavolo.members.manage", Body, "body_id", "body")
def set_role(body: Body, membership_id: int) -> Any:
    form = RoleForm()
    if form.validate_on_submit():

        def updated(_result: Any) -> Any:
            flash(_("Ruolo aggiornato."), "success")
            return redirect(url_for("tavoli.members", body_id=body.id))

        return run(
            lambda: services.set_member_role(
                body, membership_id, MembershipRole(form.role.data), actor=current_user
            ),
            updated,
            page=lambda: _members_page(body, InviteForm(formdata=None)),
        )
    flash(_("Ruolo non valido."), "error")
    return _members_page(body, InviteForm(formdata=None), 422)


@bp.post("/tavoli/<int:body_id>/componenti/<int:membership_id>/rimuovi")
@guard("tavolo.members.manage", Body, "body_id", "body")
def remove_member(body: Body, membership_id: int) -> Any:
    form = EmptyForm()
    if not form.validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def ended(membership: Any) -> Any:
        flash(_("%(name)s non fa più parte del tavolo.", name=membership.user.full_name), "success")
        return redirect(url_for("tavoli.members", body_id=body.id))

    return run(
        lambda: services.end_membership(body, membership_id, actor=current_user),
        ended,
        page=lambda: _members_page(body, InviteForm(formdata=None)),
    )


@bp.post("/tavoli/<int:body_id>/inviti/<int:invitation_id>/revoca")
@guard("tavolo.members.manage", Body, "body_id", "body")
def revoke_invitation(body: Body, invitation_id: int) -> Any:
    form = EmptyForm()
    invitation = db.session.get(Invitation, invitation_id)
    if invitation is None or invitation.body_id != body.id:
        raise NotFound()
    if not form.validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    with unit_of_work():
        account_services.revoke_invitation(invitation, actor=current_user)
    flash(_("Invito revocato."), "success")
    return redirect(url_for("tavoli.members", body_id=body.id))
