from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from ..meetings import queries as meetings_queries
from ..policy import guard
from ..tavoli import queries as tavoli_queries
from . import bp
from .queries import SECTIONS, my_work

SECTION_TITLES = {
    "azioni": _l("Le mie azioni aperte"),
    "verbali": _l("Verbali da completare"),
    "incontri": _l("Incontri da convocare o a cui rispondere"),
    "approvazioni": _l("Esami, voti e documenti da rivedere"),
    "menzioni": _l("Ti hanno menzionato"),
    "schede": _l("Schede dei tuoi tavoli con campi obbligatori vuoti"),
}
HOME_PER_SECTION = 3


@bp.get("/")
@guard("home.view")
def index() -> Any:
    work = my_work(current_user, date.today(), limit=HOME_PER_SECTION)
    return render_template(
        "home/index.html",
        my_bodies=tavoli_queries.my_bodies(current_user),
        upcoming_meetings=meetings_queries.my_meetings(current_user, upcoming_only=True, limit=5),
        work=work,
        work_count=sum(rows.total for rows in work.values()),
        sections=SECTIONS,
        titles=SECTION_TITLES,
        per_section=HOME_PER_SECTION,
    )


@bp.get("/da-fare")
@guard("home.view")
def todo() -> Any:
    work = my_work(current_user, date.today())
    return render_template(
        "home/todo.html",
        work=work,
        work_count=sum(rows.total for rows in work.values()),
        sections=SECTIONS,
        titles=SECTION_TITLES,
        per_section=None,
    )
