"""Italian labels of the organisations' kinds and legal forms, registered into the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import LegalForm, OrgKind

labels.LABELS.update(
    [
        (OrgKind.COMUNE, _l("Comune")),
        (OrgKind.ETS, _l("Ente del Terzo Settore")),
        (OrgKind.ASST, _l("ASST")),
        (OrgKind.ATS, _l("ATS")),
        (OrgKind.AZIENDA_CONSORTILE, _l("Azienda consortile")),
        (OrgKind.UDP, _l("Ufficio di Piano")),
        (OrgKind.PUBLIC, _l("Altro ente pubblico")),
        (OrgKind.SCHOOL, _l("Scuola")),
        (OrgKind.UNION, _l("Sindacato")),
        (OrgKind.OTHER, _l("Altro")),
        (LegalForm.APS, _l("APS – Associazione di promozione sociale")),
        (LegalForm.ODV, _l("ODV – Organizzazione di volontariato")),
        (LegalForm.COOPERATIVA, _l("Cooperativa sociale / impresa sociale")),
        (LegalForm.FONDAZIONE, _l("Fondazione")),
        (LegalForm.CONSORZIO, _l("Consorzio")),
        (LegalForm.ALTRO_ETS, _l("Altro ETS")),
    ]
)
