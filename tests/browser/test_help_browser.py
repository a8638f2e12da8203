"""Issue #16 point 7, help where words are hard: a public glossary linked from where its terms appear, the
fingerprint of a submitted version inside a details box, a favicon, and error pages that say what to do
instead of "Codice 404". Screenshots at 1280 and 390 px are kept as artifacts."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

TERMS = ["BES", "SDG", "LEPS", "UdP Integrato", "Impronta digitale", "Mandato", "Quorum", "Tavolo"]


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


def _shots(page: Any, out: Path, name: str) -> None:
    for width in (1280, 390):
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(out / f"{name}-{width}.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})


def test_glossary_details_favicon_and_error_pages(
    db: Any, live_server: Any, page_as: Any, run_dir: Path
) -> None:
    from pdz.approvals.models import Submission, SubmissionStatus

    submission_id = db.session.scalar(
        select(Submission.id).where(Submission.status == SubmissionStatus.APPROVED).order_by(Submission.id)
    )
    db.session.remove()
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "help"
    out.mkdir(parents=True, exist_ok=True)
    base = live_server.url

    # The glossary is public, and the public list of documents links to its entry on the fingerprint.
    anyone = page_as(None)
    anyone.goto(base + "/pubblico/")
    anyone.get_by_role("link", name="Che cos'è l'impronta?").click()
    anyone.wait_for_url(base + "/glossario#impronta")
    glossary = anyone.get_by_test_id("glossary")
    for word in TERMS:
        assert glossary.locator("dt", has_text=word).count() >= 1, word
    assert anyone.evaluate("() => document.querySelector(':target').id") == "impronta"
    _shots(anyone, out, "glossary")

    # A favicon, served as an image.
    icon = anyone.locator("link[rel=icon]").get_attribute("href")
    response = anyone.request.get(base + (icon or ""))
    assert response.ok and response.headers["content-type"].startswith("image/svg")

    # Error pages for people: what happened and what to do, never "Codice 404".
    response = anyone.goto(base + "/non-esiste")
    assert response is not None and response.status == 404
    main = anyone.locator("main").inner_text()
    assert "Pagina non trovata" in main and "Che cosa puoi fare" in main and "Codice" not in main
    _shots(anyone, out, "error-404")

    member = page_as("membro@example.org")
    response = member.goto(base + "/admin/")
    assert response is not None and response.status == 403
    main = member.locator("main").inner_text()
    assert "Che cosa puoi fare" in main and "Ufficio di Piano" in main and "Codice" not in main
    # "Torna alla pagina precedente" goes back in the history.
    member.get_by_role("link", name="Torna alla pagina precedente").click()
    member.wait_for_url(base + "/")

    # The fingerprint of a submitted version sits in a closed details box; the verdict stays in view.
    member = page_as("udp@example.org")
    member.goto(f"{base}/approvazioni/{submission_id}")
    box = member.get_by_test_id("fingerprint-box")
    assert box.evaluate("d => d.tagName") == "DETAILS" and box.get_attribute("open") is None
    assert not member.get_by_test_id("fingerprint").is_visible()
    assert "integra" in box.locator("summary").inner_text()
    box.locator("summary").click()
    member.get_by_test_id("fingerprint").wait_for(state="visible")
    assert len(member.get_by_test_id("fingerprint").inner_text().strip()) == 64
    assert (
        box.get_by_role("link", name="Che cos'è l'impronta?").get_attribute("href") == "/glossario#impronta"
    )
    _shots(member, out, "submission")
