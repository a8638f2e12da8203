"""The plan documents assembled from the demo's 13 objective cards of 2025-2027: totals agree with the budget
lines in the database, objectives follow the areas' order, the PO numbers actions across objectives, the report
keeps only its year, and the same cards always give the same fingerprint."""

from __future__ import annotations

import random
from collections import defaultdict
from typing import Any

import pytest
from sqlalchemy import func, select

from pdz.approvals import document, operativo, operativo_choices, plans, sources
from pdz.cards import queries
from pdz.cards.models import Card, CardAction, CardBudgetLine, CardIndicator, CardObjective
from pdz.cards.rows import SOURCE_LABELS
from pdz.cycles.models import CycleStatus, PlanningCycle, PolicyArea
from pdz.money import format_cents, parse_amount

SCRIPT = "<script>alert('pdz')</script>"


@pytest.fixture
def backend() -> str:
    return "sqlite"  # pure builders: the SQL they are checked against is covered on both backends elsewhere


@pytest.fixture
def cycle(db: Any) -> Any:
    found = db.session.scalar(select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING))
    assert found is not None
    return found


def contents_of(db: Any, cycle: Any) -> list[dict[str, Any]]:
    ids = db.session.scalars(select(Card.id).where(Card.cycle_id == cycle.id).order_by(Card.id)).all()
    return [sources.card_content(queries.card_page(card_id)) for card_id in ids]


@pytest.fixture
def cards(db: Any, cycle: Any) -> list[dict[str, Any]]:
    found = contents_of(db, cycle)
    assert len(found) == 13
    return found


def fingerprints_of(cards: list[dict[str, Any]]) -> dict[int, str]:
    return {c["data"]["card_id"]: document.fingerprint(c) for c in cards}


def cents(text: str) -> int:
    return 0 if text == "—" else parse_amount(text)


def table(content: dict[str, Any], caption: str, heading: str | None = None) -> dict[str, Any]:
    found = [
        b
        for s in content["sections"]
        if heading in (None, s["heading"])
        for b in s["blocks"]
        if b["type"] == "table" and b["caption"] == caption
    ]
    assert found, caption
    return found[0]


def year_part(card: dict[str, Any], year: int) -> int:
    """The card's counted lines' parts for `year` (their split by year)."""
    return sum(
        int(line["years"].get(str(year), 0))
        for line in card["data"]["budget"]
        if line.get("counted") and line.get("amount_cents")
    )


def fields(section: dict[str, Any]) -> dict[str, str]:
    return {b["label"]: b["text"] for b in section["blocks"] if b["type"] == "field"}


def counted_lines(cycle: Any, *columns: Any) -> Any:
    """Cents of the cycle's budget lines counted in their card's total (not removed, with an amount)."""
    return (
        select(*columns, func.sum(CardBudgetLine.amount_cents))
        .select_from(CardBudgetLine)
        .join(Card, Card.id == CardBudgetLine.card_id)
        .where(
            Card.cycle_id == cycle.id,
            CardBudgetLine.counted.is_(True),
            CardBudgetLine.removed.is_(False),
            CardBudgetLine.amount_cents.is_not(None),
        )
    )


