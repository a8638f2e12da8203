"""The Piano Operativo of a year, as the 2015 PO (seed 004) is made: per objective the year's actions chosen from
the approved card's actions, named referents (people, each for their organisation), the resources of each action
drawn from the year's share of the card's budget lines with the objective's total, the year's "range di
valutazione" and the timing, which stays empty until written and is then said to be missing. Through HTTP on
the demo: its PO 2027 has two actions of three approved cards, each 2027 line shared between the two."""

from __future__ import annotations

import json
import re
from html import unescape
from io import BytesIO
from typing import Any

import docx
from pypdf import PdfReader
from sqlalchemy import func, select

from pdz.money import format_cents, parse_amount

FP = re.compile(r'name="fingerprint" value="([0-9a-f]{64})"')
SECTIONS = [
    "Obiettivo del triennio",
    "Azioni 2027",
    "Referenti",
    "Risorse",
    "TOTALE OBIETTIVO 1",
    "Range di valutazione 2027",
    "Tempi",
    "TOTALE PO 2027",
]


def fresh(client_as: Any, email: str) -> Any:
    from flask import g

    g.pop("_login_user", None)
    g.pop("pdz_memberships", None)
    return client_as(email)


def text_of(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def cents(text: str) -> int:
    return 0 if text == "—" else parse_amount(text)


def the_po(db: Any) -> Any:
    from pdz.approvals.models import DocKind, PlanDocument

    db.session.expire_all()
    return db.session.scalar(select(PlanDocument).where(PlanDocument.kind == DocKind.PIANO_OPERATIVO))


def fingerprint_on(client: Any, po: Any) -> str:
    page = client.get(f"/piani/{po.id}")
    assert page.status_code == 200
    found = FP.search(page.get_data(as_text=True))
    assert found
    return found.group(1)


def submitted(client: Any, po: Any) -> tuple[int, dict[str, Any]]:
    """The PO sent for approval as the page shows it: the submission and its frozen content."""
    fingerprint = fingerprint_on(client, po)
    assert fingerprint_on(client, po) == fingerprint  # the same draft always has the same fingerprint
    response = client.post(f"/piani/{po.id}/invia", data={"fingerprint": fingerprint})
    assert response.status_code == 303, response.status_code
    sid = int(re.search(r"/approvazioni/(\d+)$", response.headers["Location"]).group(1))
    frozen = client.get(f"/approvazioni/{sid}/documento.json")
    assert frozen.status_code == 200
    return sid, json.loads(frozen.data)


def blocks(content: dict[str, Any], caption: str) -> list[tuple[str, dict[str, Any]]]:
    return [
        (s["heading"], b)
        for s in content["sections"]
        for b in s["blocks"]
        if b["type"] == "table" and b["caption"] == caption
    ]


def fields(content: dict[str, Any], heading: str) -> dict[str, str]:
    section = next(s for s in content["sections"] if s["heading"] == heading)
    return {b["label"]: b["text"] for b in section["blocks"] if b["type"] == "field"}


def test_the_po_lists_only_the_chosen_actions_with_their_year_parts(db: Any, client_as: Any) -> None:
    from pdz.accounts.models import User
    from pdz.approvals.models import PlanAction, PlanActionBudget, PlanActionReferent
    from pdz.cards.models import CardAction
    from pdz.cycles.models import BudgetLineYear
    from pdz.orgs.models import Organisation

    po = the_po(db)
    assert po.year == 2027
    _sid, content = submitted(fresh(client_as, "udp@example.org"), po)

    chosen = db.session.scalars(
        select(PlanAction).where(PlanAction.plan_id == po.id, PlanAction.selected.is_(True))
    ).all()
    assert len(chosen) == 6
    texts = {db.session.get(CardAction, a.action_id).text_source for a in chosen}
    others = (
        set(
            db.session.scalars(
                select(CardAction.text_source).where(
                    CardAction.card_id.in_({a.card_id for a in chosen}), CardAction.removed.is_(False)
                )
            )
        )
        - texts
    )
    assert others, "the demo leaves some actions of the same cards out of 2027"
    actions = [row for _h, block in blocks(content, "Azioni 2027") for row in block["rows"]]
    assert [row[0] for row in actions] == [str(n) for n in range(1, 7)]  # numbered across objectives
    assert {row[1] for row in actions} == texts and not others & {row[1] for row in actions}

    # resources: each 2027 line of the three cards is shared between its two actions, so the parts given add up
    # to the line's 2027 share in the funds table, and the document's totals to their sum
    given = dict(
        db.session.execute(
            select(PlanActionBudget.line_id, func.sum(PlanActionBudget.amount_cents))
            .join(PlanAction, PlanAction.id == PlanActionBudget.plan_action_id)
            .where(PlanAction.plan_id == po.id)
            .group_by(PlanActionBudget.line_id)
        ).all()
    )
    shares = dict(
        db.session.execute(
            select(BudgetLineYear.line_id, BudgetLineYear.amount_cents).where(
                BudgetLineYear.line_id.in_(list(given)), BudgetLineYear.year == 2027
            )
        ).all()
    )
    assert given == shares and len(given) >= 3
    objective_totals = []
    for _heading, block in blocks(content, "Risorse"):
        assert block["columns"] == ["Azione", "Voce", "Fonte", "Importo 2027"]
        assert sum(cents(row[3]) for row in block["rows"]) == cents(block["total"][3])
        objective_totals.append(cents(block["total"][3]))
    assert [b["total"][0] for _h, b in blocks(content, "Risorse")] == [
        f"TOTALE OBIETTIVO {n}" for n in (1, 2, 3)
    ]
    (_h, summary), *_rest = blocks(content, "Obiettivi del Piano Operativo 2027")
    assert [cents(row[3]) for row in summary["rows"]] == objective_totals
    assert summary["total"] == ["TOTALE PO 2027", "", "6", format_cents(sum(shares.values()))]
    assert content["data"]["total_cents"] == sum(shares.values())

    # referents are people, each for their organisation, not kinds of organisation
    people = {
        (name, org)
        for name, org in db.session.execute(
            select(User.full_name, Organisation.name)
            .join(PlanActionReferent, PlanActionReferent.user_id == User.id)
            .join(Organisation, Organisation.id == PlanActionReferent.organisation_id)
            .join(PlanAction, PlanAction.id == PlanActionReferent.plan_action_id)
            .where(PlanAction.plan_id == po.id)
        )
    }
    shown = {(row[0], row[1]) for _h, b in blocks(content, "Referenti") for row in b["rows"]}
    assert shown == people and ("Marta Guerini", "Ufficio di Piano - Comune di Crema") in shown
    assert all(b["columns"] == ["Referente", "Per", "Azioni"] for _h, b in blocks(content, "Referenti"))

    # the year's targets and the timing; the one timing not written is said to be missing, never filled in
    ranges = [
        row for _h, b in blocks(content, "Valutazione – range di valutazione 2027") for row in b["rows"]
    ]
    written = set(db.session.scalars(select(PlanAction.targets).where(PlanAction.plan_id == po.id)))
    assert len(ranges) == 6 and {r[2] for r in ranges} == written and "" not in written
    timing = [row for _h, b in blocks(content, "Tempi") for row in b["rows"]]
    assert [row[2] for row in timing].count("Tempi non ancora indicati") == 1
    assert timing[-1][2] == "Tempi non ancora indicati"
    assert not any("Gennaio – dicembre" in row[2] for row in timing)
    assert fields(content, "Sintesi")["Tempi mancanti"] == "Azioni 6"


def _a_card_without_choices(db: Any, client: Any, po: Any) -> tuple[dict[str, Any], int, int, int]:
    """An approved card of the PO's cycle with none of its actions chosen: its content, first action id, a
    money line with a 2027 share and that share."""
    from pdz.approvals import assembly, operativo, operativo_choices
    from pdz.approvals.models import PlanAction

    taken = set(db.session.scalars(select(PlanAction.card_id).where(PlanAction.plan_id == po.id)))
    cards, _fingerprints = assembly.approved_cards(po.cycle_id)
    for card in sorted(cards, key=lambda c: c["data"]["card_id"]):
        card_id = card["data"]["card_id"]
        ids = operativo_choices.card_ids([card])[card_id]
        lines = operativo.year_lines(card, ids.lines, 2027, "2025-2027")
        if card_id not in taken and ids.actions and lines:
            return card, int(ids.actions[0]), int(lines[0]["id"]), int(lines[0]["cents"])
    raise AssertionError("the demo has approved cards without choices")


def test_the_udp_chooses_an_action_with_referents_resources_and_targets(db: Any, client_as: Any) -> None:
    from pdz.approvals.models import PlanAction, PlanActionBudget
    from pdz.audit import AuditEntry

    po = the_po(db)
    udp = fresh(client_as, "udp@example.org")
    card, action_id, line_id, share = _a_card_without_choices(db, udp, po)
    page = udp.get(f"/piani/{po.id}").get_data(as_text=True)
    assert f'name="action_id" value="{action_id}"' in page
    assert "Luca Bonizzi – Banco di Solidarietà Cremasco ODV" in unescape(page)  # offered as a referent
    before = fingerprint_on(udp, po)
    form = {
        "card_id": card["data"]["card_id"],
        "action_id": action_id,
        "selected": "1",
        "referent": ["Luca Bonizzi – Banco di Solidarietà Cremasco ODV", ""],
        f"budget-{line_id}": "1.000,00",
        "targets": "Almeno 3 comuni coinvolti entro giugno 2027",
        "timing": "",
    }
    saved = udp.post(f"/piani/{po.id}/azioni", data=form)
    assert saved.status_code == 303
    assert fingerprint_on(udp, po) != before
    preview = text_of(udp.get(f"/piani/{po.id}"))
    assert "Luca Bonizzi Banco di Solidarietà Cremasco ODV" in preview
    assert "Almeno 3 comuni coinvolti entro giugno 2027" in preview
    assert "Tempi non ancora indicati" in preview and "Tempi mancanti" in preview
    assert "1.000,00 €" in preview and "TOTALE PO 2027 7" in preview
    db.session.expire_all()
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "plan.action_saved").order_by(AuditEntry.id.desc())
    )
    assert entry is not None and entry.details["action_id"] == action_id

    row = db.session.scalar(select(PlanAction).where(PlanAction.action_id == action_id))
    amount = lambda: db.session.scalar(  # noqa: E731
        select(PlanActionBudget.amount_cents).where(PlanActionBudget.plan_action_id == row.id)
    )
    # more than the line's 2027 share: refused in Italian, nothing changes
    too_much = udp.post(
        f"/piani/{po.id}/azioni", data={**form, f"budget-{line_id}": format_cents(share + 1, symbol=False)}
    )
    assert too_much.status_code == 422
    assert "superano la parte 2027" in text_of(too_much)
    db.session.expire_all()
    assert amount() == 100000
    # a kind of organisation is not a person
    nobody = udp.post(f"/piani/{po.id}/azioni", data={**form, "referent": "Terzo Settore"})
    assert nobody.status_code == 422 and "non è una persona della piattaforma" in text_of(nobody)
    # an action of another card, or one that does not exist, is refused
    wrong = udp.post(f"/piani/{po.id}/azioni", data={**form, "action_id": 2**31 - 1})
    assert wrong.status_code == 422
    # unchosen: out of the document, what was written is kept for when it is chosen again
    assert udp.post(f"/piani/{po.id}/azioni", data={**form, "selected": ""}).status_code == 303
    preview = text_of(udp.get(f"/piani/{po.id}"))
    assert "Almeno 3 comuni coinvolti entro giugno 2027" not in preview.split("Anteprima del documento")[1]
    assert "TOTALE PO 2027 6" in preview
    db.session.expire_all()
    assert amount() == 100000


