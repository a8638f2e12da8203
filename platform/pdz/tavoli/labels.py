"""Italian labels of the bodies' kinds and states and the mandates' states, registered into the shared
`labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import BodyKind, BodyStatus, MandateStatus

labels.LABELS.update(
    [
        (BodyKind.ASSEMBLEA_SINDACI, _l("Assemblea dei Sindaci")),
        (BodyKind.COMITATO_RISTRETTO, _l("Comitato Ristretto")),
        (BodyKind.ASSEMBLEA_SUB_AMBITO, _l("Assemblea di Sub-Ambito")),
        (BodyKind.UDP, _l("Ufficio di Piano")),
        (BodyKind.UDP_INTEGRATO, _l("Ufficio di Piano Integrato")),
        (BodyKind.COORDINAMENTO_TECNICO, _l("Coordinamento tecnico")),
        (BodyKind.TAVOLO, _l("Tavolo tematico")),
        (BodyKind.RETE, _l("Rete")),
        (BodyKind.GRUPPO_LAVORO, _l("Gruppo di lavoro")),
        (BodyKind.ORGANISMO, _l("Organismo")),
        (BodyStatus.ACTIVE, _l("Attivo")),
        (BodyStatus.SUSPENDED, _l("Sospeso")),
        (BodyStatus.CLOSED, _l("Concluso")),
        (MandateStatus.PROPOSED, _l("Proposta")),
        (MandateStatus.IN_FORCE, _l("Vigente")),
        (MandateStatus.SUPERSEDED, _l("Superata")),
        (MandateStatus.REJECTED, _l("Respinta")),
    ]
)
