"""Italian labels of the self-evaluation's dimensions, quadrants, kinds, states and answers, registered into
the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import Answer, Dimension, Quadrant, SwotKind, SwotStatus

labels.LABELS.update(
    [
        (Dimension.MANDATE, _l("Mandato: grado di realizzazione delle azioni")),
        (Dimension.BUDGET, _l("Budget: uso delle risorse monetarie e non monetarie")),
        (Dimension.OUTCOMES, _l("Indicatori di esito rilevati")),
        (Dimension.ORGANISATION, _l("Organizzazione e trasversalità tra gli obiettivi")),
        (Dimension.GOVERNANCE, _l("Governance: decisioni, monitoraggio, comunicazione")),
        (Quadrant.STRENGTH, _l("Punti di forza")),
        (Quadrant.WEAKNESS, _l("Punti di debolezza")),
        (Quadrant.OPPORTUNITY, _l("Opportunità")),
        (Quadrant.THREAT, _l("Minacce")),
        (SwotKind.ANNUAL, _l("Annuale")),
        (SwotKind.END_OF_CYCLE, _l("Fine ciclo")),
        (SwotStatus.OPEN, _l("Aperta")),
        (SwotStatus.CLOSED, _l("Chiusa e consegnata all'UdP Integrato")),
        (Answer.YES, _l("Sì")),
        (Answer.NO, _l("No")),
        (Answer.PARTLY, _l("In parte")),
        (Answer.NOT_GIVEN, _l("Non indicato")),
    ]
)
