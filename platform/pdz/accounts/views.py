from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlsplit

from flask import current_app, flash, make_response, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_user, logout_user

from ..db import unit_of_work
from ..extensions import limiter
from ..inputs import EmptyForm
from ..policy import guard, public
from ..webutil import run
from . import bp, second_factor, services, sessions
from .forms import (
    AcceptInvitationForm,
    ChangePasswordForm,
    CodeForm,
    DisableSecondFactorForm,
    EndSessionForm,
    EnrolForm,
    ForgetDeviceForm,
    ForgotForm,
    LoginForm,
    NewPasswordForm,
    ProfileForm,
    RecoveryCodesForm,
)
from .models import User

PENDING_KEY = "pdz_pending"  # between the password and the second factor: nobody is signed in yet
PENDING_SECONDS = 600


def _safe_next(target: str | None) -> str:
    if target and target.startswith("/") and not target.startswith("//") and not urlsplit(target).netloc:
        return target
    return url_for("home.index")


def _login_limit() -> str:
    return current_app.config["PDZ_LOGIN_RATE_LIMIT"]


def _login_key() -> str:
    return f"{request.remote_addr}|{services.normalise_email(request.form.get('email', ''))}"


def _client() -> dict[str, str]:
    return {"ip": request.remote_addr or "", "user_agent": request.user_agent.string or ""}


def _establish(user: User, token: str) -> None:
    """Sign `user` in on this browser: a fresh cookie session holding its session row's token."""
    session.clear()
    session[sessions.SESSION_KEY] = token
    login_user(user)
    session.permanent = True


def _set_pending(user: User, step: services.SignInStep, next_url: str | None) -> None:
    session.clear()
    session[PENDING_KEY] = {
        "user": user.id,
        "token": user.session_token,
        "step": step.value,
        "until": int(time.time()) + PENDING_SECONDS,
        "next": next_url or "",
    }


def _pending(step: services.SignInStep) -> tuple[User, dict[str, Any]] | None:
    state = session.get(PENDING_KEY)
    if not isinstance(state, dict) or state.get("step") != step.value or state.get("until", 0) < time.time():
        return None
    user = services.pending_user(int(state.get("user", 0)), str(state.get("token", "")))
    return (user, state) if user is not None else None


def _pending_key() -> str:
    state = session.get(PENDING_KEY)
    return f"pending|{state.get('user') if isinstance(state, dict) else '?'}"


def _no_store(response: Any) -> Any:
    """Pages showing a secret or recovery codes are never cached."""
    response.headers["Cache-Control"] = "no-store"
    return response


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
            result = services.sign_in(
                form.email.data,
                form.password.data,
                device_cookie=request.cookies.get(second_factor.DEVICE_COOKIE, ""),
                **_client(),
            )
        if result.user is None:
            form.form_errors.append(_("E-mail o password non corretti, oppure account non attivo."))
            return render_template("accounts/login.html", form=form), 401
        if result.step is services.SignInStep.DONE:
            _establish(result.user, result.session_token)
            if result.suggest_second_factor:
                flash(
                    _(
                        "Ti suggeriamo di attivare la verifica in due passaggi: la trovi nel tuo profilo, "
                        "alla voce «Verifica in due passaggi»."
                    ),
                    "info",
                )
            return redirect(_safe_next(form.next.data))
        _set_pending(result.user, result.step, form.next.data)
        if result.step is services.SignInStep.ENROL:
            return redirect(url_for("accounts.enrol_at_sign_in"))
        return redirect(url_for("accounts.second_step"))
    return render_template("accounts/login.html", form=form), (422 if form.errors else 200)


CHECK_MESSAGES = {
    second_factor.Check.WRONG: _l("Il codice non è corretto. Controlla che l'ora del telefono sia esatta."),
    second_factor.Check.REUSED: _l(
        "Questo codice è già stato usato: attendi il prossimo (cambia ogni 30 secondi)."
    ),
    second_factor.Check.LOCKED: _l(
        "Troppi codici sbagliati per questo account: attendi qualche minuto e riprova."
    ),
}


