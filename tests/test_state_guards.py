"""States are guarded whoever acts (issue #13 point 3): every transition asked from the wrong state is refused
with a 4xx and an Italian message, and changes nothing, also when the platform administrator asks (the
administrator may do what the policy allows, never skip a state). Through HTTP, with the demo's people."""

from __future__ import annotations

import html
import re
import uuid
from datetime import date, timedelta
from typing import Any

from sqlalchemy import text

ADMIN = "admin@example.org"
UDP = "udp@example.org"
COORD = "coord.pubblico@example.org"
MEMBER = "membro@example.org"
FP = re.compile(r'name="fingerprint" value="([0-9a-f]{64})"')


def _value(db: Any, sql: str, **params: Any) -> Any:
    db.session.rollback()
    return db.session.execute(text(sql), params).scalar()


def _snapshot(db: Any, meeting_id: int) -> tuple[Any, ...]:
    """Everything a meeting transition could change."""
    db.session.rollback()
    row = db.session.execute(
        text(
            "SELECT status, minutes_status, title, starts_at, checkin_code, current_item_id FROM meetings "
            "WHERE id = :m"
        ),
        {"m": meeting_id},
    ).one()
    counts = tuple(
        db.session.execute(
            text(f"SELECT count(*) FROM {table} WHERE meeting_id = :m"),  # noqa: S608 - fixed table names
            {"m": meeting_id},
        ).scalar()
        for table in ("agenda_items", "meeting_decisions", "action_items", "attendances")
    )
    return (*row, *counts)


def refused(response: Any, *words: str, status: tuple[int, ...] = (409, 422)) -> str:
    """A refusal: a 4xx whose page or JSON says why, in Italian."""
    assert response.status_code in status, (response.status_code, response.get_data(as_text=True)[:500])
    body = str(response.get_json()) if response.is_json else html.unescape(response.get_data(as_text=True))
    for word in words:
        assert word in body, (word, body[:3000])
    return body


def _future(days: int) -> str:
    return (date.today() + timedelta(days=days)).isoformat()


def _meeting(client: Any, body_id: int, days: int = 21, items: int = 1) -> int:
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": "Incontro", "day": _future(days), "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    meeting_id = int(re.search(r"/incontri/(\d+)", response.headers["Location"]).group(1))  # type: ignore[union-attr]
    for n in range(items):
        assert (
            client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": f"Punto {n}"}).status_code
            == 302
        )
    return meeting_id


def _ok(response: Any) -> None:
    assert response.status_code in (200, 302, 303), (
        response.status_code,
        response.get_data(as_text=True)[:800],
    )


# --- meetings and minutes ---------------------------------------------------------------------------


def test_meeting_steps_only_from_their_state_for_everyone(db: Any, client_as: Any, tavolo: Any) -> None:
    coord, admin, udp = client_as(COORD), client_as(ADMIN), client_as(UDP)
    meeting = _meeting(coord, tavolo.id)
    member = _value(db, "SELECT id FROM users WHERE email = :e", e=MEMBER)

    def wrong(who: Any, url: str, *words: str, data: dict[str, Any] | None = None) -> None:
        before = _snapshot(db, meeting)
        refused(who.post(f"/incontri/{meeting}/{url}", data=data or {}), *words)
        assert _snapshot(db, meeting) == before, url

    for who in (admin, udp, coord):  # a draft
        wrong(who, "avvia", "Si può avviare solo un incontro convocato.")
        wrong(who, "chiudi", "Si può chiudere solo un incontro in corso.")
        wrong(who, "decisioni", "Il verbale si scrive durante o dopo l'incontro.", data={"text": "Deciso."})
        wrong(
            who,
            "verbale/approva",
            "Si approva il verbale di un incontro concluso.",
            data={"approving_meeting_id": ""},
        )
    _ok(coord.post(f"/incontri/{meeting}/convoca"))
    for who in (admin, udp):  # convened
        wrong(who, "convoca", "già stato convocato")
        wrong(who, "chiudi", "Si può chiudere solo un incontro in corso.")
        wrong(who, "presenze", "Le presenze si registrano a incontro avviato.", data={"user_id": member})
    _ok(coord.post(f"/incontri/{meeting}/avvia"))
    for who in (admin, udp):  # in progress
        wrong(who, "annulla", "Si possono annullare solo incontri in bozza o convocati.")
        wrong(who, "avvia", "Si può avviare solo un incontro convocato.")
        wrong(who, "convoca", "già stato convocato")
        wrong(
            who,
            "ordine-del-giorno",
            "L'ordine del giorno si modifica solo prima dell'inizio",
            data={"title": "Tardi"},
        )
        wrong(
            who,
            "modifica",
            "Si possono modificare solo gli incontri in bozza o convocati.",
            data={
                "title": "Spostato",
                "day": _future(30),
                "start": "17:00",
                "end": "19:00",
                "place": "Crema",
            },
        )
    _ok(coord.post(f"/incontri/{meeting}/chiudi"))
    for who in (admin, udp):  # concluded
        wrong(who, "avvia", "Si può avviare solo un incontro convocato.")
        wrong(who, "annulla", "Si possono annullare solo incontri in bozza o convocati.")
        wrong(who, "chiudi", "Si può chiudere solo un incontro in corso.")

    # The minutes are approved at a later meeting: then nothing in them changes, for anyone.
    later = _meeting(coord, tavolo.id, days=28)
    _ok(coord.post(f"/incontri/{later}/convoca"))
    _ok(coord.post(f"/incontri/{later}/avvia"))
    _ok(coord.post(f"/incontri/{meeting}/verbale/approva", data={"approving_meeting_id": later}))
    for who in (admin, udp, coord):
        wrong(
            who, "verbale/approva", "Il verbale è già stato approvato.", data={"approving_meeting_id": later}
        )
        wrong(who, "decisioni", "è stato approvato", data={"text": "Aggiunta dopo."})
        wrong(who, "azioni", "è stato approvato", data={"title": "Dopo", "owner_id": member})
        wrong(who, "presenze", "è stato approvato", data={"user_id": member})


