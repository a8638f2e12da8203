"""Money by fund and by year (issue #15 point 1), through HTTP on both backends.

The allocations are the documents' (CSC annual report 2024, 003 l.30-96; PdZ 2025-2027, 001 l.1067-1091): FSR
2024 1.171.075,29 € by DGR XII - 2915 e DGR XII - 2976, FNPS 2024 899.426,89 € by DGR XII - 2800, ... totals
14.793.631,79 € (2024) and 13.419.780,22 € (2023). Card K's "costo Ufficio di Piano" (866.604,83 €, "a valere su FNPS - QSFP - Fondo
Solidarietà comunale", 001 l.7141-7142: a line of mixed sources) splits evenly over 2025-2027 with the two
remainder cents on 2027.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sqlalchemy import select

from pdz.money import format_cents

DOCUMENTS_2024 = [
    ("FSR (Fondo Sociale Regionale)", "DGR XII - 2915 e DGR XII - 2976", "1.171.075,29"),
    ("FNPS (Fondo Nazionale Politiche Sociali)", "DGR XII - 2800", "899.426,89"),
    ("FNA (Fondo Non Autosufficienze)", "DGR XII - 2033", "627.212,84"),
    ("FNA (Fondo caregiver disabilità grave)", "DGR XII - 5036", "47.575,43"),
    ("PUA", "DGR XII - 2033", "40.000,00"),
    ("FSOL (Fondo di Solidarietà)", "Comuni ambito cremasco", "814.105,00"),
    ("Fondi comunali per gestione associata", "Comuni ambito cremasco", "10.247.140,29"),
]
DOCUMENTS_2023 = [
    ("FSR (Fondo Sociale Regionale)", "DGR XII - 777/2023", "1.181.233,24"),
    ("FNPS (Fondo Nazionale Politiche Sociali)", "DGR XI - 590/2023", "881.980,44"),
    ("FNA (Fondo Non Autosufficienze)", "DGR XI - 1581/2023", "615.901,00"),
    ("FNA (Fondo caregiver disabilità grave)", "DGR XI - 19159/2022, DGR XI - 1030/2023", "41.533,17"),
    ("FSOL (Fondo di Solidarietà)", "Comuni ambito cremasco", "814.105,00"),
    ("Fondi comunali per gestione associata", "Comuni ambito cremasco", "9.486.487,54"),
]


def fresh(client_as: Any, email: str) -> Any:
    from flask import g

    g.pop("_login_user", None)
    g.pop("pdz_memberships", None)
    return client_as(email)


def text_of(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def cycle_2025(db: Any) -> Any:
    from pdz.cycles.models import PlanningCycle

    return db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))


K_UDP = "costo Ufficio di Piano (a valere su FNPS, QSFP e Fondo di Solidarietà comunale)"


def line_of(db: Any, card_key: str, description: str) -> Any:
    from pdz.cards.models import Card, CardBudgetLine

    db.session.expire_all()
    return db.session.scalar(
        select(CardBudgetLine)
        .join(Card, Card.id == CardBudgetLine.card_id)
        .where(Card.key == card_key, CardBudgetLine.description == description)
    )


def split(db: Any, line_id: int) -> dict[int, int]:
    from pdz.cycles.funds import split_of

    db.session.expire_all()
    return split_of(line_id)


def test_the_funds_page_quotes_the_documents_allocations(client_as: Any, db: Any) -> None:
    cycle = cycle_2025(db)
    page = fresh(client_as, "udp@example.org").get(f"/cicli/{cycle.id}/fondi")
    assert page.status_code == 200
    text = text_of(page)
    for name, act, amount in DOCUMENTS_2024 + DOCUMENTS_2023:
        assert f"{name}" in text and act in text and f"{amount} €" in text, (name, act, amount)
    assert "Totale 2024 14.793.631,79 €" in text
    assert "Totale 2023 13.419.780,22 €" in text
    # the allocations' table of 2024, row by row, in the documents' order
    html = page.get_data(as_text=True)
    table_2024 = html.split('data-allocations="2024"', 1)[1].split("</table>", 1)[0]
    rows = [" ".join(unescape(re.sub(r"<[^>]+>", " ", r)).split()) for r in table_2024.split("<tr>")[2:]]
    assert rows[0].startswith("FSR (Fondo Sociale Regionale) DGR XII - 2915 e DGR XII - 2976")
    assert rows[0].endswith("1.171.075,29 € Elimina")
    assert rows[1].startswith("FNPS (Fondo Nazionale Politiche Sociali) DGR XII - 2800")


def test_demo_lines_split_evenly_with_the_remainder_on_the_last_year(client_as: Any, db: Any) -> None:
    from pdz.cards.models import Card, CardBudgetLine

    line = line_of(db, "K", K_UDP)
    assert line.amount_cents == 86660483
    assert split(db, line.id) == {2025: 28886827, 2026: 28886827, 2027: 28886829}
    # every line with an amount, of every card: its parts are the plan's three years and sum exactly to it
    for each in db.session.scalars(
        select(CardBudgetLine).join(Card).where(Card.cycle_id == cycle_2025(db).id)
    ):
        parts = split(db, each.id)
        if each.amount_cents is None:
            assert parts == {}
        else:
            assert sorted(parts) == [2025, 2026, 2027] and sum(parts.values()) == each.amount_cents
    card = db.session.get(Card, line.card_id)
    page = fresh(client_as, "udp@example.org").get(f"/schede/{card.id}")
    assert page.status_code == 200
    assert "2025: 288.868,27 €; 2026: 288.868,27 €; 2027: 288.868,29 €" in unescape(
        page.get_data(as_text=True)
    )


def test_totals_per_fund_and_year_against_the_allocation(client_as: Any, db: Any) -> None:
    from pdz.audit import AuditEntry
    from pdz.cycles.models import FundAllocation

    cycle = cycle_2025(db)
    url = f"/cicli/{cycle.id}/fondi"
    udp = fresh(client_as, "udp@example.org")

    def source_row(year: int, source: str) -> str:
        html = fresh(client_as, "udp@example.org").get(url).get_data(as_text=True)
        table = html.split(f'data-year="{year}"', 1)[1].split("</table>", 1)[0]
        if f'data-source="{source}"' not in table:
            return ""
        row = table.split(f'data-source="{source}"', 1)[1].split("</tr>", 1)[0]
        return " ".join(unescape(re.sub(r"<[^>]+>", " ", "<x " + row)).split())

    def fnps_row(year: int) -> str:
        return source_row(year, "fnps")

    # No 2025 allocation yet: card K's UdP cost (866.604,83 €, its 2025 part 288.868,27 €) is paid from several
    # funds in undeclared shares (FNPS, QSFP, Fondo di Solidarietà comunale: 001 l.7141): it shows as mixed
    # sources, short of any allocation, and is not charged to FNPS alone. K's FNPS line for the PUA social
    # workers (100.000,00 €) is not in the printed total (001 l.7140, 7149), so no FNPS money is programmed.
    assert source_row(2025, "fonti_miste").endswith("0,00 € 288.868,27 € -288.868,27 €")
    assert source_row(2027, "fonti_miste").endswith("0,00 € 288.868,29 € -288.868,29 €")
    assert fnps_row(2025) == ""

    # The UdP records the 2025 FNPS allocation (here with the 2024 figure and act): the difference shows.
    added = udp.post(
        url,
        data={
            "year": "2025",
            "source": "fnps",
            "name": "FNPS (Fondo Nazionale Politiche Sociali)",
            "act": "DGR XII - 2800",
            "amount": "899.426,89 €",
        },
    )
    assert added.status_code == 303
    row = fnps_row(2025)
    assert "FNPS (Fondo Nazionale Politiche Sociali) (DGR XII - 2800): 899.426,89 €" in row
    assert row.endswith("899.426,89 € 0,00 € 899.426,89 €")  # nothing programmed on FNPS alone
    db.session.expire_all()
    allocation = db.session.scalar(select(FundAllocation).where(FundAllocation.year == 2025))
    assert allocation.amount_cents == 89942689 and allocation.act == "DGR XII - 2800"
    allocation_id = allocation.id
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "fund.allocated"))
    assert entry is not None and entry.details["amount_cents"] == 89942689

    # Bad input: an Italian message for each field, nothing stored.
    bad = fresh(client_as, "udp@example.org").post(
        url, data={"year": "anno", "source": "fondo_inventato", "name": "", "amount": "12.5"}
    )
    assert bad.status_code == 422
    text = text_of(bad)
    assert "Indica l'anno" in text and "Scegli la fonte" in text and "Indica il fondo" in text
    assert "non è un importo valido" in text
    assert db.session.scalar(select(FundAllocation.id).where(FundAllocation.year == 2025)) == allocation_id

    # Who sees it and who records it: the Assemblea sees, a tavolo member does not; only the UdP records.
    assert fresh(client_as, "sindaco@example.org").get(url).status_code == 200
    assert "Registra un'assegnazione" not in text_of(fresh(client_as, "sindaco@example.org").get(url))
    assert fresh(client_as, "membro@example.org").get(url).status_code == 403
    refused = fresh(client_as, "sindaco@example.org").post(
        url, data={"year": "2025", "source": "fsr", "name": "FSR", "amount": "1,00"}
    )
    assert refused.status_code == 403
    assert db.session.scalar(select(FundAllocation.id).where(FundAllocation.name == "FSR")) is None

    removed = fresh(client_as, "udp@example.org").post(f"{url}/{allocation_id}/rimuovi")
    assert removed.status_code == 303
    db.session.expire_all()
    assert db.session.get(FundAllocation, allocation_id) is None
    assert fnps_row(2025) == ""
    assert source_row(2025, "fonti_miste").endswith("0,00 € 288.868,27 € -288.868,27 €")
    again = fresh(client_as, "udp@example.org").post(f"{url}/{allocation_id}/rimuovi")
    assert again.status_code == 303


def test_who_edits_the_card_edits_its_split_which_must_sum_to_the_line(client_as: Any, db: Any) -> None:
    from pdz.cards.models import Card

    line = line_of(db, "A", "risorse Comune capofila, quota risorse ministeriali (QSFP)/regionali/d'Ambito")
    card = db.session.get(Card, line.card_id)
    assert line.amount_cents == 388998558  # 3.889.985,58 € as printed on card A
    assert split(db, line.id) == {2025: 129666186, 2026: 129666186, 2027: 129666186}
    url = f"/schede/{card.id}/righe/risorse/{line.id}"

    def post(email: str, values: dict[str, Any]) -> Any:
        db.session.expire_all()
        base = db.session.get(Card, card.id).revision_no
        return fresh(client_as, email).post(url, json={"values": values, "base_revision": base})

    uneven = {"2025": "1.000.000,00", "2026": "1.300.000,00", "2027": "1.589.985,58"}
    ok = post("membro@example.org", {"years": uneven})
    assert ok.status_code == 200, ok.json
    assert split(db, line.id) == {2025: 100000000, 2026: 130000000, 2027: 158998558}
    assert ok.json["row"]["data"]["years"] == {"2025": 100000000, "2026": 130000000, "2027": 158998558}

    wrong = post("membro@example.org", {"years": "2025: 1.000,00; 2026: 1.000,00; 2027: 1.000,00"})
    assert wrong.status_code == 422
    assert "sommano 3.000,00 € ma l'importo della voce è 3.889.985,58 €" in wrong.json["error"]
    missing_year = post("membro@example.org", {"years": {"2025": 388998558}})
    assert missing_year.status_code == 422 and "2025, 2026, 2027" in missing_year.json["error"]
    assert split(db, line.id) == {2025: 100000000, 2026: 130000000, 2027: 158998558}

    # The form's text, as the page shows it, is accepted back unchanged.
    same = post(
        "membro@example.org", {"years": "2025: 1.000.000,00 €; 2026: 1.300.000,00 €; 2027: 1.589.985,58 €"}
    )
    assert same.status_code == 200 and same.json["status"] == "unchanged"

    # A new amount with the split left as it was: split evenly again (the old parts no longer add up).
    changed = post(
        "membro@example.org",
        {"amount_cents": "1.000,00", "years": "2025: 1.000.000,00; 2026: 1.300.000,00; 2027: 1.589.985,58"},
    )
    assert changed.status_code == 200, changed.json
    assert split(db, line.id) == {2025: 33333, 2026: 33333, 2027: 33334}
    # Emptied: evenly; a person outside the tavolo cannot touch it.
    post("membro@example.org", {"amount_cents": "3.889.985,58", "years": uneven})
    assert post("membro@example.org", {"years": ""}).status_code == 200
    assert split(db, line.id) == {2025: 129666186, 2026: 129666186, 2027: 129666186}
    assert post("disabilita@example.org", {"years": uneven}).status_code == 403
    assert split(db, line.id) == {2025: 129666186, 2026: 129666186, 2027: 129666186}

    # History: the uneven split is a revision; restoring it brings the parts back.
    from pdz.cards.models import CardRevision

    revision = db.session.scalar(
        select(CardRevision.number)
        .where(CardRevision.card_id == card.id, CardRevision.field == f"risorse:{line.id}")
        .order_by(CardRevision.number)
        .limit(1)
    )
    restored = fresh(client_as, "membro@example.org").post(
        f"/schede/{card.id}/ripristina", json={"number": revision}
    )
    assert restored.status_code == 200, restored.get_data(as_text=True)[:300]
    assert split(db, line.id) == {2025: 100000000, 2026: 130000000, 2027: 158998558}


def test_new_line_is_split_evenly_and_the_card_total_is_unchanged_by_the_split(
    client_as: Any, db: Any
) -> None:
    from pdz.cards.models import CardBudgetLine
    from pdz.cards.services import budget_totals

    line = line_of(db, "A", "risorse Comune capofila, quota risorse ministeriali (QSFP)/regionali/d'Ambito")
    total = budget_totals(line.card_id)["total"]
    added = fresh(client_as, "membro@example.org").post(
        f"/schede/{line.card_id}/righe/risorse",
        data={
            "_form": "1",
            "source": "fsr",
            "description": "Quota FSR",
            "amount_cents": "100,01",
            "counted": "1",
        },
    )
    assert added.status_code == 303
    db.session.expire_all()
    new = db.session.scalar(select(CardBudgetLine).where(CardBudgetLine.description == "Quota FSR"))
    assert split(db, new.id) == {2025: 3333, 2026: 3333, 2027: 3335}
    assert budget_totals(line.card_id)["total"] == total + 10001


def test_piano_operativo_and_report_annuale_use_their_year_only(client_as: Any, db: Any) -> None:
    from pdz.approvals import assembly
    from pdz.approvals.models import DocKind, PlanAction, PlanDocument

    def part(card: dict[str, Any], year: int) -> int:
        return sum(
            int(line["years"][str(year)])
            for line in card["data"]["budget"]
            if line.get("counted") and line.get("amount_cents")
        )

    cycle = cycle_2025(db)
    cards, _fingerprints = assembly.approved_cards(cycle.id)
    assert cards
    triennial = sum(c["data"]["total_cents"] for c in cards)
    po = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == DocKind.PIANO_OPERATIVO))
    report = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == DocKind.REPORT_ANNUALE))
    udp = fresh(client_as, "udp@example.org")

    page = text_of(udp.get(f"/piani/{po.id}"))
    year = po.year
    # the demo's PO shares each 2027 line of three cards between two of their actions: their whole 2027 parts
    chosen = set(db.session.scalars(select(PlanAction.card_id).where(PlanAction.plan_id == po.id)))
    assert len(chosen) == 3
    expected = sum(part(c, year) for c in cards if c["data"]["card_id"] in chosen)
    assert 0 < expected < triennial
    assert f"TOTALE PO {year} 6 {format_cents(expected)}" in page
    assert f"Importo {year}" in page

    page = text_of(fresh(client_as, "udp@example.org").get(f"/piani/{report.id}"))
    expected = sum(part(c, report.year) for c in cards)
    assert f"Previsto {report.year}" in page
    assert f"Totale {format_cents(expected)}" in page
    assert f"Totale {format_cents(triennial)}" not in page


def test_the_plan_documents_page_links_to_the_funds_page(client_as: Any, db: Any) -> None:
    cycle = cycle_2025(db)
    page = fresh(client_as, "sindaco@example.org").get("/piani/")
    assert page.status_code == 200
    assert f'href="/cicli/{cycle.id}/fondi"' in page.get_data(as_text=True)
