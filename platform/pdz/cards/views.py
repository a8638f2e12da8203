"""Card pages and the JSON endpoints the co-editing script calls (each also works as a plain form post)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import date, datetime, timedelta
from typing import Any

from flask import flash, jsonify, redirect, render_template, request, url_for
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from markupsafe import Markup, escape
from sqlalchemy import select

from .. import realtime
from ..coedit import engine as coedit_engine
from ..comments import queries as comment_queries
from ..config import ROOT
from ..cycles.models import PolicyArea
from ..db import unit_of_work
from ..errors import Invalid
from ..extensions import db
from ..formatting import ROME
from ..inputs import int32, payload
from ..money import format_cents
from ..policy import guard
from ..tavoli.models import Body
from ..webutil import refused, run, transaction, wants_json
from . import (
    bp,
    comment_targets,  # noqa: F401  (registers the threads on a card and its fields)
    fields,
    queries,
    services,
)
from .coedit import doc_key as coedit_key
from .forms import MoveForm, NewCardForm
from .models import Card
from .rows import (
    PNRR_MEASURES,
    ROW_KINDS,
    SOURCE_LABELS,
    row_kind,
)


def _int(data: dict[str, Any], key: str, default: int | None = None) -> int | None:
    value = data.get(key, default)
    if value in (None, ""):
        return default
    try:
        return int32(value)
    except ValueError:
        raise Invalid(errors={key: "Valore numerico non valido."}) from None


def _respond(card: Card, action: Callable[[], services.SaveOutcome], once: str | None = None) -> Any:
    """Run one save through `webutil.run` and answer it; a concurrent duplicate of the same operation is
    answered by replaying it. With `once` (a create: a new row), the request's key or client operation id is
    claimed in the same unit of work, and a repeat gets the first answer (`pdz.idempotency`). Refused: the
    card's page with the message, or JSON."""
    return run(
        action,
        lambda outcome: _success(card, outcome),
        page=lambda: detail(card_id=card.id),
        once=once,
        attempts=3,
    )


def _success(card: Card, outcome: services.SaveOutcome) -> Any:
    if wants_json():
        return jsonify(outcome.as_json())
    flash(_l("Modifica salvata (versione %(n)d).", n=outcome.revision), "success")
    return redirect(url_for("cards.detail", card_id=card.id, _anchor=f"f-{outcome.field}"), 303)


# --- pages -------------------------------------------------------------------------------------------


@bp.get("/tavoli/<int:body_id>/schede")
@guard("tavolo.view", Body, "body_id", "body")
def index(body: Body) -> Any:
    listing = queries.cards_of(body.id, request.args.get("pagina", 1, type=int32) or 1)
    cards = listing.cards
    unread = comment_queries.unread_by_target(current_user, "card", [c.id for c in cards]) if cards else {}
    return render_template(
        "cards/index.html", body=body, cards=cards, listing=listing, unread=unread, format_cents=format_cents
    )