@bp.route("/login/codice", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: request.remote_addr or "?")
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key)
@public
def second_step() -> Any:
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = _pending(services.SignInStep.CODE)
    if pending is None:
        flash(_("La verifica è scaduta o non è valida: accedi di nuovo."), "info")
        return redirect(url_for("accounts.login"))
    user, state = pending
    form = CodeForm()
    days = second_factor.device_days()
    if form.validate_on_submit():
        with unit_of_work():
            check, token, device = services.second_step(
                user, form.code.data, remember=bool(form.remember.data), **_client()
            )
        if check.ok:
            _establish(user, token)
            if check is second_factor.Check.RECOVERY:
                flash(
                    _(
                        "Hai usato un codice di recupero, che ora non vale più. Se hai perso l'app, "
                        "attivala di nuovo dal tuo profilo e genera nuovi codici."
                    ),
                    "warning",
                )
            response = redirect(_safe_next(state.get("next")))
            if device:
                response.set_cookie(
                    second_factor.DEVICE_COOKIE,
                    device,
                    max_age=days * 24 * 3600,
                    path=url_for("accounts.login"),
                    secure=bool(current_app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure,
                    httponly=True,
                    samesite="Lax",
                )
            return response
        form.form_errors.append(str(CHECK_MESSAGES[check]))
        status = 429 if check is second_factor.Check.LOCKED else 401
        return render_template("accounts/second_step.html", form=form, days=days), status
    return render_template("accounts/second_step.html", form=form, days=days), (422 if form.errors else 200)


@bp.route("/login/attiva-verifica", methods=["GET", "POST"])
@limiter.limit(_login_limit, methods=["POST"], key_func=lambda: request.remote_addr or "?")
@limiter.limit(_login_limit, methods=["POST"], key_func=_pending_key)
@public
def enrol_at_sign_in() -> Any:
    """Administrators and UdP staff without a second factor enrol here before anything else."""
    if current_user.is_authenticated:
        return redirect(url_for("home.index"))
    pending = _pending(services.SignInStep.ENROL)
    factor = second_factor.factor_of(pending[0]) if pending is not None else None
    if pending is None or factor is None or not factor.pending_secret:
        flash(_("La verifica è scaduta o non è valida: accedi di nuovo."), "info")
        return redirect(url_for("accounts.login"))
    user, state = pending
    form = EnrolForm()
    if form.validate_on_submit():
        with unit_of_work():
            codes, token = services.enrol_at_sign_in(user, form.code.data, **_client())
        if codes is not None:
            _establish(user, token)
            return _no_store(
                make_response(
                    render_template(
                        "accounts/recovery_codes.html", codes=codes, next_url=_safe_next(state.get("next"))
                    )
                )
            )
        form.code.errors = [*form.code.errors, str(CHECK_MESSAGES[second_factor.Check.WRONG])]
    page = render_template(
        "accounts/enrol_at_sign_in.html", form=form, **_enrolment(user, factor.pending_secret)
    )
    return _no_store(make_response(page, 422 if form.errors else 200))


def _enrolment(user: User, secret: str) -> dict[str, Any]:
    return {
        "qr": second_factor.qr_svg(user, secret, _("Codice QR per l'app di autenticazione")),
        "secret": second_factor.spaced(secret),
        "issuer": second_factor.ISSUER,
    }


@bp.post("/logout")
@guard("account.view")
def logout() -> Any:
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work():
            sessions.end_current(current_user, session.get(sessions.SESSION_KEY))
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

    def page() -> Any:
        return render_template(
            "accounts/profile.html", form=form, password_form=password_form, **_profile_extras()
        )

    if form.validate_on_submit():

        def updated(_result: Any) -> Any:
            flash(_("Profilo aggiornato."), "success")
            return redirect(url_for("accounts.profile"))

        return run(
            lambda: services.update_profile(
                current_user,
                form.full_name.data,
                form.locale.data,
                actor=current_user,
                gender=form.gender.data or "",
            ),
            updated,
            page=page,
            form=form,
        )
    return page(), (422 if form.errors or form.form_errors else 200)


def _profile_extras() -> dict[str, Any]:
    return {
        "second_factor_on": second_factor.is_enrolled(current_user),
        "second_factor_suggested": second_factor.is_suggested(current_user),
    }


@bp.post("/profilo/password")
@guard("account.edit")
def change_password() -> Any:
    form = ProfileForm(obj=current_user, formdata=None)
    password_form = ChangePasswordForm(prefix="pw")

    def page() -> Any:
        return render_template(
            "accounts/profile.html", form=form, password_form=password_form, **_profile_extras()
        )

    if password_form.validate_on_submit():

        def changed(_result: Any) -> Any:
            # keep this session: the new token goes in the cookie
            login_user(current_user._get_current_object())
            flash(_("Password cambiata. Le altre sessioni aperte sono state chiuse."), "success")
            return redirect(url_for("accounts.profile"))

        return run(
            lambda: services.change_password(
                current_user,
                password_form.current.data,
                password_form.password.data,
                password_form.confirm.data,
                actor=current_user,
                keep_session=session.get(sessions.SESSION_KEY),
            ),
            changed,
            page=page,
            form=password_form,
        )
    return page(), 422


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

        def reset(_result: Any) -> Any:
            flash(_("Password aggiornata: ora puoi accedere."), "success")
            return redirect(url_for("accounts.login"))

        return run(
            lambda: services.reset_password(token, form.password.data, form.confirm.data),
            reset,
            page=lambda: render_template("accounts/reset.html", form=form),
            form=form,
        )
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

    def page() -> Any:
        return render_template(
            "accounts/invitation.html", form=form, invitation=invitation, existing=existing
        )

    if request.method == "POST" and form.validate_on_submit():
        actor = current_user if current_user.is_authenticated else None
        body_id = invitation.body_id

        def accept() -> tuple[User, str | None]:
            user = services.accept_invitation(
                token,
                full_name=form.full_name.data,
                password=form.password.data,
                confirm=form.confirm.data,
                actor=actor,
            )
            return user, (sessions.start_session(user, method="none", **_client()) if actor is None else None)

        def accepted(result: tuple[User, str | None]) -> Any:
            user, session_token = result
            if session_token is not None:
                _establish(user, session_token)
            flash(_("Benvenuto in PdZ! Ora fai parte del gruppo di lavoro."), "success")
            return redirect(url_for("tavoli.workspace", body_id=body_id))

        return run(accept, accepted, page=page, form=form)
    return page(), (422 if form.errors or form.form_errors else 200)


# --- the second factor in the account area ---------------------------------------------------------


def _second_factor_page(status: int = 200, **forms: Any) -> Any:
    user = current_user._get_current_object()
    factor = second_factor.factor_of(user)
    enrolled = factor is not None and factor.confirmed_at is not None
    context: dict[str, Any] = {
        "factor": factor,
        "enrolled": enrolled,
        "required": second_factor.is_required(user),
        "suggested": second_factor.is_suggested(user),
        "codes_left": second_factor.recovery_codes_left(user) if enrolled else 0,
        "devices": second_factor.devices_of(user) if enrolled else [],
        "describe": sessions.describe_user_agent,
        "enrol_form": forms.get("enrol_form") or EnrolForm(formdata=None),
        "codes_form": forms.get("codes_form") or RecoveryCodesForm(formdata=None),
        "disable_form": forms.get("disable_form") or DisableSecondFactorForm(formdata=None),
        "form": EmptyForm(formdata=None),
    }
    if factor is not None and factor.pending_secret:
        context.update(_enrolment(user, factor.pending_secret))
    return _no_store(make_response(render_template("accounts/second_factor.html", **context), status))


@bp.get("/profilo/verifica-in-due-passaggi")
@guard("account.view")
def second_factor_settings() -> Any:
    return _second_factor_page()


@bp.post("/profilo/verifica-in-due-passaggi/attiva")
@guard("account.edit")
def second_factor_start() -> Any:
    if EmptyForm().validate_on_submit():
        with unit_of_work():
            second_factor.start_enrolment(current_user, actor=current_user)
    return redirect(url_for("accounts.second_factor_settings"))


@bp.post("/profilo/verifica-in-due-passaggi/conferma")
@limiter.limit(_login_limit, key_func=lambda: f"user|{current_user.get_id()}")
@guard("account.edit")
def second_factor_confirm() -> Any:
    form = EnrolForm()
    if form.validate_on_submit():
        with unit_of_work():
            codes = second_factor.confirm_enrolment(current_user, form.code.data, actor=current_user)
        if codes is not None:
            flash(_("Verifica in due passaggi attiva."), "success")
            return _no_store(
                make_response(
                    render_template(
                        "accounts/recovery_codes.html",
                        codes=codes,
                        next_url=url_for("accounts.second_factor_settings"),
                    )
                )
            )
        form.code.errors = [*form.code.errors, str(CHECK_MESSAGES[second_factor.Check.WRONG])]
    return _second_factor_page(422, enrol_form=form)


@bp.post("/profilo/verifica-in-due-passaggi/codici")
@limiter.limit(_login_limit, key_func=lambda: f"user|{current_user.get_id()}")
@guard("account.edit")
def recovery_codes_renew() -> Any:
    form = RecoveryCodesForm()
    if form.validate_on_submit():
        with unit_of_work():
            codes = second_factor.regenerate_recovery_codes(current_user, form.code.data, actor=current_user)
        if codes is not None:
            return _no_store(
                make_response(
                    render_template(
                        "accounts/recovery_codes.html",
                        codes=codes,
                        next_url=url_for("accounts.second_factor_settings"),
                    )
                )
            )
        form.code.errors = [*form.code.errors, str(CHECK_MESSAGES[second_factor.Check.WRONG])]
    return _second_factor_page(422, codes_form=form)


@bp.post("/profilo/verifica-in-due-passaggi/disattiva")
@limiter.limit(_login_limit, key_func=lambda: f"user|{current_user.get_id()}")
@guard("account.edit")
def second_factor_disable() -> Any:
    form = DisableSecondFactorForm()
    if form.validate_on_submit():

        def disabled(_result: Any) -> Any:
            flash(_("Verifica in due passaggi disattivata."), "success")
            return redirect(url_for("accounts.second_factor_settings"))

        return run(
            lambda: services.disable_second_factor(current_user, form.password.data, actor=current_user),
            disabled,
            page=lambda: _second_factor_page(422, disable_form=form),
            form=form,
        )
    return _second_factor_page(422, disable_form=form)


@bp.post("/profilo/verifica-in-due-passaggi/dispositivi")
@guard("account.edit")
def trusted_devices_forget() -> Any:
    form = ForgetDeviceForm()
    if form.validate_on_submit():
        with unit_of_work():
            count = second_factor.forget_devices(
                current_user, actor=current_user, device_id=form.device_id.data
            )
        if count:
            flash(_("Su quel dispositivo ti chiederemo di nuovo il codice."), "success")
    return redirect(url_for("accounts.second_factor_settings"))


# --- active sessions ---------------------------------------------------------------------------------


@bp.get("/profilo/sessioni")
@guard("account.view")
def active_sessions() -> Any:
    rows = sessions.sessions_of(current_user)
    current = sessions.digest(session.get(sessions.SESSION_KEY) or "")
    return render_template(
        "accounts/sessions.html",
        rows=rows,
        current=current,
        describe=sessions.describe_user_agent,
        form=EmptyForm(formdata=None),
    )


@bp.post("/profilo/sessioni/esci")
@guard("account.edit")
def end_session() -> Any:
    form = EndSessionForm()
    ended = None
    if form.validate_on_submit():
        with unit_of_work():
            ended = sessions.end_session(current_user, form.session_id.data, actor=current_user)
    if ended is None:
        flash(_("Sessione non trovata: forse è già terminata."), "error")
        return redirect(url_for("accounts.active_sessions"))
    if ended.token_hash == sessions.digest(session.get(sessions.SESSION_KEY) or ""):
        logout_user()
        session.clear()
        flash(_("Sei uscito da PdZ."), "info")
        return redirect(url_for("accounts.login"))
    flash(_("Sessione chiusa: quel dispositivo dovrà accedere di nuovo."), "success")
    return redirect(url_for("accounts.active_sessions"))
