"""The approval chain through HTTP: submit an exact version, review, send back, vote in the Assemblea, freeze,
export, verify, publish. Every transition and every refusal, as the roles that may and may not act."""

from __future__ import annotations

import hashlib
import html
import io
import json
import re
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from conftest import http_session

FP = re.compile(r'name="fingerprint" value="([0-9a-f]{64})"')


def _povertà_card(db: Any, body: Any) -> Any:
    from pdz.cards.models import Card

    return db.session.scalar(select(Card).where(Card.body_id == body("Tavolo Povertà").id).order_by(Card.id))


def _fingerprint(client: Any, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.status_code
    found = FP.search(page.get_data(as_text=True))
    assert found, "the page offers no submit form"
    return found.group(1)


def _submit_card(client: Any, card_id: int) -> int:
    url = f"/schede/{card_id}/approvazione"
    response = client.post(url, data={"fingerprint": _fingerprint(client, url)})
    assert response.status_code == 303, response.status_code
    found = re.search(r"/approvazioni/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def _sub(db: Any, submission_id: int) -> Any:
    from pdz.approvals.models import Submission

    db.session.expire_all()
    return db.session.get(Submission, submission_id)


def _flash(client: Any, url: str) -> str:
    return client.get(url).get_data(as_text=True)


def _text(response: Any) -> str:
    """A refusal's page (4xx, the message on top), HTML entities decoded."""
    return html.unescape(response.get_data(as_text=True))


def _assemblea_meeting(db: Any) -> Any:
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body

    return db.session.scalar(
        select(Meeting)
        .join(Body, Body.id == Meeting.body_id)
        .where(Body.kind == "assemblea_sindaci", Meeting.status == "convocata")
        .order_by(Meeting.starts_at)
    )


def _to_vote(db: Any, client_as: Any, card: Any) -> tuple[int, Any, Any]:
    """A card submitted by its co-coordinator, forwarded by the UdP Integrato, on the Assemblea's agenda."""
    coord, udp = client_as("coord.pubblico@example.org"), client_as("udp@example.org")
    sid = _submit_card(coord, card.id)
    assert (
        udp.post(f"/approvazioni/{sid}/inoltra", data={"version": _sub(db, sid).version}).status_code == 303
    )
    meeting = _assemblea_meeting(db)
    assert udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting.id}).status_code == 303
    return sid, meeting, udp


def _ballot(db: Any, sid: int) -> Any:
    from pdz.approvals.models import Ballot

    db.session.expire_all()
    return db.session.scalar(select(Ballot).where(Ballot.submission_id == sid))


def _checkin(db: Any, client: Any, meeting_id: int) -> None:
    from pdz.meetings.models import Meeting

    db.session.expire_all()
    code = db.session.get(Meeting, meeting_id).checkin_code
    assert client.post(f"/incontri/{meeting_id}/registrazione", data={"code": code}).status_code in (302, 303)


# --- the whole chain -------------------------------------------------------------------------------


