"""Use cases of objective cards: create, structured values (choices, rows, totals), restore, move.

Free text is co-written through the engine (`pdz.coedit`, kind in `cards/coedit.py`). Every structured
save: authorise, validate, lock the card row (concurrent saves of the same card serialise), replay a retried
operation, merge against the editor's base (sets of choices by what was added and removed; row attributes
one by one), write one revision, audit, and queue a live event. Two people changing the same row attribute
at once get a refusal that shows both values: nothing is silently overwritten.
"""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass
from dataclasses import field as dc_field
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import audit, policy, realtime, signals
from ..cycles.models import PlanningCycle, PolicyArea
from ..db import utcnow
from ..errors import EditConflict, Invalid, NotAllowed, NotFound
from ..extensions import db
from ..merge import merge3
from ..money import format_cents, parse_amount, stored_cents
from ..tavoli.models import Body
from . import fields
from .models import Card, CardBudgetLine, CardRevision, CardStatus, CardValue, RevisionKind
from .rows import ROW_KINDS, parse_field, row_kind

OP_ID = re.compile(r"^[A-Za-z0-9_-]{8,64}$")
TEXT_ATTRS = {"text", "markdown"}
TEXT_KINDS = {"line", "markdown", "tags"}  # co-written: see cards/coedit.py


@dataclass
class SaveOutcome:
    status: str  # saved | merged | unchanged | duplicate
    revision: int
    field: str
    value: str = ""
    html: str = ""
    row: dict[str, Any] | None = None
    changes: list[dict[str, Any]] = dc_field(default_factory=list)
    texts: dict[str, str] = dc_field(default_factory=dict)  # restore: texts for the co-writing engine

    def as_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "ok": True,
            "status": self.status,
            "revision": self.revision,
            "field": self.field,
        }
        if self.row is not None:
            data["row"] = self.row
        else:
            data.update(value=self.value, html=self.html)
        return data


# --- helpers -----------------------------------------------------------------------------------------


def new_op_id() -> str:
    return uuid.uuid4().hex


def _op(client_op_id: Any) -> str:
    if client_op_id is None or client_op_id == "":
        return new_op_id()
    if not isinstance(client_op_id, str) or not OP_ID.match(client_op_id):
        raise Invalid(errors={"client_op_id": _("Identificativo dell'operazione non valido.")})
    return client_op_id


def _require_edit(card: Card, actor: Any, expected_body_id: int | None = None) -> None:
    if expected_body_id is not None and card.body_id != expected_body_id:
        raise EditConflict(
            _(
                "Questa scheda è stata spostata nel tavolo «%(body)s»: ricarica la pagina. "
                "Il tuo testo è ancora nel campo: copialo prima di ricaricare.",
                body=card.body.display_name,
            ),
            moved=True,
        )
    if not policy.can(actor, "card.edit", card):
        raise NotAllowed(
            _(
                "Non puoi più modificare questa scheda: non risulti tra i componenti con diritto di scrittura "
                "del tavolo «%(body)s». Nessuna modifica è stata salvata.",
                body=card.body.display_name,
            ),
            action="card.edit",
        )


