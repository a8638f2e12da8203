"""Notification centre (/notifiche), mail preferences, and the unsubscribe link (no login needed)."""

from __future__ import annotations

from typing import Any

import click
from flask import flash, jsonify, redirect, render_template, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from ..comments import queries as comment_queries
from ..db import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..inputs import EmptyForm
from ..policy import guard, public
from ..tavoli.models import Body
from . import bp, queries, services
from .forms import PreferencesForm
from .models import MailMode, Notification


@bp.get("/notifiche")
@guard("notification.view")
def index() -> Any:
    unread = comment_queries.unread_by_body(current_user)
    bodies = {b.id: b for b in db.session.scalars(select(Body).where(Body.id.in_(list(unread))))}
    per_tavolo = sorted(((bodies[i], n) for i, n in unread.items() if i in bodies), key=lambda p: p[0].name)
    return render_template(
        "notifications/index.html",
        notifications=queries.latest(current_user),
        per_tavolo=per_tavolo,
        form=EmptyForm(),
    )


@bp.get("/notifiche/conteggio")
@guard("notification.view")
def count() -> Any:
    return jsonify(ok=True, unread=services.unread_count(current_user))


@bp.post("/notifiche/lette")
@guard("notification.view")
def read_all() -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    with unit_of_work():
        services.mark_read(current_user, actor=current_user)
    flash(_("Tutte le notifiche sono segnate come lette."), "success")
    return redirect(url_for("notifications.index"))


@bp.post("/notifiche/<int:notification_id>/apri")
@guard("notification.open", Notification, "notification_id", "notification")
def open_one(notification: Notification) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    url = notification.url
    with unit_of_work():
        services.mark_read(current_user, notification, actor=current_user)
    return redirect(url)


@bp.route("/notifiche/preferenze", methods=["GET", "POST"])
@guard("notification.preferences")
def preferences() -> Any:
    current = services.preferences(current_user.id)
    form = PreferencesForm(mentions=str(current.mentions), others=str(current.others))
    if form.validate_on_submit():
        with unit_of_work():
            services.save_preferences(
                current_user, MailMode(form.mentions.data), MailMode(form.others.data), actor=current_user
            )
        flash(_("Preferenze salvate."), "success")
        return redirect(url_for("notifications.preferences"))
    return render_template("notifications/preferences.html", form=form), 422 if form.errors else 200


@bp.route("/notifiche/disiscriviti/<token>", methods=["GET", "POST"])
@public
def unsubscribe(token: str) -> Any:
    user = services.user_for_token(token)
    if user is None:
        return render_template("notifications/unsubscribe.html", user=None, done=False, form=EmptyForm()), 404
    form = EmptyForm()
    if form.validate_on_submit():
        with unit_of_work():
            services.unsubscribe(user)
        return render_template("notifications/unsubscribe.html", user=user, done=True, form=form)
    return render_template("notifications/unsubscribe.html", user=user, done=False, form=form)


@bp.app_context_processor
def notification_helpers() -> dict[str, Any]:
    def unread() -> int:
        return services.unread_count(current_user) if current_user.is_authenticated else 0

    return {"notifications_unread": unread}


@click.command("notifications-digest")
def digest_command() -> None:
    """Send the daily digest of pending notifications (idempotent: run it once a day from cron)."""
    with unit_of_work():
        sent = services.send_digests()
    click.echo(f"Riepiloghi inviati: {sent}")


@bp.record_once
def _register_cli(state: Any) -> None:
    state.app.cli.add_command(digest_command)
