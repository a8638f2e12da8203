"""Pages of the audit log ("Registro delle operazioni"): the filtered, paged list and its CSV."""

from __future__ import annotations

from typing import Any

from flask import render_template, request
from flask_babel import lazy_gettext as _l
from wtforms import Form, IntegerField, SelectField, StringField
from wtforms.fields import DateField
from wtforms.validators import Length, NumberRange, Optional

from ..exports import csv_response
from ..policy import guard
from . import audit_queries, bp


class AuditFilterForm(Form):
    """Read from the query string (a GET form: no CSRF token, nothing changes)."""

    persona = StringField(_l("Persona"), validators=[Optional(), Length(max=120)])
    chi = IntegerField(validators=[Optional(), NumberRange(min=1)])
    tipo = SelectField(_l("Operazione"), validators=[Optional()])
    oggetto = SelectField(_l("Tipo di oggetto"), validators=[Optional()])
    dal = DateField(_l("Dal"), validators=[Optional()])
    al = DateField(_l("Al"), validators=[Optional()])
    pagina = IntegerField(validators=[Optional(), NumberRange(min=1, max=100_000)])

    def __init__(self, formdata: Any) -> None:
        super().__init__(formdata)
        self.tipo.choices = [("", _l("Tutte le operazioni")), *audit_queries.kind_choices()]
        self.oggetto.choices = [("", _l("Tutti gli oggetti")), *audit_queries.object_type_choices()]

    def filters(self) -> audit_queries.Filters:
        """The valid filters; a field with an error is left out (and shown with its message)."""
        ok = {name for name, field in self._fields.items() if not field.errors}

        def value(name: str) -> Any:
            return self._fields[name].data if name in ok else None

        return audit_queries.Filters(
            person=(value("persona") or "").strip(),
            actor_id=value("chi"),
            kind=value("tipo") or "",
            object_type=value("oggetto") or "",
            since=value("dal"),
            until=value("al"),
        )


def _form() -> tuple[AuditFilterForm, audit_queries.Filters]:
    form = AuditFilterForm(request.args)
    form.validate()
    return form, form.filters()


@bp.get("/admin/registro")
@guard("audit.view")
def audit_log() -> Any:
    form, filters = _form()
    number = form.pagina.data if not form.pagina.errors and form.pagina.data else 1
    rows, total = audit_queries.page(filters, number)
    pages = max(1, -(-total // audit_queries.PER_PAGE))
    args = {k: v for k, v in request.args.items() if k != "pagina" and v}
    status = 422 if form.errors else 200
    return render_template(
        "admin/audit.html",
        form=form,
        filters=filters,
        rows=rows,
        total=total,
        number=number,
        pages=pages,
        args=args,
        everyone={k: v for k, v in args.items() if k != "chi"},
    ), status


@bp.get("/admin/registro.csv")
@guard("audit.view")
def audit_log_csv() -> Any:
    _form_, filters = _form()
    return csv_response(audit_queries.csv_rows(filters), "registro-operazioni.csv", excel_bom=True)
