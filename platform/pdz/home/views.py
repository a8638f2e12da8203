from __future__ import annotations

from datetime import date
from typing import Any

from flask import render_template
from flask_login import current_user

from ..approvals import queries as approvals_queries
from ..meetings import queries as meetings_queries
from ..policy import guard
from ..tavoli import queries as tavoli_queries
from . import bp


@bp.get("/")
@guard("home.view")
def index() -> Any:
    return render_template(
        "home/index.html",
        my_bodies=tavoli_queries.my_bodies(current_user),
        upcoming_meetings=meetings_queries.my_meetings(current_user, upcoming_only=True, limit=5),
        todo=approvals_queries.todo(current_user, date.today()),
    )
