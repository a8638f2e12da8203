"""Monitoring of the cards' indicators through HTTP: values per period with source and note, progress
against baseline and target on the card page, bad input refused with nothing changed, permissions."""

from __future__ import annotations

import re
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def card(db: Any, tavolo: Any) -> Any:
    """A card of Tavolo Povertà (cycle 2025-2027) with one indicator of each shape the tests need."""
    from pdz.cards.models import Card, CardIndicator

    card = db.session.scalar(select(Card).where(Card.body_id == tavolo.id).order_by(Card.id))
    base = 10
    indicators = {}
    for name, kind, baseline, target in [
        ("count", "numero", "4", "10"),
        ("percentage", "percentuale", "", "80"),
        ("time", "tempo", "30", "20"),
        ("presence", "presenza", "", "Sì"),
    ]:
        indicator = CardIndicator(
            card_id=card.id,
            position=base,
            set="output",
            name=f"Indicatore {name}",
            kind=kind,
            baseline=baseline,
            target=target,
        )
        db.session.add(indicator)
        base += 1
        indicators[name] = indicator
    db.session.commit()
    # plain ids: the tests reset the session between requests
    return SimpleNamespace(
        id=card.id, test_indicators={k: SimpleNamespace(id=i.id, kind=i.kind) for k, i in indicators.items()}
    )


def record(
    client: Any,
    card: Any,
    indicator: Any,
    period: str,
    value: str,
    source: str = "Registro UdP",
    note: str = "",
    as_json: bool = True,
) -> Any:
    url = f"/schede/{card.id}/indicatori/{indicator.id}/valori"
    data = {"period": period, "value": value, "source": source, "note": note}
    return client.post(url, json=data) if as_json else client.post(url, data=data)


def monitoring_row(page: str, indicator: Any) -> str:
    match = re.search(rf'<tr id="monitoraggio-{indicator.id}">(.*?)</tr>', page, re.S)
    assert match, f"no monitoring row for indicator {indicator.id}"
    return match.group(1)


def test_coordinator_records_values_and_the_card_shows_progress(client_as: Any, card: Any, db: Any) -> None:
    from pdz.evaluation.models import IndicatorValue

    coord = client_as("coord.pubblico@example.org")
    count = card.test_indicators["count"]
    reply = record(coord, card, count, "2025", "5", note="Primo anno")
    assert reply.status_code == 200, reply.get_json()
    assert reply.get_json()["value"] == {
        "id": reply.get_json()["value"]["id"],
        "indicator_id": count.id,
        "period": "2025",
        "version": 1,
        "value": "5",
    }
    assert record(coord, card, count, "2027", "7").status_code == 200
    # 2027-S1 comes before the whole year 2027: the latest value stays 7 -> (7 - 4) / (10 - 4) = 50%
    assert record(coord, card, count, "2027-s1", "9").status_code == 200
    page = coord.get(f"/schede/{card.id}").get_data(as_text=True)
    row = monitoring_row(page, count)
    assert 'data-percent="50"' in row and 'value="50"' in row
    assert (
        "2025: <strong>5</strong>" in row
        and "2027-S1: <strong>9</strong>" in row
        and "2027: <strong>7</strong>" in row
    )
    assert row.index("2027-S1") < row.index("2027: ")
    assert "<td>4</td>" in row and "<td>10</td>" in row
    stored = db.session.scalar(
        select(IndicatorValue).where(IndicatorValue.indicator_id == count.id, IndicatorValue.period == "2025")
    )
    assert (stored.value, stored.number, stored.source, stored.note, stored.card_id) == (
        "5",
        Decimal("5.0000"),
        "Registro UdP",
        "Primo anno",
        card.id,
    )


def test_a_new_value_for_the_same_period_replaces_it_and_keeps_history(
    client_as: Any, card: Any, db: Any
) -> None:
    from pdz.audit import AuditEntry
    from pdz.evaluation.models import IndicatorValue

    member = client_as("membro@example.org")
    count = card.test_indicators["count"]
    assert record(member, card, count, "2026-S1", "6").status_code == 200
    reply = record(member, card, count, "2026-S1", "12,5", source="Verbali")
    assert reply.get_json()["value"]["version"] == 2
    rows = db.session.scalars(
        select(IndicatorValue).where(IndicatorValue.indicator_id == count.id).order_by(IndicatorValue.version)
    ).all()
    assert [(r.period, r.version, r.value, r.number) for r in rows] == [
        ("2026-S1", 1, "6", Decimal("6.0000")),
        ("2026-S1", 2, "12,5", Decimal("12.5000")),
    ]
    row = monitoring_row(member.get(f"/schede/{card.id}").get_data(as_text=True), count)
    assert "2026-S1: <strong>12,5</strong>" in row and "<strong>6</strong>" not in row
    assert 'data-percent="100"' in row  # (12.5 - 4) / 6 is over 100%: clamped
    page = member.get(f"/schede/{card.id}/monitoraggio").get_data(as_text=True)
    assert "Storico delle rilevazioni" in page and "Verbali" in page and "Registro UdP" in page
    audits = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "indicator.value_recorded").order_by(AuditEntry.id)
    ).all()
    assert [a.details["value"] for a in audits[-2:]] == ["6", "12,5"]
    assert audits[-1].details["before"] == "6" and audits[-1].object_id == rows[1].id


