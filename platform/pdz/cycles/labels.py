"""Italian labels of the planning cycle's states and the sources of money, registered into the shared
`labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import SOURCE_LABELS, CycleStatus

labels.LABELS.update(
    [
        (CycleStatus.PREPARATION, _l("In preparazione")),
        (CycleStatus.RUNNING, _l("In corso")),
        (CycleStatus.CLOSED, _l("Concluso")),
        *[(source, _l(text)) for source, text in SOURCE_LABELS.items()],
    ]
)
