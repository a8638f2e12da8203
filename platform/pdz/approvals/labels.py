"""Italian labels of the approval enums, registered into the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import BallotOutcome, BallotStatus, DocKind, EventAction, StepMode, SubmissionStatus, VoteChoice

labels.LABELS.update(
    [
        (DocKind.CARD, _l("Scheda obiettivo")),
        (DocKind.SWOT, _l("Autovalutazione SWOT")),
        (DocKind.MINUTES, _l("Verbale")),
        (DocKind.PIANO_OPERATIVO, _l("Piano Operativo")),
        (DocKind.REPORT_ANNUALE, _l("Report Annuale")),
        (DocKind.PIANO_DI_ZONA, _l("Piano di Zona")),
        (StepMode.REVIEW, _l("Esame")),
        (StepMode.VOTE, _l("Votazione")),
        (SubmissionStatus.IN_REVIEW, _l("In esame")),
        (SubmissionStatus.AWAITING_VOTE, _l("In attesa di votazione")),
        (SubmissionStatus.SENT_BACK, _l("Restituita con richieste di modifica")),
        (SubmissionStatus.APPROVED, _l("Approvata")),
        (SubmissionStatus.REJECTED, _l("Respinta")),
        (EventAction.SUBMITTED, _l("Inviata per l'approvazione")),
        (EventAction.FORWARDED, _l("Inoltrata al passaggio successivo")),
        (EventAction.SENT_BACK, _l("Restituita con richieste di modifica")),
        (EventAction.SCHEDULED, _l("Iscritta all'ordine del giorno")),
        (EventAction.VOTE_OPENED, _l("Votazione aperta")),
        (EventAction.VOTE_CLOSED, _l("Votazione chiusa")),
        (EventAction.APPROVED, _l("Approvata")),
        (EventAction.REJECTED, _l("Respinta")),
        (BallotStatus.SCHEDULED, _l("Da aprire")),
        (BallotStatus.OPEN, _l("Aperta")),
        (BallotStatus.CLOSED, _l("Chiusa")),
        (BallotOutcome.APPROVED, _l("Approvato")),
        (BallotOutcome.REJECTED, _l("Respinto")),
        (BallotOutcome.NO_QUORUM, _l("Quorum non raggiunto")),
        (VoteChoice.FOR, _l("Favorevole")),
        (VoteChoice.AGAINST, _l("Contrario")),
        (VoteChoice.ABSTAIN, _l("Astenuto")),
    ]
)