def test_a_cancelled_meeting_stays_cancelled(db: Any, client_as: Any, tavolo: Any) -> None:
    coord, admin = client_as(COORD), client_as(ADMIN)
    meeting = _meeting(coord, tavolo.id)
    _ok(coord.post(f"/incontri/{meeting}/annulla"))
    before = _snapshot(db, meeting)
    for url, words in (
        ("convoca", "già stato convocato"),
        ("avvia", "Si può avviare solo un incontro convocato."),
        ("annulla", "Si possono annullare solo incontri in bozza o convocati."),
        ("ordine-del-giorno", "L'ordine del giorno si modifica solo prima dell'inizio"),
    ):
        refused(admin.post(f"/incontri/{meeting}/{url}", data={"title": "Di nuovo"}), words)
        assert _snapshot(db, meeting) == before, url


# --- approvals and ballots ----------------------------------------------------------------------------


def _fingerprint(client: Any, card_id: int) -> str:
    found = FP.search(client.get(f"/schede/{card_id}/approvazione").get_data(as_text=True))
    assert found, "the page offers no submit form"
    return found.group(1)


def _submit_card(client: Any, card_id: int, fingerprint: str) -> Any:
    return client.post(f"/schede/{card_id}/approvazione", data={"fingerprint": fingerprint})


def _submission(db: Any, sid: int) -> tuple[Any, ...]:
    db.session.rollback()
    return tuple(
        db.session.execute(
            text("SELECT status, version, step_index FROM submissions WHERE id = :s"), {"s": sid}
        ).one()
    )


def _ballot(db: Any, sid: int) -> tuple[Any, ...]:
    db.session.rollback()
    row = db.session.execute(
        text("SELECT id, status, version FROM ballots WHERE submission_id = :s"), {"s": sid}
    ).one()
    votes = db.session.execute(
        text("SELECT count(*) FROM votes WHERE ballot_id = :b"), {"b": row[0]}
    ).scalar()
    return (*row, votes)