def test_a_card_goes_from_its_tavolo_to_the_assemblea_and_is_frozen(app, db, client_as, body):
    from pdz.approvals.models import Ballot, Submission, SubmissionEvent
    from pdz.audit import AuditEntry
    from pdz.cards.models import Card
    from pdz.meetings.models import AgendaItem, Decision

    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    sub = _sub(db, sid)
    assert sub.status == "in_attesa_di_voto" and sub.step_index == 1
    assert db.session.get(Card, card.id).status == "in_revisione"
    frozen = sub.content
    assert hashlib.sha256(frozen.encode()).hexdigest() == sub.fingerprint
    assert json.loads(frozen)["title"] == card.title

    # editing the card afterwards makes a new draft: the version under review does not change
    coord = client_as("coord.pubblico@example.org")
    edit = _type_text(card.id, "subtitle", "Sottotitolo scritto dopo l'invio", "coord.pubblico@example.org")
    assert edit["ok"], edit
    assert _sub(db, sid).content == frozen
    page = coord.get(f"/approvazioni/{sid}").get_data(as_text=True)
    assert (
        "Sottotitolo" in page and "scritto" in page and 'data-testid="changes"' in page
    )  # the difference with the draft, one click away (same page)

    # the Assemblea meets: the chair starts, two mayors' seats check in, the vote opens, they vote, it closes
    assert udp.post(f"/incontri/{meeting.id}/avvia").status_code in (302, 303)
    sindaco, delegato = client_as("sindaco@example.org"), client_as("delegato@example.org")
    _checkin(db, sindaco, meeting.id)
    _checkin(db, delegato, meeting.id)
    ballot = _ballot(db, sid)
    refused = sindaco.post(f"/votazioni/{ballot.id}/voto", data={"choice": "favorevole"})
    assert refused.status_code == 422 and "non è aperta" in _text(refused)  # not yet open: refused (4xx)
    assert udp.post(f"/votazioni/{ballot.id}/apri").status_code == 303
    assert sindaco.post(f"/votazioni/{ballot.id}/voto", data={"choice": "favorevole"}).status_code == 303
    again = sindaco.post(f"/votazioni/{ballot.id}/voto", data={"choice": "contrario"})
    assert again.status_code == 422 and "già stato espresso" in _text(again)  # one vote per comune
    assert delegato.post(f"/votazioni/{ballot.id}/voto", data={"choice": "astenuto"}).status_code == 303
    assert udp.post(f"/votazioni/{ballot.id}/chiudi").status_code == 303

    ballot = _ballot(db, sid)
    assert ballot.status == "chiusa"
    assert ballot.tally["counts"] == {"favorevole": 1, "contrario": 0, "astenuto": 1}
    # the Assemblea's demo rule: quorum = majority of the population represented; two comuni are far from it
    assert ballot.outcome == "senza_quorum" and _sub(db, sid).status == "in_attesa_di_voto"
    item = db.session.get(AgendaItem, ballot.agenda_item_id)
    assert "quorum non raggiunto" in item.minutes_source
    udp.post(f"/incontri/{meeting.id}/chiudi")

    # the UdP drops the quorum (keeping the population weight) and puts it on the next meeting's agenda
    assemblea = meeting.body
    assert udp.post(
        f"/tavoli/{assemblea.id}/incontri/numero-legale",
        data={
            "kind": "nessuno",
            "numerator": "1",
            "denominator": "2",
            "weighted": "y",
            "majority": "presenti",
        },
    ).status_code in (302, 303)
    meeting = _assemblea_meeting(db)
    assert udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting.id}).status_code == 303
    assert udp.post(f"/incontri/{meeting.id}/avvia").status_code in (302, 303)
    _checkin(db, sindaco, meeting.id)
    _checkin(db, delegato, meeting.id)
    ballot = db.session.scalar(
        select(Ballot).where(Ballot.submission_id == sid, Ballot.status == "da_aprire")
    )
    udp.post(f"/votazioni/{ballot.id}/apri")
    sindaco.post(f"/votazioni/{ballot.id}/voto", data={"choice": "favorevole"})
    delegato.post(f"/votazioni/{ballot.id}/voto", data={"choice": "astenuto"})
    udp.post(f"/votazioni/{ballot.id}/chiudi")
    db.session.expire_all()
    ballot = db.session.get(Ballot, ballot.id)
    # weighted by population: Offanengo (favourable) is smaller than Pandino (abstaining), so no majority
    weights = ballot.tally["weights"]
    expected = "approvata" if weights["favorevole"] * 2 > ballot.tally["present"] else "respinta"
    assert ballot.outcome == expected == "respinta"
    sub = _sub(db, sid)
    assert sub.status == "respinta" and sub.decided_at is not None
    item = db.session.get(AgendaItem, ballot.agenda_item_id)
    assert (
        "Esito della votazione" in item.minutes_source
        and "Favorevoli 1, contrari 0, astenuti 1" in item.minutes_source
    )
    assert db.session.scalar(select(Decision).where(Decision.item_id == item.id)) is not None
    actions = list(
        db.session.scalars(
            select(SubmissionEvent.action)
            .where(SubmissionEvent.submission_id == sid)
            .order_by(SubmissionEvent.id)
        )
    )
    assert [a.value for a in actions] == [
        "inviata",
        "inoltrata",
        "iscritta_odg",
        "votazione_aperta",
        "votazione_chiusa",
        "iscritta_odg",
        "votazione_aperta",
        "votazione_chiusa",
        "respinta",
    ]
    audited = set(db.session.scalars(select(AuditEntry.action).where(AuditEntry.action.like("approval.%"))))
    assert {
        "approval.submitted",
        "approval.forwarded",
        "approval.vote_scheduled",
        "approval.vote_opened",
        "approval.vote_cast",
        "approval.vote_closed",
    } <= audited
    # rejected: the co-coordinators see it in "Da fare" and may send the revised card again (round 2)
    assert "Rivedi «" in coord.get("/").get_data(as_text=True)
    second = _submit_card(coord, card.id)
    assert _sub(db, second).round == 2 and _sub(db, second).previous_id == sid
    assert (
        db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.document_id == card.id, Submission.document_kind == "scheda"
            )
        )
        == 2
    )


def test_an_approved_card_is_public_exported_and_verifiable(app, db, client_as, body):
    """With the simple majority of those present (unweighted), two favourable votes approve the card."""
    from pdz.approvals import export
    from pdz.meetings.models import QuorumRule
    from pdz.tavoli.models import Body

    assemblea = db.session.scalar(select(Body).where(Body.kind == "assemblea_sindaci"))
    rule = db.session.scalar(select(QuorumRule).where(QuorumRule.body_id == assemblea.id))
    rule.kind, rule.weighted = "nessuno", False
    db.session.commit()
    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    udp.post(f"/incontri/{meeting.id}/avvia")
    voters = [client_as("sindaco@example.org"), client_as("delegato@example.org")]
    for client in voters:
        _checkin(db, client, meeting.id)
    ballot = _ballot(db, sid)
    udp.post(f"/votazioni/{ballot.id}/apri")
    for client in voters:
        client.post(f"/votazioni/{ballot.id}/voto", data={"choice": "favorevole"})
    udp.post(f"/votazioni/{ballot.id}/chiudi")
    sub = _sub(db, sid)
    assert sub.status == "approvata", _ballot(db, sid).tally

    anonymous = app.test_client()
    listing = anonymous.get("/pubblico/").get_data(as_text=True)
    assert card.title in listing
    page = anonymous.get(f"/pubblico/{sid}").get_data(as_text=True)
    assert sub.fingerprint in page
    pdf = anonymous.get(f"/pubblico/{sid}/documento.pdf")
    assert pdf.status_code == 200 and pdf.headers["X-Pdz-Fingerprint"] == sub.fingerprint
    embedded = export.embedded_content(pdf.data)
    assert embedded is not None and hashlib.sha256(embedded).hexdigest() == sub.fingerprint
    assert sub.fingerprint in export.pdf_text(pdf.data)
    import pypdfium2 as pdfium

    rendered = pdfium.PdfDocument(pdf.data)
    for index in (0, len(rendered) - 1):  # the first and the last page are drawn, not blank
        image = rendered[index].render(scale=1).to_pil().convert("L")
        dark = sum(image.histogram()[:200])  # pixels darker than light grey
        assert dark > 0.01 * image.width * image.height, (index, dark)
    rendered.close()
    meeting_page = udp.get(f"/incontri/{meeting.id}").get_data(as_text=True)
    assert 'data-testid="item-ballot"' in meeting_page and "Approvato" in meeting_page
    docx = anonymous.get(f"/pubblico/{sid}/documento.docx")
    assert hashlib.sha256(export.embedded_content(docx.data)).hexdigest() == sub.fingerprint
    # the DOCX budget table holds the card's budget lines, as stored
    from pdz.cards.models import CardBudgetLine
    from pdz.money import format_cents

    lines = list(
        db.session.scalars(
            select(CardBudgetLine)
            .where(CardBudgetLine.card_id == card.id, CardBudgetLine.removed.is_(False))
            .order_by(CardBudgetLine.position, CardBudgetLine.id)
        )
    )
    budget = next(t for t in export.docx_tables(docx.data) if t[0][:3] == ["Fonte", "Descrizione", "Importo"])
    assert [row[2] for row in budget[1 : 1 + len(lines)]] == [
        format_cents(line.amount_cents) for line in lines
    ]
    total = sum(line.amount_cents or 0 for line in lines if line.counted)
    assert budget[-1][2] == format_cents(total)

    # verification: the exported file matches; a tampered copy does not; a printed fingerprint is found
    ok = anonymous.post(
        "/verifica", data={"file": (io.BytesIO(docx.data), "copia.docx")}, content_type="multipart/form-data"
    )
    assert ok.status_code == 200 and "corrisponde alla versione approvata" in ok.get_data(as_text=True)
    tampered = embedded.replace(card.title.encode(), (card.title + " (modificata)").encode())
    ko = anonymous.post(
        "/verifica", data={"file": (io.BytesIO(tampered), "copia.json")}, content_type="multipart/form-data"
    )
    assert "Nessun documento approvato ha questa impronta" in ko.get_data(as_text=True)
    typed = anonymous.post("/verifica", data={"fingerprint": sub.fingerprint.upper()})
    assert "corrisponde alla versione approvata" in typed.get_data(as_text=True)
    garbage = anonymous.post(
        "/verifica", data={"file": (io.BytesIO(b"ciao"), "x.pdf")}, content_type="multipart/form-data"
    )
    assert garbage.status_code == 422


