from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_user, logout_user

from ..db import unit_of_work
from ..errors import Invalid
from ..extensions import limiter
from ..policy import guard, public
from ..webutil import attach_errors
from . import bp, services
from .forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    EmptyForm,
    ForgotForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
)


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _login_limit() -> str:
    return current_app.config["PDZ_LOGIN_RATE_LIMIT"]


def _login_key() -> str:
    return f"{request.remote_addr}|{services.normalise_email(request.form.get('email', ''))}"


@bp.route("/login", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: request.remote_addr or "?")
@limiter.limit(_login_limit, methods=["POST"], key_func=_login_key)
@public
def login() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    form = LoginForm(next=request.args.get("next", ""))
    if form.validate_on_submit():
        with unit_of_work():
            user = services.authenticate(form.email.data, form.password.data)
        if user is not None:
            session.clear()
            login_user(user)
            session.permanent = True
            return redirect(_safe_next(form.next.data))
        form.form_errors.append(_("E-mail o password non corretti, oppure account non attivo."))
        return render_template("accounts/login.html", form=form), 401
    return render_template("accounts/login.html", form=form), (422 if form.errors else 200)


@bp.post("/logout")
@guard("account.view")
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        logout_user()
        session.clear()
        flash(_("Sei uscito da PdZ."), "info")
    return redirect(url_for("accounts.login"))


@bp.post("/profilo/esci-ovunque")
@guard("account.edit")
def sign_out_everywhere() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work():
            services.sign_out_everywhere(current_user, actor=current_user)
        logout_user()
        session.clear()
        flash(_("Sei uscito da PdZ su tutti i dispositivi."), "info")
    return redirect(url_for("accounts.login"))


@bp.route("/profilo", methods=["GET", "POST"])
@guard("account.view")
def profile() -> Any:
    form = ProfileForm(obj=current_user)
    password_form = ChangePasswordForm(prefix="pw")
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.update_profile(
                    current_user, form.full_name.data, form.locale.data, actor=current_user
                )
        except Invalid as error:
            attach_errors(form, error)
        else:
            flash(_("Profilo aggiornato."), "success")
            return redirect(url_for("accounts.profile"))
    status = 422 if form.errors or form.form_errors else 200
    return render_template("accounts/profile.html", form=form, password_form=password_form), status


@bp.post("/profilo/password")
@guard("account.edit")
def change_password() -> Any:
    form = ProfileForm(obj=current_user, formdata=None)
    password_form = ChangePasswordForm(prefix="pw")
    if password_form.validate_on_submit():
        try:
            with unit_of_work():
                services.change_password(
                    current_user,
                    password_form.current.data,
                    password_form.password.data,
                    password_form.confirm.data,
                    actor=current_user,
                )
        except Invalid as error:
            attach_errors(password_form, error)
        else:
            login_user(
                current_user._get_current_object()
            )  # keep this session: the new token goes in the cookie
            flash(_("Password cambiata. Le altre sessioni aperte sono state chiuse."), "success")
            return redirect(url_for("accounts.profile"))
    return render_template("accounts/profile.html", form=form, password_form=password_form), 422


@bp.route("/password/dimenticata", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"])
@public
def forgot_password() -> Any:
    form = ForgotForm()
    if form.validate_on_submit():
        with unit_of_work():
            services.request_password_reset(form.email.data)
        flash(
            _("Se l'indirizzo corrisponde a un account attivo, riceverai un messaggio con le istruzioni."),
            "info",
        )
        return redirect(url_for("accounts.login"))
    return render_template("accounts/forgot.html", form=form), (422 if form.errors else 200)


@bp.route("/password/reimposta/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> Any:
    if services.valid_reset(token) is None:
        return render_template("accounts/token_invalid.html", what="reset"), 404
    form = NewPasswordForm()
    if form.validate_on_submit():
        try:
            with unit_of_work():
                services.reset_password(token, form.password.data, form.confirm.data)
        except Invalid as error:
            attach_errors(form, error)
        else:
            flash(_("Password aggiornata: ora puoi accedere."), "success")
            return redirect(url_for("accounts.login"))
    return render_template("accounts/reset.html", form=form), (
        422 if form.errors or form.form_errors else 200
    )


@bp.route("/invito/<token>", methods=["GET", "POST"])
@public
def accept_invitation(token: str) -> Any:
    invitation = services.valid_invitation(token)
    if invitation is None:
        return render_template("accounts/token_invalid.html", what="invitation"), 404
    existing = services.user_by_email(invitation.email)
    form = AcceptInvitationForm(full_name=invitation.full_name)
    if request.method == "POST" and form.validate_on_submit():
        actor = current_user if current_user.is_authenticated else None
        try:
            with unit_of_work():
                user = services.accept_invitation(
                    token,
                    full_name=form.full_name.data,
                    password=form.password.data,
                    confirm=form.confirm.data,
                    actor=actor,
                )
                body_id = invitation.body_id
        except Invalid as error:
            attach_errors(form, error)
        else:
            if actor is None:
                session.clear()
                login_user(user)
            flash(_("Benvenuto in PdZ! Ora fai parte del gruppo di lavoro."), "success")
            return redirect(url_for("tavoli.workspace", body_id=body_id))
    status = 422 if form.errors or form.form_errors else 200
    return render_template(
        "accounts/invitation.html", form=form, invitation=invitation, existing=existing
    ), status
