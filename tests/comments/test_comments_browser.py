"""Two people on the same tavolo discussion page in real browsers: live comment and reply (in the general
thread and in a field thread beside one part of the mandate), a comment written offline that is kept
pending and arrives exactly once when the connection returns, and an edit whose draft survives live updates."""

from __future__ import annotations

from typing import Any

import pytest
from tests.comments.test_comments_live import scalar


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the browser flow is the same on both; the data layer is covered on both elsewhere


def signed_in(browser: Any, server: Any, email: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


GENERAL = "[data-thread-box][data-target-kind=tavolo]"  # the general discussion
FIELD = (
    "[data-thread-box][data-target-kind=mandate][data-field-key=finalita]"  # a field thread beside «Finalità»
)


def comments_with(page: Any, text: str) -> Any:
    return page.locator(GENERAL + " li.comment[data-comment-id]", has_text=text)


@pytest.mark.browser
def test_two_people_discuss_live_and_an_offline_comment_arrives_once(browser, live_server, database_url):
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    url = f"{live_server.url}/tavoli/{body_id}/discussione"
    member_ctx, member = signed_in(browser, live_server, "membro@example.org")
    coord_ctx, coord = signed_in(browser, live_server, "coord.ets@example.org")
    for page in (member, coord):
        page.goto(url)
        page.wait_for_selector(GENERAL + "[data-connection=online]")

    member.fill(GENERAL + " [data-text]", "Proposta: sportello unico a **Crema**")
    member.click(GENERAL + " [data-new] button[type=submit]")
    comments_with(coord, "Proposta: sportello unico").wait_for()
    arrived = comments_with(coord, "Proposta: sportello unico")
    assert arrived.locator("strong", has_text="Crema").count() == 1  # Markdown rendered
    assert "unread" in (arrived.get_attribute("class") or "")

    arrived.get_by_role("button", name="Rispondi").click()
    coord.fill(GENERAL + " [data-text]", "D'accordo, ne parliamo al prossimo incontro")
    coord.click(GENERAL + " [data-new] button[type=submit]")
    reply = member.locator(GENERAL + " li.comment[data-comment-id] ol li.comment", has_text="D'accordo")
    reply.wait_for()

    # A thread on one field, shown beside it: comment, live arrival there only, reply.
    member.fill(FIELD + " [data-text]", "Sulle finalità: aggiungere i giovani adulti")
    member.click(FIELD + " [data-new] button[type=submit]")
    on_field = coord.locator(FIELD + " li.comment[data-comment-id]", has_text="giovani adulti")
    on_field.wait_for()
    assert coord.locator(GENERAL + " li.comment", has_text="giovani adulti").count() == 0
    on_field.get_by_role("button", name="Rispondi").click()
    coord.fill(FIELD + " [data-text]", "Sì, con un indicatore dedicato")
    coord.click(FIELD + " [data-new] button[type=submit]")
    member.locator(
        FIELD + " li.comment[data-comment-id] ol li.comment", has_text="indicatore dedicato"
    ).wait_for()

    member_ctx.set_offline(True)
    member.wait_for_selector(GENERAL + "[data-connection=offline]")
    member.fill(GENERAL + " [data-text]", "Scritto senza rete")
    member.click(GENERAL + " [data-new] button[type=submit]")
    pending = member.locator(GENERAL + " li.comment.pending", has_text="Scritto senza rete")
    pending.wait_for()
    assert "in attesa di invio" in pending.inner_text()
    assert comments_with(coord, "Scritto senza rete").count() == 0

    member_ctx.set_offline(False)
    member.wait_for_selector(GENERAL + "[data-connection=online]")
    comments_with(coord, "Scritto senza rete").wait_for()
    pending.wait_for(state="detached")
    # The author edits it; a live comment arriving meanwhile does not lose the draft.
    comments_with(member, "Scritto senza rete").get_by_role("button", name="Modifica").click()
    member.fill(GENERAL + " [data-edit-text]", "Scritto senza rete, poi corretto")
    coord.fill(GENERAL + " [data-text]", "Ricevuto")
    coord.click(GENERAL + " [data-new] button[type=submit]")
    comments_with(member, "Ricevuto").wait_for()
    assert member.input_value(GENERAL + " [data-edit-text]") == "Scritto senza rete, poi corretto"
    member.get_by_role("button", name="Salva").click()
    comments_with(coord, "poi corretto").wait_for()
    for page in (member, coord):
        assert comments_with(page, "Scritto senza rete").count() == 1
    assert (
        scalar(database_url, "SELECT count(*) FROM comments WHERE body_source LIKE 'Scritto senza rete%'")
        == 1
    )
    member_ctx.close()
    coord_ctx.close()