def test_only_approved_documents_are_public(app, db):
    from pdz.approvals.models import Submission

    anonymous = app.test_client()
    listing = anonymous.get("/pubblico/").get_data(as_text=True)
    for sub in db.session.scalars(select(Submission)):
        if sub.status == "approvata":
            assert anonymous.get(f"/pubblico/{sub.id}").status_code == 200
        else:
            assert anonymous.get(f"/pubblico/{sub.id}").status_code == 404
            assert anonymous.get(f"/pubblico/{sub.id}/documento.pdf").status_code == 404
            if not any(
                s.title == sub.title and s.status == "approvata"
                for s in db.session.scalars(select(Submission))
            ):
                assert sub.title not in listing
    assert anonymous.get("/approvazioni/1").status_code in (302, 401)  # the working pages need signing in


# --- refusals --------------------------------------------------------------------------------------


def _type_text(card_id: int, key: str, value: str, email: str) -> dict:
    """Someone writes in a card's text through the co-writing engine (as the page does, acknowledged after commit)."""
    from pdz.accounts.models import User
    from pdz.coedit import engine
    from pdz.extensions import db as _db

    author = _db.session.scalar(select(User).where(User.email == email))
    return engine.replace_text(f"card:{card_id}", key, value, actor=author, restore=False)


def test_a_card_changed_since_the_page_was_loaded_is_refused(app, db, client_as, body):
    from pdz.approvals.models import Submission

    card = _povertà_card(db, body)
    coord = client_as("coord.pubblico@example.org")
    url = f"/schede/{card.id}/approvazione"
    seen = _fingerprint(coord, url)
    assert _type_text(card.id, "subtitle", "Cambiato nel frattempo", "coord.ets@example.org")["ok"]
    response = coord.post(url, data={"fingerprint": seen}, follow_redirects=True)
    assert "cambiato dopo che hai aperto la pagina" in response.get_data(as_text=True)
    assert (
        db.session.scalar(
            select(func.count(Submission.id)).where(
                Submission.document_id == card.id, Submission.document_kind == "scheda"
            )
        )
        == 0
    )


def test_sending_back_needs_a_reason_and_starts_a_new_round(app, db, client_as, body):
    card = _povertà_card(db, body)
    coord, udp = client_as("coord.pubblico@example.org"), client_as("udp@example.org")
    sid = _submit_card(coord, card.id)
    version = _sub(db, sid).version
    udp.post(f"/approvazioni/{sid}/restituisci", data={"version": version, "note": "  "})
    assert _sub(db, sid).status == "in_esame"  # no reason given: nothing changes
    assert (
        udp.post(
            f"/approvazioni/{sid}/restituisci",
            data={"version": version, "note": "Manca il **valore di partenza** dell'indicatore."},
        ).status_code
        == 303
    )
    sub = _sub(db, sid)
    assert sub.status == "restituita"
    page = coord.get(f"/approvazioni/{sid}").get_data(as_text=True)
    assert "<strong>valore di partenza</strong>" in page  # the tavolo sees why
    assert "Rivedi «" in coord.get("/").get_data(as_text=True)
    again = _submit_card(coord, card.id)
    assert _sub(db, again).round == 2
    history = coord.get(f"/schede/{card.id}/approvazione").get_data(as_text=True)
    assert "Versione 1" in history and "Versione 2" in history


def test_a_version_under_review_cannot_be_sent_twice(app, db, client_as, body):
    card = _povertà_card(db, body)
    coord = client_as("coord.pubblico@example.org")
    url = f"/schede/{card.id}/approvazione"
    fingerprint = _fingerprint(coord, url)
    _submit_card(coord, card.id)
    page = coord.get(url).get_data(as_text=True)
    assert "è in approvazione" in page and not FP.search(page)  # no submit form while a version travels
    response = coord.post(url, data={"fingerprint": fingerprint}, follow_redirects=True)
    assert "già in approvazione" in response.get_data(as_text=True)


def test_a_stale_decision_is_refused(app, db, client_as, body):
    """A reviewer deciding on a page loaded before someone else's decision changes nothing."""
    card = _povertà_card(db, body)
    sid = _submit_card(client_as("coord.pubblico@example.org"), card.id)
    udp, admin = client_as("udp@example.org"), client_as("admin@example.org")
    version = _sub(db, sid).version
    assert udp.post(f"/approvazioni/{sid}/inoltra", data={"version": version}).status_code == 303
    admin.post(f"/approvazioni/{sid}/inoltra", data={"version": version})  # same page, older version
    sub = _sub(db, sid)
    assert sub.step_index == 1 and sub.version == version + 1


