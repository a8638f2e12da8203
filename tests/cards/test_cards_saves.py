"""Saving structured card fields over HTTP (texts are co-written: see tests/coedit): choice merges, row
refusals, retries, lost access, history and restore."""

from __future__ import annotations

import uuid
from typing import Any

from cards_helpers import as_user, card_of, value_of
from sqlalchemy import func, select


def save(client: Any, card: Any, field: str, value: Any, base: int, **extra: Any) -> Any:
    return client.post(
        f"/schede/{card.id}/campi", json={"field": field, "value": value, "base_revision": base, **extra}
    )


def revisions(db: Any, card: Any) -> int:
    from pdz.cards.models import CardRevision

    return (
        db.session.scalar(
            select(func.count()).select_from(CardRevision).where(CardRevision.card_id == card.id)
        )
        or 0
    )


def write_text(user: Any, card: Any, key: str, value: str, email: str) -> None:
    """Change a co-written text the way typing does: through the engine, as `email`."""
    from pdz.coedit import engine

    answer = engine.replace_text(f"card:{card.id}", key, value, actor=user(email), restore=False)
    assert answer["ok"], answer


def test_save_creates_revision_with_before_and_after(client_as: Any, db: Any) -> None:
    from pdz.audit import AuditEntry
    from pdz.cards.models import CardRevision

    card = card_of(db, "A")
    before, start = value_of(db, card, "continuity"), card.revision_no
    value = "no" if before == "si" else "si"
    response = save(as_user(client_as, "membro@example.org"), card, "continuity", value, start)
    assert response.status_code == 200, response.json
    body = response.json
    assert body["status"] == "saved" and body["revision"] == start + 1
    revision = db.session.scalar(
        select(CardRevision).where(CardRevision.card_id == card.id, CardRevision.number == body["revision"])
    )
    assert (revision.field, revision.before, revision.after) == ("continuity", before, value)
    assert db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "card.updated", AuditEntry.object_id == card.id)
        .order_by(AuditEntry.id.desc())
    )


def test_text_fields_are_not_saved_over_http(client_as: Any, db: Any) -> None:
    """Free text is co-written through the engine: the old HTTP text save answers 422 in Italian."""
    card = card_of(db, "A")
    before, start = value_of(db, card, "context"), card.revision_no
    client = as_user(client_as, "membro@example.org")
    for key in ("context", "title", "results"):
        response = save(client, card, key, "testo via HTTP", start)
        assert response.status_code == 422, (key, response.json)
        assert "direttamente nella pagina" in response.json["error"]
    assert value_of(db, card, "context") == before
    assert card_of(db, "A").revision_no == start


