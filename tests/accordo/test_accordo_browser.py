"""The Accordo di Programma in a real browser: the Ufficio di Piano records a signature from the accordo's
page with the date picker, and anyone reads the public page on a phone without scrolling sideways."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the page is the same on both; the rules are covered on both in test_accordo.py


def _arrange(db: Any) -> dict[str, Any]:
    """The Assemblea approved the demo's Piano di Zona on 10 March 2026."""
    from test_accordo import _approve_plan

    from pdz.accordo.models import Accordo, AccordoSignatory
    from pdz.orgs.models import Organisation

    _approve_plan(db)
    accordo = db.session.scalar(select(Accordo))
    asst = db.session.scalar(
        select(AccordoSignatory)
        .join(Organisation, Organisation.id == AccordoSignatory.organisation_id)
        .where(Organisation.name == "ASST di Crema")
    )
    ids = {"cycle": accordo.cycle_id, "asst": asst.id}
    db.session.remove()  # hold no read transaction while the live server writes to the SQLite file
    return ids


@pytest.mark.browser
def test_the_udp_records_a_signature_and_the_public_page_fits_a_phone(page_as, live_server, db):
    ids = _arrange(db)
    udp = page_as("udp@example.org")
    udp.goto(f"{live_server.url}/cicli/{ids['cycle']}/accordo")
    row = udp.locator('tr[data-signatory="ASST di Crema"]')
    row.get_by_label("Data della firma di ASST di Crema").fill("2026-03-20")
    row.get_by_role("button", name="Registra").click()
    udp.get_by_text("Firma registrata.").wait_for()
    assert "20 marzo 2026" in udp.locator('tr[data-signatory="ASST di Crema"]').inner_text()
    assert "in attesa delle firme (1 di 49)" in udp.get_by_test_id("accordo-state").inner_text()

    anyone = page_as(None)
    anyone.set_viewport_size({"width": 390, "height": 800})
    anyone.goto(f"{live_server.url}/pubblico/accordi/{ids['cycle']}")
    assert "20 marzo 2026" in anyone.locator('tr[data-signatory="ASST di Crema"]').inner_text()
    assert anyone.evaluate("document.documentElement.scrollWidth <= document.documentElement.clientWidth")
