from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField

from .models import MailMode


class PreferencesForm(FlaskForm):
    mentions = RadioField(
        _l("Quando qualcuno mi menziona"),
        choices=[
            (MailMode.IMMEDIATE.value, _l("E-mail subito")),
            (MailMode.DIGEST.value, _l("Nel riepilogo giornaliero")),
            (MailMode.NEVER.value, _l("Nessuna e-mail (solo nella piattaforma)")),
        ],
    )
    others = RadioField(
        _l("Risposte ai miei commenti e nuovi commenti nelle discussioni che seguo"),
        choices=[
            (MailMode.IMMEDIATE.value, _l("E-mail subito")),
            (MailMode.DIGEST.value, _l("Nel riepilogo giornaliero")),
            (MailMode.NEVER.value, _l("Nessuna e-mail (solo nella piattaforma)")),
        ],
    )
