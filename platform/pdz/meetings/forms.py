"""Meeting forms. Dates, times and numbers arrive as text and are parsed here: bad input -> None, and the
service answers with an Italian message next to the field."""

from __future__ import annotations

from datetime import date, datetime, time
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    HiddenField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.validators import Length

from ..inputs import Form, parse_int
from ..labels import choices
from .models import MajorityKind, QuorumKind, RsvpAnswer

TOO_LONG = _l("Testo troppo lungo.")


def parse_date(value: Any) -> date | None:
    try:
        return date.fromisoformat(value.strip()) if isinstance(value, str) else None
    except ValueError:
        return None


def parse_time(value: Any) -> time | None:
    try:
        return datetime.strptime(value.strip()[:5], "%H:%M").time() if isinstance(value, str) else None
    except ValueError:
        return None


class MeetingForm(Form):
    title = StringField(_l("Titolo"), validators=[Length(max=200, message=TOO_LONG)])
    day = StringField(_l("Data"), render_kw={"type": "date"})
    start = StringField(_l("Inizio (ora italiana)"), render_kw={"type": "time"})
    end = StringField(_l("Fine (ora italiana)"), render_kw={"type": "time"})
    place = StringField(_l("Luogo"), validators=[Length(max=300, message=TOO_LONG)])
    video_url = StringField(
        _l("Collegamento per la videochiamata"), validators=[Length(max=500, message=TOO_LONG)]
    )

    def values(self) -> dict[str, object]:
        return {
            "title": self.title.data or "",
            "day": parse_date(self.day.data),
            "start": parse_time(self.start.data),
            "end": parse_time(self.end.data),
            "place": self.place.data or "",
            "video_url": self.video_url.data or "",
        }


class AgendaItemForm(Form):
    version = HiddenField(default="1")
    title = StringField(_l("Titolo del punto"), validators=[Length(max=200, message=TOO_LONG)])
    description = TextAreaField(_l("Descrizione"), validators=[Length(max=5000, message=TOO_LONG)])
    presenter = StringField(_l("Chi lo presenta"), validators=[Length(max=200, message=TOO_LONG)])
    planned_minutes = StringField(_l("Minuti previsti"), render_kw={"inputmode": "numeric"})
    links = TextAreaField(_l("Documenti collegati"), validators=[Length(max=10000, message=TOO_LONG)])
    cards = SelectMultipleField(
        _l("Schede collegate"), choices=[], validate_choice=False
    )  # choices set by the view

    def values(self) -> dict[str, object]:
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "presenter": self.presenter.data or "",
            "planned_minutes": parse_int(self.planned_minutes.data),
            "links": self.links.data or "",
            # not a number -> 0, no card has it: the service refuses it with its message
            "card_ids": [parse_int(value) or 0 for value in self.cards.data or []],
        }


class ProposalForm(Form):
    """A member's proposed agenda item (prefixed: it shares the page with the co-coordinators' item form)."""

    title = StringField(_l("Titolo del punto che proponi"), validators=[Length(max=200, message=TOO_LONG)])
    description = TextAreaField(_l("Di cosa si tratta"), validators=[Length(max=5000, message=TOO_LONG)])
    cards = SelectMultipleField(_l("Schede di cui si parla"), choices=[], validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        kwargs.setdefault("prefix", "proposta")
        super().__init__(*args, **kwargs)

    def values(self) -> dict[str, object]:
        return {
            "title": self.title.data or "",
            "description": self.description.data or "",
            "card_ids": [parse_int(value) or 0 for value in self.cards.data or []],
        }


class RsvpForm(Form):
    answer = RadioField(_l("La tua risposta"), choices=[])
    delegate_id = SelectField(_l("Delego"), choices=[], validate_choice=False)

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.answer.choices = choices(RsvpAnswer)


class CheckinForm(Form):
    code = StringField(
        _l("Codice dell'incontro"),
        validators=[Length(max=20, message=TOO_LONG)],
        render_kw={"autocomplete": "off", "autocapitalize": "characters"},
    )


class RegisterForm(Form):
    user_id = SelectField(_l("Persona"), choices=[], validate_choice=False)
    stands_for_id = SelectField(_l("In rappresentanza di (delega)"), choices=[], validate_choice=False)


class MarkForm(Form):
    mark = SelectField(_l("Stato"), choices=[], validate_choice=False)
    at = StringField(_l("Ora"), render_kw={"type": "time"})


class DecisionForm(Form):
    item_id = SelectField(_l("Punto"), choices=[], validate_choice=False)
    text = TextAreaField(_l("Decisione"), validators=[Length(max=5000, message=TOO_LONG)])


class ActionForm(Form):
    item_id = SelectField(_l("Punto"), choices=[], validate_choice=False)
    title = StringField(_l("Azione"), validators=[Length(max=300, message=TOO_LONG)])
    owner_id = SelectField(_l("Responsabile"), choices=[], validate_choice=False)
    organisation_id = SelectField(_l("Ente"), choices=[], validate_choice=False)
    due_on = StringField(_l("Scadenza"), render_kw={"type": "date"})


class ApproveForm(Form):
    approving_meeting_id = SelectField(_l("Approvato nell'incontro del"), choices=[], validate_choice=False)


class QuorumForm(Form):
    kind = SelectField(_l("Regola del numero legale"), choices=[])
    numerator = StringField(_l("Numeratore"), default="1")
    denominator = StringField(_l("Denominatore"), default="2")
    weighted = BooleanField(_l("Pesato sulla popolazione dei comuni rappresentati"))
    majority = SelectField(_l("Maggioranza per approvare nelle votazioni"), choices=[])

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self.kind.choices = choices(QuorumKind)
        self.majority.choices = choices(MajorityKind)
