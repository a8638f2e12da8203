"""What the Ufficio di Piano chooses for a Piano Operativo, per card action: read for the builder and the page,
and saved through `save_action` (the one writer, audited)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from .. import audit, policy
from ..accounts.models import Affiliation, User
from ..cards.models import CardAction, CardBudgetLine
from ..errors import Invalid
from ..extensions import db
from ..money import format_cents, parse_amount, stored_cents
from ..orgs.models import Organisation
from .document import Content
from .models import DocKind, PlanActionBudget, PlanActionReferent, PlanDocument
from .models import PlanAction as PlanActionRow
from .operativo import CardIds, Choice, year_lines

MAX_TEXT = 5000
MAX_REFERENTS = 12


def card_ids(cards: list[Content]) -> dict[int, CardIds]:
    """The ids of the current rows matching each approved card's actions and budget lines, in content order:
    an action by its text, a line by source, description, amount and whether it counts (each row used once), so
    the document shows the approved text and figures while the choices stay with the rows."""
    card_list = [int(c["data"]["card_id"]) for c in cards]
    actions: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for row in db.session.execute(
        select(CardAction.card_id, CardAction.id, CardAction.text_source)
        .where(CardAction.card_id.in_(card_list), CardAction.removed.is_(False))
        .order_by(CardAction.card_id, CardAction.position, CardAction.id)
    ):
        actions[int(row[0])].append((int(row[1]), str(row[2])))
    lines: dict[int, list[tuple[int, tuple[Any, ...]]]] = defaultdict(list)
    for line in db.session.scalars(
        select(CardBudgetLine)
        .where(CardBudgetLine.card_id.in_(card_list), CardBudgetLine.removed.is_(False))
        .order_by(CardBudgetLine.card_id, CardBudgetLine.position, CardBudgetLine.id)
    ):
        key = (str(line.source), line.description, line.amount_cents, line.counted)
        lines[line.card_id].append((line.id, key))
    found = {}
    for card in cards:
        data = card["data"]
        card_id = int(data["card_id"])
        found[card_id] = CardIds(
            actions=_match(list(data.get("actions", [])), actions[card_id]),
            lines=_match(
                [
                    (str(b["source"]), b.get("description", ""), b.get("amount_cents"), b.get("counted"))
                    for b in data.get("budget", [])
                ],
                lines[card_id],
            ),
        )
    return found


def _match(wanted: list[Any], rows: list[tuple[int, Any]]) -> tuple[int | None, ...]:
    """Each wanted key to the first free row with that key; the keys left (rows edited since the approval) pair
    up in order with the rows left."""
    free = list(rows)
    out: list[int | None] = []
    for key in wanted:
        hit = next((n for n, (_row_id, row_key) in enumerate(free) if row_key == key), None)
        out.append(free.pop(hit)[0] if hit is not None else None)
    left = iter(row_id for row_id, _key in free)
    return tuple(found if found is not None else next(left, None) for found in out)


def rows_of(plan_id: int) -> list[PlanActionRow]:
    return list(
        db.session.scalars(
            select(PlanActionRow)
            .where(PlanActionRow.plan_id == plan_id)
            .options(
                selectinload(PlanActionRow.referents).selectinload(PlanActionReferent.user),
                selectinload(PlanActionRow.referents).selectinload(PlanActionReferent.organisation),
                selectinload(PlanActionRow.budgets),
            )
            .order_by(PlanActionRow.id)
        )
    )


def choices(plan_id: int) -> dict[int, Choice]:
    """The chosen actions of a plan, by card action id, as the builder reads them."""
    return {
        row.action_id: Choice(
            referents=tuple((r.user.full_name, r.organisation.name) for r in row.referents),
            budget={b.line_id: b.amount_cents for b in row.budgets},
            targets=row.targets,
            timing=row.timing,
        )
        for row in rows_of(plan_id)
        if row.selected
    }


def referent_label(name: str, organisation: str) -> str:
    return f"{name} – {organisation}"


def referent_options() -> list[tuple[str, int, int]]:
    """Every active person with each organisation they belong to: (label, user id, organisation id)."""
    rows = db.session.execute(
        select(User.full_name, Organisation.name, User.id, Organisation.id)
        .join(Affiliation, Affiliation.user_id == User.id)
        .join(Organisation, Organisation.id == Affiliation.organisation_id)
        .where(User.active.is_(True))
        .order_by(User.full_name, Organisation.name, User.id)
    )
    return [(referent_label(name, org), int(user_id), int(org_id)) for name, org, user_id, org_id in rows]


@dataclass(frozen=True)
class ActionForm:
    """One approved action of a card as the page's form shows it."""

    card_id: int
    action_id: int
    text: str
    row: PlanActionRow | None
    lines: list[dict[str, Any]]

    @property
    def referents(self) -> list[str]:
        if self.row is None:
            return []
        return [referent_label(r.user.full_name, r.organisation.name) for r in self.row.referents]

    def amount(self, line_id: int) -> str:
        if self.row is None:
            return ""
        cents = next((b.amount_cents for b in self.row.budgets if b.line_id == line_id), None)
        return format_cents(cents, symbol=False) if cents is not None else ""


