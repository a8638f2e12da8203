"""Italian labels of where a comune's sub-ambito comes from, registered into the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import AssignmentSource

labels.LABELS.update(
    [
        (AssignmentSource.DOCUMENTED, _l("Dai documenti")),
        (AssignmentSource.TO_CHECK, _l("Da verificare")),
        (AssignmentSource.CONFIRMED, _l("Verificata")),
    ]
)
