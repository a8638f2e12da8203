from __future__ import annotations

from flask_babel import gettext as _

from .. import audit, policy
from ..accounts.models import User
from ..errors import Invalid
from .models import AssignmentSource, Comune, SubAmbito


def assign_sub_ambito(
    comune: Comune, sub_ambito: SubAmbito | None, population: int | None, *, actor: User
) -> None:
    policy.require(actor, "comune.edit", comune)
    if sub_ambito is None:
        raise Invalid(errors={"sub_ambito_id": _("Scegli un sub-ambito dall'elenco.")})
    if population is not None and not (0 < population < 10_000_000):
        raise Invalid(errors={"population": _("La popolazione deve essere un numero positivo.")})
    before = {"sub_ambito_id": comune.sub_ambito_id, "population": comune.population}
    comune.sub_ambito_id = sub_ambito.id
    comune.assignment = AssignmentSource.CONFIRMED
    if population is not None and population != comune.population:
        comune.population, comune.population_source = population, _("aggiornata dall'Ufficio di Piano")
    audit.record(actor, "comune.updated", comune, {"before": before, "sub_ambito_id": sub_ambito.id})
