"""The funds page in a browser, at desktop and phone width: the year tables are readable, and the UdP records
an allocation through the real form (CSRF on); screenshots land in the test's run directory."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select


@pytest.fixture
def backend() -> str:
    return "sqlite"  # layout and form, not SQL (the page's queries run on both backends in test_funds.py)


def test_funds_page_at_1280_and_390_and_its_form(page_as: Any, live_server: Any, run_dir: Path) -> None:
    from pdz.cycles.models import PlanningCycle
    from pdz.extensions import db

    with live_server.app.app_context():
        cycle_id = db.session.scalar(select(PlanningCycle.id).where(PlanningCycle.start_year == 2025))
    page = page_as("udp@example.org")
    page.goto(f"{live_server.url}/cicli/{cycle_id}/fondi")
    assert page.get_by_role("heading", name="Anno 2025").is_visible()
    page.get_by_label("Anno", exact=True).fill("2025")
    page.get_by_label("Fondo", exact=True).fill("FSR (Fondo Sociale Regionale)")
    page.get_by_label("Confronta con le voci delle schede di fonte").select_option("fsr")
    page.get_by_label("Atto di assegnazione").fill("DGR XII - 2915 e DGR XII - 2976")
    page.get_by_label("Importo").fill("1.171.075,29")
    page.get_by_role("button", name="Registra", exact=True).click()
    page.wait_for_selector("text=Assegnazione registrata.")
    row = page.locator('table[data-year="2025"] tr[data-source="fsr"]')
    assert "1.171.075,29 €" in row.inner_text()
    page.screenshot(path=str(run_dir / "funds-1280.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.screenshot(path=str(run_dir / "funds-390.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390 + 1, width  # wide tables scroll inside their box, the page does not