def forms(plan: PlanDocument, cards: list[Content]) -> dict[int, list[ActionForm]]:
    """The approved actions of every card (those still matching a row), with what the plan holds for each."""
    ids = card_ids(cards)
    rows = {row.action_id: row for row in rows_of(plan.id)}
    out: dict[int, list[ActionForm]] = {}
    for card in cards:
        card_id = int(card["data"]["card_id"])
        lines = year_lines(card, ids[card_id].lines, plan.year, plan.cycle.label)
        out[card_id] = [
            ActionForm(card_id, action_id, str(text), rows.get(action_id), lines)
            for text, action_id in zip(card["data"].get("actions", []), ids[card_id].actions, strict=False)
            if action_id is not None
        ]
    return out


def save_action(
    plan: PlanDocument,
    card: Content | None,
    action_id: int,
    *,
    selected: bool,
    referents: list[str],
    budget: dict[int, str],
    targets: str,
    timing: str,
    actor: Any,
) -> PlanActionRow:
    """Choose (or not) an approved action of `card` for the plan's year, with its referents, resources, targets
    and timing. `card` is the approved content of the card the form names (None when it has none)."""
    policy.require(actor, "plan.manage")
    if plan.kind != DocKind.PIANO_OPERATIVO:
        raise Invalid(_("Le azioni dell'anno si scelgono solo nel Piano Operativo."))
    if card is None:
        raise Invalid(errors={"card_id": _("La scheda non è tra quelle approvate di questo ciclo.")})
    card_id = int(card["data"]["card_id"])
    ids = card_ids([card])[card_id]
    if action_id not in ids.actions:
        raise Invalid(errors={"action_id": _("L'azione non è tra quelle approvate della scheda.")})
    for name, text in (("targets", targets), ("timing", timing)):
        if len(text or "") > MAX_TEXT:
            raise Invalid(errors={name: _("Il testo è troppo lungo: al massimo 5.000 caratteri.")})
    people = _referents(referents)
    lines = {line["id"]: line for line in year_lines(card, ids.lines, plan.year, plan.cycle.label)}
    given: dict[int, int] = {}
    for line_id, text in budget.items():
        if line_id not in lines:
            raise Invalid(errors={"budget": _("La voce di budget non è tra quelle della scheda per l'anno.")})
        if (text or "").strip():
            cents = stored_cents(parse_amount(text, field=f"budget-{line_id}"), field=f"budget-{line_id}")
            if cents < 0:
                raise Invalid(errors={f"budget-{line_id}": _("L'importo non può essere negativo.")})
            if cents:
                given[line_id] = cents
    row = db.session.scalar(
        select(PlanActionRow)
        .where(PlanActionRow.plan_id == plan.id, PlanActionRow.action_id == action_id)
        .options(selectinload(PlanActionRow.referents), selectinload(PlanActionRow.budgets))
    )
    if selected:
        _check_shares(plan, action_id, given, lines)
    before: dict[str, Any] = {"selected": False}
    if row is None:
        row = PlanActionRow(plan_id=plan.id, card_id=card_id, action_id=action_id, referents=[], budgets=[])
        db.session.add(row)
    else:
        before = {
            "selected": row.selected,
            "referents": [[r.user_id, r.organisation_id] for r in row.referents],
            "budget": {str(b.line_id): b.amount_cents for b in row.budgets},
            "targets": row.targets,
            "timing": row.timing,
        }
        row.referents, row.budgets = [], []
        db.session.flush()  # the old rows go before the new ones come (unique per action and person or line)
    row.selected = selected
    row.targets, row.timing = (targets or "").strip(), (timing or "").strip()
    row.referents = [
        PlanActionReferent(user_id=user_id, organisation_id=org_id, position=n)
        for n, (user_id, org_id) in enumerate(people)
    ]
    row.budgets = [PlanActionBudget(line_id=line_id, amount_cents=c) for line_id, c in sorted(given.items())]
    db.session.flush()
    audit.record(
        actor,
        "plan.action_saved",
        plan,
        {
            "card_id": card_id,
            "action_id": action_id,
            "selected": selected,
            "referents": [list(p) for p in people],
            "budget": {str(k): v for k, v in sorted(given.items())},
            "before": before,
        },
    )
    return row