@pytest.mark.parametrize(
    ("name", "values", "expected"),
    [
        ("percentage", ["60"], 'data-percent="75"'),  # empty baseline counts from 0: 60 / 80
        ("percentage", ["62,5"], 'data-percent="78"'),  # 78.125 rounded
        ("percentage", ["0"], 'data-percent="0"'),
        ("time", ["27,5"], 'data-percent="25"'),  # going down: (27.5 - 30) / (20 - 30)
        ("time", ["35"], 'data-percent="0"'),  # worse than the baseline: clamped to 0
        ("presence", ["no"], 'data-reached="0"'),
        ("presence", ["no", "Sì"], 'data-reached="1"'),
    ],
)
def test_progress_against_baseline_and_target(
    client_as: Any, card: Any, name: str, values: list[str], expected: str
) -> None:
    udp = client_as("udp@example.org")
    indicator = card.test_indicators[name]
    for period, value in zip(["2025-S1", "2025-S2"], values, strict=False):
        assert record(udp, card, indicator, period, value).status_code == 200
    assert expected in monitoring_row(udp.get(f"/schede/{card.id}").get_data(as_text=True), indicator)


def test_progress_numbers(app: Any) -> None:
    from pdz.evaluation.queries import progress_percent
    from pdz.evaluation.services import parse_number

    assert progress_percent(Decimal(7), "4", "10") == 50
    assert progress_percent(Decimal("33.3"), "", "100") == 33
    assert progress_percent(Decimal(1), "2", "2") is None  # target equal to baseline: no progress to show
    assert progress_percent(Decimal(1), "", "molti") is None
    assert parse_number("1.234,5") == Decimal("1234.5")
    assert parse_number("€ 1.200") == Decimal(1200)
    assert parse_number("12.5") == Decimal("12.5")
    assert parse_number("80%") == Decimal(80)
    assert parse_number("dodici") is None


def test_form_post_redirects_to_the_monitoring_page(client_as: Any, card: Any) -> None:
    coord = client_as("coord.ets@example.org")
    indicator = card.test_indicators["percentage"]
    reply = record(coord, card, indicator, "2026", "40", as_json=False)
    assert reply.status_code == 303 and reply.location.endswith(
        f"/schede/{card.id}/monitoraggio#indicatore-{indicator.id}"
    )
    page = coord.get(reply.location).get_data(as_text=True)
    assert 'data-period="2026"' in page and 'data-percent="50"' in page
    assert f'<label for="value-{indicator.id}">' in page and f'<label for="source-{indicator.id}">' in page


def _counts(db: Any) -> tuple[int, int, int]:
    from pdz.audit import AuditEntry
    from pdz.evaluation.models import IndicatorValue
    from pdz.realtime import LiveEvent

    db.session.expire_all()
    return (
        db.session.scalar(select(func.count(IndicatorValue.id))),
        db.session.scalar(
            select(func.count(AuditEntry.id)).where(AuditEntry.action == "indicator.value_recorded")
        ),
        db.session.scalar(select(func.count(LiveEvent.id))),
    )


