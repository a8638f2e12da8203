"""The whole Piano di Zona: what it reads from PdZ's own data, its co-written chapters, and its submission gate.

- `facts(plan)` gathers, sorted and as plain strings, what the data chapters show (evaluation of the previous
  plan and SWOT, population by sub_ambito, funds by year, organisations and tavoli, governance bodies);
  `pdz_chapters.piano_di_zona` turns them into canonical content.
- The narrative chapters are one co-written document (`coedit.py`, `pdzplan:<plan_id>`).
- The plan goes to approval only when every card of its cycle is approved or excluded by the Ufficio di Piano
  with a reason (`missing_cards`, checked by `sources.Source.ready`, so `services.submit` refuses it for
  everyone, administrators included).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, policy
from ..cards.models import Card
from ..cycles import funds
from ..cycles.models import PlanningCycle, PolicyArea
from ..errors import Invalid
from ..evaluation.models import ObjectiveEvaluation, SwotAssessment, SwotStatus
from ..extensions import db
from ..labels import label
from ..memo import per_request
from ..money import format_cents
from ..orgs.models import Adhesion, Organisation
from ..tavoli.models import THEMATIC_KINDS, Body, BodyStatus, Membership
from ..territory.models import Comune
from . import pdz_chapters
from .coedit import narratives
from .models import DocKind, PlanDocument, PlanExclusion
from .queries import approved_latest
from .services import chain_for

REASON_MAX = 2000
GOVERNANCE_KINDS_ORDER = (
    "assemblea_sindaci",
    "comitato_ristretto",
    "ufficio_di_piano",
    "udp_integrato",
    "coordinamento_tecnico",
    "assemblea_sub_ambito",
)


# --- the submission gate ---------------------------------------------------------------------------


@per_request
def exclusions(plan: PlanDocument) -> tuple[PlanExclusion, ...]:
    return tuple(
        db.session.scalars(
            select(PlanExclusion).where(PlanExclusion.plan_id == plan.id).order_by(PlanExclusion.card_id)
        )
    )


@per_request
def approved_card_ids(cycle_id: int) -> frozenset[int]:
    return frozenset(sub.document_id for sub in approved_latest(DocKind.CARD, cycle_id, with_body=False))


class CycleCard(NamedTuple):
    """What the plan page, its gate and its chapters need of a card: no ORM object (a cycle can hold
    hundreds of cards, and the page reads all of them for its counts)."""

    id: int
    title: str
    body_name: str


@per_request
def cycle_cards(cycle_id: int) -> tuple[CycleCard, ...]:
    """Every card of the cycle with the name of its tavolo, by title (one statement)."""
    return tuple(
        CycleCard(*row)
        for row in db.session.execute(
            select(Card.id, Card.title, Body.name)
            .join(Body, Body.id == Card.body_id)
            .where(Card.cycle_id == cycle_id)
            .order_by(Card.title, Card.id)
        )
    )


def missing_cards(plan: PlanDocument) -> list[CycleCard]:
    """Cards of the plan's cycle neither approved nor excluded with a reason, by title."""
    approved = approved_card_ids(plan.cycle_id)
    excluded = {e.card_id for e in exclusions(plan)}
    return [c for c in cycle_cards(plan.cycle_id) if c.id not in approved and c.id not in excluded]


GATE_NAMED = 20  # missing cards named in the gate's message; the rest are counted


def gate_problem(plan: PlanDocument) -> str | None:
    """Why the Piano di Zona cannot go to approval yet, naming the cards missing (the first GATE_NAMED by
    title, then how many more); None when it can."""
    missing = missing_cards(plan)
    if not missing:
        return None
    total = len(cycle_cards(plan.cycle_id))
    named = "; ".join(f"«{c.title}»" for c in missing[:GATE_NAMED])
    if len(missing) > GATE_NAMED:
        named = _("%(list)s e altre %(n)d", list=named, n=len(missing) - GATE_NAMED)
    return _(
        "Il Piano di Zona non può essere inviato: %(n)d schede su %(t)d non sono né approvate né escluse "
        "con una motivazione. Mancano: %(list)s. Approvale oppure escludile indicando il motivo.",
        n=len(missing),
        t=total,
        list=named,
    )


def _pdz_card(plan: PlanDocument, card_id: int) -> Card:
    if plan.kind != DocKind.PIANO_DI_ZONA:
        raise Invalid(_("Le schede si escludono solo dal Piano di Zona."))
    card = db.session.get(Card, card_id)
    if card is None or card.cycle_id != plan.cycle_id:
        raise Invalid(errors={"card_id": _("La scheda non appartiene al ciclo di questo documento.")})
    return card


