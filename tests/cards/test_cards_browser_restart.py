"""The card page in Chromium while its server is killed -9 mid-typing and restarted: every character
typed (before, during and after the crash) is stored once the page has reconnected, and nothing the server
had acknowledged is lost."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from bench import servers
from sqlalchemy import create_engine, text
from tests.conftest import free_port, fresh_database

pytestmark = pytest.mark.browser

STATUS = "[data-coedit-status]"
CONTEXT = "#f-context .cm-content"


class Killable:
    """One real server process (bench/serve.py) on a fixed port, on a SQLite copy of the demo."""

    def __init__(self, url: str, run_dir: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = url
        self.log = run_dir / f"restart_{self.port}.log"
        self.env = {
            "PDZ_DATABASE_URL": url,
            "PDZ_SECRET_KEY": "restart-"
            + uuid.uuid4().hex,  # kept across the restart: the page stays signed in
            "PDZ_INSTANCE_DIR": str(run_dir / f"restart_{uuid.uuid4().hex[:6]}"),
            "PDZ_ARGON2_TIME_COST": "1",
            "PDZ_ARGON2_MEMORY_COST": "1024",
            "PDZ_LOGIN_RATE_LIMIT": "1000 per minute",
        }
        self.process: Any = None

    def start(self) -> None:
        self.process = servers.start(self.port, self.env, log=self.log)

    def kill(self) -> None:
        self.process.kill()  # SIGKILL: no shutdown handler runs
        self.process.wait(timeout=10)

    def stored(self, card_id: int, key: str) -> str:
        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            value = connection.execute(
                text("SELECT value_source FROM card_values WHERE card_id = :c AND key = :k"),
                {"c": card_id, "k": key},
            ).scalar()
        engine.dispose()
        return value or ""

    def card_id(self, key: str) -> int:
        engine = create_engine(self.database_url)
        with engine.connect() as connection:
            found = connection.execute(text("SELECT id FROM cards WHERE key = :k"), {"k": key}).scalar_one()
        engine.dispose()
        return int(found)


@pytest.fixture
def killable(templates: dict[str, str], run_dir: Path) -> Iterator[Killable]:
    with fresh_database("sqlite", templates, run_dir) as url:
        server = Killable(url, run_dir)
        server.start()
        try:
            yield server
        finally:
            if server.process is not None and server.process.poll() is None:
                servers.stop(server.process)


def test_server_killed_mid_typing_and_restarted_loses_nothing(browser: Any, killable: Killable) -> None:
    card_id = killable.card_id("A")
    original = killable.stored(card_id, "context")
    context = browser.new_context(locale="it-IT", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(30_000)  # the restart and the page's reconnection back-off
    try:
        page = context.new_page()
        page.goto(killable.url + "/login")
        page.get_by_label("E-mail").fill("coord.pubblico@example.org")
        page.get_by_label("Password").fill("demo")
        page.get_by_role("button", name="Accedi").click()
        page.wait_for_url(killable.url + "/")
        page.goto(f"{killable.url}/schede/{card_id}")
        page.wait_for_selector(f"{STATUS}[data-state=saved]")
        page.click(CONTEXT)
        page.keyboard.press("Control+End")

        # 1. Typed and acknowledged ("Salvato"): it is in the database.
        page.keyboard.type(" PRIMA", delay=20)
        page.wait_for_function("(t) => window.PdzCoedit.docs[0].textOf('context').endsWith(t)", arg=" PRIMA")
        page.wait_for_selector(f"{STATUS}[data-state=saved]")
        assert killable.stored(card_id, "context") == original + " PRIMA"

        # 2. The server is killed -9 while the person is typing: a watcher kills it as soon as part of the
        # word has been acknowledged (it is in the database), while the rest is still being typed.
        during = " DURANTE-LA-CADUTA-DEL-SERVER-NIENTE-SI-PERDE"
        at_kill: dict[str, str] = {}

        def kill_when_partly_stored() -> None:
            deadline = time.monotonic() + 30
            while time.monotonic() < deadline:
                value = killable.stored(card_id, "context")
                if "DUR" in value:
                    killable.kill()
                    at_kill["value"] = killable.stored(card_id, "context")
                    return
                time.sleep(0.02)

        watcher = threading.Thread(target=kill_when_partly_stored)
        watcher.start()
        page.keyboard.type(during, delay=60)
        watcher.join(timeout=40)
        assert "value" in at_kill, "the server was never killed"
        acknowledged = at_kill["value"]
        assert acknowledged.startswith(original + " PRIMA DUR"), acknowledged
        assert acknowledged != original + " PRIMA" + during, "killed too late: typing had already ended"

        # 3. While the server is down the page says so, keeps the text and the person goes on typing.
        page.wait_for_selector(f"{STATUS}[data-state=offline]")
        page.keyboard.type(" DOPO", delay=20)
        expected = original + " PRIMA" + during + " DOPO"
        page.wait_for_function("(t) => window.PdzCoedit.docs[0].textOf('context') === t", arg=expected)

        # 4. The server comes back on the same port: the page reconnects by itself and sends what is missing.
        killable.start()
        page.wait_for_selector(f"{STATUS}[data-state=saved]")
        assert page.text_content(STATUS) == "Salvato"
        stored = killable.stored(card_id, "context")
        assert stored == expected  # every character, once, in order
        assert stored.startswith(acknowledged)  # nothing acknowledged before the kill was lost

        # A second person opening the card now reads the same text.
        other = browser.new_context(locale="it-IT")
        try:
            second = other.new_page()
            second.goto(killable.url + "/login")
            second.get_by_label("E-mail").fill("membro@example.org")
            second.get_by_label("Password").fill("demo")
            second.get_by_role("button", name="Accedi").click()
            second.wait_for_url(killable.url + "/")
            second.goto(f"{killable.url}/schede/{card_id}")
            second.wait_for_selector(f"{STATUS}[data-state=saved]")
            second.wait_for_function("(t) => window.PdzCoedit.docs[0].textOf('context') === t", arg=expected)
        finally:
            other.close()
    finally:
        context.close()
