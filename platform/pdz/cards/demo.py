"""Demo: the 13 objective cards of the Piano di Zona 2025-2027 as drafts in their tavoli. Idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ..cycles.funds import even_split
from ..cycles.models import PolicyArea
from ..demo import load_json
from ..extensions import db
from ..text import render_markdown
from . import fields
from .budget_years import store_split
from .coedit import seed_text
from .models import (
    Card,
    CardAction,
    CardBudgetLine,
    CardIndicator,
    CardObjective,
    CardPersonnel,
    CardPnrr,
    CardValue,
)

if TYPE_CHECKING:  # pdz.demo imports every domain's demo: the type only
    from ..demo import Demo

SCALARS = (
    "subtitle",
    "context",
    "general_objective",
    "target",
    "needs",
    "transversal",
    "asst_analysis",
    "asst_implementation",
    "other_ambiti",
    "continuity",
    "premial",
    "co_programmed",
    "other_actors",
    "innovative",
    "digital",
)
# the explanation printed after a "SI" (and after the new-service choice), where the card gives one
NOTES = tuple(
    f"{key}_note"
    for key in (
        "asst_analysis",
        "asst_implementation",
        "other_ambiti",
        "continuity",
        "new_service",
        "premial",
        "co_programmed",
        "other_actors",
        "innovative",
        "digital",
    )
)
LISTS = ("bes", "transversal_areas", "new_service", "need_kind", "nature", "key_points")


def load(demo: Demo) -> None:
    assert demo.cycle is not None
    seed = load_json("cards.json")
    areas = {a.key: a for a in db.session.scalars(select(PolicyArea))}
    created: dict[str, Card] = {}
    for item in seed["cards"]:
        if db.session.scalar(select(Card.id).where(Card.cycle_id == demo.cycle.id, Card.key == item["key"])):
            continue
        body = demo.bodies[item["body"]]
        area = areas.get(item["area_key"])
        card = Card(
            cycle_id=demo.cycle.id,
            body_id=body.id,
            area_id=area.id if area else None,
            key=item["key"],
            title=item["title"],
            declared_total_cents=item["declared_total_cents"],
        )
        db.session.add(card)
        db.session.flush()
        values = {
            "title": item["title"],
            **{k: item[k] for k in SCALARS},
            **{k: item[k] for k in NOTES if item.get(k)},
            **{k: "\n".join(item[k]) for k in LISTS},
        }
        if item.get("note"):
            values["ts_involvement"] = ""
        for key, value in values.items():
            spec = fields.SPECS[key]
            clean = spec.clean(value, area_keys={a: a for a in areas})
            db.session.add(
                CardValue(card_id=card.id, key=key, value_source=clean, value_html=spec.html(clean))
            )
        for position, text in enumerate(item["objectives"], 1):
            db.session.add(CardObjective(card_id=card.id, position=position, text=text))
        for position, text in enumerate(item["actions"], 1):
            db.session.add(
                CardAction(
                    card_id=card.id, position=position, text_source=text, text_html=str(render_markdown(text))
                )
            )
        years = list(range(demo.cycle.start_year, demo.cycle.end_year + 1))
        for position, line in enumerate(item["budget_lines"], 1):
            budget_line = CardBudgetLine(card_id=card.id, position=position, **line)
            db.session.add(budget_line)
            if budget_line.amount_cents is not None:  # evenly over the plan's years, as a new line
                store_split(budget_line, even_split(budget_line.amount_cents, years))
        for position, measure in enumerate(item["pnrr"], 1):
            db.session.add(CardPnrr(card_id=card.id, position=position, **measure))
        for position, row in enumerate(item["personnel"], 1):
            db.session.add(CardPersonnel(card_id=card.id, position=position, **row))
        for position, row in enumerate(item["indicators"], 1):  # as printed: process, output, outcome
            db.session.add(CardIndicator(card_id=card.id, position=position, **row))
        created[item["key"]] = card
    db.session.flush()
    _revisions(demo, created)


def _revisions(demo: Demo, created: dict[str, Card]) -> None:
    """A few saves by different demo users, through the real service, so history is not empty."""
    card = created.get("A")
    if card is None:
        return
    coord = demo.users.get("coord.pubblico@example.org")
    ets = demo.users.get("coord.ets@example.org")
    member = demo.users.get("membro@example.org")
    if not (coord and ets and member):
        return
    values = {
        v.key: v.value_source
        for v in db.session.scalars(select(CardValue).where(CardValue.card_id == card.id))
    }
    context = (
        values["context"]
        + " Nel 2024 le famiglie seguite dal servizio sociale per motivi economici sono aumentate."
    )
    seed_text(card, "context", context, actor=coord)
    seed_text(card, "target", values["target"] + "\n- famiglie con minori in affitto", actor=ets)
    seed_text(
        card,
        "modes",
        "Presa in carico condivisa tra servizio sociale del Comune e **équipe d'Ambito**, con incontri mensili di verifica.",
        actor=member,
    )
    seed_text(
        card, "context", context.replace("sono aumentate", "sono aumentate in tutti i sub-ambiti"), actor=ets
    )
