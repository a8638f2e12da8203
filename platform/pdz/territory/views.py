from __future__ import annotations

from typing import Any

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..inputs import EmptyForm, int32
from ..policy import guard
from ..webutil import Problems, run
from . import bp, services
from .models import Comune, SubAmbito


@bp.get("/comuni/")
@guard("comune.list")
def index() -> Any:
    sub_ambiti = list(
        db.session.scalars(select(SubAmbito).options(selectinload(SubAmbito.comuni)).order_by(SubAmbito.name))
    )
    unassigned = list(
        db.session.scalars(select(Comune).where(Comune.sub_ambito_id.is_(None)).order_by(Comune.name))
    )
    comuni = [c for s in sub_ambiti for c in s.comuni] + unassigned
    total = sum((c.population or 0) for c in comuni)
    shares = {  # each sub-ambito's share of the Ambito's population, in percent
        s.id: 100 * sum((c.population or 0) for c in s.comuni) / total if total else 0.0 for s in sub_ambiti
    }
    return render_template(
        "territory/index.html",
        sub_ambiti=sub_ambiti,
        unassigned=unassigned,
        total=total,
        shares=shares,
        years=sorted({c.population_year for c in comuni if c.population_year}),
        sources=sorted({c.population_source for c in comuni if c.population_source}),
    )


@bp.route("/comuni/<int:comune_id>/modifica", methods=["GET", "POST"])
@guard("comune.edit", Comune, "comune_id", "comune")
def edit(comune: Comune) -> Any:
    sub_ambiti = list(db.session.scalars(select(SubAmbito).order_by(SubAmbito.name)))
    errors: dict[str, str] = {}
    if request.method == "POST":
        if not EmptyForm().validate_on_submit():
            errors[""] = _("Il modulo è scaduto: ricarica la pagina e riprova.")
        else:
            raw_population = request.form.get("population", "").replace(".", "").strip()
            try:
                population = int32(raw_population) if raw_population else None
            except ValueError:
                errors["population"] = _("La popolazione deve essere un numero intero.")
                population = None
            if not errors:
                sub_ambito = db.session.get(SubAmbito, request.form.get("sub_ambito_id", type=int32) or 0)

                def updated(_result: Any) -> Any:
                    flash(_("Comune aggiornato."), "success")
                    return redirect(url_for("territory.index"))

                problems = Problems()
                return run(
                    lambda: services.assign_sub_ambito(comune, sub_ambito, population, actor=current_user),
                    updated,
                    page=lambda: render_template(
                        "territory/edit.html", comune=comune, sub_ambiti=sub_ambiti, errors=problems.errors
                    ),
                    form=problems,
                )
    return render_template("territory/edit.html", comune=comune, sub_ambiti=sub_ambiti, errors=errors), (
        422 if errors else 200
    )
