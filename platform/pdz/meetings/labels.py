"""Italian labels of the meeting enums, registered into the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import (
    ActionStatus,
    AttendanceStatus,
    MajorityKind,
    MeetingStatus,
    MinutesStatus,
    ProposalStatus,
    QuorumKind,
    RsvpAnswer,
)

labels.LABELS.update(
    [
        (MeetingStatus.DRAFT, _l("Bozza")),
        (MajorityKind.PRESENT, _l("Maggioranza dei presenti (gli astenuti contano come presenti)")),
        (MajorityKind.VOTERS, _l("Più favorevoli che contrari (maggioranza dei votanti)")),
        (MeetingStatus.CONVENED, _l("Convocato")),
        (MeetingStatus.IN_PROGRESS, _l("In corso")),
        (MeetingStatus.CONCLUDED, _l("Concluso")),
        (MeetingStatus.CANCELLED, _l("Annullato")),
        (MinutesStatus.DRAFT, _l("Verbale in bozza")),
        (MinutesStatus.APPROVED, _l("Verbale approvato")),
        (RsvpAnswer.YES, _l("Partecipo")),
        (RsvpAnswer.NO, _l("Non partecipo")),
        (RsvpAnswer.DELEGATE, _l("Delego una persona del mio ente")),
        (AttendanceStatus.PRESENT, _l("Presente")),
        (AttendanceStatus.ABSENT, _l("Assente")),
        (AttendanceStatus.EXCUSED, _l("Assente giustificato")),
        (AttendanceStatus.REPRESENTED, _l("Rappresentato da delegato")),
        (ProposalStatus.PENDING, _l("Proposta, da valutare")),
        (ProposalStatus.ACCEPTED, _l("Accettata")),
        (ProposalStatus.DECLINED, _l("Respinta")),
        (ActionStatus.OPEN, _l("Aperta")),
        (ActionStatus.DONE, _l("Completata")),
        (QuorumKind.NONE, _l("Nessun numero legale")),
        (QuorumKind.MAJORITY, _l("Maggioranza dei componenti")),
        (QuorumKind.FRACTION, _l("Frazione dei componenti")),
    ]
)
