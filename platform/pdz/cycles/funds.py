"""Money by fund and by year: the allocations the Assemblea dei Sindaci decides, the split of each card's
budget lines over the years of the cycle, and the comparison of the two.

Amounts are integer cents. A line's split sums exactly to the line: evenly by default, the remainder cents on
the last year (`even_split`).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, policy, signals
from ..errors import Invalid
from ..extensions import db
from ..inputs import line_problem
from ..money import format_cents, parse_amount
from .models import SOURCE_LABELS, BudgetLineYear, BudgetSource, FundAllocation, PlanningCycle

MAX_ALLOCATION_CENTS = 2**31 - 1


def even_split(amount_cents: int, years: list[int]) -> dict[int, int]:
    """`amount_cents` over `years` in equal parts; the cents that do not divide go to the last year."""
    if not years:
        return {}
    share, rest = divmod(amount_cents, len(years))
    split = dict.fromkeys(years, share)
    split[years[-1]] += rest
    return split


def cycle_years(cycle: PlanningCycle) -> list[int]:
    return list(range(cycle.start_year, cycle.end_year + 1))


def split_of(line_id: int | None) -> dict[int, int]:
    """The stored split of a budget line, by year ({} for a new line or a line without an amount)."""
    if line_id is None:
        return {}
    rows = db.session.execute(
        select(BudgetLineYear.year, BudgetLineYear.amount_cents)
        .where(BudgetLineYear.line_id == line_id)
        .order_by(BudgetLineYear.year)
    ).all()
    return {int(year): int(cents) for year, cents in rows}


def splits_of(line_ids: list[int]) -> dict[int, dict[int, int]]:
    """The splits of many lines in one query."""
    found: dict[int, dict[int, int]] = defaultdict(dict)
    if line_ids:
        for line_id, year, cents in db.session.execute(
            select(BudgetLineYear.line_id, BudgetLineYear.year, BudgetLineYear.amount_cents)
            .where(BudgetLineYear.line_id.in_(line_ids))
            .order_by(BudgetLineYear.line_id, BudgetLineYear.year)
        ):
            found[int(line_id)][int(year)] = int(cents)
    return found


def check_split(split: dict[int, int], amount_cents: int, years: list[int]) -> None:
    """A split given by a person: exactly the cycle's years, no negative part, and the line's amount in total."""
    if sorted(split) != years:
        raise Invalid(
            errors={
                "years": _(
                    "Ripartisci l'importo sugli anni del Piano: %(years)s.",
                    years=", ".join(str(y) for y in years),
                )
            }
        )
    if any(cents < 0 for cents in split.values()):
        raise Invalid(errors={"years": _("La quota di un anno non può essere negativa.")})
    total = sum(split.values())
    if total != amount_cents:
        raise Invalid(
            errors={
                "years": _(
                    "Le quote per anno sommano %(sum)s ma l'importo della voce è %(amount)s: correggile, "
                    "oppure lascia vuoto il campo per ripartire l'importo in parti uguali.",
                    sum=format_cents(total),
                    amount=format_cents(amount_cents),
                )
            }
        )


# --- allocations ---------------------------------------------------------------------------------------


def add_allocation(
    year: int | None, source: str, name: str, act: str, amount: str, *, actor: Any
) -> FundAllocation:
    policy.require(actor, "plan.manage")
    errors: dict[str, str] = {}
    if year is None or not 2000 <= year <= 2100:
        errors["year"] = _("Indica l'anno, per esempio 2025.")
    if source not in {s.value for s in BudgetSource}:
        errors["source"] = _("Scegli la fonte con cui confrontare l'assegnazione.")
    name, act = " ".join((name or "").split()), " ".join((act or "").split())
    if not name:
        errors["name"] = _("Indica il fondo, per esempio «FNPS (Fondo Nazionale Politiche Sociali)».")
    elif len(name) > 200 or line_problem(name):
        errors["name"] = _("Il nome del fondo è troppo lungo o contiene caratteri non ammessi.")
    if len(act) > 300 or line_problem(act):
        errors["act"] = _("L'atto è troppo lungo o contiene caratteri non ammessi.")
    cents = 0
    try:
        cents = parse_amount(amount, field="amount")
    except Invalid as error:
        errors.update(error.errors)
    if cents > MAX_ALLOCATION_CENTS:
        errors["amount"] = _("L'importo è troppo grande.")
    if errors:
        raise Invalid(errors=errors)
    assert year is not None
    position = db.session.scalar(
        select(func.coalesce(func.max(FundAllocation.position), 0)).where(FundAllocation.year == year)
    )
    allocation = FundAllocation(
        year=year,
        source=source,
        name=name,
        act=act,
        amount_cents=cents,
        position=int(position or 0) + 1,
        created_by_id=getattr(actor, "id", None),
    )
    db.session.add(allocation)
    db.session.flush()
    audit.record(
        actor, "fund.allocated", allocation, {"year": year, "name": name, "amount_cents": cents, "act": act}
    )
    return allocation


def remove_allocation(allocation: FundAllocation, *, actor: Any) -> None:
    policy.require(actor, "plan.manage")
    details = {
        "year": allocation.year,
        "name": allocation.name,
        "amount_cents": allocation.amount_cents,
        "act": allocation.act,
    }
    audit.record(actor, "fund.allocation_removed", allocation, details)
    db.session.delete(allocation)
    db.session.flush()


# --- comparison ----------------------------------------------------------------------------------------


@dataclass
class FundRow:
    source: str
    label: str
    allocations: list[FundAllocation] = field(default_factory=list)
    programmed: int = 0

    @property
    def allocated(self) -> int:
        return sum(a.amount_cents for a in self.allocations)

    @property
    def difference(self) -> int:
        """What is left of the allocation once the cards' lines of the year are paid (negative: short)."""
        return self.allocated - self.programmed


@dataclass
class YearTable:
    year: int
    rows: list[FundRow]

    @property
    def allocated(self) -> int:
        return sum(r.allocated for r in self.rows)

    @property
    def programmed(self) -> int:
        return sum(r.programmed for r in self.rows)

    @property
    def difference(self) -> int:
        return self.allocated - self.programmed


def allocations_by_year() -> dict[int, list[FundAllocation]]:
    found: dict[int, list[FundAllocation]] = defaultdict(list)
    for allocation in db.session.scalars(
        select(FundAllocation).order_by(FundAllocation.year, FundAllocation.position, FundAllocation.id)
    ):
        found[allocation.year].append(allocation)
    return dict(found)


def comparison(cycle: PlanningCycle) -> list[YearTable]:
    """For each year of the cycle: per source, what was allocated and what the cards plan for that year."""
    labels = {k.value: v for k, v in SOURCE_LABELS.items()}
    programmed: dict[tuple[int, str], int] = {}
    for _receiver, amounts in signals.programmed_by_year.send(cycle):  # the cards' budget lines
        programmed.update(amounts)
    allocations = allocations_by_year()
    tables = []
    for year in cycle_years(cycle):
        rows: dict[str, FundRow] = {}
        for allocation in allocations.get(year, []):
            row = rows.setdefault(
                allocation.source,
                FundRow(allocation.source, labels.get(allocation.source, allocation.source)),
            )
            row.allocations.append(allocation)
        for (y, source), cents in programmed.items():
            if y == year:
                rows.setdefault(source, FundRow(source, labels.get(source, source))).programmed = cents
        order = list(labels)
        tables.append(
            YearTable(
                year,
                sorted(
                    rows.values(),
                    key=lambda r: order.index(r.source) if r.source in order else len(order),
                ),
            )
        )
    return tables
