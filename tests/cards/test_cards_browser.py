"""Two browser pages on the same card: one types, the other sees it live; both edit one field, both texts survive."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.browser

@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # the browser test exercises the page script; the backends are covered elsewhere


def open_card(browser: Any, server: Any, email: str, card_id: int) -> Any:
    page = browser.new_context().new_page()
    page.set_default_timeout(8000)
    page.goto(f"{server.url}/login")
    page.fill("#email", email)
    page.fill("#password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(lambda url: "/login" not in url)
    page.goto(f"{server.url}/schede/{card_id}")
    page.wait_for_function("document.getElementById('live-status').textContent.indexOf('Collegato') >= 0")
    return page


def db_value(server: Any, card_id: int, key: str) -> str:
    engine = create_engine(server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT value_source FROM card_values WHERE card_id = :c AND key = :k"),
            {"c": card_id, "k": key},
        ).scalar()
    engine.dispose()
    return value or ""


def card_id_of(server: Any, key: str) -> int:
    engine = create_engine(server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        found = connection.execute(text("SELECT id FROM cards WHERE key = :k"), {"k": key}).scalar_one()
    engine.dispose()
    return int(found)


def test_two_pages_co_write_one_card(live_server: Any, browser: Any) -> None:
    card_id = card_id_of(live_server, "A")
    one = open_card(browser, live_server, "coord.pubblico@example.org", card_id)
    two = open_card(browser, live_server, "membro@example.org", card_id)

    # One types in "results"; the other page shows it without reloading, and sees who is writing.
    one.click("#in-results")
    two.wait_for_function(
        "document.querySelector('#f-results .presence').textContent.indexOf('sta scrivendo') >= 0"
    )
    one.type("#in-results", "Duecento famiglie accompagnate.")
    two.wait_for_function("document.getElementById('in-results').value === 'Duecento famiglie accompagnate.'")
    one.wait_for_function(
        "document.querySelector('#f-results .field-status').textContent.indexOf('Salvato') >= 0"
    )

    # Both edit the same field at once, at different ends of the text: both texts survive everywhere.
    one.click("#in-results")
    one.keyboard.press("Home")
    one.keyboard.type("Entro il 2027: ")
    two.click("#in-results")
    two.keyboard.press("End")
    two.keyboard.type(" Con il Terzo Settore.")
    expected = "Entro il 2027: Duecento famiglie accompagnate. Con il Terzo Settore."
    for page in (one, two):
        page.wait_for_function(f"document.getElementById('in-results').value === {expected!r}")
    assert db_value(live_server, card_id, "results") == expected

    # A save that cannot reach the server stays in the page and is retried; the user is told.
    one.route("**/schede/*/campi", lambda route: route.abort())
    one.click("#in-impact")
    one.keyboard.type("Meno sfratti.")
    one.click("#in-results")
    one.wait_for_function("!document.getElementById('save-problem').hidden")
    assert "Salvataggio non riuscito, riprovo" in one.text_content("#save-problem")
    one.unroute("**/schede/*/campi")
    one.wait_for_function("document.getElementById('save-problem').hidden")
    two.wait_for_function("document.getElementById('in-impact').value.indexOf('Meno sfratti.') >= 0")
    assert "Meno sfratti." in db_value(live_server, card_id, "impact")


def test_overlapping_edits_show_both_versions_and_the_choice_is_saved(live_server: Any, browser: Any) -> None:
    card_id = card_id_of(live_server, "A")
    one = open_card(browser, live_server, "coord.pubblico@example.org", card_id)
    two = open_card(browser, live_server, "coord.ets@example.org", card_id)
    for page, text_ in (
        (one, "Versione della coordinatrice pubblica."),
        (two, "Versione del coordinatore ETS."),
    ):
        page.fill("#in-results", text_)
    deadline_pages = [one, two]
    conflicted = None
    for _ in range(80):
        for page in deadline_pages:
            if page.query_selector(".conflict-box[data-live]"):
                conflicted = page
        if conflicted:
            break
        one.wait_for_timeout(100)
    assert conflicted is not None, "the later saver must be shown the conflict"
    other = two if conflicted is one else one
    box = conflicted.query_selector(".conflict-box[data-live]")
    mine, theirs = (
        box.query_selector(".version.mine").text_content(),
        box.query_selector(".version.theirs").text_content(),
    )
    assert {mine, theirs} == {"Versione della coordinatrice pubblica.", "Versione del coordinatore ETS."}
    conflicted.fill(".resolve-text", f"{theirs} {mine}")
    conflicted.click(".keep-merged")
    conflicted.wait_for_selector(".conflict-box[data-live]", state="detached")
    expected = f"{theirs} {mine}"
    for page in (one, two):
        page.wait_for_function(f"document.getElementById('in-results').value === {expected!r}")
    assert db_value(live_server, card_id, "results") == expected
    assert other.input_value("#in-results") == expected
