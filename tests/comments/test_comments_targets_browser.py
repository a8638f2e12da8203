"""Field threads on a card page and entry threads on a SWOT page, in a real browser: a box loads when its
toggle is opened, a comment written beside one field arrives live beside that field on another page, and
opening a SWOT entry's thread does not open the entry's inline editor."""

from __future__ import annotations

import pytest
from tests.comments.test_comments_live import scalar


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the browser flow is the same on both; the data layer is covered on both elsewhere


CARD = "SELECT min(id) FROM cards WHERE body_id = (SELECT id FROM bodies WHERE name = 'Tavolo Povertà')"
ASSESSMENT = "SELECT min(id) FROM swot_assessments WHERE body_id = (SELECT id FROM bodies WHERE name = 'Tavolo Povertà')"
ENTRY = (
    "SELECT min(e.id) FROM swot_entries e JOIN swot_assessments a ON a.id = e.assessment_id"
    " JOIN bodies b ON b.id = a.body_id WHERE b.name = 'Tavolo Povertà' AND e.removed_at IS NULL"
    " AND a.id = (SELECT min(x.id) FROM swot_assessments x WHERE x.body_id = b.id)"
)
FIELD = "[data-thread-box][data-target-kind=card][data-field-key=general_objective]"


@pytest.mark.browser
def test_card_field_thread_opens_on_demand_and_is_live(page_as, live_server, database_url):
    card_id = int(scalar(database_url, CARD))
    member, coord = page_as("membro@example.org"), page_as("coord.ets@example.org")
    for page in (member, coord):
        page.goto(f"{live_server.url}/schede/{card_id}")
        page.wait_for_selector("[data-thread-box][data-target-kind=card][data-field-key=''][data-connection=online]")
        assert page.locator(FIELD + " li.empty").text_content() == "…"  # closed: not fetched yet
        page.locator(f"details:has({FIELD}) > summary").click()
        page.wait_for_selector(FIELD + " li.empty:has-text('Nessun commento')")

    member.fill(FIELD + " [data-text]", "Obiettivo: aggiungere i **giovani adulti**")
    member.click(FIELD + " [data-new] button[type=submit]")
    arrived = coord.locator(FIELD + " li.comment[data-comment-id]", has_text="giovani adulti")
    arrived.wait_for()
    assert arrived.locator("strong", has_text="giovani adulti").count() == 1  # Markdown rendered
    # beside that field only
    other = "[data-thread-box][data-target-kind=card][data-field-key='']"
    assert coord.locator(other + " li.comment[data-comment-id]").count() == 0


@pytest.mark.browser
def test_swot_entry_thread_toggle_does_not_open_the_editor(page_as, live_server, database_url):
    assessment_id = int(scalar(database_url, ASSESSMENT))
    entry_id = int(scalar(database_url, ENTRY))
    page = page_as("membro@example.org")
    page.goto(f"{live_server.url}/swot/{assessment_id}")
    entry = page.locator(f"#voce-{entry_id}")
    entry.locator("details.entry-thread > summary").click()
    box = f"#voce-{entry_id} [data-thread-box]"
    page.wait_for_selector(box + " li.empty:has-text('Nessun commento')")
    assert "editing" not in (entry.get_attribute("class") or "")
    page.fill(box + " [data-text]", "Anche nel Soncinasco")
    page.click(box + " [data-new] button[type=submit]")
    page.locator(box + " li.comment[data-comment-id]", has_text="Soncinasco").wait_for()
    assert "editing" not in (entry.get_attribute("class") or "")