def test_submissions_and_ballots_only_from_their_state(db: Any, client_as: Any, tavolo: Any) -> None:
    coord, udp, admin = client_as(COORD), client_as(UDP), client_as(ADMIN)
    card = _value(db, "SELECT id FROM cards WHERE body_id = :b ORDER BY id LIMIT 1", b=tavolo.id)
    fingerprint = _fingerprint(coord, card)
    submitted = _submit_card(coord, card, fingerprint)
    assert submitted.status_code == 303
    sid = int(re.search(r"/approvazioni/(\d+)$", submitted.headers["Location"]).group(1))  # type: ignore[union-attr]
    count = _value(db, "SELECT count(*) FROM submissions")
    for who in (admin, coord):  # a second round while the first is under way
        refused(_submit_card(who, card, fingerprint), "già in approvazione")
        assert _value(db, "SELECT count(*) FROM submissions") == count

    card_status = _value(db, "SELECT status FROM cards WHERE id = :c", c=card)
    assert card_status == "in_revisione"  # the chain's status while in review
    for who in (admin, udp, coord):  # nobody marks by hand a card under approval as agreed, or as a draft
        for status in ("condivisa", "bozza"):
            refused(
                who.post(f"/schede/{card}/stato", data={"status": status}), "Questa scheda è in approvazione"
            )
            assert _value(db, "SELECT status FROM cards WHERE id = :c", c=card) == card_status

    state = _submission(db, sid)
    refused(
        admin.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": 1}), "non è in attesa di votazione"
    )
    assert _submission(db, sid) == state
    _ok(udp.post(f"/approvazioni/{sid}/inoltra", data={"version": state[1]}))
    meeting_id = _value(
        db,
        "SELECT m.id FROM meetings m JOIN bodies b ON b.id = m.body_id WHERE b.kind = 'assemblea_sindaci' "
        "AND m.status = 'convocata' ORDER BY m.starts_at LIMIT 1",
    )
    _ok(udp.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting_id}))
    refused(
        admin.post(f"/approvazioni/{sid}/iscrivi", data={"meeting_id": meeting_id}),
        "già all'ordine del giorno",
    )
    ballot = _ballot(db, sid)
    ballot_id = ballot[0]

    def wrong(who: Any, url: str, *words: str, data: dict[str, Any] | None = None) -> None:
        before, sub = _ballot(db, sid), _submission(db, sid)
        refused(who.post(f"/votazioni/{ballot_id}/{url}", data=data or {}), *words)
        assert (_ballot(db, sid), _submission(db, sid)) == (before, sub), url

    wrong(admin, "apri", "Si vota solo durante l'incontro")  # the meeting has not started
    wrong(admin, "chiudi", "Questa votazione non è aperta.")
    _ok(udp.post(f"/incontri/{meeting_id}/avvia"))
    mayor = client_as("sindaco@example.org")
    code = _value(db, "SELECT checkin_code FROM meetings WHERE id = :m", m=meeting_id)
    _ok(mayor.post(f"/incontri/{meeting_id}/registrazione", data={"code": code}))
    wrong(mayor, "voto", "La votazione non è aperta", data={"choice": "favorevole"})
    wrong(admin, "chiudi", "Questa votazione non è aperta.")
    _ok(udp.post(f"/votazioni/{ballot_id}/apri"))
    wrong(admin, "apri", "Questa votazione è già stata aperta.")
    _ok(mayor.post(f"/votazioni/{ballot_id}/voto", data={"choice": "favorevole"}))
    wrong(mayor, "voto", "è già stato espresso un voto", data={"choice": "contrario"})
    _ok(udp.post(f"/votazioni/{ballot_id}/chiudi"))
    wrong(admin, "chiudi", "Questa votazione non è aperta.")
    wrong(admin, "apri", "Questa votazione è già stata aperta.")
    wrong(mayor, "voto", "La votazione non è aperta", data={"choice": "contrario"})
    closed = _submission(db, sid)
    for action, data in (("inoltra", {}), ("restituisci", {"note": "Dopo il voto."})):
        refused(
            admin.post(f"/approvazioni/{sid}/{action}", data={"version": closed[1], **data}), "non è in esame"
        )
        assert _submission(db, sid) == closed


# --- removed comments --------------------------------------------------------------------------------


