"""Attachment routes: upload (a plain multipart form, no JavaScript needed), download, remove.

One set of three routes per kind of object, each guarded on the object in its URL (a meeting's routes serve
its agenda items too); the attachment itself is then looked up within that object (404 otherwise).
"""

from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user
from werkzeug.exceptions import RequestEntityTooLarge

from .. import idempotency
from ..cards.models import Card
from ..db import unit_of_work
from ..errors import Invalid, NotFound
from ..inputs import Form, positive_id
from ..meetings.models import AgendaItem, Meeting
from ..policy import guard
from ..tavoli.models import Body
from ..webutil import Problems, refused, run
from . import bp, queries, services, storage

UPLOAD_ENDPOINTS = {"attachments.upload_tavolo", "attachments.upload_card", "attachments.upload_meeting"}
FORM_ALLOWANCE = 256 * 1024  # multipart framing and the form's other fields, on top of the file


class UploadForm(Form):
    """Only the CSRF token and the idempotency key: the file is read from `request.files`."""


@bp.record_once
def _install(state: Any) -> None:
    """The upload routes take files up to `PDZ_UPLOAD_MAX_MB`; every other request keeps the app's limit. The
    limit must be raised before anything reads the form (the CSRF check does, in its own before_request)."""

    def raise_limit() -> None:
        if request.endpoint in UPLOAD_ENDPOINTS:
            request.max_content_length = services.max_bytes() + FORM_ALLOWANCE

    state.app.before_request_funcs.setdefault(None, []).insert(0, raise_limit)
    app = state.app
    app.add_template_global(lambda obj: queries.box(obj, current_user), "attachment_box")
    app.add_template_global(queries.download_url, "download_attachment_url")
    app.add_template_global(queries.kind_label, "attachment_kind")
    app.add_template_global(queries.size_label, "attachment_size")
    app.add_template_global(idempotency.new_key, "new_idempotency_key")


def _back(holder: Any) -> str:
    if isinstance(holder, Card):
        return url_for("cards.detail", card_id=holder.id)
    if isinstance(holder, Meeting):
        return url_for("meetings.detail", meeting_id=holder.id)
    return url_for("tavoli.workspace", body_id=holder.id)


def _upload_page(holder: Any, problems: Problems) -> Any:
    """The upload form again, with why the file was refused (status set by `refused`)."""
    box = queries.box(holder, current_user)
    return render_template(
        "attachments/upload.html",
        box=box,
        upload_form=UploadForm(),
        upload_error=problems.message,
        back=_back(holder),
    )


def _refuse(holder: Any, error: Invalid) -> Any:
    problems = Problems()
    return refused(error, lambda: _upload_page(holder, problems), form=problems)


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error: RequestEntityTooLarge) -> Any:
    """A request beyond the limit is refused while its form is read, before the view: nothing is stored."""
    args = request.view_args or {}
    back = url_for("home.index")
    if "card_id" in args:
        back = url_for("cards.detail", card_id=args["card_id"])
    elif "meeting_id" in args:
        back = url_for("meetings.detail", meeting_id=args["meeting_id"])
    elif "body_id" in args:
        back = url_for("tavoli.workspace", body_id=args["body_id"])
    return render_template(
        "attachments/upload.html", box=None, upload_error=services.too_large_message(), back=back
    ), 413


def _upload(holder: Any, target: Any = None) -> Any:
    form = UploadForm()
    if not form.validate_on_submit():
        return _refuse(
            holder, Invalid(_("Il modulo è scaduto o non è valido: ricarica la pagina e riprova."))
        )
    upload = request.files.get("file")
    if upload is None or not upload.filename:
        return _refuse(holder, Invalid(errors={"file": _("Scegli un file da allegare.")}))
    filename = upload.filename
    # read before the unit of work: no lock is held while the file arrives
    data = upload.stream.read(services.max_bytes() + 1)

    def attached(result: tuple[Any, bool]) -> Any:
        attachment, added = result
        if added:
            flash(_("File «%(n)s» allegato.", n=attachment.filename), "success")
        else:
            flash(_("Questo file era già allegato: non è stato aggiunto una seconda volta."), "info")
        return redirect(_back(holder) + "#allegati")

    problems = Problems()
    return run(
        lambda: services.add_attachment(
            target if target is not None else holder, filename, data, actor=current_user
        ),
        attached,
        page=lambda: _upload_page(holder, problems),
        form=problems,
        once="attachment.add",
    )