def _referents(labels: list[str]) -> list[tuple[int, int]]:
    wanted = [" ".join(text.split()) for text in labels if (text or "").strip()]
    if len(wanted) > MAX_REFERENTS:
        raise Invalid(errors={"referents": _("Al massimo 12 referenti per azione.")})
    options: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for label, user_id, org_id in referent_options():
        options[label].append((user_id, org_id))
    people: list[tuple[int, int]] = []
    for label in wanted:
        found = options.get(label, [])
        if len(found) != 1:
            raise Invalid(
                errors={
                    "referents": _(
                        "«%(name)s» non è una persona della piattaforma con il suo ente: "
                        "sceglila dall'elenco (nome – ente).",
                        name=label,
                    )
                }
            )
        if found[0][0] in {user_id for user_id, _org in people}:
            raise Invalid(errors={"referents": _("«%(name)s» è indicato due volte.", name=label)})
        people.append(found[0])
    return people


def _check_shares(
    plan: PlanDocument, action_id: int, given: dict[int, int], lines: dict[int, dict[str, Any]]
) -> None:
    """The parts given to the plan's chosen actions from one line stay within the line's share for the year."""
    if not given:
        return
    others = dict(
        db.session.execute(
            select(PlanActionBudget.line_id, func.sum(PlanActionBudget.amount_cents))
            .join(PlanActionRow, PlanActionRow.id == PlanActionBudget.plan_action_id)
            .where(
                PlanActionRow.plan_id == plan.id,
                PlanActionRow.selected.is_(True),
                PlanActionRow.action_id != action_id,
                PlanActionBudget.line_id.in_(list(given)),
            )
            .group_by(PlanActionBudget.line_id)
        ).all()
    )
    for line_id, cents in sorted(given.items()):
        line = lines[line_id]
        used = int(others.get(line_id) or 0)
        if used + cents > line["cents"]:
            raise Invalid(
                errors={
                    f"budget-{line_id}": _(
                        "Le quote date alle azioni superano la parte %(year)d della voce «%(line)s»: "
                        "%(share)s, di cui %(used)s già date ad altre azioni.",
                        year=plan.year,
                        line=line["description"],
                        share=format_cents(line["cents"]),
                        used=format_cents(used),
                    )
                }
            )