def _lock(card: Card) -> None:
    """Take the card's write lock first (SQLite write lock / PostgreSQL row lock), then re-read it."""
    db.session.execute(
        update(Card)
        .where(Card.id == card.id)
        .values(revision_no=Card.revision_no)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(card)


def _value_row(card: Card, key: str) -> CardValue | None:
    return db.session.scalar(
        select(CardValue)
        .where(CardValue.card_id == card.id, CardValue.key == key)
        .execution_options(populate_existing=True)
    )


def value_at(card_id: int, field_key: str, number: int, current: str) -> str:
    """The value a field had at revision `number`: the `before` of the first later revision, else current."""
    later = db.session.scalar(
        select(CardRevision.before)
        .where(CardRevision.card_id == card_id, CardRevision.field == field_key, CardRevision.number > number)
        .order_by(CardRevision.number)
        .limit(1)
    )
    return current if later is None else later


def _replay(card: Card, op: str) -> SaveOutcome | None:
    """A retried operation is applied once: answer with what the first attempt did."""
    done = db.session.scalars(
        select(CardRevision).where(CardRevision.card_id == card.id, CardRevision.client_op_id == op)
    ).first()
    if done is not None:
        outcome = SaveOutcome("duplicate", done.number, done.field)
        if parse_field(done.field) is None and done.field in fields.SPECS:
            current = _value_row(card, done.field)
            outcome.value = current.value_source if current else ""
            outcome.html = current.value_html if current else ""
        return outcome
    return None


def _record(card: Card, changes: list[tuple[str, str, str]], kind: RevisionKind, op: str, actor: Any) -> int:
    card.revision_no += 1
    now = utcnow()
    for field_key, before, after in changes:
        db.session.add(
            CardRevision(
                card_id=card.id,
                number=card.revision_no,
                field=field_key,
                before=before,
                after=after,
                kind=kind,
                author_id=actor.id,
                at=now,
                client_op_id=op,
            )
        )
    card.last_change_at = now
    card.last_change_by_id = actor.id
    audit.record(
        actor,
        "card.updated",
        card,
        {"fields": [c[0] for c in changes], "revision": card.revision_no, "kind": kind.value},
    )
    return card.revision_no


def _publish(
    card: Card, revision: int, actor: Any, op: str, changes: list[dict[str, Any]], kind: RevisionKind
) -> None:
    realtime.publish_after_commit(
        f"card:{card.id}",
        "card.updated",
        {
            "card_id": card.id,
            "rev": revision,
            "kind": kind.value,
            "author_id": actor.id,
            "author": actor.full_name,
            "op": op,
            "changes": changes,
        },
    )


def _set_value(card: Card, key: str, value: str, row: CardValue | None = None) -> CardValue:
    spec = fields.SPECS[key]
    row = row if row is not None else _value_row(card, key)
    if row is None:
        row = CardValue(card_id=card.id, key=key)
        db.session.add(row)
    row.value_source = value
    row.value_html = spec.html(value)
    if key == "title":
        card.title = value or "Scheda senza titolo"
    return row


def area_keys() -> dict[str, str]:
    return {
        a.key: f"{a.code} – {a.name}"
        for a in db.session.scalars(select(PolicyArea).order_by(PolicyArea.position))
    }


# --- cards -------------------------------------------------------------------------------------------


def create_card(body: Body, title: str, area_id: int | None, *, actor: Any) -> Card:
    policy.require(actor, "card.create", body)
    title = fields.SPECS["title"].clean(title)
    if not title:
        raise Invalid(errors={"title": _("Scrivi il titolo della scheda.")})
    area = db.session.get(PolicyArea, area_id) if area_id else None
    if area_id and area is None:
        raise Invalid(errors={"area_id": _("Area di policy non trovata.")})
    cycle = db.session.scalar(select(PlanningCycle).order_by(PlanningCycle.start_year.desc()).limit(1))
    if cycle is None:
        raise Invalid(errors={"": _("Nessun ciclo di programmazione attivo.")})
    card = Card(
        cycle_id=cycle.id,
        body_id=body.id,
        area_id=area.id if area else None,
        title=title,
        created_by_id=actor.id,
    )
    db.session.add(card)
    db.session.flush()
    _set_value(card, "title", title)
    _record(card, [("title", "", title)], RevisionKind.EDIT, new_op_id(), actor)
    audit.record(actor, "card.created", card, {"body_id": body.id})
    realtime.publish_after_commit(f"tavolo:{body.id}", "card.created", {"card_id": card.id, "title": title})
    return card


def save_field(
    card: Card,
    key: str,
    value: Any,
    *,
    client_op_id: str | None,
    actor: Any,
    base_value: str | None = None,
    expected_body_id: int | None = None,
) -> SaveOutcome:
    """Save a structured value (yes/no, choices) at once. Free text is written through the co-writing
    engine (`coedit`), never here. A set of choices merges with the others' concurrent changes: what this
    person added or removed since `base_value` is applied to the current set, so nobody's tick is lost."""
    if key == fields.DECLARED_TOTAL:
        return set_declared_total(
            card, value, client_op_id=client_op_id, actor=actor, expected_body_id=expected_body_id
        )
    spec = fields.spec(key)
    if spec.kind in TEXT_KINDS:
        raise Invalid(errors={key: _("Questo testo si scrive direttamente nella pagina della scheda.")})
    _require_edit(card, actor, expected_body_id)
    op = _op(client_op_id)
    options = area_keys() if spec.kind == "area_choices" else None
    mine = spec.clean(value, area_keys=options)
    _lock(card)
    _require_edit(card, actor, expected_body_id)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    current = _value_row(card, key)
    theirs = current.value_source if current else ""
    final = mine
    if spec.kind in {"choices", "area_choices"} and base_value is not None:
        base = set(spec.clean(base_value, area_keys=options).split("\n")) - {""}
        chosen = set(mine.split("\n")) - {""}
        merged = (set(theirs.split("\n")) - {""} | (chosen - base)) - (base - chosen)
        final = spec.clean("\n".join(merged), area_keys=options)
    if final == theirs:
        return SaveOutcome("unchanged", card.revision_no, key, theirs, current.value_html if current else "")
    kind = RevisionKind.MERGE if final != mine else RevisionKind.EDIT
    number = _record(card, [(key, theirs, final)], kind, op, actor)
    row = _set_value(card, key, final, current)
    change = {"field": key, "value": final, "html": row.value_html}
    _publish(card, number, actor, op, [change], kind)
    return SaveOutcome(
        "merged" if kind == RevisionKind.MERGE else "saved", number, key, final, row.value_html
    )


def budget_totals(card_id: int) -> dict[str, Any]:
    """Totals per source and overall of the lines counted in the total, computed in SQL."""
    rows = db.session.execute(
        select(CardBudgetLine.source, func.coalesce(func.sum(CardBudgetLine.amount_cents), 0))
        .where(
            CardBudgetLine.card_id == card_id,
            CardBudgetLine.removed.is_(False),
            CardBudgetLine.counted.is_(True),
        )
        .group_by(CardBudgetLine.source)
        .order_by(CardBudgetLine.source)
    ).all()
    by_source = {str(source): int(total or 0) for source, total in rows}
    return {"by_source": by_source, "total": sum(by_source.values())}


def set_declared_total(
    card: Card, value: Any, *, client_op_id: str | None, actor: Any, expected_body_id: int | None = None
) -> SaveOutcome:
    _require_edit(card, actor, expected_body_id)
    op = _op(client_op_id)
    text = str(value or "").strip()
    cents = (
        stored_cents(parse_amount(text, field=fields.DECLARED_TOTAL), field=fields.DECLARED_TOTAL)
        if text
        else None
    )
    _lock(card)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    computed = budget_totals(card.id)["total"]
    if cents is not None and cents != computed:
        raise Invalid(
            errors={
                fields.DECLARED_TOTAL: _(
                    "Il totale indicato (%(declared)s) non corrisponde alla somma delle righe conteggiate nel "
                    "totale (%(computed)s). Correggi le righe oppure il totale.",
                    declared=format_cents(cents),
                    computed=format_cents(computed),
                )
            }
        )
    before = "" if card.declared_total_cents is None else str(card.declared_total_cents)
    after = "" if cents is None else str(cents)
    if before == after:
        return SaveOutcome("unchanged", card.revision_no, fields.DECLARED_TOTAL, after)
    number = _record(card, [(fields.DECLARED_TOTAL, before, after)], RevisionKind.EDIT, op, actor)
    card.declared_total_cents = cents
    _publish(
        card,
        number,
        actor,
        op,
        [{"field": fields.DECLARED_TOTAL, "value": after, "html": format_cents(cents)}],
        RevisionKind.EDIT,
    )
    return SaveOutcome("saved", number, fields.DECLARED_TOTAL, after, format_cents(cents))


# --- list rows ---------------------------------------------------------------------------------------


def _row_change(kind_key: str, row: Any) -> dict[str, Any]:
    kind = ROW_KINDS[kind_key]
    return {"field": f"{kind_key}:{row.id}", "row": kind_key, "row_id": row.id, "data": kind.snapshot(row)}


def add_row(
    card: Card,
    kind_key: str,
    values: dict[str, Any],
    *,
    client_op_id: str | None,
    actor: Any,
    expected_body_id: int | None = None,
) -> SaveOutcome:
    kind = row_kind(kind_key)
    _require_edit(card, actor, expected_body_id)
    op = _op(client_op_id)
    cleaned = kind.clean(values, partial=False)
    _lock(card)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    position = (
        db.session.scalar(
            select(func.coalesce(func.max(kind.model.position), 0)).where(kind.model.card_id == card.id)
        )
        or 0
    )
    row = kind.model(card_id=card.id, position=position + 1)
    kind.apply(row, cleaned)
    db.session.add(row)
    db.session.flush()
    change = _row_change(kind_key, row)
    number = _record(card, [(change["field"], "", kind.dump(row))], RevisionKind.EDIT, op, actor)
    _publish(card, number, actor, op, [change], RevisionKind.EDIT)
    return SaveOutcome("saved", number, change["field"], row=change)


def _load_row(card: Card, kind_key: str, row_id: int) -> Any:
    kind = row_kind(kind_key)
    row = db.session.scalar(
        select(kind.model)
        .where(kind.model.id == row_id, kind.model.card_id == card.id)
        .execution_options(populate_existing=True)
    )
    if row is None:
        raise NotFound(_("Questa riga non fa parte della scheda."))
    return row


def update_row(
    card: Card,
    kind_key: str,
    row_id: int,
    values: dict[str, Any],
    *,
    base_revision: int,
    client_op_id: str | None,
    actor: Any,
    expected_body_id: int | None = None,
) -> SaveOutcome:
    kind = row_kind(kind_key)
    _require_edit(card, actor, expected_body_id)
    op = _op(client_op_id)
    mine = kind.clean(values, partial=True)
    _lock(card)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    if not 0 <= base_revision <= card.revision_no:
        raise Invalid(errors={"base_revision": _("Versione di partenza non valida: ricarica la pagina.")})
    row = _load_row(card, kind_key, row_id)
    field_key = f"{kind_key}:{row.id}"
    before = kind.dump(row)
    current = kind.snapshot(row)
    base_dump = value_at(card.id, field_key, base_revision, before)
    base = json.loads(base_dump) if base_dump else current
    if current["removed"] and not base.get("removed"):
        raise Invalid(
            errors={"": _("Questa riga è stata eliminata da un'altra persona mentre la modificavi.")}
        )
    attrs = {a.name: a for a in kind.attrs}
    final: dict[str, Any] = {}
    for name, value in mine.items():
        theirs, base_value = current.get(name), base.get(name)
        if theirs == base_value or value == theirs:
            final[name] = value
        elif value == base_value:
            continue
        elif attrs[name].type in TEXT_ATTRS:
            merged = merge3(str(base_value or ""), str(value), str(theirs or ""))
            if merged.conflicts:
                raise _row_overlap(attrs[name].label, str(value), str(theirs or ""))
            final[name] = merged.text
        else:
            raise _row_overlap(attrs[name].label, str(value), str(theirs or ""))
    kind.apply(row, final)
    after = kind.dump(row)
    if after == before:
        return SaveOutcome("unchanged", card.revision_no, field_key, row=_row_change(kind_key, row))
    number = _record(card, [(field_key, before, after)], RevisionKind.EDIT, op, actor)
    change = _row_change(kind_key, row)
    _publish(card, number, actor, op, [change], RevisionKind.EDIT)
    return SaveOutcome("saved", number, field_key, row=change)


def _row_overlap(label: str, mine: str, theirs: str) -> Invalid:
    """Two people changed the same part of a row at once: nothing is stored, and the message carries both
    values so that the person can choose (the row on the page now shows the other one)."""
    return Invalid(
        errors={
            "": _(
                "Nello stesso momento un'altra persona ha cambiato «%(label)s» di questa riga in «%(theirs)s». "
                "Il tuo valore, non salvato, era «%(mine)s»: riscrivilo se va tenuto.",
                label=label,
                theirs=theirs[:300],
                mine=mine[:300],
            )
        }
    )


def remove_row(
    card: Card,
    kind_key: str,
    row_id: int,
    *,
    client_op_id: str | None,
    actor: Any,
    expected_body_id: int | None = None,
) -> SaveOutcome:
    kind = row_kind(kind_key)
    _require_edit(card, actor, expected_body_id)
    op = _op(client_op_id)
    _lock(card)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    row = _load_row(card, kind_key, row_id)
    if row.removed:
        return SaveOutcome(
            "unchanged", card.revision_no, f"{kind_key}:{row.id}", row=_row_change(kind_key, row)
        )
    before = kind.dump(row)
    row.removed = True
    change = _row_change(kind_key, row)
    number = _record(card, [(change["field"], before, kind.dump(row))], RevisionKind.EDIT, op, actor)
    _publish(card, number, actor, op, [change], RevisionKind.EDIT)
    return SaveOutcome("saved", number, change["field"], row=change)


# --- history -----------------------------------------------------------------------------------------


def restore_revision(card: Card, number: int, *, client_op_id: str | None, actor: Any) -> SaveOutcome:
    """Bring every structured value back to its value at revision `number` (a new revision). The texts
    to restore are returned in `outcome.texts`: the caller applies them through the co-writing engine
    (`coedit.engine.replace_text`), so that open editors merge them live."""
    _require_edit(card, actor)
    op = _op(client_op_id)
    _lock(card)
    replayed = _replay(card, op)
    if replayed is not None:
        return replayed
    if not 0 <= number <= card.revision_no:
        raise Invalid(errors={"": _("Versione inesistente.")})
    touched = db.session.scalars(
        select(CardRevision.field)
        .where(CardRevision.card_id == card.id, CardRevision.number > number)
        .distinct()
    ).all()
    changes: list[tuple[str, str, str]] = []
    published: list[dict[str, Any]] = []
    pending: list[tuple[str, str]] = []
    texts: dict[str, str] = {}
    for field_key in sorted(touched):
        if field_key in fields.SPECS and fields.SPECS[field_key].kind in TEXT_KINDS:
            current = _value_row(card, field_key)
            now_value = current.value_source if current else ""
            target = value_at(card.id, field_key, number, now_value)
            if target != now_value:
                texts[field_key] = target
            continue
        if field_key in fields.SPECS:
            current = _value_row(card, field_key)
            now_value = current.value_source if current else ""
        elif field_key == fields.DECLARED_TOTAL:
            now_value = "" if card.declared_total_cents is None else str(card.declared_total_cents)
        elif field_key == "status":
            continue  # the approval chain alone writes the status: a restore never rolls it back
        elif (parsed := parse_field(field_key)) is not None:
            now_value = ROW_KINDS[parsed[0]].dump(_load_row(card, parsed[0], parsed[1]))
        else:
            continue  # e.g. the tavolo of a moved card: not part of the text
        target = value_at(card.id, field_key, number, now_value)
        if target != now_value:
            changes.append((field_key, now_value, target))
            pending.append((field_key, target))
    if not changes:
        return SaveOutcome("unchanged", card.revision_no, "", texts=texts)
    revision = _record(card, changes, RevisionKind.RESTORE, op, actor)
    for field_key, target in pending:
        if field_key in fields.SPECS:
            row = _set_value(card, field_key, target)
            published.append({"field": field_key, "value": target, "html": row.value_html})
        elif field_key == fields.DECLARED_TOTAL:
            card.declared_total_cents = int(target) if target else None
            published.append(
                {"field": field_key, "value": target, "html": format_cents(card.declared_total_cents)}
            )
        else:
            kind_key, row_id = parse_field(field_key)  # type: ignore[misc]
            kind, row = ROW_KINDS[kind_key], _load_row(card, kind_key, row_id)
            data = json.loads(target) if target else {"removed": True}
            kind.apply(row, {a.name: data[a.name] for a in kind.attrs if a.name in data})
            row.removed = bool(data.get("removed"))
            published.append(_row_change(kind_key, row))
    audit.record(actor, "card.restored", card, {"to_revision": number, "revision": revision})
    _publish(card, revision, actor, op, published, RevisionKind.RESTORE)
    return SaveOutcome("saved", revision, "", changes=published, texts=texts)


def set_status(card: Card, status: str, *, actor: Any) -> None:
    """The status follows the approval chain (its one writer, `approvals.sources`): nobody sets it by hand,
    whatever their role. Asking for the status the card already has changes nothing."""
    _require_edit(card, actor)
    try:
        new = CardStatus(status)
    except ValueError:
        raise Invalid(errors={"status": _("Stato non previsto.")}) from None
    if card.status == new:
        return
    for _receiver, reason in signals.card_status_asked.send(card):  # the chain says why, while it runs
        if reason:
            raise Invalid(errors={"status": reason})
    raise Invalid(
        errors={"status": _("Lo stato della scheda segue il percorso di approvazione: non si cambia a mano.")}
    )


def move_card(card: Card, target: Body, *, actor: Any) -> None:
    policy.require(actor, "card.move", card)
    if not policy.can(actor, "card.create", target):
        raise NotAllowed(_("Puoi spostare la scheda solo in un tavolo in cui puoi scrivere."))
    if target.id == card.body_id:
        return
    _lock(card)
    old_body = card.body
    op = new_op_id()
    number = _record(card, [("tavolo", old_body.name, target.name)], RevisionKind.EDIT, op, actor)
    card.body_id = target.id
    card.body = target
    audit.record(actor, "card.moved", card, {"from": old_body.id, "to": target.id})
    realtime.publish_after_commit(
        f"card:{card.id}",
        "card.moved",
        {"card_id": card.id, "rev": number, "body_id": target.id, "body": target.name},
    )
