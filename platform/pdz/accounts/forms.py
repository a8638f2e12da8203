from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    EmailField,
    HiddenField,
    IntegerField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, Length, Optional

from ..inputs import Form, line_problem
from ..labels import label, options
from .models import Gender

EMAIL_REQUIRED = _l("Indica l'indirizzo e-mail.")
EMAIL_INVALID = _l("L'indirizzo e-mail non è valido.")

# Every form here derives from pdz.inputs.Form: a JSON body may hold texts and numbers only, and every
# one-line field (a StringField: names, e-mail addresses, codes, the hidden `next`) refuses control
# characters. The filters below keep what was accepted before: services strip an address's surrounding
# blanks and read only the letters and digits of a code, so a pasted tab or line break there stays harmless.


def _stripped(value: Any) -> Any:
    """An e-mail address without surrounding blanks (tabs and line breaks included)."""
    return value.strip() if isinstance(value, str) else value


def _code_on_one_line(value: Any) -> Any:
    """A code with its control characters (a pasted tab or line break) turned into spaces."""
    if not isinstance(value, str):
        return value
    return "".join(" " if line_problem(c) else c for c in value)


def _next_on_one_line(value: Any) -> Any:
    """Where to go after signing in: dropped (the home page) when it holds control characters, so that a
    hidden field nobody sees never stops a sign-in."""
    return "" if isinstance(value, str) and line_problem(value) else value


class LoginForm(Form):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(EMAIL_REQUIRED), Length(max=254)], filters=[_stripped]
    )
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Indica la password.")), Length(max=200)]
    )
    next = HiddenField(filters=[_next_on_one_line])


class ForgotForm(Form):
    email = EmailField(
        _l("E-mail"),
        validators=[DataRequired(EMAIL_REQUIRED), Email(EMAIL_INVALID), Length(max=254)],
        filters=[_stripped],
    )


class NewPasswordForm(Form):
    password = PasswordField(_l("Nuova password"), validators=[DataRequired(_l("Scegli una password."))])
    confirm = PasswordField(_l("Ripeti la password"), validators=[DataRequired(_l("Ripeti la password."))])


class AcceptInvitationForm(Form):
    full_name = StringField(
        _l("Nome e cognome"), validators=[Length(max=120, message=_l("Al massimo 120 caratteri."))]
    )
    password = PasswordField(_l("Scegli una password"))
    confirm = PasswordField(_l("Ripeti la password"))


class ProfileForm(Form):
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[
            DataRequired(_l("Indica nome e cognome.")),
            Length(max=120, message=_l("Al massimo 120 caratteri.")),
        ],
    )
    locale = SelectField(_l("Lingua"), choices=options([("it", "Italiano"), ("en", "English")]))
    gender = SelectField(
        _l("Come nominare i tuoi ruoli"),
        choices=options([("", _l("Non indicato"))]) + options([(g.value, label(g)) for g in Gender]),
        validate_choice=False,  # the service refuses anything else, in Italian
    )


class ChangePasswordForm(Form):
    current = PasswordField(
        _l("Password attuale"), validators=[DataRequired(_l("Indica la password attuale."))]
    )
    password = PasswordField(_l("Nuova password"), validators=[DataRequired(_l("Scegli una password."))])
    confirm = PasswordField(
        _l("Ripeti la nuova password"), validators=[DataRequired(_l("Ripeti la password."))]
    )


CODE_REQUIRED = _l("Indica il codice.")


class CodeForm(Form):
    """The second step of sign-in: a code from the authenticator app or a recovery code."""

    code = StringField(
        _l("Codice"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=40, message=_l("Codice non valido."))],
        filters=[_code_on_one_line],
    )
    remember = BooleanField(_l("Ricorda questo dispositivo"))


class EnrolForm(Form):
    """Confirms a new authenticator with its first code."""

    code = StringField(
        _l("Codice a 6 cifre"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=20, message=_l("Codice non valido."))],
        filters=[_code_on_one_line],
    )


class RecoveryCodesForm(Form):
    code = StringField(
        _l("Codice attuale dell'app"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=20, message=_l("Codice non valido."))],
        filters=[_code_on_one_line],
    )


class DisableSecondFactorForm(Form):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Indica la password.")), Length(max=200)]
    )


class ForgetDeviceForm(Form):
    device_id = IntegerField(validators=[Optional()])


class EndSessionForm(Form):
    session_id = IntegerField(validators=[DataRequired(_l("Sessione sconosciuta."))])
