from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import (
    EmailField,
    HiddenField,
    IntegerField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..accounts.models import Function
from ..inputs import Form
from ..labels import choices, options
from ..tavoli.models import BodyKind, BodyStatus, MembershipRole

TOO_LONG = _l("Testo troppo lungo.")


class BodyForm(Form):
    name = StringField(
        _l("Nome"), validators=[DataRequired(_l("Indica il nome.")), Length(max=200, message=TOO_LONG)]
    )
    short_name = StringField(_l("Nome breve"), validators=[Length(max=80, message=TOO_LONG)])
    kind = SelectField(_l("Tipo"), choices=[])
    status = SelectField(_l("Stato"), choices=[])
    area_ids = SelectMultipleField(_l("Aree di policy"), coerce=int, choices=[], validate_choice=False)
    description = TextAreaField(_l("Descrizione"), validators=[Length(max=5000, message=TOO_LONG)])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(BodyKind)
        self.status.choices = choices(BodyStatus)


# The parts of a mandate, as the co-written draft's editors name them.
MANDATE_LABELS = {
    "finalita": _l("Finalità"),
    "attivita": _l("Attività"),
    "tempi": _l("Tempi"),
    "step_valutazione": _l("Step di valutazione"),
    "risorse_umane": _l("Risorse umane"),
}


class InviteForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[
            DataRequired(_l("Indica l'indirizzo e-mail.")),
            Email(_l("L'indirizzo e-mail non è valido.")),
            Length(max=254),
        ],
    )
    full_name = StringField(_l("Nome e cognome"), validators=[Length(max=120, message=TOO_LONG)])
    organisation_id = IntegerField(_l("Ente rappresentato"), validators=[Optional()])
    role = SelectField(_l("Ruolo"), choices=[])
    function = SelectField(_l("Funzione nell'ente"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = choices(MembershipRole)
        self.function.choices = choices(Function)


class RoleForm(Form):
    membership_id = HiddenField()
    role = SelectField(_l("Ruolo"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.role.choices = choices(MembershipRole)


class DecisionForm(Form):
    decision = SelectField(choices=options([("accept", _l("Approva")), ("reject", _l("Respingi"))]))