# --- the state machine, role by role ---------------------------------------------------------------

ROLES = [
    "udp@example.org",
    "coord.pubblico@example.org",
    "membro@example.org",
    "osservatore@example.org",
    "disabilita@example.org",
    "sindaco@example.org",
    "delegato@example.org",
]
# (state, action) -> the roles allowed. Review steps: UdP staff (the UdP Integrato has no co-coordinators in the demo).
MACHINE = {
    ("in_esame", "submit"): set(),  # already under review: nobody submits again
    ("in_esame", "forward"): {"udp@example.org"},
    ("in_esame", "send_back"): {"udp@example.org"},
    ("in_esame", "schedule"): set(),
    ("in_attesa_di_voto", "forward"): set(),
    ("in_attesa_di_voto", "send_back"): set(),
    ("in_attesa_di_voto", "schedule"): {"udp@example.org"},
    ("bozza", "submit"): {"udp@example.org", "coord.pubblico@example.org"},
}


@pytest.mark.parametrize("state,action", sorted(MACHINE))
def test_state_machine_by_role(app, db, client_as, body, state, action):
    from pdz.approvals.models import Ballot, Submission

    card = _povertà_card(db, body)
    sid = None
    if state != "bozza":
        sid = _submit_card(client_as("coord.pubblico@example.org"), card.id)
        if state == "in_attesa_di_voto":
            client_as("udp@example.org").post(
                f"/approvazioni/{sid}/inoltra", data={"version": _sub(db, sid).version}
            )
    meeting = _assemblea_meeting(db)
    for email in ROLES:
        client = client_as(email)
        before = db.session.scalar(select(func.count(Submission.id)))
        sub = _sub(db, sid) if sid else None
        version = sub.version if sub else 0
        ballots = db.session.scalar(select(func.count(Ballot.id)))
        if action == "submit":
            url = f"/schede/{card.id}/approvazione"
            page = client.get(url)
            found = FP.search(page.get_data(as_text=True))
            response = client.post(url, data={"fingerprint": found.group(1) if found else "0" * 64})
        elif action == "schedule":
            response = client.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting.id})
        else:
            route = "inoltra" if action == "forward" else "restituisci"
            response = client.post(
                f"/approvazioni/{sid}/{route}", data={"version": version, "note": "Motivo."}
            )
        after = _sub(db, sid) if sid else None
        if action == "submit":
            changed = db.session.scalar(select(func.count(Submission.id))) != before
        elif action == "schedule":
            changed = db.session.scalar(select(func.count(Ballot.id))) != ballots
        else:
            changed = after.version != version
        allowed = email in MACHINE[(state, action)]
        assert changed == allowed, (email, state, action, response.status_code)
        assert response.status_code in ((303,) if allowed else (403, 404, 409, 422)), (
            email,
            response.status_code,
        )
        if changed:  # one transition per test: later roles see the new state, so stop here
            break


# --- concurrency -----------------------------------------------------------------------------------


def test_two_udp_staff_approving_at_once_make_one_transition(app, db, client_as, body, live_server):
    from pdz.approvals.models import SubmissionEvent

    card = _povertà_card(db, body)
    sid = _submit_card(client_as("coord.pubblico@example.org"), card.id)
    version = _sub(db, sid).version
    sessions = [http_session(live_server, "udp@example.org"), http_session(live_server, "admin@example.org")]
    barrier = threading.Barrier(len(sessions))
    answers: list[int] = []

    def decide(session: Any) -> None:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', session.get(f"{live_server.url}/approvazioni/{sid}").text
        )
        barrier.wait()
        answers.append(
            session.post(
                f"{live_server.url}/approvazioni/{sid}/inoltra",
                allow_redirects=False,
                data={"version": version, "csrf_token": token.group(1)},
            ).status_code
        )

    threads = [threading.Thread(target=decide, args=(s,)) for s in sessions]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(answers) == [303, 409]  # the loser is told someone else decided first
    sub = _sub(db, sid)
    assert sub.version == version + 1 and sub.step_index == 1
    forwarded = db.session.scalar(
        select(func.count(SubmissionEvent.id)).where(
            SubmissionEvent.submission_id == sid, SubmissionEvent.action == "inoltrata"
        )
    )
    assert forwarded == 1


def test_simultaneous_votes_for_one_comune_count_once(app, db, client_as, body, live_server):
    from pdz.approvals.models import Vote

    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    udp.post(f"/incontri/{meeting.id}/avvia")
    sindaco = client_as("sindaco@example.org")
    _checkin(db, sindaco, meeting.id)
    ballot = _ballot(db, sid)
    udp.post(f"/votazioni/{ballot.id}/apri")
    sessions = [http_session(live_server, "sindaco@example.org") for _ in range(4)]
    barrier = threading.Barrier(len(sessions))

    def vote(session: Any, choice: str) -> None:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', session.get(f"{live_server.url}/votazioni/{ballot.id}").text
        )
        barrier.wait()
        session.post(
            f"{live_server.url}/votazioni/{ballot.id}/voto",
            allow_redirects=False,
            data={"choice": choice, "csrf_token": token.group(1)},
        )

    threads = [
        threading.Thread(target=vote, args=(s, c))
        for s, c in zip(sessions, ["favorevole", "contrario"] * 2, strict=True)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    db.session.expire_all()
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.ballot_id == ballot.id)) == 1


# --- configuration, plans, deadlines, Da fare ------------------------------------------------------