@bp.route("/tavoli/<int:body_id>/schede/nuova", methods=["GET", "POST"])
@guard("card.create", Body, "body_id", "body")
def create(body: Body) -> Any:
    form = NewCardForm()
    form.area_id.choices = [(0, "—")] + [
        (a.id, f"{a.code} – {a.name}")
        for a in db.session.scalars(select(PolicyArea).order_by(PolicyArea.position))
    ]
    if form.validate_on_submit():

        def created(card: Card) -> Any:
            flash(_l("Scheda creata: ora potete scriverla insieme."), "success")
            return redirect(url_for("cards.detail", card_id=card.id))

        return run(
            lambda: services.create_card(
                body, form.title.data, form.area_id.data or None, actor=current_user
            ),
            created,
            page=lambda: render_template("cards/new.html", body=body, form=form),
            form=form,
            once="card.create",
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("cards/new.html", body=body, form=form), status


def _page_context(card_id: int) -> dict[str, Any]:
    card = queries.card_page(card_id)
    assert card is not None
    return {
        "card": card,
        "values": card.value_map(),
        "totals": services.budget_totals(card.id),
        "fields": fields,
        "rows": ROW_KINDS,
        "areas": services.area_keys(),
        "format_cents": format_cents,
        "pnrr_measures": PNRR_MEASURES,
        "source_labels": {k.value: v for k, v in SOURCE_LABELS.items()},
        "key_points": KEY_POINTS,
    }


KEY_POINTS: list[str] = json.loads((ROOT / "seed" / "cards.json").read_text(encoding="utf-8"))["key_points"]


@bp.get("/schede/<int:card_id>")
@guard("card.view", Card, "card_id", "card")
def detail(card: Card) -> Any:
    context = _page_context(card.id)
    context["recent"] = queries.recent_revisions(card.id)
    context["doc_key"] = coedit_key(card)
    context["checklist"] = queries.checklist(context["card"], context["values"])
    context["editable"] = services.policy.can(current_user, "card.edit", card)
    context["last_event_id"] = realtime.last_event_id(f"card:{card.id}")
    context["field_unread"] = comment_queries.unread_by_field(current_user, "card", card.id)
    context["can"] = _memo_can()
    context["thread_box"] = _field_thread_boxes(context["card"], context["can"])
    return render_template("cards/detail.html", **context)


def _memo_can() -> Callable[..., bool]:
    """`can` for one rendering: the page asks the same few questions once per field (docs/performance.md)."""
    answers: dict[tuple[str, int], bool] = {}

    def can(action: str, obj: Any = None) -> bool:
        key = (action, id(obj))
        if key not in answers:
            answers[key] = services.policy.can(current_user, action, obj)
        return answers[key]

    return can


_FIELD_MARK = "\x00field\x00"
_TITLE_MARK = "\x00title\x00"


def _field_thread_boxes(card: Card, can: Callable[..., bool]) -> Callable[[str, str], Markup]:
    """The comment box of each field: comments/_thread.html rendered once with placeholders, then the
    field's key and title put in (escaped) per field; the boxes differ only there (docs/performance.md)."""
    rendered: list[str] = []

    def box(field_key: str, title: str) -> Markup:
        if not rendered:
            rendered.append(
                render_template(
                    "comments/_thread.html",
                    thread_body=card.body,
                    thread_kind="card",
                    thread_id=card.id,
                    thread_field=_FIELD_MARK,
                    thread_title=_TITLE_MARK,
                    can=can,
                )
            )
        html = (
            rendered[0].replace(_FIELD_MARK, str(escape(field_key))).replace(_TITLE_MARK, str(escape(title)))
        )
        return Markup(html)  # noqa: S704 - the template escaped everything else, both values escaped here

    return box


@bp.get("/schede/<int:card_id>/stampa")
@guard("card.view", Card, "card_id", "card")
def print_view(card: Card) -> Any:
    return render_template("cards/print.html", **_page_context(card.id))


@bp.get("/schede/<int:card_id>/versione")
@guard("card.view", Card, "card_id", "card")
def version(card: Card) -> Any:
    return jsonify(card_id=card.id, revision=card.revision_no, body_id=card.body_id)


@bp.get("/schede/<int:card_id>/righe/<kind>")
@guard("card.view", Card, "card_id", "card")
def rows_fragment(card: Card, kind: str) -> Any:
    row_kind(kind)
    context = _page_context(card.id)
    context["editable"] = services.policy.can(current_user, "card.edit", card)
    return render_template("cards/_rows.html", kind=kind, **context)


# --- saves -------------------------------------------------------------------------------------------


@bp.post("/schede/<int:card_id>/campi")
@guard("card.edit", Card, "card_id", "card")
def save(card: Card) -> Any:
    data = payload()

    def action() -> services.SaveOutcome:
        return services.save_field(
            card,
            str(data.get("field", "")),
            data.get("value", ""),
            base_value=data.get("base_value") if isinstance(data.get("base_value"), str) else None,
            client_op_id=data.get("client_op_id"),
            expected_body_id=_int(data, "body_id"),
            actor=current_user,
        )

    return _respond(card, action)


@bp.post("/schede/<int:card_id>/righe/<kind>")
@guard("card.edit", Card, "card_id", "card")
def add_row(card: Card, kind: str) -> Any:
    data = payload()
    values: dict[str, Any] = (
        data["values"] if isinstance(data.get("values"), dict) else _row_values(kind, data)
    )

    def action() -> services.SaveOutcome:
        return services.add_row(
            card,
            kind,
            values,
            client_op_id=data.get("client_op_id") or None,
            expected_body_id=_int(data, "body_id"),
            actor=current_user,
        )

    return _respond(card, action, once="card.row.create")


@bp.post("/schede/<int:card_id>/righe/<kind>/<int:row_id>")
@guard("card.edit", Card, "card_id", "card")
def update_row(card: Card, kind: str, row_id: int) -> Any:
    data = payload()
    values: dict[str, Any] = (
        data["values"] if isinstance(data.get("values"), dict) else _row_values(kind, data)
    )

    def action() -> services.SaveOutcome:
        return services.update_row(
            card,
            kind,
            row_id,
            values,
            base_revision=_int(data, "base_revision", 0) or 0,
            client_op_id=data.get("client_op_id") or None,
            expected_body_id=_int(data, "body_id"),
            actor=current_user,
        )

    return _respond(card, action)


@bp.post("/schede/<int:card_id>/righe/<kind>/<int:row_id>/rimuovi")
@guard("card.edit", Card, "card_id", "card")
def remove_row(card: Card, kind: str, row_id: int) -> Any:
    data = payload()

    def action() -> services.SaveOutcome:
        return services.remove_row(
            card,
            kind,
            row_id,
            client_op_id=data.get("client_op_id") or None,
            expected_body_id=_int(data, "body_id"),
            actor=current_user,
        )

    return _respond(card, action)


def _row_values(kind: str, data: dict[str, Any]) -> dict[str, Any]:
    """Form posts: take the row's attributes from the form (unchecked boxes are absent)."""
    spec = row_kind(kind)
    values = {a.name: data[a.name] for a in spec.attrs if a.name in data}
    for attr in spec.attrs:
        if attr.type == "bool" and "_form" in data:
            values[attr.name] = attr.name in data
    return values


@bp.post("/schede/<int:card_id>/stato")
@guard("card.edit", Card, "card_id", "card")
def status(card: Card) -> Any:
    return run(
        lambda: services.set_status(card, request.form.get("status", ""), actor=current_user),
        lambda _: redirect(url_for("cards.detail", card_id=card.id), 303),
        page=lambda: detail(card_id=card.id),
    )


@bp.post("/schede/<int:card_id>/sposta")
@guard("card.move", Card, "card_id", "card")
def move(card: Card) -> Any:
    form = MoveForm()
    target = db.session.get(Body, form.body_id.data or 0)
    if target is None:
        flash(_l("Tavolo non trovato."), "error")
        return redirect(url_for("cards.detail", card_id=card.id)), 303
    with unit_of_work():
        services.move_card(card, target, actor=current_user)
    flash(_l("Scheda spostata in «%(name)s».", name=target.name), "success")
    return redirect(url_for("cards.detail", card_id=card.id)), 303


# --- history -----------------------------------------------------------------------------------------


@bp.get("/schede/<int:card_id>/storia")
@guard("card.view", Card, "card_id", "card")
def history(card: Card) -> Any:
    """The history, HISTORY_PAGE versions a page (`pagina`), or the page of a date (`data`, AAAA-MM-GG)."""
    until = None
    day = request.args.get("data", "")
    if day:
        try:
            picked = date.fromisoformat(day)
        except ValueError:
            raise Invalid(str(_l("Data non valida: usa il formato AAAA-MM-GG."))) from None
        until = datetime(picked.year, picked.month, picked.day, tzinfo=ROME) + timedelta(days=1)
    page = queries.history_page(card, request.args.get("pagina", 1, type=int32) or 1, until)
    numbers = sorted({r.number for r in page.revisions}, reverse=True)
    grouped = {n: [r for r in page.revisions if r.number == n] for n in numbers}
    return render_template(
        "cards/history.html",
        card=card,
        grouped=grouped,
        page=page,
        day=day,
        label=queries.field_label,
        describe=queries.describe,
        editable=services.policy.can(current_user, "card.edit", card),
    )


@bp.get("/schede/<int:card_id>/confronto")
@guard("card.view", Card, "card_id", "card")
def compare(card: Card) -> Any:
    args = request.args.to_dict()
    old = _int(args, "da", max(card.revision_no - 1, 0)) or 0
    new = _int(args, "a", card.revision_no)
    new = card.revision_no if new is None else new
    if not (0 <= old <= card.revision_no and 0 <= new <= card.revision_no):
        raise Invalid("Versione inesistente.")
    revisions = queries.revisions_after(card.id, min(old, new))
    return render_template(
        "cards/diff.html",
        card=card,
        old=min(old, new),
        new=max(old, new),
        diffs=queries.diff(card, revisions, old, new),
    )


@bp.post("/schede/<int:card_id>/ripristina")
@guard("card.edit", Card, "card_id", "card")
def restore(card: Card) -> Any:
    data = payload()
    number = _int(data, "number", -1)
    assert number is not None
    # by hand, not run(): the restored texts go through the co-writing engine after this unit of work commits
    try:
        outcome = transaction(
            lambda: services.restore_revision(
                card, number, client_op_id=data.get("client_op_id") or None, actor=current_user
            ),
            attempts=3,
        )
    except Invalid as error:
        return refused(error, lambda: redirect(url_for("cards.history", card_id=card.id), 303))
    restored = [
        coedit_engine.replace_text(coedit_key(card), key, value, actor=current_user)
        for key, value in sorted(outcome.texts.items())
    ]
    failed = [answer for answer in restored if not answer.get("ok")]
    if failed:
        message = failed[0].get("message") or str(_l("Ripristino non riuscito."))
        return refused(Invalid(message), lambda: redirect(url_for("cards.history", card_id=card.id), 303))
    if wants_json():
        return jsonify({**outcome.as_json(), "texts": sorted(outcome.texts)})
    if outcome.status == "unchanged" and not outcome.texts:
        flash(_l("La scheda è già uguale alla versione %(n)d.", n=number), "info")
    else:
        flash(
            _l("Versione %(n)d ripristinata come nuova modifica.", n=number),
            "success",
        )
    return redirect(url_for("cards.detail", card_id=card.id)), 303