def test_piano_di_zona_totals_equal_the_counted_budget_lines(
    db: Any, cycle: Any, cards: list[dict[str, Any]]
) -> None:
    by_source = dict(
        db.session.execute(counted_lines(cycle, CardBudgetLine.source).group_by(CardBudgetLine.source)).all()
    )
    by_area = dict(
        db.session.execute(
            counted_lines(cycle, PolicyArea.key)
            .join(PolicyArea, PolicyArea.id == Card.area_id)
            .group_by(PolicyArea.key)
        ).all()
    )
    total = db.session.scalar(counted_lines(cycle))
    assert len(by_source) >= 3 and len(by_area) == 13 and total > 0

    pdz = plans.piano_di_zona("2025-2027", cards, fingerprints=fingerprints_of(cards))

    assert pdz["kind"] == "piano_di_zona" and pdz["title"] == "Piano di Zona 2025-2027"
    assert pdz["data"]["by_source"] == by_source
    assert pdz["data"]["by_area"] == by_area
    assert pdz["data"]["total_cents"] == total

    per_source = table(pdz, "Risorse per fonte di finanziamento", "Quadro delle risorse")
    assert per_source["columns"] == ["Fonte", "Importo"]
    assert {row[0]: cents(row[1]) for row in per_source["rows"]} == {
        SOURCE_LABELS[source]: amount for source, amount in by_source.items()
    }
    amounts = [cents(row[1]) for row in per_source["rows"]]
    assert amounts == sorted(amounts, reverse=True)
    assert per_source["total"] == ["Totale", format_cents(total)]

    per_area = table(pdz, "Risorse per area di policy")
    assert per_area["columns"] == ["Area", "Obiettivi", "Importo"]
    areas = {a.key: a for a in db.session.scalars(select(PolicyArea))}
    assert {row[0]: cents(row[2]) for row in per_area["rows"]} == {
        f"{areas[key].code} – {areas[key].name}": amount for key, amount in by_area.items()
    }
    assert sum(int(row[1]) for row in per_area["rows"]) == 13
    assert per_area["total"] == ["Totale", "13", format_cents(total)]

    grid = table(pdz, "Risorse per area e fonte")
    assert grid["columns"] == ["Area", *(row[0] for row in per_source["rows"]), "Totale"]
    for row in grid["rows"]:
        assert sum(cents(cell) for cell in row[1:-1]) == cents(row[-1])
    assert [row[-1] for row in grid["rows"]] == [row[2] for row in per_area["rows"]]
    columns = len(grid["columns"]) - 2
    assert [sum(cents(row[1 + i]) for row in grid["rows"]) for i in range(columns)] == amounts
    assert [cents(cell) for cell in grid["total"][1:]] == [*amounts, total]


def test_piano_di_zona_lists_cards_in_area_order_with_their_fingerprints(
    db: Any, cards: list[dict[str, Any]]
) -> None:
    fingerprints = fingerprints_of(cards)
    shuffled = cards[:]
    random.Random(7).shuffle(shuffled)

    pdz = plans.piano_di_zona("2025-2027", shuffled, fingerprints=fingerprints)

    areas = db.session.scalars(select(PolicyArea).order_by(PolicyArea.position, PolicyArea.key)).all()
    by_key = {c["data"]["area"]["key"]: c for c in cards}
    expected = [by_key[a.key] for a in areas if a.key in by_key]
    listing = table(pdz, "Elenco delle schede", "Obiettivi")
    assert listing["columns"] == [
        "N.",
        "Area",
        "Titolo",
        "Tavolo",
        "Importo",
        "Impronta della scheda approvata",
    ]
    assert [row[0] for row in listing["rows"]] == [str(n) for n in range(1, 14)]
    assert [row[2] for row in listing["rows"]] == [c["title"] for c in expected]
    assert [row[3] for row in listing["rows"]] == [c["data"]["body"] for c in expected]
    assert [row[5] for row in listing["rows"]] == [fingerprints[c["data"]["card_id"]][:12] for c in expected]
    assert pdz["data"]["cards"] == [
        {"card_id": c["data"]["card_id"], "fingerprint": fingerprints[c["data"]["card_id"]]} for c in expected
    ]

    headings = [s["heading"] for s in pdz["sections"]]
    assert headings == [
        "Quadro delle risorse",
        "Obiettivi",
        *(f"{c['data']['area']['code']} – {c['title']}" for c in expected),
    ]
    first = pdz["sections"][2]
    assert first["blocks"], "the card's own blocks are copied into its section"
    for section in pdz["sections"][2:]:
        for block in section["blocks"]:
            assert (block["type"] == "field" and block["text"]) or (
                block["type"] == "table" and block["rows"]
            )
    card_budget = table(expected[0], "Risorse economiche preventivate")
    assert table(pdz, "Risorse economiche preventivate", first["heading"]) == card_budget


def choose_all(cards: list[dict[str, Any]], year: int) -> tuple[dict[int, Any], dict[int, Any]]:
    """Every approved action chosen; each line's share for `year` given whole to the card's first action."""
    ids = operativo_choices.card_ids(cards)
    choices = {}
    for card in cards:
        card_ids = ids[card["data"]["card_id"]]
        lines = operativo.year_lines(card, card_ids.lines, year, "2025-2027")
        for n, action_id in enumerate(card_ids.actions):
            assert action_id is not None
            choices[action_id] = operativo.Choice(
                referents=(("Marta Guerini", "Ufficio di Piano - Comune di Crema"),),
                budget={line["id"]: line["cents"] for line in lines} if n == 0 else {},
                targets=f"Almeno {n + 1} incontri",
                timing="" if n == 1 else "Entro giugno 2026",
            )
    return ids, choices