def test_chains_are_configuration(app, db, client_as, body):
    """The UdP removes the UdP Integrato step for SWOTs: a SWOT submitted afterwards goes straight to the vote,
    while submissions already travelling keep their chain."""
    from pdz.approvals.models import Submission

    udp = client_as("udp@example.org")
    bad = udp.post(
        "/approvazioni/catene",
        data={
            "document_kind": "swot",
            "body_kind_0": "assemblea_sindaci",
            "mode_0": "voto",
            "body_kind_1": "udp_integrato",
            "mode_1": "esame",
        },
    )
    assert bad.status_code == 422  # a vote can only be the last step
    assert (
        udp.post(
            "/approvazioni/catene",
            data={"document_kind": "swot", "body_kind_0": "assemblea_sindaci", "mode_0": "voto"},
        ).status_code
        == 303
    )
    assert (
        client_as("coord.pubblico@example.org")
        .post(
            "/approvazioni/catene",
            data={"document_kind": "swot", "body_kind_0": "udp_integrato", "mode_0": "esame"},
        )
        .status_code
        == 403
    )
    from pdz.evaluation.models import SwotAssessment

    swot = db.session.scalar(
        select(SwotAssessment).where(SwotAssessment.body_id == body("Tavolo Povertà").id)
    )
    coord = client_as("coord.pubblico@example.org")
    url = f"/swot/{swot.id}/approvazione"
    response = coord.post(url, data={"fingerprint": _fingerprint(coord, url)})
    sid = int(response.headers["Location"].rsplit("/", 1)[1])
    sub = db.session.get(Submission, sid)
    assert [step.as_json() for step in sub.steps] == [
        {"body_kind": "assemblea_sindaci", "mode": "voto"}
    ] and sub.status == "in_attesa_di_voto"


def test_the_plan_is_assembled_from_approved_cards_with_budget_by_fund(app, db, client_as):
    from pdz.approvals.models import PlanDocument, Submission
    from pdz.cards.models import CardBudgetLine
    from pdz.money import format_cents

    udp = client_as("udp@example.org")
    plan = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == "piano_di_zona"))
    page = udp.get(f"/piani/{plan.id}").get_data(as_text=True)
    approved_cards = [
        json.loads(s.content)["data"]["card_id"]
        for s in db.session.scalars(
            select(Submission).where(Submission.document_kind == "scheda", Submission.status == "approvata")
        )
    ]
    total = db.session.scalar(
        select(func.sum(CardBudgetLine.amount_cents)).where(
            CardBudgetLine.card_id.in_(approved_cards),
            CardBudgetLine.counted.is_(True),
            CardBudgetLine.removed.is_(False),
            CardBudgetLine.amount_cents.is_not(None),
        )
    )
    assert "Risorse per fonte di finanziamento" in page and format_cents(total) in page
    # sent once the cards not approved are excluded with a reason, the version carries the same figures, frozen
    from pdz.cards.models import Card

    for card in db.session.scalars(select(Card).where(Card.id.not_in(approved_cards))):
        udp.post(f"/piani/{plan.id}/esclusioni", data={"card_id": card.id, "reason": "Non ancora approvata."})
    found = re.search(
        r'data-testid="fingerprint">([0-9a-f]{64})<', udp.get(f"/piani/{plan.id}").get_data(as_text=True)
    )
    sent = {"fingerprint": found.group(1), "asst_integration": "PPT 2025-2027 di ASST di Crema"}
    assert udp.post(f"/piani/{plan.id}/invia", data=sent).status_code == 303
    sub = db.session.scalar(select(Submission).where(Submission.document_kind == "piano_di_zona"))
    assert json.loads(sub.content)["data"]["total_cents"] == total
    docx = udp.get(f"/approvazioni/{sub.id}/documento.docx")
    from pdz.approvals import export

    by_fund = next(t for t in export.docx_tables(docx.data) if t[0] == ["Fonte", "Importo"])
    assert by_fund[-1][1] == format_cents(total)
    assert sum(int(v) for v in json.loads(sub.content)["data"]["by_source"].values()) == total


def test_deadlines_and_da_fare_show_what_waits(app, db, client_as):
    udp = client_as("udp@example.org")
    page = udp.get("/piani/").get_data(as_text=True)
    assert "Piano Operativo" in page and "31 dicembre 2026" in page
    home = udp.get("/").get_data(as_text=True)
    assert "Esamina «" in home  # the card under review at the UdP Integrato
    assert "Piano Operativo 2027: scade tra" in home
    membro = client_as("membro@example.org").get("/").get_data(as_text=True)
    assert "Esamina «" not in membro and "Iscrivi «" not in membro


def test_each_step_notifies_who_acts_next(app, db, client_as, body):
    from pdz.accounts.models import User
    from pdz.notifications.models import Notification

    card = _povertà_card(db, body)
    sid = _submit_card(client_as("coord.pubblico@example.org"), card.id)
    udp = db.session.scalar(select(User).where(User.email == "udp@example.org"))
    assert (
        db.session.scalar(
            select(Notification).where(
                Notification.user_id == udp.id,
                Notification.target_kind == "submission",
                Notification.target_id == sid,
            )
        )
        is not None
    )
    client_as("udp@example.org").post(
        f"/approvazioni/{sid}/restituisci",
        data={"version": _sub(db, sid).version, "note": "Rivedere il budget."},
    )
    coord = db.session.scalar(select(User).where(User.email == "coord.ets@example.org"))
    note = db.session.scalar(
        select(Notification).where(Notification.user_id == coord.id, Notification.target_id == sid)
    )
    assert note is not None and "restituita" in note.text


def test_the_submission_page_has_a_bounded_number_of_queries(app, db, client_as, count_queries):
    from pdz.approvals.models import Submission

    udp = client_as("udp@example.org")
    counts = []
    for sub in db.session.scalars(select(Submission).where(Submission.status == "approvata").limit(2)):
        with count_queries() as counter:
            assert udp.get(f"/approvazioni/{sub.id}").status_code == 200
        counts.append(counter())
    assert counts[0] == counts[1], counts


