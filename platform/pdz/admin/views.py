from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..accounts import services as account_services
from ..accounts.models import Affiliation, SecondFactor, StaffRole, User
from ..db import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..inputs import EmptyForm
from ..mail import MailStatus, OutboxMessage, failure_reasons
from ..policy import guard
from ..webutil import run
from . import audit_views, bp  # noqa: F401 - audit_views: the audit log's pages


@bp.get("/admin/")
@guard("admin.view")
def index() -> Any:
    return render_template("admin/index.html")


@bp.get("/admin/posta")
@guard("outbox.view")
def outbox() -> Any:
    messages = list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(200)))
    failed = [m.id for m in messages if m.status == MailStatus.FAILED]
    return render_template("admin/outbox.html", messages=messages, reasons=failure_reasons(failed))


@bp.get("/admin/persone")
@guard("user.list")
def users() -> Any:
    people = list(
        db.session.scalars(
            select(User)
            .options(selectinload(User.affiliations).selectinload(Affiliation.organisation))
            .order_by(User.full_name)
        )
    )
    with_second_factor = set(
        db.session.scalars(select(SecondFactor.user_id).where(SecondFactor.confirmed_at.is_not(None)))
    )
    return render_template(
        "admin/users.html",
        people=people,
        form=EmptyForm(),
        staff_roles=list(StaffRole),
        with_second_factor=with_second_factor,
    )


@bp.post("/admin/persone/<int:user_id>/stato")
@guard("user.manage", User, "user_id", "user")
def toggle_active(user: User) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def done(_result: Any) -> Any:
        flash(
            _("Account riattivato.")
            if user.active
            else _("Account disattivato: le sue sessioni sono chiuse."),
            "success",
        )
        return redirect(url_for("admin.users"))

    return run(
        lambda: account_services.set_active(user, not user.active, actor=current_user),
        done,
        page=lambda: redirect(url_for("admin.users")),
    )


@bp.post("/admin/persone/<int:user_id>/ruolo")
@guard("user.grant_staff", User, "user_id", "user")
def staff_role(user: User) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    raw = request.form.get("staff_role", "")
    if raw and raw not in {r.value for r in StaffRole}:
        flash(_("Ruolo sconosciuto."), "error")
        return redirect(url_for("admin.users")), 422  # type: ignore[return-value]
    with unit_of_work():
        account_services.set_staff_role(user, StaffRole(raw) if raw else None, actor=current_user)
    flash(_("Ruolo aggiornato."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/admin/persone/<int:user_id>/secondo-fattore")
@guard("user.grant_staff", User, "user_id", "user")  # administrators only
def reset_second_factor(user: User) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def done(_result: Any) -> Any:
        flash(
            _(
                "Verifica in due passaggi azzerata per %(name)s: le sue sessioni sono chiuse e al prossimo "
                "accesso potrà attivarla di nuovo.",
                name=user.full_name,
            ),
            "success",
        )
        return redirect(url_for("admin.users"))

    return run(
        lambda: account_services.reset_second_factor(user, actor=current_user),
        done,
        page=lambda: redirect(url_for("admin.users")),
    )
