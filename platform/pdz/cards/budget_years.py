"""The split by year of a card's budget lines (`cycles.models.BudgetLineYear`), read and stored beside the
card; `cycles.funds` holds the rules that do not need a card (even split, checks, allocations)."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select

from .. import signals
from ..cycles.models import BudgetLineYear, PlanningCycle
from ..extensions import db
from .models import Card, CardBudgetLine

_CACHE = "pdz_budget_splits"


def years_of_card(card_id: int) -> list[int]:
    found = db.session.execute(
        select(PlanningCycle.start_year, PlanningCycle.end_year)
        .join(Card, Card.cycle_id == PlanningCycle.id)
        .where(Card.id == card_id)
    ).first()
    return list(range(found[0], found[1] + 1)) if found else []


def card_split_of(line: Any) -> dict[int, int]:
    """The split of `line`, reading the splits of all the lines of its card at once (a card's page shows every
    line: one query, however many lines). Kept in the session's `info` until a split of the card is stored."""
    if line.id is None:
        return {}
    cache: dict[int, dict[int, dict[int, int]]] = db.session.info.setdefault(_CACHE, {})
    if line.card_id not in cache:
        found: dict[int, dict[int, int]] = defaultdict(dict)
        for line_id, year, cents in db.session.execute(
            select(BudgetLineYear.line_id, BudgetLineYear.year, BudgetLineYear.amount_cents)
            .join(CardBudgetLine, CardBudgetLine.id == BudgetLineYear.line_id)
            .where(CardBudgetLine.card_id == line.card_id)
            .order_by(BudgetLineYear.line_id, BudgetLineYear.year)
        ):
            found[int(line_id)][int(year)] = int(cents)
        cache[line.card_id] = dict(found)
    return dict(cache[line.card_id].get(line.id, {}))


def forget_splits(card_id: int) -> None:
    db.session.info.get(_CACHE, {}).pop(card_id, None)


def store_split(line: Any, split: dict[int, int]) -> None:
    """Replace the stored split of `line` (a CardBudgetLine, maybe not yet flushed)."""
    forget_splits(line.card_id)
    if line.id is None:
        db.session.add(line)
        db.session.flush()
    db.session.execute(delete(BudgetLineYear).where(BudgetLineYear.line_id == line.id))
    for year, cents in sorted(split.items()):
        db.session.add(BudgetLineYear(line_id=line.id, year=year, amount_cents=cents))


@signals.programmed_by_year.connect
def programmed_by_year(cycle: PlanningCycle) -> dict[tuple[int, str], int]:
    """Cents of the cycle's card budget lines counted in their card's total, by (year, source), in SQL."""
    rows = db.session.execute(
        select(BudgetLineYear.year, CardBudgetLine.source, func.sum(BudgetLineYear.amount_cents))
        .join(CardBudgetLine, CardBudgetLine.id == BudgetLineYear.line_id)
        .join(Card, Card.id == CardBudgetLine.card_id)
        .where(
            Card.cycle_id == cycle.id,
            CardBudgetLine.removed.is_(False),
            CardBudgetLine.counted.is_(True),
        )
        .group_by(BudgetLineYear.year, CardBudgetLine.source)
    ).all()
    return {(int(year), str(source)): int(total or 0) for year, source, total in rows}