def test_enums_sharing_a_value_keep_their_own_labels(app):
    """Regression: labels registered as a dict literal merged enum members of equal value ("approvata")."""
    from pdz.approvals.models import BallotOutcome, SubmissionStatus
    from pdz.labels import label
    from pdz.meetings.models import MeetingStatus, MinutesStatus
    from pdz.tavoli.models import BodyKind, BodyStatus

    with app.test_request_context():
        assert (
            label(BallotOutcome.APPROVED) == "Approvato" and label(SubmissionStatus.APPROVED) == "Approvata"
        )
        assert label(BallotOutcome.REJECTED) == "Respinto" and label(SubmissionStatus.REJECTED) == "Respinta"
        assert label(MeetingStatus.DRAFT) == "Bozza" and label(MinutesStatus.DRAFT) == "Verbale in bozza"
        assert label(BodyKind.UDP) == "Ufficio di Piano" and label(BodyStatus.CLOSED) != label(BodyKind.UDP)


def _pile_up(db: Any, n: int) -> None:
    """n more submissions waiting at the UdP Integrato and n more approved, copied from the demo's."""
    from pdz.approvals.models import Submission

    model = db.session.scalar(select(Submission).where(Submission.status == "approvata").limit(1))
    top = db.session.scalar(select(func.max(Submission.document_id)))
    for k in range(n):
        for status, index in (("in_esame", 0), ("approvata", 2)):
            db.session.add(
                Submission(
                    document_kind="scheda",
                    document_id=top + 1000 + k + 100 * n,
                    round=1 if index else 2,
                    body_id=model.body_id,
                    cycle_id=model.cycle_id,
                    title=f"Scheda {k}",
                    steps=model.steps,
                    step_index=index,
                    status=status,
                    content=model.content,
                    fingerprint=model.fingerprint,
                    submitted_by_id=model.submitted_by_id,
                    decided_at=model.decided_at,
                )
            )
    db.session.commit()


@pytest.mark.parametrize("email", ["udp@example.org", "sindaco@example.org", "coord.pubblico@example.org"])
def test_home_and_approvals_pages_do_not_grow_with_submissions(app, db, client_as, count_queries, email):
    client = client_as(email)
    counts = []
    for extra in (3, 15):  # membership lookups are per body (cached), so both piles use the same bodies
        _pile_up(db, extra)
        with count_queries() as home:
            page = client.get("/")
        with count_queries() as overview:
            assert client.get("/approvazioni/").status_code == 200
        counts.append((home(), overview()))
        assert page.status_code == 200
    assert counts[0] == counts[1], counts


def test_the_ballot_is_followed_live(app, db, client_as, body, live_server, socket_client):
    """Mayors' pages learn of each vote and of the closing without reloading (the ballot page's script)."""
    import time

    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    udp.post(f"/incontri/{meeting.id}/avvia")
    ballot = _ballot(db, sid)
    chair = http_session(live_server, "udp@example.org")
    mayor = http_session(live_server, "sindaco@example.org")

    def post(session: Any, page: str, path: str, data: dict[str, str]) -> int:
        token = re.search(
            r'name="csrf_token" value="([^"]+)"', session.get(live_server.url + page).text
        ).group(1)
        return session.post(
            live_server.url + path, data={"csrf_token": token, **data}, allow_redirects=False
        ).status_code

    assert post(
        mayor,
        f"/incontri/{meeting.id}",
        f"/incontri/{meeting.id}/registrazione",
        {"code": _checkin_code(db, meeting.id)},
    ) in (302, 303)
    screen = socket_client("delegato@example.org", transports=["polling"])
    assert screen.call("room.join", {"room": f"meeting:{meeting.id}"}, timeout=5)["ok"] is True
    outsider = socket_client("disabilita@example.org", transports=["polling"])
    assert outsider.call("room.join", {"room": f"meeting:{meeting.id}"}, timeout=5)["ok"] is False
    page = f"/votazioni/{ballot.id}"
    assert post(chair, page, f"{page}/apri", {}) == 303
    assert post(mayor, page, f"{page}/voto", {"choice": "favorevole"}) == 303
    assert post(chair, page, f"{page}/chiudi", {}) == 303

    def wait(predicate: Any) -> dict[str, Any]:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            for name, data in list(screen.received):
                if name == "ballot.updated" and predicate(data):
                    return data
            time.sleep(0.02)
        raise AssertionError(screen.received)

    assert wait(lambda d: d.get("votes") == 1)["status"] == "aperta"
    assert wait(lambda d: d["status"] == "chiusa")["outcome"] in {"approvata", "respinta", "senza_quorum"}


def _checkin_code(db: Any, meeting_id: int) -> str:
    from pdz.meetings.models import Meeting

    db.session.expire_all()
    return db.session.get(Meeting, meeting_id).checkin_code


# --- found in review: each with the test that would have caught it ----------------------------------


def _assemblea_member(db: Any, email: str, role: str, comune: str) -> None:
    """Adds a person to the Assemblea for a comune (a member without a seat, e.g. an observer)."""
    from pdz.accounts.models import User
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Body, Membership

    assemblea = db.session.scalar(select(Body).where(Body.kind == "assemblea_sindaci"))
    user = db.session.scalar(select(User).where(User.email == email))
    org = db.session.scalar(select(Organisation).where(Organisation.name == f"Comune di {comune}"))
    db.session.add(Membership(body_id=assemblea.id, user_id=user.id, organisation_id=org.id, role=role))
    db.session.commit()


