"""Two people on the same tavolo discussion in real browsers: live comment, reply, and a comment written
offline that is kept pending and arrives exactly once when the connection returns."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from tests.comments.test_comments_live import scalar

ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the browser flow is the same on both; the data layer is covered on both elsewhere


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)
        yield launched
        launched.close()


def signed_in(browser: Any, server: Any, email: str) -> tuple[Any, Any]:
    context = browser.new_context(locale="it-IT")
    page = context.new_page()
    page.goto(server.url + "/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    return context, page


def comments_with(page: Any, text: str) -> Any:
    return page.locator("[data-thread-box] li.comment[data-comment-id]", has_text=text)


@pytest.mark.browser
def test_two_people_discuss_live_and_an_offline_comment_arrives_once(browser, live_server, database_url):
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    url = f"{live_server.url}/tavoli/{body_id}/discussione"
    member_ctx, member = signed_in(browser, live_server, "membro@example.org")
    coord_ctx, coord = signed_in(browser, live_server, "coord.ets@example.org")
    for page in (member, coord):
        page.goto(url)
        page.wait_for_selector("[data-thread-box][data-connection=online]")

    member.fill("[data-text]", "Proposta: sportello unico a **Crema**")
    member.click("[data-new] button[type=submit]")
    comments_with(coord, "Proposta: sportello unico").wait_for()
    arrived = comments_with(coord, "Proposta: sportello unico")
    assert arrived.locator("strong", has_text="Crema").count() == 1  # Markdown rendered
    assert "unread" in (arrived.get_attribute("class") or "")

    arrived.get_by_role("button", name="Rispondi").click()
    coord.fill("[data-text]", "D'accordo, ne parliamo al prossimo incontro")
    coord.click("[data-new] button[type=submit]")
    reply = member.locator("li.comment[data-comment-id] ol li.comment", has_text="D'accordo")
    reply.wait_for()

    member_ctx.set_offline(True)
    member.wait_for_selector("[data-thread-box][data-connection=offline]")
    member.fill("[data-text]", "Scritto senza rete")
    member.click("[data-new] button[type=submit]")
    pending = member.locator("li.comment.pending", has_text="Scritto senza rete")
    pending.wait_for()
    assert "in attesa di invio" in pending.inner_text()
    assert comments_with(coord, "Scritto senza rete").count() == 0

    member_ctx.set_offline(False)
    member.wait_for_selector("[data-thread-box][data-connection=online]")
    comments_with(coord, "Scritto senza rete").wait_for()
    pending.wait_for(state="detached")
    # The author edits it; a live comment arriving meanwhile does not lose the draft.
    comments_with(member, "Scritto senza rete").get_by_role("button", name="Modifica").click()
    member.fill("[data-edit-text]", "Scritto senza rete, poi corretto")
    coord.fill("[data-text]", "Ricevuto")
    coord.click("[data-new] button[type=submit]")
    comments_with(member, "Ricevuto").wait_for()
    assert member.input_value("[data-edit-text]") == "Scritto senza rete, poi corretto"
    member.get_by_role("button", name="Salva").click()
    comments_with(coord, "poi corretto").wait_for()
    for page in (member, coord):
        assert comments_with(page, "Scritto senza rete").count() == 1
    assert scalar(database_url, "SELECT count(*) FROM comments WHERE body_source LIKE 'Scritto senza rete%'") == 1
    member_ctx.close()
    coord_ctx.close()
