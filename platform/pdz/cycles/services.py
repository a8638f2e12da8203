"""Planning cycles: the UdP opens a Piano di Zona cycle with its years and moves it through its states."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, policy
from ..accounts.models import User
from ..errors import Invalid
from ..extensions import db
from .models import CycleStatus, CycleYear, PlanningCycle


def create_cycle(start_year: int | None, end_year: int | None, *, actor: User) -> PlanningCycle:
    policy.require(actor, "cycle.manage")
    if start_year is None or end_year is None or not (2000 <= start_year <= 2100):
        raise Invalid(errors={"start_year": _("Indica l'anno di inizio e quello di fine.")})
    if not 0 <= end_year - start_year <= 5:
        raise Invalid(errors={"end_year": _("Un ciclo dura da uno a sei anni e finisce dopo l'inizio.")})
    overlap = db.session.scalar(
        select(func.count(PlanningCycle.id)).where(
            PlanningCycle.start_year <= end_year, PlanningCycle.end_year >= start_year
        )
    )
    if overlap:
        raise Invalid(errors={"start_year": _("Gli anni si sovrappongono a un ciclo esistente.")})
    cycle = PlanningCycle(
        name=f"Piano di Zona {start_year}-{end_year}", start_year=start_year, end_year=end_year
    )
    db.session.add(cycle)
    db.session.flush()
    for year in range(start_year, end_year + 1):
        db.session.add(CycleYear(cycle_id=cycle.id, year=year))
    audit.record(actor, "cycle.created", cycle, {"start_year": start_year, "end_year": end_year})
    return cycle


ALLOWED = {
    CycleStatus.PREPARATION: {CycleStatus.RUNNING},
    CycleStatus.RUNNING: {CycleStatus.CLOSED},
    CycleStatus.CLOSED: set(),
}


def set_status(cycle: PlanningCycle, status: CycleStatus, *, actor: User) -> None:
    policy.require(actor, "cycle.manage", cycle)
    if status not in ALLOWED[cycle.status]:
        raise Invalid(_("Passaggio di stato non consentito."))
    if status == CycleStatus.RUNNING and db.session.scalar(
        select(PlanningCycle.id).where(
            PlanningCycle.status == CycleStatus.RUNNING, PlanningCycle.id != cycle.id
        )
    ):
        raise Invalid(_("C'è già un ciclo in corso: concludilo prima di avviarne un altro."))
    before = cycle.status
    cycle.status = status
    audit.record(actor, "cycle.status_changed", cycle, {"before": before.value, "after": status.value})