def test_only_a_seat_holder_or_their_delegate_votes_for_a_comune(app, db, client_as, body):
    """An observer sitting for Offanengo neither votes for it nor makes it present for the quorum."""
    from pdz.approvals.models import Vote

    _assemblea_member(db, "osservatore@example.org", "osservatore", "Offanengo")
    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    udp.post(f"/incontri/{meeting.id}/avvia")
    observer = client_as("osservatore@example.org")
    _checkin(db, observer, meeting.id)
    ballot = _ballot(db, sid)
    udp.post(f"/votazioni/{ballot.id}/apri")
    refused = observer.post(f"/votazioni/{ballot.id}/voto", data={"choice": "contrario"})
    assert refused.status_code == 422 and "Non hai diritto di voto" in _text(refused)
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.ballot_id == ballot.id)) == 0
    sindaco = client_as("sindaco@example.org")  # the mayor of Offanengo still votes for it
    _checkin(db, sindaco, meeting.id)
    sindaco.post(f"/votazioni/{ballot.id}/voto", data={"choice": "favorevole"})
    assert db.session.scalar(select(func.count(Vote.id)).where(Vote.ballot_id == ballot.id)) == 1
    # the meeting cannot be concluded while its vote is open, nor can anyone vote once it is closed
    assert "votazione ancora aperta" in client_as("udp@example.org").post(
        f"/incontri/{meeting.id}/chiudi", follow_redirects=True
    ).get_data(as_text=True)
    udp.post(f"/votazioni/{ballot.id}/chiudi")
    tally = _ballot(db, sid).tally
    assert tally["seats_present"] == 1  # the observer did not make a second seat present
    udp.post(f"/votazioni/{ballot.id}/apri")
    assert _ballot(db, sid).status == "chiusa"  # a closed vote is never reopened


def test_a_vote_scheduled_in_a_cancelled_meeting_can_be_scheduled_again(app, db, client_as, body):
    from pdz.approvals.models import Ballot

    card = _povertà_card(db, body)
    sid, meeting, udp = _to_vote(db, client_as, card)
    again = udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting.id}, follow_redirects=True)
    assert "ordine del giorno di un incontro" in again.get_data(as_text=True)
    assert udp.post(f"/incontri/{meeting.id}/annulla").status_code in (302, 303)
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body

    later = db.session.scalar(
        select(Meeting)
        .join(Body, Body.id == Meeting.body_id)
        .where(Body.kind == "assemblea_sindaci", Meeting.status == "convocata", Meeting.id != meeting.id)
    )
    assert udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": later.id}).status_code == 303
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.submission_id == sid)) == 2


def test_a_vote_is_only_ever_the_last_step(app, db, client_as):
    """A chain may end with a validation (esame) instead of a vote (issue #15 point 5), but a vote in a middle
    step is refused: whoever votes decides, nothing comes after it."""
    from pdz.approvals.models import ApprovalChain

    udp = client_as("udp@example.org")
    middle = udp.post(
        "/approvazioni/catene",
        data={
            "document_kind": "scheda",
            "body_kind_0": "udp_integrato",
            "mode_0": "voto",
            "body_kind_1": "assemblea_sindaci",
            "mode_1": "esame",
        },
    )
    assert middle.status_code == 422 and "solo l'ultimo passaggio" in _text(middle)
    db.session.expire_all()
    assert db.session.scalar(select(ApprovalChain).where(ApprovalChain.document_kind == "scheda")) is None
    review_only = udp.post(
        "/approvazioni/catene",
        data={"document_kind": "swot", "body_kind_0": "udp_integrato", "mode_0": "esame"},
    )
    assert review_only.status_code == 303
    assert (
        udp.post(
            "/approvazioni/catene",
            data={"document_kind": "nonsense", "body_kind_0": "udp_integrato", "mode_0": "voto"},
        ).status_code
        == 422
    )
    page = _text(udp.get("/approvazioni/catene"))
    assert "Si conclude con la validazione dell'ultimo organismo, senza votazione." in page


def test_a_chain_ending_with_a_validation_approves_on_the_last_forward(app, db, client_as, body):
    """Cards by default: tavolo, UdP Integrato (esame), Assemblea (voto). The UdP configures UdP Integrato as
    the last, validating step: its forward approves the card, frozen and public like a vote's approval."""
    from pdz.approvals.models import Ballot, SubmissionEvent
    from pdz.cards.models import Card

    udp = client_as("udp@example.org")
    default = _text(udp.get("/approvazioni/catene"))
    assert "Ora: invio → Ufficio di Piano Integrato – Esame → Assemblea dei Sindaci – Votazione." in " ".join(
        default.split()
    )
    saved = udp.post(
        "/approvazioni/catene",
        data={"document_kind": "scheda", "body_kind_0": "udp_integrato", "mode_0": "esame"},
    )
    assert saved.status_code == 303
    card = _povertà_card(db, body)
    sid = _submit_card(client_as("coord.pubblico@example.org"), card.id)
    sub = _sub(db, sid)
    assert sub.status == "in_esame" and [s.as_json() for s in sub.steps] == [
        {"body_kind": "udp_integrato", "mode": "esame"}
    ]
    response = udp.post(f"/approvazioni/{sid}/inoltra", data={"version": sub.version, "note": "Validata."})
    assert response.status_code == 303
    sub = _sub(db, sid)
    assert sub.status == "approvata" and sub.decided_at is not None and sub.step_index == 1
    assert db.session.get(Card, card.id).status == "condivisa"  # approved: agreed
    assert hashlib.sha256(sub.content.encode("utf-8")).hexdigest() == sub.fingerprint
    assert json.loads(sub.content)["title"] == card.title
    assert db.session.scalar(select(func.count(Ballot.id)).where(Ballot.submission_id == sid)) == 0
    actions = [
        e.action
        for e in db.session.scalars(select(SubmissionEvent).where(SubmissionEvent.submission_id == sid))
    ]
    assert actions == ["inviata", "approvata"]
    anonymous = app.test_client()
    assert sub.fingerprint in anonymous.get(f"/pubblico/{sid}").get_data(as_text=True)
    verified = _text(anonymous.post("/verifica", data={"fingerprint": sub.fingerprint}))
    assert card.title in verified


