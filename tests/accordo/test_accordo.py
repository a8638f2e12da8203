"""The Accordo di Programma through HTTP: who signs it (the 48 comuni and ASST di Crema, 001 l.1782 and 2115),
signatures recorded once by the Ufficio di Piano with a date between the Assemblea's approval and today, the
Piano di Zona approved and signed after the last signature, amendments, and the public page."""

from __future__ import annotations

import html
import json
import re
import threading
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from conftest import http_session

SEED = Path(__file__).resolve().parents[2] / "seed"
APPROVED = datetime(2026, 3, 10, 17, 30, tzinfo=UTC)  # the day the test's Assemblea approves the plan
ROW = re.compile(r'<tr data-signatory="([^"]+)">(.*?)</tr>', re.S)


def _cycle(db: Any) -> Any:
    from pdz.cycles.models import PlanningCycle

    return db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))


def _plan(db: Any) -> Any:
    from pdz.approvals.models import PlanDocument

    return db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "piano_di_zona"))


def _approve_plan(db: Any) -> None:
    """The Assemblea approves the Piano di Zona (the chain is not under test): the UdP excludes, with a reason,
    the cards not approved yet and sends the plan with its ASST integration through HTTP, then the vote's
    outcome is written directly."""
    from flask import current_app

    from conftest import login
    from pdz.approvals.models import Submission
    from pdz.cards.models import Card

    udp, plan = login(current_app.test_client(), "udp@example.org"), _plan(db)
    for card_id in db.session.scalars(select(Card.id).where(Card.cycle_id == plan.cycle_id)):
        # an approved card cannot be excluded (422): only the others are
        udp.post(f"/piani/{plan.id}/esclusioni", data={"card_id": card_id, "reason": "Non ancora approvata."})
    found = re.search(
        r'data-testid="fingerprint">([0-9a-f]{64})<', udp.get(f"/piani/{plan.id}").get_data(as_text=True)
    )
    assert found is not None
    sent = udp.post(
        f"/piani/{plan.id}/invia",
        data={"fingerprint": found.group(1), "asst_integration": "PPT 2025-2027 di ASST di Crema"},
    )
    assert sent.status_code == 303, sent.get_data(as_text=True)[:300]
    db.session.expire_all()
    sub = db.session.scalar(select(Submission).where(Submission.document_kind == "piano_di_zona"))
    sub.status, sub.decided_at = "approvata", APPROVED
    db.session.commit()


def _signatories(db: Any) -> list[Any]:
    from pdz.accordo.models import Accordo, AccordoSignatory

    db.session.expire_all()
    accordo_id = db.session.scalar(select(Accordo.id).where(Accordo.cycle_id == _cycle(db).id))
    return list(
        db.session.scalars(
            select(AccordoSignatory)
            .where(AccordoSignatory.accordo_id == accordo_id)
            .order_by(AccordoSignatory.position)
        )
    )


def _by_name(db: Any, name: str) -> Any:
    from pdz.orgs.models import Organisation

    org_id = db.session.scalar(select(Organisation.id).where(Organisation.name == name))
    return next(s for s in _signatories(db) if s.organisation_id == org_id)


def _audits(db: Any, action: str) -> int:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return int(db.session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action)) or 0)


def _rows(page: str) -> dict[str, str]:
    return {
        html.unescape(name): html.unescape(re.sub(r"<[^>]+>", " ", cells))
        for name, cells in ROW.findall(page)
    }


def _text(response: Any) -> str:
    return html.unescape(response.get_data(as_text=True))


def _sign(client: Any, cycle_id: int, signatory_id: int, day: str, key: str | None = None) -> Any:
    data = {"signatory_id": str(signatory_id), "signed_on": day}
    if key:
        data["idempotency_key"] = key
    return client.post(f"/cicli/{cycle_id}/accordo/firme", data=data)


def test_the_signatories_are_the_48_comuni_and_asst_and_the_adherents_are_shown(app, db, client_as):
    cycle = _cycle(db)
    page = client_as("udp@example.org").get(f"/cicli/{cycle.id}/accordo")
    assert page.status_code == 200
    rows = _rows(page.get_data(as_text=True))
    comuni = [name for name in rows if name.startswith("Comune di ")]
    # "territorio in 48 comuni" (001 l.2115); "sottoscrizione dell'Accordo di Programma da parte dell'ASST di
    # Crema" (001 l.1782, 000 l.16)
    assert len(comuni) == 48 and len(rows) == 49 and "ASST di Crema" in rows
    ambito = json.loads((SEED / "ambito.json").read_text(encoding="utf-8"))
    assert sorted(comuni) == sorted(f"Comune di {c['name']}" for c in ambito["comuni"])
    assert "ATS Val Padana" not in rows  # the documents do not name it a signatory
    text = _text(page)
    assert "Piano di Zona e l'Accordo di Programma non sono ancora stati approvati" in text
    assert 'name="signed_on"' not in text  # nothing to sign before the Assemblea approves
    # the enti aderenti are the cycle's adhesions of the third-sector bodies, shown once each
    people = json.loads((SEED / "demo.json").read_text(encoding="utf-8"))
    adherents = re.search(r'data-testid="adherents">(.*?)</ul>', page.get_data(as_text=True), re.S).group(1)
    names = [html.unescape(n).strip() for n in re.findall(r"<li>([^<]+)<span", adherents)]
    assert sorted(names) == sorted(e["name"] for e in people["ets"])
    # the plan documents page and the cycles page link to it
    assert f"/cicli/{cycle.id}/accordo" in client_as("udp@example.org").get("/piani/").get_data(as_text=True)
    assert f"/cicli/{cycle.id}/accordo" in client_as("udp@example.org").get("/cicli/").get_data(as_text=True)