def test_piano_operativo_numbers_actions_across_objectives_and_totals_them(
    cards: list[dict[str, Any]],
) -> None:
    fingerprints = fingerprints_of(cards)
    ids, choices = choose_all(cards, 2026)
    po = operativo.piano_operativo(
        "2025-2027", 2026, cards, ids=ids, choices=choices, fingerprints=fingerprints
    )

    assert po["kind"] == "piano_operativo" and po["title"] == "Piano Operativo 2026"
    summary = table(po, "Obiettivi del Piano Operativo 2026", "Sintesi")
    assert summary["columns"] == ["N.", "Obiettivo", "Azioni", "Totale"]
    objectives = po["sections"][1:]
    assert len(objectives) == len(summary["rows"]) == 13
    totals = []
    numbers: list[int] = []
    for n, (section, row) in enumerate(zip(objectives, summary["rows"], strict=True), 1):
        assert section["heading"] == f"Obiettivo {n}: {row[1]}"
        resources = table(po, "Risorse", section["heading"])
        assert resources["columns"] == ["Azione", "Voce", "Fonte", "Importo 2026"]
        assert resources["total"][0] == f"TOTALE OBIETTIVO {n}"
        assert sum(cents(r[3]) for r in resources["rows"]) == cents(resources["total"][3]) == cents(row[3])
        totals.append(cents(row[3]))
        actions = table(po, "Azioni 2026", section["heading"])
        numbers += [int(r[0]) for r in actions["rows"]]
        assert row[2] == str(len(actions["rows"]))
        card = next(c for c in cards if c["title"] == row[1])
        assert [r[1] for r in actions["rows"]] == card["data"]["actions"]
        assert fields(section)["Obiettivo del triennio"] == "\n".join(
            f"- {o}" for o in card["data"]["objectives"]
        )
        assert table(po, "Referenti", section["heading"])["rows"] == [
            ["Marta Guerini", "Ufficio di Piano - Comune di Crema", ", ".join(r[0] for r in actions["rows"])]
        ]
        ranges = table(po, "Valutazione – range di valutazione 2026", section["heading"])
        assert [r[2] for r in ranges["rows"]] == [
            f"Almeno {k} incontri" for k in range(1, len(actions["rows"]) + 1)
        ]
        timing = table(po, "Tempi", section["heading"])
        assert [r[2] for r in timing["rows"]][:2] == ["Entro giugno 2026", "Tempi non ancora indicati"]
    assert numbers == list(range(1, len(numbers) + 1)) and len(numbers) == sum(
        len(c["data"]["actions"]) for c in cards
    )
    assert summary["total"] == ["TOTALE PO 2026", "", str(len(numbers)), format_cents(sum(totals))]
    # the year's parts only (issue #15 point 1): each counted line's 2026 part, not the triennial total
    assert po["data"]["total_cents"] == sum(totals) == sum(year_part(c, 2026) for c in cards)
    assert sum(totals) < sum(c["data"]["total_cents"] for c in cards)
    assert po["data"]["year"] == 2026 and len(po["data"]["cards"]) == 13
    assert fields(po["sections"][0])["Tempi mancanti"].startswith("Azioni 2, ")


def test_piano_operativo_keeps_only_the_chosen_actions(cards: list[dict[str, Any]]) -> None:
    ids, every = choose_all(cards, 2027)
    first = sorted(cards, key=lambda c: c["data"]["area"]["position"])[0]
    kept = ids[first["data"]["card_id"]].actions[0]
    po = operativo.piano_operativo(
        "2025-2027", 2027, cards, ids=ids, choices={kept: every[kept]}, fingerprints=fingerprints_of(cards)
    )
    assert [s["heading"] for s in po["sections"]] == ["Sintesi", f"Obiettivo 1: {first['title']}"]
    assert table(po, "Azioni 2027")["rows"] == [["1", first["data"]["actions"][0]]]
    assert po["data"]["total_cents"] == year_part(first, 2027)
    assert fields(po["sections"][0])["Obiettivi senza azioni nel 2027"].count("\n- ") == 11


