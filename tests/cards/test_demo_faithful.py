"""The demo cards say what the Piano di Zona 2025-2027 says (issue #15 point 6), read through the card pages.

Figures quoted from 001 (the plan's objective cards): card D-E has 4 objectives and 12 actions (l.2522-2652),
J 5 objectives and 8 actions (l.3113-3241), A one objective and 9 actions (l.3689-3778), K 4 and 4
(l.7083-7132); card K's UdP cost is "a valere su FNPS - QSFP - Fondo Solidarietà comunale", 866.604,83 €
(l.7141-7142), in a TOTALE STIMATO of 1.076.572,67 € (l.7149); the 13 printed totals add up to
18.056.293,20 €.
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

import pytest
from cards_helpers import as_user, card_of, value_of
from sqlalchemy import select


def page_of(client_as: Any, db: Any, key: str) -> str:
    card = card_of(db, key)
    response = as_user(client_as, "udp@example.org").get(f"/schede/{card.id}")
    assert response.status_code == 200
    return str(response.get_data(as_text=True))


def rows_in(page: str, kind: str) -> int:
    return len(re.findall(rf'id="row-{kind}-\d+"', page))


def text_of(html: str) -> str:
    """The page's text and its fields' values (the UdP's page is editable: rows are inputs)."""
    values = " ".join(
        re.findall(r'value="([^"]*)"', html) + re.findall(r"<textarea[^>]*>([^<]*)</textarea>", html)
    )
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", html) + " " + values).split())


@pytest.mark.parametrize(
    ("key", "objectives", "actions"),
    [("D-E", 4, 12), ("J", 5, 8), ("A", 1, 9), ("K", 4, 4)],
)
def test_each_card_has_the_plans_objectives_and_actions(
    client_as: Any, db: Any, key: str, objectives: int, actions: int
) -> None:
    page = page_of(client_as, db, key)
    assert (rows_in(page, "obiettivi"), rows_in(page, "azioni")) == (objectives, actions)


def test_objectives_and_actions_use_the_plans_words_in_its_order(client_as: Any, db: Any) -> None:
    text = text_of(page_of(client_as, db, "D-E"))
    # 001 l.2523 (objective 1), l.2542 (action 1), l.2631 (action 12)
    page = unescape(page_of(client_as, db, "D-E"))
    first_objective = page.index("Ampliare il numero e il genere di soggetti coinvolti")
    first_action = page.index("Potenziamento dei momenti di formazione d'ambito sul tema della domiciliarità")
    last_action = page.index("Confronto con l'attività svolta dall'Ufficio di prossimità")
    assert first_objective < first_action < last_action
    assert "PNRR 1.1.3 – Dimissioni protette" in text  # action 8, "Vedasi box specifico"


def test_every_card_has_its_own_indicators_not_a_shared_placeholder(client_as: Any, db: Any) -> None:
    from pdz.cards.models import Card, CardIndicator

    names: dict[str, list[str]] = {}
    for card in db.session.scalars(select(Card).where(Card.key.is_not(None))):
        names[str(card.key)] = [
            i.name
            for i in db.session.scalars(
                select(CardIndicator).where(CardIndicator.card_id == card.id).order_by(CardIndicator.position)
            )
        ]
    assert len(names) == 13
    assert len({tuple(v) for v in names.values()}) == 13  # no two cards share their list
    assert all(v for v in names.values())
    # D-E's process (001 l.9024-9037) and outcome (l.9776-9797) indicators, on the card page
    text = text_of(page_of(client_as, db, "D-E"))
    assert "Presenza/assenza equipe valutazione multidimensionale" in text
    assert "Aumento della % di progetti individualizzati per gli anziani" in text
    assert "N. incontri del tavolo tematico" not in text
    # K's process indicators, as the table of chapter 6 prints them (l.9325)
    assert names["K"][:2] == ["Presenza/Assenza Coordinatrice o Coordinatore", "Presenza/Assenza Progettista"]


def test_staff_key_points_and_the_explanations_after_si(client_as: Any, db: Any) -> None:
    card = card_of(db, "D-E")
    text = text_of(page_of(client_as, db, "D-E"))
    # RISORSE DI PERSONALE DEDICATE, 001 l.2696: "sindacati (almeno 2 referenti per il Tavolo Domiciliarità)"
    assert "Sindacati" in text and "almeno 2" in text and "referenti per il Tavolo Domiciliarità" in text
    # INDICARE I PUNTI CHIAVE DELL'INTERVENTO, 001 l.2716-2727: nine points, the first two
    points = value_of(db, card, "key_points").split("\n")
    assert len(points) == 9 and points[:2] == ["Flessibilità", "Tempestività della risposta"]
    # after "SI" to ASST in delivery: "In termini di dimissioni protette, PUA, integrazione socio-sanitaria" (l.2751)
    assert (
        value_of(db, card, "asst_implementation_note")
        == "Dimissioni protette, PUA, integrazione socio-sanitaria."
    )
    # K's three key points (l.7168-7175)
    assert (
        value_of(db, card_of(db, "K"), "key_points").split("\n")[0]
        == "Rafforzamento della gestione associata"
    )


def test_fare_comunita_among_the_transversal_areas_and_new_service_answered(db: Any) -> None:
    # "Fare Comunità" is listed by A (001 l.3835), J (l.3290), B (l.4391), G (l.5337), L-CPT (l.6753), F (l.8340)
    for key in ("A", "J", "B", "G", "L-CPT", "F"):
        assert "L-COM" in value_of(db, card_of(db, key), "transversal_areas").split("\n"), key
    for key in ("D-E", "J", "A", "B", "H", "G", "L-BIB", "I", "L-CPT", "K", "L-EMERG", "L-COM", "F"):
        assert value_of(db, card_of(db, key), "new_service"), key
    # L-COM: "Servizio già presente, da mantenere e potenziare" (l.8039)
    assert value_of(db, card_of(db, "L-COM"), "new_service") == "gia_presente"


def test_card_k_pays_the_udp_from_mixed_sources_and_every_total_is_kept(client_as: Any, db: Any) -> None:
    from pdz.cards.models import Card, CardBudgetLine

    card = card_of(db, "K")
    lines = list(
        db.session.scalars(
            select(CardBudgetLine).where(CardBudgetLine.card_id == card.id).order_by(CardBudgetLine.position)
        )
    )
    udp = next(line for line in lines if line.description.startswith("costo Ufficio di Piano"))
    assert (str(udp.source), udp.amount_cents, udp.counted) == ("fonti_miste", 86660483, True)
    assert "FNPS" in udp.description and "Fondo di Solidarietà comunale" in udp.description
    assert (
        sum(line.amount_cents or 0 for line in lines if line.counted)
        == card.declared_total_cents
        == 107657267
    )
    text = text_of(page_of(client_as, db, "K"))
    assert "Fonti miste" in text and "866.604,83" in text
    # the thirteen printed totals are untouched
    totals = list(db.session.scalars(select(Card.declared_total_cents).where(Card.key.is_not(None))))
    assert len(totals) == 13 and sum(t or 0 for t in totals) == 1805629320
