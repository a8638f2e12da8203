"""Read side of evaluation: the SWOT page, the UdP synthesis and the per-area figures, aggregated in SQL;
the monitoring values of the cards' indicators with their progress."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import and_, func, literal_column, select
from sqlalchemy.orm import selectinload

from ..cards.models import Card, CardIndicator, IndicatorKind
from ..cycles.models import PlanningCycle, PolicyArea
from ..extensions import db
from ..tavoli.models import Body
from . import services
from .models import (
    Dimension,
    IndicatorValue,
    ObjectiveEvaluation,
    Quadrant,
    SwotAssessment,
    SwotEntry,
    SwotStatus,
    SwotTag,
    objective_evaluation_areas,
    swot_entry_tags,
)


def assessments_of(body: Body) -> list[SwotAssessment]:
    counts = (
        select(SwotEntry.assessment_id, func.count(SwotEntry.id).label("n"))
        .where(SwotEntry.removed_at.is_(None))
        .group_by(SwotEntry.assessment_id)
        .subquery()
    )
    rows = db.session.execute(
        select(SwotAssessment, func.coalesce(counts.c.n, 0))
        .outerjoin(counts, counts.c.assessment_id == SwotAssessment.id)
        .where(SwotAssessment.body_id == body.id)
        .options(selectinload(SwotAssessment.cycle), selectinload(SwotAssessment.closed_by))
        .order_by(SwotAssessment.year.desc(), SwotAssessment.kind)
    ).all()
    result = []
    for assessment, n in rows:
        assessment.entry_count = n
        result.append(assessment)
    return result


def assessment_page(assessment_id: int) -> SwotAssessment | None:
    return db.session.scalar(
        select(SwotAssessment)
        .where(SwotAssessment.id == assessment_id)
        .options(
            selectinload(SwotAssessment.body),
            selectinload(SwotAssessment.cycle),
            selectinload(SwotAssessment.closed_by),
            selectinload(SwotAssessment.entries).selectinload(SwotEntry.tags),
            selectinload(SwotAssessment.entries).selectinload(SwotEntry.author),
        )
    )


def grid(assessment: SwotAssessment) -> dict[tuple[str, str], list[SwotEntry]]:
    cells: dict[tuple[str, str], list[SwotEntry]] = defaultdict(list)
    for entry in assessment.entries:
        cells[(entry.dimension.value, entry.quadrant.value)].append(entry)
    return cells


@dataclass
class ThemeRow:
    dimension: Dimension
    quadrant: Quadrant
    theme: str
    tavoli: int
    entries: int


def _scope(cycle: PlanningCycle, year: int | None, only_closed: bool) -> Any:
    conditions = [SwotAssessment.cycle_id == cycle.id, SwotEntry.removed_at.is_(None)]
    if year is not None:
        conditions.append(SwotAssessment.year == year)
    if only_closed:
        conditions.append(SwotAssessment.status == SwotStatus.CLOSED)
    return and_(*conditions)


def themes(cycle: PlanningCycle, year: int | None = None, only_closed: bool = True) -> list[ThemeRow]:
    """Per dimension and quadrant, each theme with how many tavoli raise it (entries without a theme: '')."""
    theme = func.coalesce(SwotTag.name, literal_column("''"))
    rows = db.session.execute(
        select(
            SwotEntry.dimension,
            SwotEntry.quadrant,
            theme,
            func.count(func.distinct(SwotAssessment.body_id)),
            func.count(func.distinct(SwotEntry.id)),
        )
        .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
        .outerjoin(swot_entry_tags, swot_entry_tags.c.entry_id == SwotEntry.id)
        .outerjoin(SwotTag, SwotTag.id == swot_entry_tags.c.tag_id)
        .where(_scope(cycle, year, only_closed))
        .group_by(SwotEntry.dimension, SwotEntry.quadrant, theme)
        .order_by(
            SwotEntry.dimension, SwotEntry.quadrant, func.count(func.distinct(SwotAssessment.body_id)).desc()
        )
    ).all()
    return [ThemeRow(Dimension(d), Quadrant(q), t, n, e) for d, q, t, n, e in rows]


def synthesis_entries(
    cycle: PlanningCycle, year: int | None = None, only_closed: bool = True
) -> list[tuple[SwotEntry, Body]]:
    rows = db.session.execute(
        select(SwotEntry, Body)
        .join(SwotAssessment, SwotAssessment.id == SwotEntry.assessment_id)
        .join(Body, Body.id == SwotAssessment.body_id)
        .where(_scope(cycle, year, only_closed))
        .options(selectinload(SwotEntry.tags))
        .order_by(SwotEntry.dimension, SwotEntry.quadrant, Body.name, SwotEntry.id)
    ).all()
    return [(entry, body) for entry, body in rows]


def evaluations(cycle: PlanningCycle) -> list[ObjectiveEvaluation]:
    return list(
        db.session.scalars(
            select(ObjectiveEvaluation)
            .where(ObjectiveEvaluation.cycle_id == cycle.id)
            .options(selectinload(ObjectiveEvaluation.areas))
            .order_by(ObjectiveEvaluation.id)
        )
    )


@dataclass
class AreaFigure:
    key: str
    code: str
    name: str
    achievement: float | None
    resource_match: float | None
    objectives: int


def per_area(cycle: PlanningCycle) -> list[AreaFigure]:
    """Average achievement and resource match of the objectives linked to each area (missing values ignored)."""
    rows = db.session.execute(
        select(
            PolicyArea.key,
            PolicyArea.code,
            PolicyArea.name,
            func.avg(ObjectiveEvaluation.achievement_pct),
            func.avg(ObjectiveEvaluation.resource_match_pct),
            func.count(ObjectiveEvaluation.id),
        )
        .join(objective_evaluation_areas, objective_evaluation_areas.c.area_id == PolicyArea.id)
        .join(ObjectiveEvaluation, ObjectiveEvaluation.id == objective_evaluation_areas.c.evaluation_id)
        .where(ObjectiveEvaluation.cycle_id == cycle.id)
        .group_by(PolicyArea.id, PolicyArea.key, PolicyArea.code, PolicyArea.name, PolicyArea.position)
        .order_by(PolicyArea.position)
    ).all()
    return [
        AreaFigure(
            k, c, n, None if a is None else round(float(a), 1), None if m is None else round(float(m), 1), o
        )
        for k, c, n, a, m, o in rows
    ]


DIMENSIONS = list(Dimension)
QUADRANTS = list(Quadrant)


# --- monitoring of the cards' indicators ------------------------------------------------------------


def monitoring_card(card_id: int) -> Card | None:
    return db.session.scalar(
        select(Card)
        .where(Card.id == card_id)
        .options(selectinload(Card.indicators), selectinload(Card.cycle), selectinload(Card.body))
    )


@dataclass
class IndicatorProgress:
    """One indicator with the latest value of each period and its progress from baseline to target."""

    indicator: CardIndicator
    values: list[IndicatorValue]  # the latest version of each period, in chronological order
    history: list[IndicatorValue]  # every recorded version, newest first
    percent: int | None = None  # numeric kinds: (latest - baseline) / (target - baseline), clamped to 0-100
    reached: bool | None = None  # presence/absence: the latest value is the expected one

    @property
    def latest(self) -> IndicatorValue | None:
        return self.values[-1] if self.values else None


def progress_percent(latest: Decimal, baseline_text: str, target_text: str) -> int | None:
    """Progress as a whole percentage; an empty baseline counts from zero. None when it cannot be computed."""
    baseline = services.parse_number(baseline_text) if baseline_text.strip() else Decimal(0)
    target = services.parse_number(target_text)
    if baseline is None or target is None or target == baseline:
        return None
    share = (latest - baseline) / (target - baseline) * 100
    share = min(max(share, Decimal(0)), Decimal(100))
    return int(share.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def _progress(indicator: CardIndicator, versions: list[IndicatorValue]) -> IndicatorProgress:
    latest_by_period: dict[str, IndicatorValue] = {}
    for row in versions:  # ordered by version: the last one wins
        latest_by_period[row.period] = row
    values = sorted(latest_by_period.values(), key=lambda v: services.period_order(v.period))
    result = IndicatorProgress(indicator, values, sorted(versions, key=lambda v: v.id, reverse=True))
    latest = result.latest
    if latest is None or latest.number is None:
        return result
    if IndicatorKind(indicator.kind) == IndicatorKind.PRESENCE:
        expected = services.parse_presence(indicator.target) if indicator.target.strip() else None
        result.reached = bool(latest.number) == (True if expected is None else expected)
    else:
        result.percent = progress_percent(latest.number, indicator.baseline, indicator.target)
        result.reached = result.percent == 100 if result.percent is not None else None
    return result


def monitoring(card: Card, with_authors: bool = False) -> list[IndicatorProgress]:
    """Every indicator of the card (already loaded) with its values: one query whatever their number."""
    statement = (
        select(IndicatorValue)
        .where(IndicatorValue.card_id == card.id)
        .order_by(IndicatorValue.indicator_id, IndicatorValue.period, IndicatorValue.version)
    )
    if with_authors:
        statement = statement.options(selectinload(IndicatorValue.recorded_by))
    by_indicator: dict[int, list[IndicatorValue]] = defaultdict(list)
    for row in db.session.scalars(statement):
        by_indicator[row.indicator_id].append(row)
    return [_progress(indicator, by_indicator.get(indicator.id, [])) for indicator in card.indicators]


def latest_values(indicator_ids: list[int]) -> dict[int, list[IndicatorValue]]:
    """The latest version of each period's value for many indicators at once (one query), in chronological order."""
    if not indicator_ids:
        return {}
    newest = (
        select(
            IndicatorValue.indicator_id, IndicatorValue.period, func.max(IndicatorValue.version).label("v")
        )
        .where(IndicatorValue.indicator_id.in_(indicator_ids))
        .group_by(IndicatorValue.indicator_id, IndicatorValue.period)
        .subquery()
    )
    rows = db.session.scalars(
        select(IndicatorValue).join(
            newest,
            (newest.c.indicator_id == IndicatorValue.indicator_id)
            & (newest.c.period == IndicatorValue.period)
            & (newest.c.v == IndicatorValue.version),
        )
    )
    out: dict[int, list[IndicatorValue]] = defaultdict(list)
    for row in sorted(rows, key=lambda r: (r.indicator_id, services.period_order(r.period))):
        out[row.indicator_id].append(row)
    return dict(out)