def test_a_removed_comment_is_neither_edited_nor_answered_nor_resolved(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    member, admin, udp = client_as(MEMBER), client_as(ADMIN), client_as(UDP)
    api = f"/tavoli/{tavolo.id}/commenti"
    posted = member.post(
        api,
        json={
            "target_kind": "tavolo",
            "target_id": tavolo.id,
            "text": "Prima versione",
            "client_op_id": uuid.uuid4().hex,
        },
    )
    assert posted.status_code == 201, posted.get_json()
    comment = posted.get_json()["comment"]["id"]
    assert member.post(f"{api}/{comment}/rimuovi", json={}).status_code == 200

    def state() -> tuple[Any, ...]:
        db.session.rollback()
        row = db.session.execute(
            text("SELECT status, body_source, edited_at FROM comments WHERE id = :c"), {"c": comment}
        ).one()
        return (*row, db.session.execute(text("SELECT count(*) FROM comments")).scalar())

    before = state()
    for who in (admin, udp, member):
        refused(who.post(f"{api}/{comment}/modifica", json={"text": "Riscritto"}), "è stato rimosso")
        refused(
            who.post(
                api,
                json={
                    "target_kind": "tavolo",
                    "target_id": tavolo.id,
                    "text": "Risposta",
                    "parent_id": comment,
                    "client_op_id": uuid.uuid4().hex,
                },
            ),
            "è stato rimosso",
        )
        for verb in ("risolvi", "riapri"):
            refused(who.post(f"{api}/{comment}/{verb}", json={}), "è stato rimosso", status=(403, 422))
        assert state() == before


# --- SWOT, cycles, mandates, invitations ---------------------------------------------------------------


def test_a_closed_swot_takes_no_more_entries(db: Any, client_as: Any, tavolo: Any) -> None:
    coord, admin = client_as(COORD), client_as(ADMIN)
    opened = coord.post(f"/tavoli/{tavolo.id}/swot", data={"year": "2026", "kind": "annuale"})
    swot = int(re.search(r"/swot/(\d+)", opened.headers["Location"]).group(1))  # type: ignore[union-attr]
    added = coord.post(f"/swot/{swot}/voci", json={"dimension": "mandato", "quadrant": "S", "text": "Rete"})
    entry = added.get_json()["entry"]["id"]
    _ok(coord.post(f"/swot/{swot}/chiudi"))

    def state() -> tuple[Any, ...]:
        db.session.rollback()
        return (
            db.session.execute(
                text("SELECT status, closed_at FROM swot_assessments WHERE id = :s"), {"s": swot}
            ).one(),
            db.session.execute(
                text("SELECT count(*), count(removed_at) FROM swot_entries WHERE assessment_id = :s"),
                {"s": swot},
            ).one(),
        )

    before = state()
    for who in (admin, coord):
        refused(
            who.post(f"/swot/{swot}/voci", json={"dimension": "mandato", "quadrant": "W", "text": "Tardi"}),
            "L'autovalutazione è chiusa",
        )
        refused(who.post(f"/swot/{swot}/voci/{entry}/rimuovi", json={}), "L'autovalutazione è chiusa")
        refused(who.post(f"/swot/{swot}/chiudi"), "L'autovalutazione è già chiusa.")
        assert state() == before


def test_cycles_mandates_and_invitations_only_from_their_state(db: Any, client_as: Any, tavolo: Any) -> None:
    admin = client_as(ADMIN)
    closed = _value(db, "SELECT id FROM planning_cycles WHERE status = 'concluso' LIMIT 1")
    if closed is not None:
        refused(
            admin.post(f"/cicli/{closed}/stato", data={"status": "in_corso"}),
            "Passaggio di stato non consentito",
        )
        assert _value(db, "SELECT status FROM planning_cycles WHERE id = :c", c=closed) == "concluso"
    decided = _value(
        db, "SELECT id FROM mandates WHERE status <> 'proposto' AND body_id = :b LIMIT 1", b=tavolo.id
    )
    assert decided is not None
    status = _value(db, "SELECT status FROM mandates WHERE id = :m", m=decided)
    refused(
        admin.post(f"/tavoli/{tavolo.id}/mandato/{decided}/decisione", data={"decision": "accept"}),
        "già stata decisa",
    )
    assert _value(db, "SELECT status FROM mandates WHERE id = :m", m=decided) == status
    coord = client_as("coord.ets@example.org")
    org = _value(db, "SELECT id FROM organisations WHERE name = 'Auser Cremasco'")
    _ok(
        coord.post(
            f"/tavoli/{tavolo.id}/componenti/invito",
            data={
                "email": "nuova@example.org",
                "full_name": "Nuova",
                "organisation_id": org,
                "role": "membro",
                "function": "volontario",
            },
        )
    )
    invitation = _value(db, "SELECT id FROM invitations WHERE email = 'nuova@example.org'")
    _ok(coord.post(f"/tavoli/{tavolo.id}/inviti/{invitation}/revoca"))
    refused(admin.post(f"/tavoli/{tavolo.id}/inviti/{invitation}/revoca"), "L'invito non è più in attesa.")
    assert _value(db, "SELECT status FROM invitations WHERE id = :i", i=invitation) == "revocato"
