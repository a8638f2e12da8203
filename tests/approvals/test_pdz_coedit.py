"""The narrative chapters of the Piano di Zona are written together by the Ufficio di Piano over a live server
(Socket.IO editors, `pdzplan:<plan_id>`), never saved by a button; the plan's content shows what they wrote.
Who writes follows docs/permissions.md: `plan.manage` (UdP, administrators) writes, `plan.view` (e.g. a mayor of
the Assemblea dei Sindaci) reads, others cannot join."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from pdz.coedit.pyclient import Editor


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


@pytest.fixture
def plan_id(live_server: Any) -> Any:
    engine = create_engine(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    with engine.connect() as connection:
        found = connection.execute(
            text("SELECT id FROM plan_documents WHERE kind = 'piano_di_zona'")
        ).scalar()
    yield found, engine
    engine.dispose()


def test_the_udp_writes_the_chapters_together_and_the_plan_shows_them(
    live_server: Any, socket_client: Any, plan_id: Any
) -> None:
    ident, engine = plan_id
    key = f"pdzplan:{ident}"
    udp, admin = socket_client("udp@example.org"), socket_client("admin@example.org")
    one, two = Editor(udp, key), Editor(admin, key)
    assert one.join()["readonly"] is False and two.join()["readonly"] is False
    one.insert("esiti", 0, "Il triennio 2021-2023 ha raggiunto in media il 75% degli obiettivi.")
    two.insert(
        "asst", 0, "Con ASST di Crema si è costruito in sinergia il Piano di Sviluppo del Polo Territoriale."
    )
    wait_for(lambda: one.pending == 0 and two.pending == 0)
    assert one.refused == [] and two.refused == []
    wait_for(lambda: one.text("asst").startswith("Con ASST") and two.text("esiti").startswith("Il triennio"))

    with engine.connect() as connection:
        rows = dict(
            connection.execute(
                text("SELECT key, text_source FROM plan_narratives WHERE plan_id = :p"), {"p": ident}
            ).all()
        )
        authors = {
            r[0]
            for r in connection.execute(
                text(
                    "SELECT DISTINCT u.email FROM audit_entries a JOIN users u ON u.id = a.actor_id"
                    " WHERE a.action = 'plan.narrative_edited'"
                )
            )
        }
    assert rows["esiti"].startswith("Il triennio 2021-2023") and rows["asst"].startswith("Con ASST di Crema")
    assert authors == {"udp@example.org", "admin@example.org"}

    page = udp.http.get(f"{live_server.url}/piani/{ident}").text
    assert 'data-coedit-doc="pdzplan:' in page and ">Salva<" not in page
    preview = page.split('id="content-h"', 1)[1]
    assert "Il triennio 2021-2023 ha raggiunto in media il 75% degli obiettivi." in preview
    assert "Polo Territoriale" in preview


def test_a_mayor_reads_the_chapters_but_cannot_write_them(
    live_server: Any, socket_client: Any, plan_id: Any
) -> None:
    ident, engine = plan_id
    mayor = Editor(socket_client("sindaco@example.org"), f"pdzplan:{ident}")
    joined = mayor.join()
    assert joined["ok"] is True and joined["readonly"] is True
    answer = mayor.insert("governance", 0, "Scritto da un sindaco. ", wait=True)
    assert answer["ok"] is False and answer["error"] == "forbidden"
    with engine.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM plan_narratives")).scalar() == 0
    outsider = Editor(socket_client("membro@example.org"), f"pdzplan:{ident}")
    assert outsider.join()["error"] == "forbidden"