def test_report_annuale_keeps_only_the_year_and_formats_committed_money(cards: list[dict[str, Any]]) -> None:
    ordered = sorted(cards, key=lambda c: c["data"]["area"]["position"])
    first, second = ordered[0], ordered[1]
    planned = year_part(first, 2026)
    committed = {first["data"]["card_id"]: planned * 853 // 1000, second["data"]["card_id"]: None}
    indicator = first["data"]["indicators"][0]
    values = {
        indicator["id"]: [
            {"period": "2026-S2", "value": "9", "note": ""},
            {"period": "2025", "value": "3", "note": "anno precedente"},
            {"period": "2026", "value": "11", "note": "dato annuale"},
            {"period": "2026-S1", "value": "4", "note": ""},
            {"period": "2027", "value": "12", "note": ""},
        ]
    }
    report = plans.report_annuale(
        "2025-2027",
        2026,
        cards,
        done={first["data"]["card_id"]: "Avviato il SAD d'Ambito."},
        committed=committed,
        values=values,
        fingerprints=fingerprints_of(cards),
    )

    assert report["kind"] == "report_annuale" and report["title"] == "Report Annuale 2026"
    one, two = report["sections"][1], report["sections"][2]
    assert one["heading"] == f"Obiettivo 1: {first['title']}"
    assert fields(one) == {
        "Che cosa è stato fatto": "Avviato il SAD d'Ambito.",
        "Impegnato sul previsto": "85,3%",
    }
    assert table(report, "Budget", one["heading"])["rows"] == [
        ["Totale obiettivo", format_cents(planned), format_cents(planned * 853 // 1000)]
    ]
    indicators = table(report, "Indicatori", one["heading"])
    assert indicators["columns"] == ["Indicatore", "Valore di partenza", "Valore atteso", "Valori 2026"]
    unit = indicator["unit"]
    assert indicators["rows"][0][0] == indicator["name"]
    # chronological as on the monitoring page: the two semesters, then the whole year (it ends with the second)
    # (the plan's indicators print no unit: 001 l.9013-10067; a unit, when set, follows each value)
    after = f" {unit}" if unit else ""
    assert indicators["rows"][0][3] == f"2026-S1: 4{after}; 2026-S2: 9{after}; 2026: 11{after}"
    assert all(row[3] == "—" for row in indicators["rows"][1:])

    assert fields(two) == {"Che cosa è stato fatto": "Non ancora descritto.", "Impegnato sul previsto": "—"}
    assert table(report, "Budget", two["heading"])["rows"][0][2] == "—"

    summary = table(report, "Obiettivi – risorse 2026", "Sintesi")
    assert summary["columns"] == ["N.", "Obiettivo", "Previsto 2026", "Impegnato 2026"]
    total_planned = sum(year_part(c, 2026) for c in cards)
    assert summary["total"] == [
        "Totale",
        "",
        format_cents(total_planned),
        format_cents(planned * 853 // 1000),
    ]
    assert [row[3] for row in summary["rows"]].count("—") == 12
    assert report["data"] == {
        "year": 2026,
        "cycle": "2025-2027",
        "cards": report["data"]["cards"],
        "planned_cents": total_planned,
        "committed_cents": planned * 853 // 1000,
    }


def test_percentage_rounds_half_up_the_italian_way() -> None:
    assert plans.percentage(853, 1000) == "85,3%"
    assert plans.percentage(1, 3) == "33,3%"
    assert plans.percentage(2, 3) == "66,7%"
    assert plans.percentage(15_000, 1000) == "1.500,0%"
    assert plans.percentage(0, 1000) == "0,0%"
    assert plans.percentage(None, 1000) == plans.percentage(10, 0) == "—"


def test_same_cards_give_the_same_fingerprint_whatever_their_order(cards: list[dict[str, Any]]) -> None:
    fingerprints = fingerprints_of(cards)
    ids, choices = choose_all(cards, 2026)
    shuffled = cards[::-1]

    def build(given: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [
            plans.piano_di_zona("2025-2027", given, fingerprints=fingerprints),
            operativo.piano_operativo(
                "2025-2027", 2026, given, ids=ids, choices=choices, fingerprints=fingerprints
            ),
            plans.report_annuale(
                "2025-2027", 2026, given, done={}, committed={}, values={}, fingerprints=fingerprints
            ),
        ]

    once, again = build(cards), build(shuffled)
    assert [document.canonical_bytes(d) for d in once] == [document.canonical_bytes(d) for d in again]
    assert [document.fingerprint(d) for d in once] == [document.fingerprint(d) for d in again]
    changed = {**fingerprints, cards[0]["data"]["card_id"]: "0" * 64}
    assert document.fingerprint(
        plans.piano_di_zona("2025-2027", cards, fingerprints=changed)
    ) != document.fingerprint(once[0])


def test_a_card_without_area_or_budget_goes_last_and_keeps_user_text_plain(
    db: Any, cycle: Any, tavolo: Any
) -> None:
    bare = Card(cycle_id=cycle.id, area_id=None, body_id=tavolo.id, title=f"NUOVA SCHEDA {SCRIPT}")
    db.session.add(bare)
    db.session.flush()
    db.session.add_all(
        [
            CardObjective(card_id=bare.id, text=f"Obiettivo {SCRIPT}"),
            CardIndicator(card_id=bare.id, name=f"Indicatore {SCRIPT}", target="5"),
        ]
    )
    db.session.commit()
    cards = contents_of(db, cycle)
    assert len(cards) == 14
    fingerprints = fingerprints_of(cards)
    title = f"NUOVA SCHEDA {SCRIPT}"

    pdz = plans.piano_di_zona("2025-2027", cards, fingerprints=fingerprints)
    assert pdz["sections"][-1]["heading"] == title
    listing = table(pdz, "Elenco delle schede")
    assert listing["rows"][-1][1:3] == ["Senza area", title] and listing["rows"][-1][4] == "0,00 €"
    assert table(pdz, "Risorse per area di policy")["rows"][-1] == ["Senza area", "1", "0,00 €"]
    grid = table(pdz, "Risorse per area e fonte")
    assert grid["rows"][-1][0] == "Senza area" and set(grid["rows"][-1][1:-1]) == {"—"}
    assert grid["rows"][-1][-1] == "0,00 €"
    assert pdz["data"]["by_area"][""] == 0

    db.session.add(CardAction(card_id=bare.id, text_source=f"Azione {SCRIPT}"))
    db.session.commit()
    cards = contents_of(db, cycle)
    fingerprints = fingerprints_of(cards)
    ids, choices = choose_all(cards, 2026)
    po = operativo.piano_operativo(
        "2025-2027", 2026, cards, ids=ids, choices=choices, fingerprints=fingerprints
    )
    last = po["sections"][-1]
    assert last["heading"] == f"Obiettivo 14: {title}"
    assert fields(last)["Area"] == "Senza area"
    assert fields(last)["Obiettivo del triennio"] == f"- Obiettivo {SCRIPT}"
    assert table(po, "Azioni 2026", last["heading"])["rows"][0][1] == f"Azione {SCRIPT}"
    resources = table(po, "Risorse", last["heading"])
    assert resources["rows"] == [[resources["rows"][0][0], "Nessuna risorsa assegnata", "", "—"]]
    assert resources["total"] == ["TOTALE OBIETTIVO 14", "", "", "0,00 €"]
    assert table(po, "Valutazione – indicatori di esito", last["heading"])["rows"] == [
        [f"Indicatore {SCRIPT}", "—", "5"]
    ]

    report = plans.report_annuale(
        "2025-2027",
        2026,
        cards,
        done={bare.id: SCRIPT},
        committed={bare.id: 100},
        values={},
        fingerprints=fingerprints,
    )
    assert fields(report["sections"][-1]) == {"Che cosa è stato fatto": SCRIPT, "Impegnato sul previsto": "—"}

    for content in (pdz, po, report):
        flat = document.flatten(content)
        assert any(SCRIPT in text for text in flat.values())
        assert not any("&lt;" in text for text in flat.values())
        assert SCRIPT in document.canonical_bytes(content).decode("utf-8")


def test_a_missing_fingerprint_is_refused(cards: list[dict[str, Any]]) -> None:
    fingerprints = fingerprints_of(cards)
    del fingerprints[cards[0]["data"]["card_id"]]
    ids, choices = choose_all(cards, 2026)
    with pytest.raises(ValueError, match="no fingerprint"):
        operativo.piano_operativo(
            "2025-2027", 2026, cards, ids=ids, choices=choices, fingerprints=fingerprints
        )


def test_piano_di_zona_groups_lines_by_source_across_cards(cards: list[dict[str, Any]]) -> None:
    expected: dict[str, int] = defaultdict(int)
    for card in cards:
        for line in card["data"]["budget"]:
            if line["counted"] and line["amount_cents"]:
                expected[line["source"]] += line["amount_cents"]
    pdz = plans.piano_di_zona("2025-2027", cards, fingerprints=fingerprints_of(cards))
    assert pdz["data"]["by_source"] == dict(expected)
    assert list(pdz["data"]["by_source"]) == sorted(expected)
