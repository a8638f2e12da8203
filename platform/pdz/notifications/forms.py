from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import RadioField

from ..inputs import Form
from .models import MailMode

MODE_LABELS = {
    MailMode.IMMEDIATE: _l("E-mail subito"),
    MailMode.DIGEST: _l("Nel riepilogo giornaliero"),
    MailMode.NEVER: _l("Nessuna e-mail (solo nella piattaforma)"),
}


class PreferencesForm(Form):
    mentions = RadioField(_l("Quando qualcuno mi menziona"), choices=[])
    others = RadioField(
        _l("Risposte ai miei commenti e nuovi commenti nelle discussioni che seguo"), choices=[]
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        options = [(mode.value, str(label)) for mode, label in MODE_LABELS.items()]
        self.mentions.choices = options
        self.others.choices = options