def exclude_card(plan: PlanDocument, card_id: int, *, reason: str, actor: Any) -> PlanExclusion:
    """The Ufficio di Piano leaves a card out of the Piano di Zona, saying why (the reason is printed in it)."""
    policy.require(actor, "plan.manage", plan)
    card = _pdz_card(plan, card_id)
    reason = (reason or "").strip()
    if not reason:
        raise Invalid(errors={"reason": _("Indica il motivo per cui la scheda resta fuori dal Piano.")})
    if len(reason) > REASON_MAX:
        raise Invalid(errors={"reason": _("Il motivo è troppo lungo: al massimo 2.000 caratteri.")})
    if card.id in approved_card_ids(plan.cycle_id):
        raise Invalid(_("La scheda «%(t)s» è approvata: fa parte del Piano, non si esclude.", t=card.title))
    found = db.session.scalar(
        select(PlanExclusion).where(PlanExclusion.plan_id == plan.id, PlanExclusion.card_id == card.id)
    )
    if found is not None:
        raise Invalid(_("La scheda «%(t)s» è già esclusa.", t=card.title))
    exclusion = PlanExclusion(plan_id=plan.id, card_id=card.id, reason=reason, excluded_by_id=actor.id)
    db.session.add(exclusion)
    db.session.flush()
    audit.record(actor, "plan.card_excluded", plan, {"card_id": card.id, "reason": reason})
    return exclusion


def readmit_card(plan: PlanDocument, card_id: int, *, actor: Any) -> None:
    policy.require(actor, "plan.manage", plan)
    card = _pdz_card(plan, card_id)
    found = db.session.scalar(
        select(PlanExclusion).where(PlanExclusion.plan_id == plan.id, PlanExclusion.card_id == card.id)
    )
    if found is None:
        raise Invalid(_("La scheda «%(t)s» non è esclusa.", t=card.title))
    audit.record(actor, "plan.card_readmitted", plan, {"card_id": card.id, "reason": found.reason})
    db.session.delete(found)
    db.session.flush()


STATES_PAGE = 25  # cards listed per page of the plan page


@dataclass(frozen=True)
class CardStates:
    """One page of the cycle's cards with where each stands for the plan, and the counts over all of them."""

    rows: list[dict[str, Any]]
    approved: int
    excluded: int
    missing: int
    total: int
    page: int
    pages: int


