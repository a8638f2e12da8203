"""A tavolo's mandate draft co-written over a real server (Socket.IO editors), then turned into a version.
Expectations follow docs/permissions.md: co-coordinators (`mandate.propose`) and the UdP (`mandate.decide`)
write the draft; members and observers read the tavolo (`tavolo.view`) but not write the draft."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import create_engine, text

from pdz.coedit.pyclient import Editor

COORD, COORD_ETS, MEMBER = "coord.pubblico@example.org", "coord.ets@example.org", "membro@example.org"


def wait_for(predicate: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if found := predicate():
            return found
        time.sleep(0.02)
    raise AssertionError("condition not met in time")


class Db:
    def __init__(self, url: str) -> None:
        self.engine = create_engine(url)

    def all(self, sql: str, **params: Any) -> list[Any]:
        with self.engine.connect() as connection:
            return list(connection.execute(text(sql), params).all())

    def one(self, sql: str, **params: Any) -> Any:
        rows = self.all(sql, **params)
        return rows[0][0] if rows else None


@pytest.fixture
def database(live_server: Any) -> Any:
    db = Db(live_server.app.config["SQLALCHEMY_DATABASE_URI"])
    yield db
    db.engine.dispose()


@pytest.fixture
def tavolo(database: Db) -> dict[str, Any]:
    body_id = database.one("SELECT id FROM bodies WHERE name = 'Tavolo Povertà'")
    finalita = database.one(
        "SELECT finalita_source FROM mandates WHERE body_id = :b AND status = 'vigente'", b=body_id
    )
    return {"id": body_id, "key": f"mandate:{body_id}", "finalita": finalita}


def csrf(session: Any, url: str) -> str:
    page = session.get(url)
    assert page.status_code == 200, page.status_code
    found = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page.text)
    assert found, page.text[:300]
    return found.group(1)


def test_two_coordinators_write_the_draft_together_then_propose_it(
    live_server: Any, socket_client: Any, tavolo: dict[str, Any], database: Db
) -> None:
    public, ets = socket_client(COORD), socket_client(COORD_ETS)
    one, two = Editor(public, tavolo["key"]), Editor(ets, tavolo["key"])
    assert one.join()["readonly"] is False and two.join()["readonly"] is False
    assert one.text("finalita") == tavolo["finalita"]  # the draft starts from the mandate in force

    one.insert("finalita", 0, "Aggiornato. ")  # at once, in the same part and in another one
    two.append("finalita", " Con i comuni del Soncinasco.")
    two.insert("tempi", 0, "Entro giugno 2026. ")
    wait_for(lambda: one.pending == 0 and two.pending == 0)
    assert one.refused == [] and two.refused == []
    finalita = "Aggiornato. " + tavolo["finalita"] + " Con i comuni del Soncinasco."
    wait_for(lambda: one.text("finalita") == two.text("finalita") == finalita)
    wait_for(lambda: one.text("tempi") == two.text("tempi"))
    tempi = two.text("tempi")
    assert tempi.startswith("Entro giugno 2026. ")
    draft = database.all(
        "SELECT finalita_source, tempi_source FROM mandate_drafts WHERE body_id = :b", b=tavolo["id"]
    )
    assert [tuple(r) for r in draft] == [(finalita, tempi)]
    authors = database.all(
        "SELECT DISTINCT u.email FROM audit_entries a JOIN users u ON u.id = a.actor_id WHERE a.action = 'mandate.draft_edited'"
    )
    assert {r[0] for r in authors} == {COORD, COORD_ETS}

    url = f"{live_server.url}/tavoli/{tavolo['id']}/mandato"
    sent = public.http.post(url, data={"csrf_token": csrf(public.http, url)}, allow_redirects=False)
    assert sent.status_code == 302, sent.text[:500]
    proposal = database.all(
        "SELECT version, status, finalita_source, tempi_source, finalita_html FROM mandates WHERE body_id = :b"
        " ORDER BY version DESC LIMIT 1",
        b=tavolo["id"],
    )[0]
    assert proposal[1] == "proposta" and proposal[2] == finalita and proposal[3] == tempi.strip()
    assert "Soncinasco" in proposal[4]
    assert (
        database.one("SELECT status FROM mandates WHERE body_id = :b AND version = 1", b=tavolo["id"])
        == "vigente"
    )


def test_a_plain_member_reads_the_draft_but_cannot_write_it(
    live_server: Any, socket_client: Any, tavolo: dict[str, Any], database: Db
) -> None:
    member = socket_client(MEMBER)
    editor = Editor(member, tavolo["key"])
    joined = editor.join()
    assert joined["ok"] is True and joined["readonly"] is True
    answer = editor.insert("finalita", 0, "Scritto da un membro. ", wait=True)
    assert answer["ok"] is False and answer["error"] == "forbidden"
    assert database.one("SELECT count(*) FROM mandate_drafts WHERE body_id = :b", b=tavolo["id"]) == 0
    fresh = Editor(socket_client(COORD), tavolo["key"])
    assert fresh.join()["ok"] and fresh.text("finalita") == tavolo["finalita"]
    assert member.http.get(f"{live_server.url}/tavoli/{tavolo['id']}/mandato").status_code == 403

    outsider = Editor(socket_client("disabilita@example.org"), tavolo["key"])
    assert outsider.join()["error"] == "forbidden"


def test_a_draft_part_over_the_limit_is_refused(
    socket_client: Any, tavolo: dict[str, Any], database: Db
) -> None:
    editor = Editor(socket_client(COORD), tavolo["key"])
    assert editor.join()["limits"]["attivita"] == 20_000
    answer = editor.append("attivita", "x" * 20_001, wait=True)
    assert answer["ok"] is False and "troppo lungo" in answer["message"]
    assert database.one("SELECT count(*) FROM mandate_drafts WHERE body_id = :b", b=tavolo["id"]) == 0
