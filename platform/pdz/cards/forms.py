from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length

from ..inputs import Form


class NewCardForm(Form):
    title = StringField(
        _l("Titolo dell'intervento"),
        validators=[DataRequired(_l("Scrivi il titolo della scheda.")), Length(max=300)],
    )
    area_id = SelectField(_l("Area di policy"), coerce=int, choices=[], validate_choice=False)


class MoveForm(Form):
    body_id = SelectField(_l("Sposta nel tavolo"), coerce=int, choices=[], validate_choice=False)
