"""Attachments in the browser (issue #16 point 2): a co-coordinator attaches a PDF to a card with the plain file
field, sees it listed, downloads it, is refused an HTML page named .pdf with the Italian message, removes the
file through the confirmation dialog and finds it among the removed ones. The card page stays within 390 px and
axe finds no serious or critical violation. Screenshots at 1280 and 390 px are kept as artifacts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from attachments_support import pdf
from sqlalchemy import select

pytestmark = pytest.mark.browser

SERIOUS = {"serious", "critical"}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, Any]:
    return {"PDZ_UPLOAD_DIR": str(tmp_path / "allegati")}


def _shots(page: Any, out: Path, name: str, section: Any = None) -> None:
    """The whole page, and the attachments panel alone (the card page is long), at 1280 and 390 px."""
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("() => document.documentElement.scrollWidth") <= width, (name, width)
        page.screenshot(path=str(out / f"attachments-{name}-{width}.png"), full_page=True)
        if section is not None:
            section.screenshot(path=str(out / f"attachments-{name}-panel-{width}.png"))
    page.set_viewport_size({"width": 1280, "height": 900})


def _serious(page: Any) -> list[str]:
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']}" for v in results["violations"] if v.get("impact") in SERIOUS
    ]


def test_attach_download_refuse_and_remove_a_file_on_a_card(
    db: Any, live_server: Any, page_as: Any, tavolo: Any, run_dir: Path, tmp_path: Path
) -> None:
    from pdz.cards.models import Card

    card_id = db.session.scalar(select(Card.id).where(Card.body_id == tavolo.id).order_by(Card.id))
    db.session.remove()
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir)
    out.mkdir(parents=True, exist_ok=True)
    document = tmp_path / "Relazione del tavolo – ottobre 2026.pdf"
    document.write_bytes(pdf("Relazione del tavolo"))
    fake = tmp_path / "verbale.pdf"
    fake.write_bytes(b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>")

    page = page_as("coord.pubblico@example.org")
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server.url}/schede/{card_id}#allegati")
    section = page.get_by_test_id("attachments")
    section.get_by_label("File da allegare").set_input_files(str(document))
    section.get_by_test_id("attachment-submit").click()
    page.wait_for_url(f"**/schede/{card_id}#allegati")
    link = page.get_by_role("link", name="Relazione del tavolo – ottobre 2026.pdf")
    link.wait_for()
    assert _serious(page) == []
    _shots(page, out, "card", section)

    with page.expect_download() as download:
        link.click()
    saved = tmp_path / "scaricato.pdf"
    download.value.save_as(saved)
    assert saved.read_bytes() == document.read_bytes()
    assert download.value.suggested_filename == document.name

    section.get_by_label("File da allegare").set_input_files(str(fake))
    section.get_by_test_id("attachment-submit").click()
    page.get_by_test_id("attachment-error").wait_for()
    field_error = page.get_by_label("File da allegare")
    assert field_error.get_attribute("aria-invalid") == "true"
    assert "Questo tipo di file non è ammesso" in page.locator(".field .error").inner_text()
    assert _serious(page) == []
    _shots(page, out, "refused")

    page.goto(f"{live_server.url}/schede/{card_id}#allegati")
    section.get_by_role("button", name="Rimuovi «Relazione del tavolo – ottobre 2026.pdf»").click()
    dialog = page.get_by_test_id("confirm-dialog")
    dialog.wait_for(state="visible")
    assert "resta nella cronologia" in dialog.inner_text()
    page.get_by_test_id("confirm-ok").click()
    removed = page.get_by_test_id("attachments-removed")
    removed.wait_for()
    removed.locator("summary").click()
    assert "Relazione del tavolo – ottobre 2026.pdf" in removed.inner_text()
    assert "1 allegato rimosso" in removed.inner_text()
    _shots(page, out, "removed", section)
    assert errors == []
