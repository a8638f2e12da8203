"""Italian labels of people's functions, staff roles, invitation states and membership roles, registered into
the shared `labels.LABELS`."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

from .. import labels
from .models import Function, Gender, InvitationStatus, MembershipRole, StaffRole

labels.LABELS.update(
    [
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
        (MembershipRole.MEMBER, _l("Componente")),
        (MembershipRole.COORD_PUBLIC, _l("Co-coordinatore (parte pubblica)")),
        (MembershipRole.COORD_ETS, _l("Co-coordinatore (Terzo Settore)")),
        (MembershipRole.SECRETARY, _l("Segreteria")),
        (MembershipRole.OBSERVER, _l("Osservatore")),
        (MembershipRole.DELEGATE, _l("Delegato del Sindaco")),
    ]
)

labels.LABELS.update(
    [
        (Gender.FEMININE, _l("Femminile: Co-coordinatrice")),
        (Gender.MASCULINE, _l("Maschile: Co-coordinatore")),
    ]
)

# Feminine forms (the masculine ones above are also the forms used when a person's gender is not known).
labels.FEMININE.update(
    [
        (Function.SINDACO, _l("Sindaca")),
        (Function.ASSESSORE, _l("Assessora")),
        (Function.CONSIGLIERE, _l("Consigliera delegata")),
        (Function.COORDINATORE, _l("Coordinatrice")),
        (Function.FUNZIONARIO, _l("Funzionaria")),
        (Function.OPERATORE, _l("Operatrice")),
        (Function.VOLONTARIO, _l("Volontaria")),
        (StaffRole.ADMIN, _l("Amministratrice della piattaforma")),
        (MembershipRole.COORD_PUBLIC, _l("Co-coordinatrice (parte pubblica)")),
        (MembershipRole.COORD_ETS, _l("Co-coordinatrice (Terzo Settore)")),
        (MembershipRole.OBSERVER, _l("Osservatrice")),
        (MembershipRole.DELEGATE, _l("Delegata del Sindaco")),
    ]
)
