from __future__ import annotations

from typing import Any

import click
from flask import render_template, request
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..db import unit_of_work
from ..extensions import db
from ..policy import guard
from . import bp, index, queries

index.install()  # the index follows every commit from the moment the app is built

MAX_QUERY = 200

KIND_LABELS = {
    "card": _l("Schede"),
    "comment": _l("Commenti"),
    "meeting": _l("Incontri"),
    "agenda": _l("Punti all'ordine del giorno"),
    "minutes": _l("Verbali"),
    "decision": _l("Decisioni"),
    "swot": _l("Voci SWOT"),
    "org": _l("Enti"),
    "person": _l("Persone"),
    "document": _l("Documenti approvati"),
}


@bp.get("/cerca")
@guard("home.view")
def search() -> Any:
    query = (request.args.get("q") or "").strip()
    too_long = len(query) > MAX_QUERY
    query = query[:MAX_QUERY]
    kind = request.args.get("tipo") or None
    if kind not in KIND_LABELS:
        kind = None
    words, groups = queries.search(current_user, query, kind)
    return render_template(
        "search/results.html",
        query=query,
        words=words,
        groups=groups,
        kind=kind,
        labels=KIND_LABELS,
        too_long=too_long,
        per_kind=queries.PER_KIND,
        cap=format_decimal(queries.CANDIDATES),
    )


@bp.cli.command("search-reindex")
def reindex_command() -> None:
    """Rebuild the search index from every searchable object (after an upgrade, or to repair it)."""
    with unit_of_work():
        count = index.rebuild(db.session)
    click.echo(f"search index rebuilt: {count} objects read")
