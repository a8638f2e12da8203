"""Demo: the 2021-2023 evaluation figures of the plan, a 2025 SWOT for some tavoli, and monitoring values
of a few cards' indicators for 2025 and 2026-S1. Idempotent."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import select

from ..cards.models import Card, CardIndicator, IndicatorKind
from ..cycles.models import PlanningCycle, PolicyArea
from ..demo import Demo, load_json
from ..extensions import db
from ..tavoli.models import Membership, MembershipRole
from ..text import render_markdown
from .models import (
    Answer,
    IndicatorValue,
    ObjectiveEvaluation,
    SwotAssessment,
    SwotEntry,
    SwotEntryRevision,
    SwotKind,
    SwotStatus,
    SwotTag,
)


def load(demo: Demo) -> None:
    facts = load_json("evaluation.json")
    previous = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2021))
    areas = {a.key: a for a in db.session.scalars(select(PolicyArea))}
    if previous is not None:
        for item in facts["objectives_2021_2023"]:
            if db.session.scalar(
                select(ObjectiveEvaluation.id).where(
                    ObjectiveEvaluation.cycle_id == previous.id, ObjectiveEvaluation.title == item["title"]
                )
            ):
                continue
            evaluation = ObjectiveEvaluation(
                cycle_id=previous.id,
                title=item["title"],
                achievement_pct=item["achievement_pct"],
                users_evaluation="Non prevista",
                resource_match_pct=item["resource_match_pct"],
                resource_match_basis="somma valori consuntivi CSC 2021/2023",
                problems=item["problems"],
                positive_change=Answer(item["positive_change"]),
                continuity=Answer.YES,
                reproposed=Answer.YES,
            )
            evaluation.areas = [areas[k] for k in item["areas"] if k in areas]
            db.session.add(evaluation)
    assert demo.cycle is not None
    _monitoring(demo)
    tags = facts["swot_demo_tags"]
    for body_name, dimensions in facts["swot_demo"].items():
        body = demo.bodies[body_name]
        if db.session.scalar(
            select(SwotAssessment.id).where(SwotAssessment.body_id == body.id, SwotAssessment.year == 2025)
        ):
            continue
        coordinators = list(
            db.session.scalars(
                select(Membership).where(
                    Membership.body_id == body.id,
                    Membership.ended_at.is_(None),
                    Membership.role.in_([MembershipRole.COORD_PUBLIC, MembershipRole.COORD_ETS]),
                )
            )
        )
        closer = coordinators[0].user_id
        closed_at = datetime(2025, 2, 20, 18, 0, tzinfo=UTC)
        assessment = SwotAssessment(
            body_id=body.id,
            cycle_id=demo.cycle.id,
            year=2025,
            kind=SwotKind.ANNUAL,
            status=SwotStatus.CLOSED,
            created_by_id=closer,
            closed_by_id=closer,
            closed_at=closed_at,
        )
        db.session.add(assessment)
        db.session.flush()
        for index, (dimension, quadrants) in enumerate(dimensions.items()):
            for quadrant, texts in quadrants.items():
                for text in texts:
                    author = coordinators[index % len(coordinators)].user_id
                    entry = SwotEntry(
                        assessment_id=assessment.id,
                        dimension=dimension,
                        quadrant=quadrant,
                        text_source=text,
                        text_html=str(render_markdown(text)),
                        author_id=author,
                    )
                    if text in tags:
                        tag = db.session.scalar(select(SwotTag).where(SwotTag.name == tags[text]))
                        if tag is None:
                            tag = SwotTag(name=tags[text])
                            db.session.add(tag)
                        entry.tags = [tag]
                    db.session.add(entry)
                    db.session.flush()
                    db.session.add(
                        SwotEntryRevision(entry_id=entry.id, version=1, text=text, author_id=author)
                    )


# (period, value as typed, source) per indicator kind; the values of the cards further down the list grow a little
MONITORING = {
    IndicatorKind.COUNT: [("2025", "6", "Verbali del tavolo"), ("2026-S1", "4", "Verbali del tavolo")],
    IndicatorKind.PERCENTAGE: [
        ("2025", "62,5", "Rilevazione dell'Ufficio di Piano"),
        ("2026-S1", "70", "Rilevazione dell'Ufficio di Piano"),
    ],
}
MONITORED_CARDS = 3


def _monitoring(demo: Demo) -> None:
    assert demo.cycle is not None
    cards = list(
        db.session.scalars(
            select(Card).where(Card.cycle_id == demo.cycle.id).order_by(Card.id).limit(MONITORED_CARDS)
        )
    )
    recorder = demo.users.get("udp@example.org")
    if recorder is None:
        return
    for step, card in enumerate(cards):
        indicators = db.session.scalars(
            select(CardIndicator)
            .where(CardIndicator.card_id == card.id, CardIndicator.removed.is_(False))
            .order_by(CardIndicator.position)
        )
        for indicator in indicators:
            if db.session.scalar(
                select(IndicatorValue.id).where(IndicatorValue.indicator_id == indicator.id).limit(1)
            ):
                continue
            for period, value, source in MONITORING.get(IndicatorKind(indicator.kind), []):
                number = Decimal(value.replace(",", ".")) + step
                typed = str(number).replace(".", ",")
                db.session.add(
                    IndicatorValue(
                        indicator_id=indicator.id,
                        card_id=card.id,
                        period=period,
                        value=typed,
                        number=number,
                        source=source,
                        note="",
                        recorded_by_id=recorder.id,
                        recorded_at=datetime(
                            int(period[:4]), 7 if period.endswith("S1") else 12, 20, 10, 0, tzinfo=UTC
                        ),
                    )
                )