def card_states(plan: PlanDocument, page: int = 1) -> CardStates:
    """The cycle's cards by title, STATES_PAGE a page, each approved, excluded (why) or missing; missing
    cards first, since those are the ones the Ufficio di Piano has to deal with."""
    approved = approved_card_ids(plan.cycle_id)
    excluded = {e.card_id: e for e in exclusions(plan)}
    cards = cycle_cards(plan.cycle_id)

    def state(card: CycleCard) -> str:
        return "approvata" if card.id in approved else ("esclusa" if card.id in excluded else "mancante")

    states = [(card, state(card)) for card in cards]
    states.sort(key=lambda pair: pair[1] != "mancante")  # stable: by title within each group
    pages = max(1, -(-len(states) // STATES_PAGE))
    page = min(max(page, 1), pages)
    rows = [
        {
            "card": card,
            "state": card_state,
            "reason": excluded[card.id].reason if card.id in excluded else "",
        }
        for card, card_state in states[(page - 1) * STATES_PAGE : page * STATES_PAGE]
    ]
    counts = {s: 0 for s in ("approvata", "esclusa", "mancante")}
    for _card, card_state in states:
        counts[card_state] += 1
    return CardStates(
        rows,
        counts["approvata"],
        counts["esclusa"],
        counts["mancante"],
        len(states),
        page,
        pages,
    )


# --- the facts of the data chapters ----------------------------------------------------------------


def _previous_cycle(cycle: PlanningCycle) -> PlanningCycle | None:
    return db.session.scalar(
        select(PlanningCycle)
        .where(PlanningCycle.end_year < cycle.start_year)
        .order_by(PlanningCycle.end_year.desc())
        .limit(1)
    )


def _pct(value: int | None) -> str:
    return f"{value}%" if value is not None else pdz_chapters.DASH


def _evaluations(previous: PlanningCycle | None) -> list[list[str]]:
    if previous is None:
        return []
    rows = db.session.scalars(
        select(ObjectiveEvaluation)
        .where(ObjectiveEvaluation.cycle_id == previous.id)
        .order_by(ObjectiveEvaluation.title, ObjectiveEvaluation.id)
    )
    return [
        [
            e.title,
            _pct(e.achievement_pct),
            _pct(e.resource_match_pct),
            label(e.positive_change),
            label(e.reproposed),
            e.problems,
        ]
        for e in rows
    ]


def _swot(cycle: PlanningCycle) -> list[list[str]]:
    """Entries of the closed SWOT self-evaluations of the cycle: dimension, quadrant, tavolo, text."""
    out = []
    for assessment in db.session.scalars(
        select(SwotAssessment)
        .where(SwotAssessment.cycle_id == cycle.id, SwotAssessment.status == SwotStatus.CLOSED)
        .options(selectinload(SwotAssessment.entries), joinedload(SwotAssessment.body))
        .order_by(SwotAssessment.year, SwotAssessment.id)
    ):
        for entry in assessment.entries:
            if entry.removed_at is None:
                out.append(
                    [
                        label(entry.dimension),
                        label(entry.quadrant),
                        assessment.body.name,
                        entry.text_source,
                        str(list(type(entry.dimension)).index(entry.dimension)),
                        str(list(type(entry.quadrant)).index(entry.quadrant)),
                    ]
                )
    out.sort(key=lambda r: (r[4], r[5], r[2], r[3]))
    return [r[:4] for r in out]


def _demography() -> tuple[list[list[str]], list[str]]:
    by_sub: dict[str, list[Comune]] = defaultdict(list)
    for comune in db.session.scalars(
        select(Comune).options(joinedload(Comune.sub_ambito)).order_by(Comune.name)
    ):
        by_sub[comune.sub_ambito.name if comune.sub_ambito is not None else ""].append(comune)
    rows, total_comuni, total_people = [], 0, 0
    for name in sorted(by_sub, key=lambda n: (n == "", n)):
        comuni = by_sub[name]
        people = sum(c.population or 0 for c in comuni)
        capofila = next((c.name for c in comuni if c.is_capofila), pdz_chapters.DASH)
        years = sorted({c.population_year for c in comuni if c.population_year})
        rows.append(
            [
                name or "Senza sub-ambito",
                capofila,
                str(len(comuni)),
                f"{people:,}".replace(",", "."),
                "/".join(str(y) for y in years) or pdz_chapters.DASH,
            ]
        )
        total_comuni += len(comuni)
        total_people += people
    return rows, ["Totale", "", str(total_comuni), f"{total_people:,}".replace(",", "."), ""]


def _spending(cycle: PlanningCycle) -> list[list[str]]:
    rows = []
    for table in funds.comparison(cycle):
        for row in table.rows:
            rows.append(
                [
                    str(table.year),
                    row.label,
                    format_cents(row.allocated),
                    format_cents(row.programmed),
                    format_cents(row.difference),
                ]
            )
    return rows


def _network(cycle: PlanningCycle) -> dict[str, Any]:
    kinds: dict[str, int] = defaultdict(int)
    for kind, count in db.session.execute(
        select(Organisation.kind, func.count(Organisation.id)).group_by(Organisation.kind)
    ):
        kinds[label(kind)] += int(count)
    adherents = sorted(
        db.session.scalars(
            select(Organisation.name)
            .join(Adhesion, Adhesion.organisation_id == Organisation.id)
            .where(Adhesion.cycle_id == cycle.id)
        )
    )
    members = dict(
        db.session.execute(
            select(Membership.body_id, func.count(func.distinct(Membership.organisation_id)))
            .where(Membership.ended_at.is_(None))
            .group_by(Membership.body_id)
        ).all()
    )
    tavoli, governance = [], []
    kind_of: dict[str, str] = {}
    for body in db.session.scalars(
        select(Body)
        .where(Body.status == BodyStatus.ACTIVE)
        .options(selectinload(Body.areas))  # one query for every body's areas, not one per body
        .order_by(Body.name, Body.id)
    ):
        row = [
            body.name,
            label(body.kind),
            ", ".join(a.name for a in body.areas),
            str(members.get(body.id, 0)),
        ]
        kind_of[body.name] = body.kind.value
        if body.kind in THEMATIC_KINDS:
            tavoli.append(row)
        else:
            governance.append(row)
    order = {k: n for n, k in enumerate(GOVERNANCE_KINDS_ORDER)}
    governance.sort(key=lambda r: (order.get(kind_of.get(r[0], ""), len(order)), r[0]))
    return {
        "kinds": sorted(([k, str(n)] for k, n in kinds.items()), key=lambda r: (-int(r[1]), r[0])),
        "adherents": adherents,
        "tavoli": tavoli,
        "governance": [[r[0], r[1], r[3]] for r in governance],
    }


def facts(plan: PlanDocument) -> pdz_chapters.Facts:
    cycle = plan.cycle
    chain = ["Invio da parte dell'Ufficio di Piano"] + [
        f"{label(step.body_kind)} – {label(step.mode)}" for step in chain_for(DocKind.PIANO_DI_ZONA)
    ]
    previous = _previous_cycle(cycle)
    demography, demography_total = _demography()
    network = _network(cycle)
    co_areas = {a.key: a.co_programming_area for a in db.session.scalars(select(PolicyArea))}
    cards = {c.id: c for c in cycle_cards(plan.cycle_id)}
    excluded = [
        [cards[e.card_id].title, cards[e.card_id].body_name, e.reason]
        for e in exclusions(plan)
        if e.card_id in cards
    ]
    excluded.sort()
    return pdz_chapters.Facts(
        previous_cycle=previous.label if previous is not None else "",
        evaluations=_evaluations(previous),
        swot=_swot(cycle),
        demography=demography,
        demography_total=demography_total,
        spending=_spending(cycle),
        org_kinds=network["kinds"],
        adherents=network["adherents"],
        tavoli=network["tavoli"],
        governance=network["governance"],
        chain=chain,
        co_areas=co_areas,
        excluded=excluded,
        narratives=narratives(plan),
    )