def test_no_signature_before_the_assemblea_approves(app, db, client_as):
    cycle, asst = _cycle(db), _by_name(db, "ASST di Crema")
    refused = _sign(client_as("udp@example.org"), cycle.id, asst.id, "2026-03-20")
    assert refused.status_code == 422
    assert "non è ancora stato approvato dall'Assemblea dei Sindaci" in _text(refused)
    assert _by_name(db, "ASST di Crema").signed_on is None and _audits(db, "accordo.signed") == 0


def test_signing_records_the_date_and_the_last_signature_completes_the_approval(app, db, client_as, user):
    _approve_plan(db)
    cycle, plan, udp = _cycle(db), _plan(db), client_as("udp@example.org")
    plan_page = udp.get(f"/piani/{plan.id}")
    assert "Approvato dall'Assemblea, in attesa delle firme (0 di 49)" in _text(plan_page)

    asst = _by_name(db, "ASST di Crema")
    assert _sign(udp, cycle.id, asst.id, "2026-03-20").status_code == 303
    signed = _by_name(db, "ASST di Crema")
    assert signed.signed_on == date(2026, 3, 20) and signed.recorded_by_id == user("udp@example.org").id
    page = udp.get(f"/cicli/{cycle.id}/accordo").get_data(as_text=True)
    row = _rows(page)["ASST di Crema"]
    assert "20 marzo 2026" in row and "Marta Guerini" in row
    assert "in attesa delle firme (1 di 49)" in _text(udp.get(f"/piani/{plan.id}"))
    assert "in attesa delle firme (1 di 49)" in _text(udp.get("/piani/"))

    for n, s in enumerate(s for s in _signatories(db) if s.signed_on is None):
        assert (
            _sign(udp, cycle.id, s.id, (date(2026, 3, 11) + timedelta(days=n % 40)).isoformat()).status_code
            == 303
        )
        if n == 46:  # one signature still missing: not yet complete
            assert "in attesa delle firme (48 di 49)" in _text(udp.get(f"/piani/{plan.id}"))
            assert _audits(db, "accordo.completed") == 0
    assert all(s.signed_on is not None for s in _signatories(db))
    assert "Approvato e sottoscritto" in _text(udp.get(f"/piani/{plan.id}"))
    assert "Approvato e sottoscritto" in _text(udp.get("/piani/"))
    assert "sottoscritto da tutti i 49 sottoscrittori" in _text(udp.get(f"/cicli/{cycle.id}/accordo"))
    assert _audits(db, "accordo.signed") == 49 and _audits(db, "accordo.completed") == 1


def test_a_signature_is_recorded_once(app, db, client_as):
    _approve_plan(db)
    cycle, udp = _cycle(db), client_as("udp@example.org")
    crema = _by_name(db, "Comune di Crema")
    first = _sign(udp, cycle.id, crema.id, "2026-03-12", key="k" * 32)
    again = _sign(udp, cycle.id, crema.id, "2026-03-12", key="k" * 32)  # the same form sent twice
    assert (
        first.status_code == again.status_code == 303
        and again.headers["Location"] == first.headers["Location"]
    )
    later = _sign(udp, cycle.id, crema.id, "2026-03-15")  # another form, another day
    assert later.status_code == 422 and "La firma di Comune di Crema è già registrata" in _text(later)
    assert _by_name(db, "Comune di Crema").signed_on == date(2026, 3, 12)
    assert _audits(db, "accordo.signed") == 1


