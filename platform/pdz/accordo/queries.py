"""The read side of the Accordo di Programma: its page, its Piano di Zona and the Assemblea's approval, the
signatures counted in SQL, the enti aderenti of the cycle, and the plan's state as the plan pages show it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import selectinload

from ..approvals.models import DocKind, PlanDocument, Submission, SubmissionStatus
from ..cycles.models import PlanningCycle
from ..extensions import db
from ..formatting import local
from ..orgs.models import Adhesion, Organisation, OrgKind
from .models import Accordo, AccordoSignatory


def of_cycle(cycle_id: int) -> Accordo | None:
    """The cycle's accordo with what its page shows (signatories, who recorded each signature, amendments)."""
    return db.session.scalar(
        select(Accordo)
        .where(Accordo.cycle_id == cycle_id)
        .options(
            selectinload(Accordo.cycle),
            selectinload(Accordo.signatories).selectinload(AccordoSignatory.organisation),
            selectinload(Accordo.signatories).selectinload(AccordoSignatory.recorded_by),
            selectinload(Accordo.amendments),
        )
    )


def all_accordi() -> list[Accordo]:
    return list(
        db.session.scalars(
            select(Accordo)
            .join(PlanningCycle, PlanningCycle.id == Accordo.cycle_id)
            .options(selectinload(Accordo.cycle))
            .order_by(PlanningCycle.start_year.desc())
        )
    )


def plan_of(cycle_id: int) -> PlanDocument | None:
    """The cycle's Piano di Zona (one per cycle: its year is the cycle's first)."""
    return db.session.scalar(
        select(PlanDocument)
        .where(PlanDocument.cycle_id == cycle_id, PlanDocument.kind == DocKind.PIANO_DI_ZONA)
        .order_by(PlanDocument.id)
        .limit(1)
    )


def _first_approval(cycle_id: int) -> Select[Any]:
    """When the Assemblea dei Sindaci first approved the cycle's Piano di Zona (NULL: not yet)."""
    return (
        select(func.min(Submission.decided_at))
        .join(PlanDocument, PlanDocument.id == Submission.document_id)
        .where(
            Submission.document_kind == DocKind.PIANO_DI_ZONA,
            Submission.status == SubmissionStatus.APPROVED,
            PlanDocument.kind == DocKind.PIANO_DI_ZONA,
            PlanDocument.cycle_id == cycle_id,
        )
    )


def approved_on(cycle_id: int) -> date | None:
    """The day (in Rome) the Assemblea dei Sindaci first approved the cycle's Piano di Zona, or None."""
    decided = db.session.scalar(_first_approval(cycle_id))
    return local(decided).date() if decided is not None else None


def signature_counts(accordo_id: int) -> tuple[int, int]:
    """(signed, signatories) of an accordo."""
    signed, total = db.session.execute(
        select(func.count(AccordoSignatory.signed_on), func.count(AccordoSignatory.id)).where(
            AccordoSignatory.accordo_id == accordo_id
        )
    ).one()
    return int(signed), int(total)


def adherents(cycle_id: int) -> list[tuple[Organisation, date]]:
    """The enti aderenti of the cycle: the third-sector bodies' adhesions, by name."""
    rows = db.session.execute(
        select(Organisation, Adhesion.adhered_on)
        .join(Adhesion, Adhesion.organisation_id == Organisation.id)
        .where(Adhesion.cycle_id == cycle_id, Organisation.kind == OrgKind.ETS)
        .order_by(Organisation.name)
    )
    return [(org, adhered_on) for org, adhered_on in rows]


def candidates(accordo: Accordo) -> list[Organisation]:
    """Public bodies that may be added as signatories (not yet among them)."""
    taken = select(AccordoSignatory.organisation_id).where(AccordoSignatory.accordo_id == accordo.id)
    return list(
        db.session.scalars(
            select(Organisation)
            .where(
                Organisation.kind.in_(
                    [OrgKind.ASST, OrgKind.ATS, OrgKind.PUBLIC, OrgKind.AZIENDA_CONSORTILE]
                ),
                Organisation.id.not_in(taken),
            )
            .order_by(Organisation.name)
        )
    )


@dataclass(frozen=True)
class PlanSigning:
    """Where the Piano di Zona stands once the Assemblea approved it: the accordo's signatures."""

    cycle_id: int
    approved: bool
    has_accordo: bool
    signed: int
    total: int

    @property
    def complete(self) -> bool:
        return self.approved and self.has_accordo and self.total > 0 and self.signed == self.total


def plan_signing(plan: PlanDocument) -> PlanSigning | None:
    """The approval state the Piano di Zona pages show; None for other plan documents."""
    if plan.kind != DocKind.PIANO_DI_ZONA:
        return None
    # The approval, the cycle's accordo (one per cycle) and its signature counts in one statement of scalar
    # subqueries, which always gives one row (NULL where there is no approval or no accordo).
    signatures = select(AccordoSignatory).join(Accordo).where(Accordo.cycle_id == plan.cycle_id).subquery()
    decided, accordo_id, signed, total = db.session.execute(
        select(
            _first_approval(plan.cycle_id).scalar_subquery(),
            select(Accordo.id).where(Accordo.cycle_id == plan.cycle_id).limit(1).scalar_subquery(),
            select(func.count(signatures.c.signed_on)).scalar_subquery(),
            select(func.count(signatures.c.id)).scalar_subquery(),
        )
    ).one()
    approved = decided is not None
    return PlanSigning(plan.cycle_id, approved, accordo_id is not None, int(signed or 0), int(total or 0))
