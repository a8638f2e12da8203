"""Italian labels of the card's enums (status, indicator sets and kinds), registered into the shared
`labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import CardStatus
from .rows import INDICATOR_KIND_LABELS, INDICATOR_SET_LABELS

labels.LABELS.update(
    [
        (CardStatus.DRAFT, _l("Bozza")),
        (CardStatus.REVIEW, _l("In approvazione")),
        (CardStatus.AGREED, _l("Approvata")),
        *[(key, _l(text)) for key, text in INDICATOR_SET_LABELS.items()],
        *[(key, _l(text)) for key, text in INDICATOR_KIND_LABELS.items()],
    ]
)