def _download(holder: Any, attachment_id: int) -> Any:
    attachment = queries.find(holder, attachment_id)
    if attachment is None:
        raise NotFound(_("Questo allegato non esiste."))
    path = storage.path_of(attachment.sha256)
    if not path.is_file():
        raise NotFound(
            _("Il file di questo allegato non si trova più nell'archivio: avvisa l'Ufficio di Piano.")
        )
    response = send_file(
        path,
        mimetype=attachment.content_type,
        as_attachment=True,
        download_name=attachment.filename,
        etag=attachment.sha256,
        max_age=0,
        conditional=True,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response.headers["Cache-Control"] = "private, no-cache"
    return response


def _remove(holder: Any) -> Any:
    attachment_id = positive_id(request.form.get("attachment_id"))
    if attachment_id is None:
        raise Invalid(_("Indica quale allegato rimuovere."))
    attachment = queries.find(holder, attachment_id)
    if attachment is None:
        raise NotFound(_("Questo allegato non esiste."))
    with unit_of_work():
        services.remove_attachment(attachment, actor=current_user)
    flash(_("Allegato «%(n)s» rimosso: resta nella cronologia.", n=attachment.filename), "success")
    return redirect(_back(holder) + "#allegati", code=303)


# --- tavoli ---


@bp.post("/tavoli/<int:body_id>/allegati")
@guard("attachment.add", Body, "body_id", "body")
def upload_tavolo(body: Body) -> Any:
    return _upload(body)


@bp.get("/tavoli/<int:body_id>/allegati/<int:attachment_id>")
@guard("attachment.view", Body, "body_id", "body")
def download_tavolo(body: Body, attachment_id: int) -> Any:
    return _download(body, attachment_id)


@bp.post("/tavoli/<int:body_id>/allegati/rimuovi")
@guard("attachment.remove", Body, "body_id", "body")
def remove_tavolo(body: Body) -> Any:
    return _remove(body)


# --- cards ---


@bp.post("/schede/<int:card_id>/allegati")
@guard("attachment.add", Card, "card_id", "card")
def upload_card(card: Card) -> Any:
    return _upload(card)


@bp.get("/schede/<int:card_id>/allegati/<int:attachment_id>")
@guard("attachment.view", Card, "card_id", "card")
def download_card(card: Card, attachment_id: int) -> Any:
    return _download(card, attachment_id)


@bp.post("/schede/<int:card_id>/allegati/rimuovi")
@guard("attachment.remove", Card, "card_id", "card")
def remove_card(card: Card) -> Any:
    return _remove(card)


# --- meetings and their agenda items ---


@bp.post("/incontri/<int:meeting_id>/allegati")
@guard("meeting.attachments", Meeting, "meeting_id", "meeting")
def upload_meeting(meeting: Meeting) -> Any:
    target: Meeting | AgendaItem = meeting
    raw = request.form.get("item_id", "")
    if raw:
        item_id = positive_id(raw)
        item = next((i for i in meeting.items if i.id == item_id), None)
        if item is None:
            return _refuse(
                meeting, Invalid(_("Il punto scelto non è nell'ordine del giorno di questo incontro."))
            )
        target = item
    return _upload(meeting, target)


@bp.get("/incontri/<int:meeting_id>/allegati/<int:attachment_id>")
@guard("attachment.view", Meeting, "meeting_id", "meeting")
def download_meeting(meeting: Meeting, attachment_id: int) -> Any:
    return _download(meeting, attachment_id)


@bp.post("/incontri/<int:meeting_id>/allegati/rimuovi")
@guard("meeting.attachments", Meeting, "meeting_id", "meeting")
def remove_meeting(meeting: Meeting) -> Any:
    return _remove(meeting)
