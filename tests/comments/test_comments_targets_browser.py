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
def test_two_people_on_a_card_comment_on_a_field_live_and_offline(page_as, live_server, database_url):
    card_id = int(scalar(database_url, CARD))
    member, coord = page_as("membro@example.org"), page_as("coord.ets@example.org")
    for page in (member, coord):
        page.goto(f"{live_server.url}/schede/{card_id}")
        page.wait_for_selector(
            "[data-thread-box][data-target-kind=card][data-field-key=''][data-connection=online]"
        )
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

    # the other person replies beside the field; the first sees the reply live
    arrived.get_by_role("button", name="Rispondi").click()
    coord.fill(FIELD + " [data-text]", "Sì, con un indicatore dedicato")
    coord.click(FIELD + " [data-new] button[type=submit]")
    member.locator(
        FIELD + " li.comment[data-comment-id] ol li.comment", has_text="indicatore dedicato"
    ).wait_for()

    # one goes offline and comments on the field: kept pending, sent on return, arrives once
    member.context.set_offline(True)
    member.wait_for_selector(FIELD + "[data-connection=offline]")
    member.fill(FIELD + " [data-text]", "Scritto sul campo senza rete")
    member.click(FIELD + " [data-new] button[type=submit]")
    pending = member.locator(FIELD + " li.comment.pending", has_text="senza rete")
    pending.wait_for()
    assert coord.locator(FIELD + " li.comment", has_text="senza rete").count() == 0
    member.context.set_offline(False)
    member.wait_for_selector(FIELD + "[data-connection=online]")
    coord.locator(FIELD + " li.comment[data-comment-id]", has_text="senza rete").wait_for()
    pending.wait_for(state="detached")
    for page in (member, coord):
        assert page.locator(FIELD + " li.comment[data-comment-id]", has_text="senza rete").count() == 1
    assert (
        scalar(
            database_url, "SELECT count(*) FROM comments WHERE body_source = 'Scritto sul campo senza rete'"
        )
        == 1
    )


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
