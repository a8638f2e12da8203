"""The Piano di Zona page in a real browser: the Ufficio di Piano sees which cards keep the plan from being sent,
excludes one with its reason through the form, writes a chapter in the live editor (no save button) and finds
it in the preview. Screenshots at 1280 and 390 px (no horizontal scroll on a phone)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

REASON = "Scheda restituita al tavolo: rientra con la prima revisione del Piano."


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the page behaves the same; the gate is tested over HTTP on both databases


def _shots(page: Any, out: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, width
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


@pytest.mark.browser
def test_the_udp_excludes_a_card_and_writes_a_chapter(
    db: Any, live_server: Any, page_as: Any, run_dir: Path
) -> None:
    from pdz.approvals.models import PlanDocument

    plan_id = db.session.scalar(select(PlanDocument.id).where(PlanDocument.kind == "piano_di_zona"))
    db.session.remove()
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "pdz-plan"
    out.mkdir(parents=True, exist_ok=True)
    page = page_as("udp@example.org")
    page.goto(f"{live_server.url}/piani/{plan_id}")
    assert "9 approvate, 0 escluse, 4 mancanti su 13." in page.get_by_test_id("cards-count").inner_text()
    assert (
        "non può essere inviato"
        in page.locator("#submit-h + details + p, #submit-h ~ p.notice").first.inner_text()
    )
    assert page.get_by_test_id("submit-approval").count() == 0
    page.locator("[data-coedit-status][data-state=saved]").wait_for()
    _shots(page, out, "plan-before")

    missing = page.locator(".pdz-card.state-mancante").first
    missing.locator("summary").click()
    missing.locator("textarea[name=reason]").fill(REASON)
    missing.get_by_role("button", name="Escludi la scheda").click()
    page.wait_for_url(f"**/piani/{plan_id}*")
    assert "9 approvate, 1 escluse, 3 mancanti su 13." in page.get_by_test_id("cards-count").inner_text()
    assert REASON in page.locator(".pdz-card.state-esclusa").inner_text()

    page.locator("[data-coedit-field=esiti] .cm-content").click()
    page.keyboard.type("Nel triennio 2021-2023 i tavoli hanno lavorato in modo trasversale.")
    page.wait_for_function(
        "([key, text]) => window.PdzCoedit.docs[0].textOf(key) === text",
        arg=["esiti", "Nel triennio 2021-2023 i tavoli hanno lavorato in modo trasversale."],
        polling=100,
    )
    page.locator("[data-coedit-status][data-state=saved]").wait_for()
    assert page.get_by_role("button", name="Salva").count() == 0
    page.reload()
    preview = page.get_by_test_id("doc-content")
    assert "Nel triennio 2021-2023 i tavoli hanno lavorato in modo trasversale." in preview.inner_text()
    assert REASON in preview.inner_text()
    page.locator("[data-coedit-status][data-state=saved]").wait_for()
    _shots(page, out, "plan-after")