def test_members_cannot_choose_actions(db: Any, client_as: Any) -> None:
    from pdz.approvals.models import PlanAction

    po = the_po(db)
    action_id = db.session.scalar(select(PlanAction.action_id).where(PlanAction.plan_id == po.id).limit(1))
    count = db.session.scalar(select(func.count()).select_from(PlanAction))
    for email in ("membro@example.org", "coord.pubblico@example.org", "sindaco@example.org"):
        client = fresh(client_as, email)
        answer = client.post(
            f"/piani/{po.id}/azioni", data={"card_id": 1, "action_id": action_id, "selected": ""}
        )
        assert answer.status_code == 403, email
    db.session.expire_all()
    assert db.session.scalar(select(func.count()).select_from(PlanAction)) == count
    assert db.session.scalar(select(PlanAction.selected).where(PlanAction.action_id == action_id)) is True


def test_the_po_exports_carry_its_sections(db: Any, client_as: Any) -> None:
    po = the_po(db)
    udp = fresh(client_as, "udp@example.org")
    sid, content = submitted(udp, po)
    referent = next(row[0] for _h, b in blocks(content, "Referenti") for row in b["rows"])

    pdf = udp.get(f"/approvazioni/{sid}/documento.pdf")
    assert pdf.status_code == 200
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(BytesIO(pdf.data)).pages).split())
    for words in [*SECTIONS, "Tempi non ancora indicati", referent]:
        assert words in text, words

    word = udp.get(f"/approvazioni/{sid}/documento.docx")
    assert word.status_code == 200
    document = docx.Document(BytesIO(word.data))
    parts = [p.text for p in document.paragraphs]
    parts += [cell.text for table in document.tables for row in table.rows for cell in row.cells]
    text = " ".join(" ".join(parts).split())
    for words in [*SECTIONS, "Tempi non ancora indicati", referent]:
        assert words in text, words


def test_the_po_keeps_the_approved_text_of_an_action_edited_since(db: Any, client_as: Any) -> None:
    from pdz.approvals.models import PlanAction
    from pdz.cards.models import CardAction

    po = the_po(db)
    first = db.session.scalar(
        select(PlanAction).where(PlanAction.plan_id == po.id).order_by(PlanAction.id).limit(1)
    )
    action = db.session.get(CardAction, first.action_id)
    approved_text = action.text_source
    action.text_source = "Testo riscritto dopo l'approvazione"
    db.session.add(
        CardAction(card_id=action.card_id, text_source="Azione aggiunta dopo l'approvazione", position=99)
    )
    db.session.commit()

    udp = fresh(client_as, "udp@example.org")
    page = udp.get(f"/piani/{po.id}").get_data(as_text=True)
    assert "Azione aggiunta dopo l&#39;approvazione" not in page  # not approved: not offered
    _sid, content = submitted(udp, po)
    actions = [row[1] for _h, b in blocks(content, "Azioni 2027") for row in b["rows"]]
    assert approved_text in actions and "Testo riscritto dopo l'approvazione" not in actions
    assert len(actions) == 6