def test_the_piano_di_zona_is_submitted_with_its_asst_integration(app, db, client_as):
    """The PdZ and the ASST's Piano di Sviluppo del Polo Territoriale are approved in one moment (001, 4.6):
    without the ASST integration the plan is not sent; with it, the integration is in the frozen version."""
    from pdz.approvals.models import DocKind, PlanDocument, Submission

    plan = db.session.scalar(select(PlanDocument).where(PlanDocument.kind == DocKind.PIANO_DI_ZONA))
    from pdz.cards.models import Card

    udp = client_as("udp@example.org")
    url = f"/piani/{plan.id}"
    for card_id in db.session.scalars(select(Card.id).where(Card.cycle_id == plan.cycle_id)):
        # every card approved or excluded with a reason (the Piano di Zona's gate); approved ones answer 422
        udp.post(f"{url}/esclusioni", data={"card_id": card_id, "reason": "Non ancora approvata."})
    page = udp.get(url)
    assert 'name="asst_integration"' in page.get_data(as_text=True)
    fingerprint = FP.search(page.get_data(as_text=True)).group(1)
    refused = udp.post(f"{url}/invia", data={"fingerprint": fingerprint, "asst_integration": "  "})
    assert refused.status_code == 422  # the plan page again, the reason on top
    assert "integrazione dell'ASST" in _text(refused)
    count = select(func.count(Submission.id)).where(Submission.document_kind == "piano_di_zona")
    assert db.session.scalar(count) == 0
    ppt = "Piano di Sviluppo del Polo Territoriale 2025-2027 di ASST di Crema"
    sent = udp.post(f"{url}/invia", data={"fingerprint": fingerprint, "asst_integration": ppt})
    assert sent.status_code == 303, _text(sent)[:500]
    sid = int(sent.headers["Location"].rsplit("/", 1)[1])
    sub = _sub(db, sid)
    content = json.loads(sub.content)
    assert content["data"]["asst_integration"] == ppt
    assert any(ppt in json.dumps(section, ensure_ascii=False) for section in content["sections"])
    assert hashlib.sha256(sub.content.encode("utf-8")).hexdigest() == sub.fingerprint != fingerprint


def test_a_copy_whose_visible_text_was_edited_does_not_verify(app, db):
    """The embedded data alone is not enough: the text a reader sees must be the approved one."""
    import zipfile

    from pdz.approvals.models import Submission

    sub = db.session.scalar(select(Submission).where(Submission.status == "approvata").limit(1))
    client = app.test_client()
    original = client.get(f"/pubblico/{sub.id}/documento.docx").data
    edited = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(original)) as source,
        zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "word/document.xml":
                assert b"Totale stimato" in data
                data = data.replace(b"Totale stimato", b"Totale stimato (rivisto)")
            target.writestr(info, data)
    ok = client.post(
        "/verifica", data={"file": (io.BytesIO(original), "copia.docx")}, content_type="multipart/form-data"
    )
    assert "corrisponde alla versione approvata" in ok.get_data(as_text=True)
    ko = client.post(
        "/verifica",
        data={"file": (io.BytesIO(edited.getvalue()), "copia.docx")},
        content_type="multipart/form-data",
    )
    assert ko.status_code == 422 and "NON corrisponde" in ko.get_data(as_text=True)
    bomb = io.BytesIO()
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as target:
        target.writestr("customXml/pdz-content.json", b"{" + b" " * (6 * 1024 * 1024) + b"}")
    refused = client.post(
        "/verifica",
        data={"file": (io.BytesIO(bomb.getvalue()), "x.docx")},
        content_type="multipart/form-data",
    )
    assert refused.status_code == 422


def test_the_public_list_is_paged_and_its_queries_do_not_grow(app, db, count_queries):
    from pdz.approvals.models import Submission

    anonymous = app.test_client()
    _pile_up(db, 3)
    with count_queries() as few:
        assert anonymous.get("/pubblico/").status_code == 200
    _pile_up(db, 120)
    with count_queries() as many:
        first = anonymous.get("/pubblico/").get_data(as_text=True)
    assert few() == many()
    approved = db.session.scalar(select(func.count(Submission.id)).where(Submission.status == "approvata"))
    assert f"Pagina 1 di {-(-approved // 50)}" in first and first.count("/documento.pdf") == 50
    last = anonymous.get(f"/pubblico/?pagina={-(-approved // 50)}").get_data(as_text=True)
    assert last.count("/documento.pdf") == approved - 50 * (-(-approved // 50) - 1)
    assert anonymous.get("/pubblico/?pagina=abc").status_code == 200


def test_no_one_skips_a_state_not_even_an_administrator(app, db, client_as, body):
    """Issue #13: an administrator's "forward" moved a document awaiting the Assemblea's vote straight to
    approved, and reopened a document that had been sent back. States are checked in the service."""
    from pdz.cards.models import Card

    card = _povertà_card(db, body)
    sid, _meeting, _udp = _to_vote(db, client_as, card)
    admin = client_as("admin@example.org")
    before = _sub(db, sid)
    assert before.status == "in_attesa_di_voto"
    version = before.version
    for action, data in (("inoltra", {}), ("restituisci", {"note": "Salto il voto."})):
        response = admin.post(f"/approvazioni/{sid}/{action}", data={"version": version, **data})
        assert response.status_code in (303, 422), (action, response.status_code)
        after = _sub(db, sid)
        assert (after.status, after.version) == ("in_attesa_di_voto", version), action  # nothing moved

    # A document sent back stays sent back: nobody forwards it again (a new version must be submitted).
    other = db.session.scalars(
        select(Card).where(Card.body_id == body("Tavolo Povertà").id).order_by(Card.id).offset(1).limit(1)
    ).one()
    coord, udp = client_as("coord.pubblico@example.org"), client_as("udp@example.org")
    returned = _submit_card(coord, other.id)
    v = _sub(db, returned).version
    response = udp.post(f"/approvazioni/{returned}/restituisci", data={"version": v, "note": "Da rivedere."})
    assert response.status_code == 303
    sent_back = _sub(db, returned)
    assert sent_back.status == "restituita"
    for who in (admin, udp):
        who.post(f"/approvazioni/{returned}/inoltra", data={"version": sent_back.version})
        again = _sub(db, returned)
        assert (again.status, again.version) == ("restituita", sent_back.version)
