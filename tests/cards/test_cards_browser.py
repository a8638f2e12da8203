"""The card page in a real browser: two people type in one field at once, offline typing survives a reload
(IndexedDB) and reaches the others, the save state, the leave warning, keyboard use and a phone-width layout."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import create_engine, text

pytestmark = pytest.mark.browser

STATUS = "[data-coedit-status]"
CONTEXT = "#f-context .cm-content"
TEXT_OF = "(key) => window.PdzCoedit && window.PdzCoedit.docs[0].textOf(key)"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param  # the browser tests exercise the page script; the backends are covered elsewhere


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


def open_card(page_as: Any, server: Any, email: str, card_id: int, state: str = "saved") -> Any:
    page = page_as(email)
    page.goto(f"{server.url}/schede/{card_id}")
    page.wait_for_selector(f"{STATUS}[data-state={state}]")
    page.wait_for_selector(CONTEXT)
    return page


def wait_text(page: Any, key: str, *parts: str) -> None:
    page.wait_for_function(
        "([key, parts]) => { const t = window.PdzCoedit && window.PdzCoedit.docs[0].textOf(key);"
        " return typeof t === 'string' && parts.every((p) => t.includes(p)); }",
        arg=[key, list(parts)],
    )


def wait_saved(page: Any) -> None:
    page.wait_for_selector(f"{STATUS}[data-state=saved]")
    assert page.text_content(STATUS) == "Salvato"


def test_two_people_type_in_one_field_at_the_same_moment(live_server: Any, page_as: Any) -> None:
    card_id = card_id_of(live_server, "A")
    one = open_card(page_as, live_server, "coord.pubblico@example.org", card_id)
    two = open_card(page_as, live_server, "membro@example.org", card_id)
    original = one.evaluate(TEXT_OF, "context")
    assert original == db_value(live_server, card_id, "context") and original

    one.click(CONTEXT)
    one.keyboard.press("Control+Home")
    two.click(CONTEXT)
    two.keyboard.press("Control+End")
    # The other person is shown as writing in this field.
    one.wait_for_function(
        "() => document.querySelector('[data-coedit-presence=\"context\"]').textContent.includes('sta scrivendo')"
    )
    first, second = "ALFA: ", " OMEGA"
    for a, b in zip(first, second, strict=True):  # keystrokes interleaved: both type at once
        one.keyboard.type(a)
        two.keyboard.type(b)
    expected = first + original + second
    for page in (one, two):
        page.wait_for_function(
            "([key, value]) => window.PdzCoedit.docs[0].textOf(key) === value", arg=["context", expected]
        )
        wait_saved(page)
        shown = "window.PdzCoedit.docs[0].views.get('context').state.doc.toString()"
        assert page.evaluate(shown) == expected  # what the editor shows, not only the shared text
    assert db_value(live_server, card_id, "context") == expected

    # An observer sees the same text, read-only.
    observer = open_card(page_as, live_server, "osservatore@example.org", card_id, state="readonly")
    assert observer.evaluate(TEXT_OF, "context") == expected
    assert observer.get_attribute(CONTEXT, "contenteditable") == "false"
    assert observer.text_content(STATUS) == "Sola lettura"


def test_offline_typing_survives_a_reload_and_reaches_the_others(live_server: Any, page_as: Any) -> None:
    card_id = card_id_of(live_server, "A")
    one = open_card(page_as, live_server, "coord.pubblico@example.org", card_id)
    two = open_card(page_as, live_server, "membro@example.org", card_id)
    original = db_value(live_server, card_id, "context")
    store = one.evaluate("window.PdzCoedit.docs[0].storeName")
    count_updates = """(name) => new Promise((ok) => {
        const req = indexedDB.open(name);
        req.onerror = () => ok(-1);
        req.onsuccess = () => {
          const db = req.result;
          try {
            const c = db.transaction('updates', 'readonly').objectStore('updates').count();
            c.onsuccess = () => { db.close(); ok(c.result); };
          } catch (e) { db.close(); ok(-1); }
        };
      })"""
    stored_before = one.evaluate(count_updates, store)

    # The connection drops (the page's own socket is closed): the save state says so.
    one.evaluate("window.PdzCoedit.docs[0].socket.disconnect()")
    one.wait_for_selector(f"{STATUS}[data-state=offline]")
    assert one.text_content(STATUS) == "Offline: le modifiche saranno inviate"
    one.click(CONTEXT)
    one.keyboard.press("Control+End")
    one.keyboard.type(" SCRITTO-OFFLINE")
    wait_text(one, "context", "SCRITTO-OFFLINE")
    assert one.evaluate("window.PdzCoedit.docs[0].hasUnsaved()") is True
    assert "SCRITTO-OFFLINE" not in db_value(live_server, card_id, "context")
    # Kept in IndexedDB (wait inside the page until the local store holds the new update).
    assert one.evaluate(
        """async ([name, before, count]) => {
             const f = eval(count);
             for (let i = 0; i < 200; i++) { if (await f(name) > before) return true;
               await new Promise((r) => setTimeout(r, 25)); }
             return false; }""",
        [store, stored_before, count_updates],
    )

    # Leaving with unsent changes asks first (beforeunload); the person leaves anyway (reload).
    dialogs: list[str] = []

    def on_dialog(dialog: Any) -> None:
        dialogs.append(dialog.type)
        dialog.accept()

    one.on("dialog", on_dialog)
    states_script = """
      window.__states = [];
      new MutationObserver(() => {
        const el = document.querySelector('[data-coedit-status]');
        if (el && el.dataset.state && window.__states[window.__states.length - 1] !== el.dataset.state)
          window.__states.push(el.dataset.state);
      }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-state'] });
    """
    one.context.add_init_script(states_script)
    one.goto(f"{live_server.url}/schede/{card_id}")
    assert dialogs == ["beforeunload"]

    # Back with the server reachable: the text typed offline is still there and reaches the other person.
    wait_text(one, "context", "SCRITTO-OFFLINE")
    wait_saved(one)
    states = one.evaluate("window.__states")
    assert "saving" in states and states[-1] == "saved", states
    assert states.index("saving") < len(states) - 1
    wait_text(two, "context", "SCRITTO-OFFLINE")
    assert db_value(live_server, card_id, "context") == original + " SCRITTO-OFFLINE"
    # Once saved, leaving asks nothing.
    one.goto(f"{live_server.url}/")
    assert dialogs == ["beforeunload"]


def test_keyboard_only_editing_and_phone_width(live_server: Any, page_as: Any) -> None:
    card_id = card_id_of(live_server, "A")
    page = open_card(page_as, live_server, "membro@example.org", card_id)
    # Focus the focusable element just before the editor, then Tab into it.
    previous = page.evaluate(
        """() => {
          const sel = 'a[href], button:not([disabled]), input:not([disabled]):not([type=hidden]), select, textarea,'
                    + ' summary, [tabindex]:not([tabindex="-1"]), [contenteditable="true"]';
          const all = [...document.querySelectorAll(sel)].filter((el) => el.checkVisibility());
          const editor = document.querySelector('#f-context .cm-content');
          const i = all.indexOf(editor);
          if (i < 1) return null;
          all[i - 1].setAttribute('data-test-before', '1');
          all[i - 1].focus();
          return all[i - 1].outerHTML.slice(0, 120);
        }"""
    )
    assert previous, "the editor is not in the tab order"
    assert page.evaluate("document.activeElement.dataset.testBefore") == "1", previous
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.closest('#f-context') !== null"), page.evaluate(
        "document.activeElement.outerHTML.slice(0, 200)"
    )
    labelled_by = page.evaluate("document.activeElement.getAttribute('aria-labelledby')")
    assert labelled_by
    label = page.evaluate("(id) => document.getElementById(id).textContent.trim()", labelled_by)
    assert label == "Breve descrizione del contesto"
    assert page.evaluate("document.activeElement.getAttribute('role')") == "textbox"
    page.keyboard.press("Control+End")
    page.keyboard.type(" Da tastiera.")
    wait_text(page, "context", "Da tastiera.")
    wait_saved(page)
    assert db_value(live_server, card_id, "context").endswith(" Da tastiera.")

    # At 390 px nothing scrolls sideways.
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.wait_for_selector(f"{STATUS}[data-state=saved]")
    page.wait_for_selector(CONTEXT)
    overflow = page.evaluate(
        """() => {
          const width = document.documentElement.clientWidth;
          const wide = [...document.querySelectorAll('body *')].filter((el) => el.getBoundingClientRect().right > width + 0.5)
            .filter((el) => ![...el.children].some((c) => c.getBoundingClientRect().right > width + 0.5))
            .slice(0, 8).map((el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
              + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().replace(/\\s+/g, '.') : '')
              + ' right=' + Math.round(el.getBoundingClientRect().right));
          return { scroll: document.documentElement.scrollWidth, wide };
        }"""
    )
    assert overflow["scroll"] <= 390, overflow
