"""Italian labels (translatable) for every enum value shown to users."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms.fields.choices import SelectChoice

from .accounts.models import Function, InvitationStatus, StaffRole
from .cycles.models import CycleStatus
from .evaluation.models import Answer, Dimension, Quadrant, SwotKind, SwotStatus
from .orgs.models import LegalForm, OrgKind
from .tavoli.models import BodyKind, BodyStatus, MandateStatus, MembershipRole
from .territory.models import AssignmentSource


class EnumLabels(dict):  # type: ignore[type-arg]
    """Labels keyed by (enum class, value): two enums may share a value ("bozza") with different labels."""

    @staticmethod
    def _key(key: Any) -> Any:
        return (type(key), key.value) if isinstance(key, StrEnum) else key

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(self._key(key), value)

    def __getitem__(self, key: Any) -> Any:
        return super().__getitem__(self._key(key))

    def __contains__(self, key: object) -> bool:
        return super().__contains__(self._key(key))

    def get(self, key: Any, default: Any = None) -> Any:
        return super().get(self._key(key), default)

    def update(self, pairs: Any = (), /, **kwargs: Any) -> None:  # type: ignore[override]
        """Takes (key, label) pairs: a dict literal would already have merged enum members of equal value."""
        if isinstance(pairs, dict):
            raise TypeError("EnumLabels.update takes a list of (key, label) pairs, not a dict")
        for key, value in [*pairs, *kwargs.items()]:
            self[key] = value


LABELS = EnumLabels()
LABELS.update(
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
        (LegalForm.ALTRO_ETS, _l("Altro ETS")),
        (Function.SINDACO, _l("Sindaco")),
        (Function.ASSESSORE, _l("Assessore")),
        (Function.CONSIGLIERE, _l("Consigliere delegato")),
        (Function.ASSISTENTE_SOCIALE, _l("Assistente sociale")),
        (Function.REFERENTE_ETS, _l("Referente ETS")),
        (Function.COORDINATORE, _l("Coordinatore")),
        (Function.DIRIGENTE, _l("Dirigente")),
        (Function.FUNZIONARIO, _l("Funzionario")),
        (Function.OPERATORE, _l("Operatore")),
        (Function.VOLONTARIO, _l("Volontario")),
        (Function.ALTRO, _l("Altro")),
        (StaffRole.ADMIN, _l("Amministratore della piattaforma")),
        (StaffRole.UDP, _l("Ufficio di Piano")),
        (InvitationStatus.PENDING, _l("In attesa")),
        (InvitationStatus.ACCEPTED, _l("Accettato")),
        (InvitationStatus.REVOKED, _l("Revocato")),
        (CycleStatus.PREPARATION, _l("In preparazione")),
        (CycleStatus.RUNNING, _l("In corso")),
        (CycleStatus.CLOSED, _l("Concluso")),
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
        (MembershipRole.MEMBER, _l("Componente")),
        (MembershipRole.COORD_PUBLIC, _l("Co-coordinatore (parte pubblica)")),
        (MembershipRole.COORD_ETS, _l("Co-coordinatore (Terzo Settore)")),
        (MembershipRole.SECRETARY, _l("Segreteria")),
        (MembershipRole.OBSERVER, _l("Osservatore")),
        (MembershipRole.DELEGATE, _l("Delegato del Sindaco")),
        (MandateStatus.PROPOSED, _l("Proposta")),
        (MandateStatus.IN_FORCE, _l("Vigente")),
        (MandateStatus.SUPERSEDED, _l("Superata")),
        (MandateStatus.REJECTED, _l("Respinta")),
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
        (AssignmentSource.DOCUMENTED, _l("Dai documenti")),
        (AssignmentSource.TO_CHECK, _l("Da verificare")),
        (AssignmentSource.CONFIRMED, _l("Verificata")),
    ]
)


def label(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, StrEnum):
        return str(LABELS.get(value, value.value))
    return str(value)


def options(pairs: list[tuple[Any, Any]]) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices (tuples are deprecated in WTForms 3.3)."""
    return [SelectChoice(value, str(text)) for value, text in pairs]


def choices(enum: type[StrEnum]) -> list[SelectChoice]:
    return options([(member.value, label(member)) for member in enum])