def test_edits_to_different_fields_never_conflict(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    base = card.revision_no
    one, two = as_user(client_as, "coord.pubblico@example.org"), as_user(client_as, "coord.ets@example.org")
    assert save(one, card, "co_programmed", "si", base).status_code == 200
    assert save(two, card, "continuity", "no", base).status_code == 200
    assert value_of(db, card, "co_programmed") == "si"
    assert value_of(db, card, "continuity") == "no"


def test_concurrent_choices_merge_what_each_added_and_removed(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    one, two = as_user(client_as, "coord.pubblico@example.org"), as_user(client_as, "membro@example.org")
    assert save(one, card, "sdg", "1\n2", card.revision_no).status_code == 200
    base = value_of(db, card, "sdg")
    # Both start from {1, 2}: one adds 3, the other removes 1 and adds 5. Nobody's tick is lost.
    assert save(one, card, "sdg", "1\n2\n3", card.revision_no, base_value=base).status_code == 200
    second = save(two, card, "sdg", "2\n5", card.revision_no, base_value=base)
    assert second.status_code == 200 and second.json["status"] == "merged", second.json
    assert set(value_of(db, card, "sdg").split("\n")) == {"2", "3", "5"}


def test_retried_save_is_applied_once(client_as: Any, db: Any) -> None:
    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    op, start = uuid.uuid4().hex, card.revision_no
    count = revisions(db, card)
    value = "no" if value_of(db, card, "premial") == "si" else "si"
    first = save(client, card, "premial", value, start, client_op_id=op)
    again = save(client, card, "premial", value, start, client_op_id=op)
    assert first.status_code == again.status_code == 200
    assert again.json["status"] == "duplicate" and again.json["revision"] == first.json["revision"]
    assert revisions(db, card) == count + 1


def test_script_and_javascript_links_are_sanitised(client_as: Any, db: Any, user: Any) -> None:
    from pdz.cards.models import CardValue

    card = card_of(db, "A")
    evil = "Testo <script>alert(1)</script> [clic](javascript:alert(2)) <img src=x onerror=alert(3)> [ok](https://example.org)"
    write_text(user, card, "impact", evil, "membro@example.org")
    db.session.expire_all()
    html = db.session.scalar(
        select(CardValue.value_html).where(CardValue.card_id == card.id, CardValue.key == "impact")
    )
    assert (
        "<script" not in html and "javascript:" not in html and "onerror" not in html and "<img" not in html
    )
    assert 'href="https://example.org"' in html
    page = as_user(client_as, "membro@example.org").get(f"/schede/{card.id}").get_data(as_text=True)
    assert (
        "<script>alert(1)</script>" not in page
        and 'href="javascript:' not in page
        and "<img src=x" not in page
    )


def test_user_removed_from_tavolo_cannot_save(client_as: Any, db: Any, user: Any) -> None:
    from pdz.db import utcnow
    from pdz.tavoli.models import Membership

    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    assert save(client, card, "continuity", "si", card.revision_no).status_code == 200
    member = user("membro@example.org")
    for membership in db.session.scalars(
        select(Membership).where(Membership.user_id == member.id, Membership.body_id == card.body_id)
    ):
        membership.ended_at = utcnow()
    db.session.commit()
    card = card_of(db, "A")
    start = card.revision_no
    response = client.post(
        f"/schede/{card.id}/campi",
        json={"field": "continuity", "value": "no", "base_revision": start},
        headers={"Accept": "application/json"},
    )
    assert response.status_code == 403
    assert "permessi" in response.json["error"]
    assert value_of(db, card, "continuity") == "si"
    assert card_of(db, "A").revision_no == start


def test_save_against_moved_card_is_refused(client_as: Any, db: Any, body: Any) -> None:
    card = card_of(db, "L-EMERG")
    old_body = card.body_id
    udp = as_user(client_as, "udp@example.org")
    target = body("Tavolo Politiche Abitative")
    assert udp.post(f"/schede/{card.id}/sposta", data={"body_id": target.id}).status_code == 303
    before = value_of(db, card, "continuity")
    value = "no" if before == "si" else "si"
    response = save(udp, card, "continuity", value, card_of(db, "L-EMERG").revision_no, body_id=old_body)
    assert response.status_code == 409
    assert "spostata" in response.json["error"] and target.display_name in response.json["error"]
    assert value_of(db, card, "continuity") == before


def test_money_lines_parse_italian_amounts_and_totals_stay_right(client_as: Any, db: Any) -> None:
    from pdz.cards.models import CardBudgetLine
    from pdz.cards.services import budget_totals

    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    total = budget_totals(card.id)["total"]
    url = f"/schede/{card.id}/righe/risorse"
    ok = client.post(
        url,
        json={
            "values": {
                "source": "fsr",
                "description": "Quota FSR",
                "amount_cents": "4.042.451,36 €",
                "counted": True,
            }
        },
    )
    assert ok.status_code == 200, ok.json
    row_id = ok.json["row"]["row_id"]
    assert db.session.get(CardBudgetLine, row_id).amount_cents == 404245136
    assert budget_totals(card.id)["total"] == total + 404245136
    assert budget_totals(card.id)["by_source"]["fsr"] == 404245136
    for bad, message in [
        ("-5,00", "negativo"),
        ("12,345", "due cifre"),
        ("1.00.0", "non è un importo valido"),
        ("abc", "non è un importo valido"),
    ]:
        response = client.post(url, json={"values": {"source": "fsr", "amount_cents": bad, "counted": True}})
        assert response.status_code == 422 and message in response.json["error"], (bad, response.json)
    assert budget_totals(card.id)["total"] == total + 404245136
    # Change the amount of the new line, then exclude it from the total.
    base = card_of(db, "A").revision_no
    changed = client.post(
        f"{url}/{row_id}", json={"values": {"amount_cents": "1.000"}, "base_revision": base}
    )
    assert changed.status_code == 200
    assert budget_totals(card.id)["total"] == total + 100000
    client.post(
        f"{url}/{row_id}", json={"values": {"counted": False}, "base_revision": card_of(db, "A").revision_no}
    )
    assert budget_totals(card.id)["total"] == total
    removed = client.post(f"{url}/{row_id}/rimuovi", json={})
    assert removed.status_code == 200
    db.session.expire_all()
    assert db.session.get(CardBudgetLine, row_id).removed is True


def test_declared_total_must_match_lines(client_as: Any, db: Any) -> None:
    from pdz.cards.services import budget_totals

    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    computed = budget_totals(card.id)["total"]
    wrong = save(client, card, "declared_total", "1.000,00", card.revision_no)
    assert wrong.status_code == 422
    assert "non corrisponde alla somma delle righe" in wrong.json["error"]
    assert card_of(db, "A").declared_total_cents == 475050390
    euros, cents = divmod(computed, 100)
    right = save(
        client, card, "declared_total", f"{euros:,}".replace(",", ".") + f",{cents:02d} €", card.revision_no
    )
    assert right.status_code == 200, right.json


def test_concurrent_edits_of_different_rows_never_conflict(client_as: Any, db: Any) -> None:
    card = card_of(db, "L-EMERG")  # Tavolo Povertà's card with two objectives: A has one (001 l.3689-3691)
    base = card.revision_no
    from pdz.cards.models import CardObjective

    rows = [
        o.id
        for o in db.session.scalars(
            select(CardObjective).where(CardObjective.card_id == card.id).order_by(CardObjective.position)
        )
    ]
    one, two = as_user(client_as, "coord.pubblico@example.org"), as_user(client_as, "membro@example.org")
    assert (
        one.post(
            f"/schede/{card.id}/righe/obiettivi/{rows[0]}",
            json={"values": {"text": "Primo obiettivo rivisto"}, "base_revision": base},
        ).status_code
        == 200
    )
    assert (
        two.post(
            f"/schede/{card.id}/righe/obiettivi/{rows[1]}",
            json={"values": {"text": "Secondo obiettivo rivisto"}, "base_revision": base},
        ).status_code
        == 200
    )
    clash = two.post(
        f"/schede/{card.id}/righe/obiettivi/{rows[0]}",
        json={"values": {"text": "Primo obiettivo riscritto"}, "base_revision": base},
    )
    # The same attribute changed by two people at once: refused, the message carries both values.
    assert clash.status_code == 422, clash.json
    assert (
        "Primo obiettivo rivisto" in clash.json["error"]
        and "Primo obiettivo riscritto" in clash.json["error"]
    )
    db.session.expire_all()
    assert db.session.get(CardObjective, rows[0]).text == "Primo obiettivo rivisto"
    assert db.session.get(CardObjective, rows[1]).text == "Secondo obiettivo rivisto"


def test_history_diff_and_restore(client_as: Any, db: Any, user: Any) -> None:
    from pdz.cards.models import CardRevision

    card = card_of(db, "A")
    client = as_user(client_as, "coord.pubblico@example.org")
    original = value_of(db, card, "context")
    start = card.revision_no
    write_text(user, card, "context", original + " Aggiunta importante.", "coord.pubblico@example.org")
    assert card_of(db, "A").revision_no == start + 1
    history = client.get(f"/schede/{card.id}/storia")
    assert history.status_code == 200
    text = history.get_data(as_text=True)
    assert "Breve descrizione del contesto" in text and "Ripristina questa versione" in text
    diff = client.get(f"/schede/{card.id}/confronto?da={start}&a={start + 1}").get_data(as_text=True)
    assert "<ins>" in diff and "importante" in diff
    restored = client.post(f"/schede/{card.id}/ripristina", data={"number": start})
    assert restored.status_code == 303
    assert value_of(db, card, "context") == original
    after = card_of(db, "A")
    assert after.revision_no == start + 2  # the restore is itself a revision; nothing deleted
    last = db.session.scalar(
        select(CardRevision)
        .where(CardRevision.card_id == card.id)
        .order_by(CardRevision.number.desc())
        .limit(1)
    )
    assert (last.field, last.kind) == ("context", "ripristino")
    diff_back = client.get(f"/schede/{card.id}/confronto?da={start + 1}&a={start + 2}").get_data(as_text=True)
    assert "<del>" in diff_back
    # demo revisions by different users are listed
    assert text.count("Versione ") >= 5


def test_rows_work_without_javascript(client_as: Any, db: Any) -> None:
    from pdz.cards.models import CardPersonnel

    card = card_of(db, "A")
    client = as_user(client_as, "membro@example.org")
    added = client.post(
        f"/schede/{card.id}/righe/personale",
        data={
            "_form": "1",
            "organisation": "Comune di Crema",
            "quantity": "2",
            "function": "assistenti sociali",
        },
    )
    assert added.status_code == 303
    # the newest row: the demo card already lists the plan's staff (001 l.3795-3828)
    row = db.session.scalar(
        select(CardPersonnel)
        .where(CardPersonnel.card_id == card.id)
        .order_by(CardPersonnel.id.desc())
        .limit(1)
    )
    assert (row.organisation, row.quantity) == ("Comune di Crema", "2")
    page = client.get(f"/schede/{card.id}").get_data(as_text=True)
    assert "assistenti sociali" in page
