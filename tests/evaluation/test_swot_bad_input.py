"""Hostile SWOT entries (issue #13 point 1): wrong shapes and control characters are refused, nothing stored."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select


@pytest.fixture
def swot(client_as: Any, tavolo: Any, db: Any) -> Any:
    from pdz.evaluation.models import SwotAssessment

    response = client_as("coord.pubblico@example.org").post(
        f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"}
    )
    assert response.status_code == 302
    return db.session.scalar(
        select(SwotAssessment).where(SwotAssessment.body_id == tavolo.id, SwotAssessment.year == 2026)
    )


def entries(db: Any, swot: Any) -> int:
    from pdz.evaluation.models import SwotEntry

    db.session.expire_all()
    return db.session.scalar(select(func.count(SwotEntry.id)).where(SwotEntry.assessment_id == swot.id)) or 0


@pytest.mark.parametrize(
    "fields",
    [
        {"text": ["Una voce"]},
        {"text": {"x": "Una voce"}},
        {"text": "Una voce", "tags": [["rete"]]},
        {"text": "Una voce", "tags": {"rete": 1}},
        {"text": "Una voce", "tags": ["rete\r\nBcc: x"]},
        {"text": "Una voce", "client_op_id": {"id": "op-12345"}},
        {"text": "Una voce", "client_op_id": "x" * 65},
        {"text": "Una voce", "client_op_id": 12345678},
    ],
    ids=repr,
)
def test_wrong_shapes_are_refused_and_nothing_is_stored(client_as: Any, db: Any, swot: Any, fields: Any):
    before = entries(db, swot)
    response = client_as("membro@example.org").post(
        f"/swot/{swot.id}/voci", json={"dimension": "mandato", "quadrant": "S", **fields}
    )
    assert response.status_code == 422, response.get_data(as_text=True)[:300]
    assert response.json["ok"] is False and response.json["error"]
    assert entries(db, swot) == before


def test_out_of_range_year_is_refused(client_as: Any, tavolo: Any) -> None:
    client = client_as("coord.pubblico@example.org")
    for year in ("99999999999999999999", "2147483648", "-1", "١٢"):
        response = client.post(f"/tavoli/{tavolo.id}/swot", data={"year": year, "kind": "annuale"})
        assert response.status_code < 500, year
        assert "ciclo" in response.get_data(as_text=True), year