def test_parallel_signatures_of_one_signatory_record_one(app, db, live_server):
    _approve_plan(db)
    cycle, asst = _cycle(db), _by_name(db, "ASST di Crema")
    sessions = [http_session(live_server, "udp@example.org"), http_session(live_server, "admin@example.org")]
    barrier = threading.Barrier(len(sessions))
    answers: list[int] = []

    def sign(session: Any, day: str) -> None:
        page = session.get(f"{live_server.url}/cicli/{cycle.id}/accordo").text
        token = re.search(r'name="csrf_token" value="([^"]+)"', page)
        barrier.wait()
        answers.append(
            session.post(
                f"{live_server.url}/cicli/{cycle.id}/accordo/firme",
                allow_redirects=False,
                data={"csrf_token": token.group(1), "signatory_id": asst.id, "signed_on": day},
            ).status_code
        )

    threads = [
        threading.Thread(target=sign, args=(s, d))
        for s, d in zip(sessions, ["2026-03-20", "2026-03-21"], strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [303, 422]
    assert _by_name(db, "ASST di Crema").signed_on in {date(2026, 3, 20), date(2026, 3, 21)}
    assert _audits(db, "accordo.signed") == 1


def test_bad_dates_are_refused_in_italian_and_change_nothing(app, db, client_as):
    _approve_plan(db)
    cycle, udp = _cycle(db), client_as("udp@example.org")
    asst = _by_name(db, "ASST di Crema")
    tomorrow = (datetime.now(UTC) + timedelta(days=2)).date().isoformat()
    for day, message in [
        (tomorrow, "La data non può essere nel futuro."),
        (
            "2026-03-09",
            "La data non può precedere l'approvazione dell'Assemblea dei Sindaci (10 marzo 2026).",
        ),
        ("31/02/2026", "Indica la data (gg/mm/aaaa)."),
        ("", "Indica la data (gg/mm/aaaa)."),
    ]:
        refused = _sign(udp, cycle.id, asst.id, day)
        assert refused.status_code == 422 and message in _text(refused), day
    unknown = _sign(udp, cycle.id, 2**31 - 1, "2026-03-20")
    assert unknown.status_code == 422 and "Sottoscrittore sconosciuto." in _text(unknown)
    assert all(s.signed_on is None for s in _signatories(db))
    assert _audits(db, "accordo.signed") == 0


def test_members_and_mayors_cannot_sign_or_amend(app, db, client_as):
    _approve_plan(db)
    cycle, asst = _cycle(db), _by_name(db, "ASST di Crema")
    for email in ("membro@example.org", "sindaco@example.org", "coord.pubblico@example.org"):
        client = client_as(email)
        page = client.get(f"/cicli/{cycle.id}/accordo")
        assert page.status_code == 200 and 'name="signed_on"' not in page.get_data(as_text=True)
        assert _sign(client, cycle.id, asst.id, "2026-03-20").status_code == 403
        amend = client.post(
            f"/cicli/{cycle.id}/accordo/modifiche",
            data={"title": "Modifica", "description": "", "decided_on": "2026-04-01"},
        )
        assert amend.status_code == 403
    assert _by_name(db, "ASST di Crema").signed_on is None
    assert _audits(db, "accordo.signed") == 0 and _audits(db, "accordo.amended") == 0


def test_the_public_page_shows_the_accordo_without_signing_in_and_escapes_user_text(app, db, client_as):
    _approve_plan(db)
    cycle, udp = _cycle(db), client_as("udp@example.org")
    assert _sign(udp, cycle.id, _by_name(db, "ASST di Crema").id, "2026-03-20").status_code == 303
    title = '<script>alert("x")</script> Ingresso della Provincia nell\'Ufficio di Piano'
    description = "Un operatore **designato** dalla Provincia. <img src=x onerror=alert(1)>"
    early = udp.post(
        f"/cicli/{cycle.id}/accordo/modifiche",
        data={"title": title, "description": description, "decided_on": "2026-03-01"},
    )
    assert early.status_code == 422 and "non può precedere l'approvazione" in _text(early)
    done = udp.post(
        f"/cicli/{cycle.id}/accordo/modifiche",
        data={"title": title, "description": description, "decided_on": "2026-06-15"},
    )
    assert done.status_code == 303 and _audits(db, "accordo.amended") == 1
    inside = udp.get(f"/cicli/{cycle.id}/accordo").get_data(as_text=True)
    assert "15 giugno 2026" in inside and "&lt;script&gt;alert" in inside

    anonymous = app.test_client()
    listing = anonymous.get("/pubblico/accordi/")
    assert listing.status_code == 200
    assert "Accordo di Programma per l'attuazione del Piano di Zona 2025-2027" in _text(listing)
    assert "firmato da 1 su 49" in _text(listing)
    public = anonymous.get(f"/pubblico/accordi/{cycle.id}")
    assert public.status_code == 200
    raw = public.get_data(as_text=True)
    assert "<script>alert" not in raw and "&lt;script&gt;alert" in raw
    assert "onerror" not in raw and "<strong>designato</strong>" in raw
    rows = _rows(raw)
    assert "20 marzo 2026" in rows["ASST di Crema"] and "non ancora firmato" in rows["Comune di Crema"]
    assert "Approvato dall'Assemblea dei Sindaci il 10 marzo 2026, in attesa delle firme (1 di 49)." in _text(
        public
    )
    assert "Enti aderenti al Piano di Zona" in raw and "Auser Cremasco" in raw
    assert "Marta Guerini" not in raw  # who recorded a signature stays inside
    assert anonymous.get("/pubblico/").get_data(as_text=True).count("/pubblico/accordi/") == 1
    assert anonymous.get(f"/pubblico/accordi/{2**31 - 1}").status_code == 404
