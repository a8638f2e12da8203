"""The UdP synthesis: numbers computed in SQL, checked against hand-computed values; CSV; objective cards."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest
from sqlalchemy import select


def _fixture_2026(client_as: Any, body: Any) -> None:
    """Three tavoli write a small 2026 SWOT by hand; two close it, one leaves it open."""
    plan = {
        "Tavolo Povertà": [
            ("governance", "W", "Poca comunicazione", "comunicazione"),
            ("governance", "W", "Sindaci assenti", "tecnico e politico"),
            ("mandato", "S", "Rete solida", ""),
        ],
        "Tavolo Permanente Disabilità": [
            ("governance", "W", "Informazione lenta", "comunicazione"),
            ("budget", "T", "Fondi incerti", "risorse"),
        ],
        "Tavolo Domiciliarità": [("governance", "W", "Nessun notiziario", "comunicazione")],
    }
    for index, (name, entries) in enumerate(plan.items()):
        tavolo = body(name)
        udp = client_as("udp@example.org")
        assert (
            udp.post(f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"}).status_code == 302
        )
        from pdz.evaluation.models import SwotAssessment
        from pdz.extensions import db

        swot = db.session.scalar(
            select(SwotAssessment).where(SwotAssessment.body_id == tavolo.id, SwotAssessment.year == 2026)
        )
        for dimension, quadrant, text, tag in entries:
            assert (
                udp.post(
                    f"/swot/{swot.id}/voci",
                    json={"dimension": dimension, "quadrant": quadrant, "text": text, "tags": tag},
                ).status_code
                == 200
            )
        if index < 2:
            assert udp.post(f"/swot/{swot.id}/chiudi").status_code == 302


def test_themes_count_tavoli_from_closed_swots_only(client_as: Any, body: Any) -> None:
    _fixture_2026(client_as, body)
    udp = client_as("udp@example.org")
    raw = udp.get("/valutazione/sintesi.csv?anno=2026").get_data(as_text=True).lstrip("\ufeff")
    rows = list(csv.reader(io.StringIO(raw)))
    split = rows.index([])
    entries, themes = rows[1:split], rows[split + 2 :]
    assert sorted((r[2], r[3]) for r in entries) == sorted(
        [
            ("Tavolo Povertà", "Poca comunicazione"),
            ("Tavolo Povertà", "Sindaci assenti"),
            ("Tavolo Povertà", "Rete solida"),
            ("Tavolo Permanente Disabilità", "Informazione lenta"),
            ("Tavolo Permanente Disabilità", "Fondi incerti"),
        ]
    )
    counts = {(r[0], r[1], r[2]): (int(r[3]), int(r[4])) for r in themes}
    governance = "Governance: decisioni, monitoraggio, comunicazione"
    assert counts[(governance, "Punti di debolezza", "comunicazione")] == (2, 2)
    assert counts[(governance, "Punti di debolezza", "tecnico e politico")] == (1, 1)
    assert counts[("Mandato: grado di realizzazione delle azioni", "Punti di forza", "(senza tema)")] == (
        1,
        1,
    )
    assert sum(n for _, n in counts.values()) == 5
    with_open = (
        udp.get("/valutazione/sintesi.csv?anno=2026&anche_aperte=1").get_data(as_text=True).lstrip("\ufeff")
    )
    assert "Nessun notiziario" in with_open and ",comunicazione,3,3" in with_open


def test_per_area_figures_match_the_plan(client_as: Any) -> None:
    raw = (
        client_as("udp@example.org").get("/valutazione/obiettivi.csv").get_data(as_text=True).lstrip("\ufeff")
    )
    rows = list(csv.reader(io.StringIO(raw)))
    split = rows.index([])
    areas = {r[0]: (r[2], r[3], int(r[4])) for r in rows[split + 2 :]}
    # hand-computed from the 2021-2023 evaluation cards: A = mean(75, 85); D-E has no resource figure
    assert areas["A"] == ("80.0", "100.0", 2)
    assert areas["D-E"] == ("80.0", "", 1)
    assert areas["J"] == ("60.0", "100.0", 1)
    assert areas["L-COM"] == ("85.0", "100.0", 1)
    assert len(rows[1:split]) == 8


def test_synthesis_page_shows_charts_with_data_tables(client_as: Any) -> None:
    page = client_as("udp@example.org").get("/valutazione/").get_data(as_text=True)
    assert page.count('<svg id="chart-') == 2 and page.count('class="table chart-data"') == 2
    assert "Comunicazione verso i sindaci poco regolare" in page
    assert "dato mancante" in page  # D-E resource match is missing in the plan


def test_synthesis_is_for_the_udp_integrato(client_as: Any) -> None:
    assert (
        client_as("coord.ets@example.org").get("/valutazione/").status_code == 200
    )  # member of the UdP Integrato
    assert client_as("membro@example.org").get("/valutazione/").status_code == 403
    assert client_as("membro@example.org").get("/valutazione/sintesi.csv").status_code == 403


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("achievement_pct", "120", "tra 0 e 100"),
        ("resource_match_pct", "-5", "tra 0 e 100"),
        ("achievement_pct", "molto", "percentuale intera"),
    ],
)
def test_percentages_outside_0_100_are_refused(
    client_as: Any, db: Any, field: str, value: str, message: str
) -> None:
    from pdz.evaluation.models import ObjectiveEvaluation

    evaluation = db.session.scalar(
        select(ObjectiveEvaluation).where(ObjectiveEvaluation.title == "Politiche abitative")
    )
    response = client_as("udp@example.org").post(
        f"/valutazione/obiettivi/{evaluation.id}", data={field: value}
    )
    assert response.status_code == 422 and message in response.get_data(as_text=True)
    db.session.expire_all()
    assert (evaluation.achievement_pct, evaluation.resource_match_pct) == (75, 100)


def test_udp_updates_an_objective_evaluation(client_as: Any, db: Any) -> None:
    from pdz.evaluation.models import Answer, ObjectiveEvaluation

    evaluation = db.session.scalar(
        select(ObjectiveEvaluation).where(ObjectiveEvaluation.title == "Domiciliarità e anziani")
    )
    response = client_as("udp@example.org").post(
        f"/valutazione/obiettivi/{evaluation.id}",
        data={
            "achievement_pct": "80",
            "resource_match_pct": "95%",
            "positive_change": "in_parte",
            "continuity": "si",
            "reproposed": "si",
            "problems": "Trasporti",
        },
    )
    assert response.status_code == 302
    db.session.expire_all()
    assert (evaluation.resource_match_pct, evaluation.positive_change) == (95, Answer.PARTLY)
    assert (
        client_as("coord.ets@example.org")
        .post(f"/valutazione/obiettivi/{evaluation.id}", data={"achievement_pct": "1"})
        .status_code
        == 403
    )
