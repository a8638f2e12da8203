"""The plan documents as sources of the chain: assembled by the Ufficio di Piano from approved cards."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import joinedload, selectinload

from .. import audit, memo, policy
from ..cards.models import Card
from ..errors import Invalid
from ..evaluation.queries import latest_values
from ..extensions import db
from ..memo import per_request
from ..money import parse_amount, stored_cents
from ..tavoli.models import Body, BodyKind
from . import document as doc
from . import operativo, operativo_choices, pdz, pdz_chapters, plans, sources
from .models import DocKind, PlanDocument, PlanEntry
from .queries import approved_latest

TITLES = {
    DocKind.PIANO_DI_ZONA: "Piano di Zona",
    DocKind.PIANO_OPERATIVO: "Piano Operativo",
    DocKind.REPORT_ANNUALE: "Report Annuale",
}


def udp_body() -> Body:
    body = db.session.scalar(select(Body).where(Body.kind == BodyKind.UDP).order_by(Body.id).limit(1))
    assert body is not None, "the demo and every installation have an Ufficio di Piano body"
    return body


def load_plan(ident: int) -> PlanDocument | None:
    return db.session.scalar(
        select(PlanDocument)
        .where(PlanDocument.id == ident)
        .options(selectinload(PlanDocument.entries), joinedload(PlanDocument.cycle))
        .execution_options(populate_existing=True)
    )


def plan_title(plan: PlanDocument) -> str:
    if plan.kind == DocKind.PIANO_DI_ZONA:
        return f"Piano di Zona {plan.cycle.label}"
    return f"{TITLES[plan.kind]} {plan.year}"


@per_request
def approved_cards(cycle_id: int) -> tuple[list[doc.Content], dict[int, str]]:
    """The content of the latest approved version of every card of the cycle, and their fingerprints
    (shared within a GET request: not to be mutated)."""
    contents, fingerprints = [], {}
    for sub in approved_latest(DocKind.CARD, cycle_id, with_content=True, with_body=False):
        contents.append(json.loads(sub.content))
        fingerprints[sub.document_id] = sub.fingerprint
    memo.seed(pdz.approved_card_ids, cycle_id, answer=frozenset(fingerprints))  # the same rounds
    return contents, fingerprints


def _indicator_values(indicator_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """Latest value of each period for the given indicators (monitoring's read side), as plain data."""
    return {
        indicator_id: [{"period": v.period, "value": v.value, "note": v.note} for v in rows]
        for indicator_id, rows in latest_values(indicator_ids).items()
    }


def plan_content(plan: PlanDocument) -> doc.Content:
    cards, fingerprints = approved_cards(plan.cycle_id)
    entries = {e.card_id: e for e in plan.entries}
    cycle_name = plan.cycle.label
    if plan.kind == DocKind.PIANO_DI_ZONA:
        content = pdz_chapters.piano_di_zona(
            cycle_name, cards, fingerprints=fingerprints, facts=pdz.facts(plan)
        )
    elif plan.kind == DocKind.PIANO_OPERATIVO:
        content = operativo.piano_operativo(
            cycle_name,
            plan.year,
            cards,
            ids=operativo_choices.card_ids(cards),
            choices=operativo_choices.choices(plan.id),
            fingerprints=fingerprints,
        )
    else:
        ids = [i["id"] for c in cards for i in c.get("data", {}).get("indicators", [])]
        content = plans.report_annuale(
            cycle_name,
            plan.year,
            cards,
            done={k: e.done for k, e in entries.items() if e.done},
            committed={k: e.committed_cents for k, e in entries.items()},
            values=_indicator_values(ids),
            fingerprints=fingerprints,
        )
    content["ref"] = {"plan_id": plan.id}
    return content


def ready(plan: PlanDocument) -> str | None:
    if not pdz.approved_card_ids(plan.cycle_id):
        return _("Non c'è ancora nessuna scheda obiettivo approvata da raccogliere in questo documento.")
    if plan.kind == DocKind.PIANO_OPERATIVO and not operativo_choices.choices(plan.id):
        return _("Scegli almeno un'azione delle schede approvate per l'anno del Piano Operativo.")
    if plan.kind == DocKind.PIANO_DI_ZONA:
        return pdz.gate_problem(plan)  # every card of the cycle approved, or excluded with a reason
    return None


for _kind in (DocKind.PIANO_DI_ZONA, DocKind.PIANO_OPERATIVO, DocKind.REPORT_ANNUALE):
    sources.register(
        sources.Source(
            kind=_kind,
            load=load_plan,
            body_of=lambda plan: udp_body(),
            title=plan_title,
            url_of=lambda plan: url_for("approvals.plan", plan_id=plan.id),
            build=plan_content,
            cycle_id_of=lambda plan: plan.cycle_id,
            ready=ready,
        )
    )


def create_plan(kind: DocKind, cycle: Any, year: int, *, actor: Any) -> PlanDocument:
    policy.require(actor, "plan.manage")
    if kind not in TITLES:
        raise Invalid(errors={"kind": _("Tipo di documento sconosciuto.")})
    if kind == DocKind.PIANO_DI_ZONA:
        year = cycle.start_year
    elif not (cycle.start_year <= year <= cycle.end_year):
        raise Invalid(
            errors={"year": _("L'anno deve essere tra %(a)d e %(b)d.", a=cycle.start_year, b=cycle.end_year)}
        )
    exists = db.session.scalar(
        select(PlanDocument.id).where(
            PlanDocument.kind == kind, PlanDocument.cycle_id == cycle.id, PlanDocument.year == year
        )
    )
    if exists:
        raise Invalid(errors={"year": _("Questo documento esiste già.")})
    due = {
        DocKind.PIANO_OPERATIVO: date(year - 1, 12, 31),
        DocKind.REPORT_ANNUALE: date(year + 1, 4, 30),
    }.get(kind)
    plan = PlanDocument(kind=kind, cycle_id=cycle.id, year=year, due_on=due, created_by_id=actor.id)
    db.session.add(plan)
    db.session.flush()
    audit.record(actor, "plan.created", plan, {"kind": kind.value, "year": year})
    return plan


def save_entry(
    plan: PlanDocument, card_id: int, *, timing: str, done: str, committed: str, actor: Any
) -> None:
    policy.require(actor, "plan.manage")
    card = db.session.get(Card, card_id)
    if card is None or card.cycle_id != plan.cycle_id:
        raise Invalid(errors={"card_id": _("La scheda non appartiene al ciclo di questo documento.")})
    for name, text in (("timing", timing), ("done", done)):
        if len(text or "") > 5000:
            raise Invalid(errors={name: _("Il testo è troppo lungo: al massimo 5.000 caratteri.")})
    cents = (
        stored_cents(parse_amount(committed, field="committed"), field="committed")
        if (committed or "").strip()
        else None
    )
    entry = db.session.scalar(
        select(PlanEntry).where(PlanEntry.plan_id == plan.id, PlanEntry.card_id == card_id)
    )
    if entry is None:
        entry = PlanEntry(plan_id=plan.id, card_id=card_id)
        db.session.add(entry)
    before = {"timing": entry.timing, "done": entry.done, "committed_cents": entry.committed_cents}
    entry.timing, entry.done, entry.committed_cents = (timing or "").strip(), (done or "").strip(), cents
    db.session.flush()
    audit.record(actor, "plan.entry_saved", plan, {"card_id": card_id, "before": before})