@pytest.mark.parametrize(
    ("name", "period", "value", "source", "message"),
    [
        ("count", "2024", "3", "Registro", "Il periodo deve cadere nel ciclo della scheda (2025-2027)."),
        ("count", "2028-S1", "3", "Registro", "Il periodo deve cadere nel ciclo della scheda (2025-2027)."),
        ("count", "2025-S3", "3", "Registro", "Periodo non valido"),
        ("count", "", "3", "Registro", "Periodo non valido"),
        ("count", "2025", "dodici", "Registro", "Indica un numero"),
        ("count", "2025", "", "Registro", "Indica il valore rilevato."),
        ("count", "2025", "-3", "Registro", "Il valore non può essere negativo."),
        ("percentage", "2025", "120", "Registro", "La percentuale deve essere tra 0 e 100."),
        ("presence", "2025", "forse", "Registro", "rispondi «sì» o «no»"),
        ("count", "2025", "3", "  ", "Indica la fonte del dato."),
    ],
)
def test_bad_input_is_refused_and_nothing_changes(
    client_as: Any, card: Any, db: Any, name: str, period: str, value: str, source: str, message: str
) -> None:
    coord = client_as("coord.pubblico@example.org")
    before = _counts(db)
    reply = record(coord, card, card.test_indicators[name], period, value, source=source)
    assert reply.status_code == 422
    assert message in reply.get_json()["error"]
    form = record(coord, card, card.test_indicators[name], period, value, source=source, as_json=False)
    assert form.status_code == 422 and message in form.get_data(as_text=True).replace("&#39;", "'").replace(
        "&#34;", '"'
    )
    assert _counts(db) == before


def test_a_value_for_an_indicator_of_another_card_is_refused(
    client_as: Any, card: Any, db: Any, tavolo: Any
) -> None:
    from pdz.cards.models import Card, CardIndicator

    other = db.session.scalar(
        select(CardIndicator)
        .join(Card, Card.id == CardIndicator.card_id)
        .where(Card.body_id == tavolo.id, Card.id != card.id)
    )
    removed = card.test_indicators["count"]
    db.session.get(CardIndicator, removed.id).removed = True
    db.session.commit()
    coord = client_as("coord.pubblico@example.org")
    before = _counts(db)
    for indicator in (other, removed):
        reply = record(coord, card, indicator, "2025", "3")
        assert reply.status_code == 422
        assert reply.get_json()["error"] == "L'indicatore non appartiene a questa scheda."
    page = record(coord, card, other, "2025", "3", as_json=False)
    assert page.status_code == 422 and "L&#39;indicatore non appartiene a questa scheda." in page.get_data(
        as_text=True
    )
    assert coord.post(f"/schede/{card.id}/indicatori/999999/valori", json={}).status_code == 404
    assert _counts(db) == before


def test_observer_and_outsider_cannot_record(client_as: Any, card: Any, db: Any, app: Any) -> None:
    indicator = card.test_indicators["count"]
    before = _counts(db)
    observer = client_as("osservatore@example.org")
    assert record(observer, card, indicator, "2025", "3").status_code == 403
    page = observer.get(f"/schede/{card.id}/monitoraggio")
    assert page.status_code == 200 and "Registra il valore" not in page.get_data(as_text=True)
    outsider = client_as("disabilita@example.org")
    assert record(outsider, card, indicator, "2025", "3").status_code == 403
    assert outsider.get(f"/schede/{card.id}/monitoraggio").status_code == 403
    anonymous = app.test_client()
    assert record(anonymous, card, indicator, "2025", "3").status_code == 302
    assert _counts(db) == before
    assert record(client_as("udp@example.org"), card, indicator, "2025", "3").status_code == 200


def test_card_page_query_count_does_not_grow_with_values(
    client_as: Any, card: Any, db: Any, count_queries: Any
) -> None:
    from pdz.cards.models import CardIndicator

    coord = client_as("coord.pubblico@example.org")
    url = f"/schede/{card.id}"
    assert record(coord, card, card.test_indicators["count"], "2025", "5").status_code == 200
    coord.get(url)
    db.session.remove()
    with count_queries() as few:
        assert coord.get(url).status_code == 200
    for position in range(3):
        db.session.add(
            CardIndicator(
                card_id=card.id, position=20 + position, name=f"Altro {position}", kind="numero", target="5"
            )
        )
    db.session.commit()
    indicators = db.session.scalars(
        select(CardIndicator).where(CardIndicator.card_id == card.id, CardIndicator.removed.is_(False))
    ).all()
    for indicator in indicators:
        for period in ("2025", "2026-S1", "2026-S2"):
            value = "sì" if indicator.kind == "presenza" else "3"
            assert record(coord, card, indicator, period, value).status_code == 200
    db.session.remove()
    with count_queries() as many:
        page = coord.get(url)
    assert page.status_code == 200 and page.get_data(as_text=True).count('<tr id="monitoraggio-') == len(
        indicators
    )
    assert many() == few(), (few(), many())


def test_demo_has_monitoring_values(db: Any) -> None:
    from pdz.evaluation.models import IndicatorValue

    periods = set(db.session.scalars(select(IndicatorValue.period)))
    assert periods == {"2025", "2026-S1"}
    assert db.session.scalar(select(func.count(func.distinct(IndicatorValue.card_id)))) >= 2
