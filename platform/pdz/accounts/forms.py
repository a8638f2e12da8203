from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
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

from ..labels import options

EMAIL_REQUIRED = _l("Indica l'indirizzo e-mail.")
EMAIL_INVALID = _l("L'indirizzo e-mail non è valido.")


class LoginForm(FlaskForm):
    email = EmailField(_l("E-mail"), validators=[DataRequired(EMAIL_REQUIRED), Length(max=254)])
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Indica la password.")), Length(max=200)]
    )
    next = HiddenField()


class ForgotForm(FlaskForm):
    email = EmailField(
        _l("E-mail"), validators=[DataRequired(EMAIL_REQUIRED), Email(EMAIL_INVALID), Length(max=254)]
    )


class NewPasswordForm(FlaskForm):
    password = PasswordField(_l("Nuova password"), validators=[DataRequired(_l("Scegli una password."))])
    confirm = PasswordField(_l("Ripeti la password"), validators=[DataRequired(_l("Ripeti la password."))])


class AcceptInvitationForm(FlaskForm):
    full_name = StringField(
        _l("Nome e cognome"), validators=[Length(max=120, message=_l("Al massimo 120 caratteri."))]
    )
    password = PasswordField(_l("Scegli una password"))
    confirm = PasswordField(_l("Ripeti la password"))


class ProfileForm(FlaskForm):
    full_name = StringField(
        _l("Nome e cognome"),
        validators=[
            DataRequired(_l("Indica nome e cognome.")),
            Length(max=120, message=_l("Al massimo 120 caratteri.")),
        ],
    )
    locale = SelectField(_l("Lingua"), choices=options([("it", "Italiano"), ("en", "English")]))


class ChangePasswordForm(FlaskForm):
    current = PasswordField(
        _l("Password attuale"), validators=[DataRequired(_l("Indica la password attuale."))]
    )
    password = PasswordField(_l("Nuova password"), validators=[DataRequired(_l("Scegli una password."))])
    confirm = PasswordField(
        _l("Ripeti la nuova password"), validators=[DataRequired(_l("Ripeti la password."))]
    )


class EmptyForm(FlaskForm):
    """A form with only the CSRF token, for POST buttons."""


CODE_REQUIRED = _l("Indica il codice.")


class CodeForm(FlaskForm):
    """The second step of sign-in: a code from the authenticator app or a recovery code."""

    code = StringField(
        _l("Codice"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=40, message=_l("Codice non valido."))],
    )
    remember = BooleanField(_l("Ricorda questo dispositivo"))


class EnrolForm(FlaskForm):
    """Confirms a new authenticator with its first code."""

    code = StringField(
        _l("Codice a 6 cifre"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=20, message=_l("Codice non valido."))],
    )


class RecoveryCodesForm(FlaskForm):
    code = StringField(
        _l("Codice attuale dell'app"),
        validators=[DataRequired(CODE_REQUIRED), Length(max=20, message=_l("Codice non valido."))],
    )


class DisableSecondFactorForm(FlaskForm):
    password = PasswordField(
        _l("Password"), validators=[DataRequired(_l("Indica la password.")), Length(max=200)]
    )


class ForgetDeviceForm(FlaskForm):
    device_id = IntegerField(validators=[Optional()])


class EndSessionForm(FlaskForm):
    session_id = IntegerField(validators=[DataRequired(_l("Sessione sconosciuta."))])
