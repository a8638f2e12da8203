from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from ..inputs import Form
from ..labels import choices, options
from .models import LegalForm, OrgKind


class OrganisationForm(Form):
    name = StringField(
        _l("Nome"),
        validators=[
            DataRequired(_l("Indica il nome dell'ente.")),
            Length(max=200, message=_l("Testo troppo lungo.")),
        ],
    )
    kind = SelectField(_l("Tipo di ente"), choices=[])
    legal_form = SelectField(_l("Forma giuridica (solo ETS)"), choices=[])
    runts_number = StringField(
        _l("Numero di iscrizione RUNTS"), validators=[Length(max=40, message=_l("Testo troppo lungo."))]
    )
    sub_ambito_ids = SelectMultipleField(
        _l("Sub-ambiti in cui opera"), coerce=int, choices=[], validate_choice=False
    )
    email = StringField(_l("E-mail"), validators=[Length(max=200)])
    website = StringField(_l("Sito web"), validators=[Length(max=200)])
    description = TextAreaField(
        _l("Descrizione"), validators=[Length(max=5000, message=_l("Testo troppo lungo."))]
    )

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(OrgKind)
        self.legal_form.choices = [*options([("", "—")]), *choices(LegalForm)]


class AdhesionForm(Form):
    cycle_id = IntegerField(_l("Piano di Zona"), validators=[Optional()])
    adhered_on = DateField(_l("Data di adesione"), validators=[Optional()])
