"""UdP staff manage the planning cycles; states move forward only; bad input changes nothing."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select


def test_udp_creates_a_cycle_with_its_years_and_starts_it_after_closing_the_running_one(
    client_as: Any, db: Any
) -> None:
    from pdz.cycles.models import CycleStatus, PlanningCycle

    udp = client_as("udp@example.org")
    assert udp.post("/cicli/", data={"start_year": "2028", "end_year": "2030"}).status_code == 302
    new = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2028))
    assert [y.year for y in new.years] == [2028, 2029, 2030] and new.status == CycleStatus.PREPARATION
    refused = udp.post(f"/cicli/{new.id}/stato", data={"status": "in_corso"})
    assert refused.status_code == 422 and "già un ciclo in corso" in refused.get_data(as_text=True)
    running = db.session.scalar(select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING))
    assert udp.post(f"/cicli/{running.id}/stato", data={"status": "concluso"}).status_code == 302
    assert udp.post(f"/cicli/{new.id}/stato", data={"status": "in_corso"}).status_code == 302
    assert (
        udp.post(f"/cicli/{running.id}/stato", data={"status": "in_corso"}).status_code == 422
    )  # no way back


def test_bad_cycles_are_refused(client_as: Any, db: Any) -> None:
    from pdz.cycles.models import PlanningCycle

    udp = client_as("udp@example.org")
    before = db.session.scalar(select(func.count(PlanningCycle.id)))
    for data, message in [
        ({"start_year": "2026", "end_year": "2028"}, "si sovrappongono"),
        ({"start_year": "2030", "end_year": "2029"}, "finisce dopo l"),
        ({"start_year": "", "end_year": ""}, "Indica l"),
    ]:
        response = udp.post("/cicli/", data=data)
        assert response.status_code == 422 and message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(PlanningCycle.id))) == before
    assert (
        client_as("coord.ets@example.org")
        .post("/cicli/", data={"start_year": "2040", "end_year": "2042"})
        .status_code
        == 403
    )
