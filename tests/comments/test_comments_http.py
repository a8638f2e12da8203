"""Comments through HTTP on the demo data: write, read, reply, mention, edit, remove, resolve, bad input."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import func, select
from tests.conftest import outbox


def op() -> str:
    return uuid.uuid4().hex


def post(client: Any, body: Any, text: str, **extra: Any) -> Any:
    payload = {"target_kind": "tavolo", "target_id": body.id, "text": text, "client_op_id": op(), **extra}
    return client.post(f"/tavoli/{body.id}/commenti", json=payload, headers={"Accept": "application/json"})


def thread(client: Any, body: Any) -> Any:
    return client.get(f"/tavoli/{body.id}/commenti?kind=tavolo&id={body.id}")


def count_comments(db: Any) -> int:
    from pdz.comments.models import Comment

    return (
        db.session.scalar(select(func.count(Comment.id)).where(~Comment.client_op_id.startswith("demo-")))
        or 0
    )


def test_member_comment_is_rendered_sanitised_and_read_by_the_tavolo(client_as, tavolo, db):
    response = post(
        client_as("membro@example.org"),
        tavolo,
        "Serve **più** tempo <script>alert(1)</script> [x](javascript:alert(2))",
    )
    assert response.status_code == 201, response.json
    assert response.json["created"] is True
    listed = thread(client_as("coord.ets@example.org"), tavolo).json
    [comment] = listed["comments"]
    assert "<strong>più</strong>" in comment["html"] and "<script>" not in comment["html"]
    assert "javascript:" not in comment["html"]
    assert comment["author_name"] and listed["room"] == f"tavolo:{tavolo.id}"
    page = client_as("osservatore@example.org").get(f"/tavoli/{tavolo.id}/discussione")
    assert page.status_code == 200 and b"data-thread-box" in page.data


def test_outsider_can_neither_read_nor_write(client_as, tavolo, db):
    outsider = client_as("disabilita@example.org")
    assert thread(outsider, tavolo).status_code == 403
    assert outsider.get(f"/tavoli/{tavolo.id}/discussione").status_code == 403
    assert post(outsider, tavolo, "Ciao").status_code == 403
    assert count_comments(db) == 0


def test_observer_may_comment(client_as, tavolo):
    assert post(client_as("osservatore@example.org"), tavolo, "Osservazione").status_code == 201


@pytest.mark.parametrize("text", ["", "   \n ", "x" * 10_001])
def test_empty_or_overlong_comment_is_refused_and_nothing_stored(client_as, tavolo, db, text):
    response = post(client_as("membro@example.org"), tavolo, text)
    assert response.status_code == 422
    assert "commento" in response.json["error"].lower()
    assert count_comments(db) == 0


def test_a_retried_send_is_stored_once(client_as, tavolo, db):
    client, op_id = client_as("membro@example.org"), op()
    first = post(client, tavolo, "Una volta sola", client_op_id=op_id)
    again = post(client, tavolo, "Una volta sola", client_op_id=op_id)
    assert first.status_code == 201 and again.status_code == 201
    assert again.json["created"] is False and again.json["comment"]["id"] == first.json["comment"]["id"]
    assert count_comments(db) == 1


def test_target_of_another_tavolo_or_unknown_kind_is_not_found(client_as, tavolo, body, db):
    client = client_as("membro@example.org")
    other = body("Tavolo Permanente Disabilità")
    assert post(client, tavolo, "x", target_id=other.id).status_code == 404
    assert post(client, tavolo, "x", target_kind="scheda").status_code == 404
    assert count_comments(db) == 0


def test_mention_of_someone_who_cannot_read_is_refused_listing_them(client_as, tavolo, user, db):
    outsider = user("disabilita@example.org")
    response = post(client_as("membro@example.org"), tavolo, "@Esterno guarda", mention_ids=[outsider.id])
    assert response.status_code == 422
    assert outsider.full_name in response.json["error"]
    assert count_comments(db) == 0
    assert outbox(db, outsider.email) == []


def test_mention_notifies_in_app_and_by_mail_with_working_unsubscribe(app, client_as, tavolo, user, db):
    coord = user("coord.ets@example.org")
    response = post(
        client_as("membro@example.org"),
        tavolo,
        f"@{coord.full_name} puoi verificare?",
        mention_ids=[coord.id],
    )
    assert response.status_code == 201
    coord_client = client_as(coord.email)
    page = coord_client.get("/notifiche")
    assert "ti ha menzionato" in page.get_data(as_text=True)
    assert coord_client.get("/notifiche/conteggio").json["unread"] == 1
    [mail] = outbox(db, coord.email)
    assert "ti ha menzionato" in mail.body and "/notifiche/disiscriviti/" in mail.body
    unsubscribe = "/notifiche/disiscriviti/" + mail.body.split("/notifiche/disiscriviti/")[1].split()[0]
    anonymous = app.test_client()
    assert anonymous.get(unsubscribe).status_code == 200
    assert anonymous.post(unsubscribe).status_code == 200
    assert anonymous.get("/notifiche/disiscriviti/forged-token").status_code == 404
    post(client_as("membro@example.org"), tavolo, f"@{coord.full_name} ancora", mention_ids=[coord.id])
    assert len(outbox(db, coord.email)) == 1  # no more mail after unsubscribing
    assert coord_client.get("/notifiche/conteggio").json["unread"] == 2  # in-app stays


def test_reply_notifies_the_author_and_digest_is_sent_once(app, client_as, tavolo, user, db):
    root = post(client_as("membro@example.org"), tavolo, "Proposta iniziale").json["comment"]
    reply = post(client_as("coord.pubblico@example.org"), tavolo, "Concordo", parent_id=root["id"])
    assert reply.status_code == 201 and reply.json["comment"]["parent_id"] == root["id"]
    assert outbox(db, "membro@example.org") == []  # replies wait for the digest
    runner = app.test_cli_runner()
    assert "Riepiloghi inviati: 1" in runner.invoke(args=["notifications-digest"]).output
    [digest] = outbox(db, "membro@example.org")
    assert "ha risposto al tuo commento" in digest.body and "/notifiche/disiscriviti/" in digest.body
    assert "Riepiloghi inviati: 0" in runner.invoke(args=["notifications-digest"]).output
    assert len(outbox(db, "membro@example.org")) == 1


def test_reply_to_removed_or_foreign_comment_is_refused(client_as, tavolo, body, db):
    member = client_as("membro@example.org")
    root = post(member, tavolo, "Da rimuovere").json["comment"]
    assert member.post(f"/tavoli/{tavolo.id}/commenti/{root['id']}/rimuovi").status_code == 200
    refused = post(member, tavolo, "Rispondo", parent_id=root["id"])
    assert refused.status_code == 422 and "rimosso" in refused.json["error"]
    housing = body("Tavolo Politiche Abitative")
    foreign = post(member, housing, "Altro tavolo").json["comment"]
    refused = post(member, tavolo, "Rispondo", parent_id=foreign["id"])
    assert refused.status_code == 422 and "altra discussione" in refused.json["error"]
    assert count_comments(db) == 2


def test_edit_keeps_history_and_only_the_author_edits(client_as, tavolo):
    member = client_as("membro@example.org")
    comment = post(member, tavolo, "Prima versione").json["comment"]
    url = f"/tavoli/{tavolo.id}/commenti/{comment['id']}"
    assert (
        client_as("coord.ets@example.org").post(url + "/modifica", json={"text": "Hack"}).status_code == 403
    )
    edited = member.post(url + "/modifica", json={"text": "Seconda versione"})
    assert edited.status_code == 200 and edited.json["comment"]["edited"] is True
    history = member.get(url + "/modifiche").json["edits"]
    assert [h["html"] for h in history] == ["<p>Prima versione</p>"]
    assert "Seconda versione" in thread(member, tavolo).json["comments"][0]["html"]


def test_remove_is_soft_by_author_or_co_coordinator_only(client_as, tavolo):
    member, coord = client_as("membro@example.org"), client_as("coord.pubblico@example.org")
    mine = post(member, tavolo, "Mio").json["comment"]
    theirs = post(coord, tavolo, "Del coordinatore").json["comment"]
    assert member.post(f"/tavoli/{tavolo.id}/commenti/{theirs['id']}/rimuovi").status_code == 403
    assert coord.post(f"/tavoli/{tavolo.id}/commenti/{mine['id']}/rimuovi").status_code == 200
    listed = {c["id"]: c for c in thread(member, tavolo).json["comments"]}
    assert listed[mine["id"]]["status"] == "rimosso" and listed[mine["id"]]["html"] == ""
    assert "Del coordinatore" in listed[theirs["id"]]["html"]


def test_resolve_and_reopen_a_conversation(client_as, tavolo):
    member = client_as("membro@example.org")
    root = post(member, tavolo, "Domanda").json["comment"]
    reply = post(member, tavolo, "Risposta", parent_id=root["id"]).json["comment"]
    url = f"/tavoli/{tavolo.id}/commenti"
    assert member.post(f"{url}/{reply['id']}/risolvi").status_code == 422
    assert member.post(f"{url}/{root['id']}/risolvi").json["comment"]["status"] == "risolto"
    assert client_as("disabilita@example.org").post(f"{url}/{root['id']}/riapri").status_code == 403
    assert member.post(f"{url}/{root['id']}/riapri").json["comment"]["status"] == "visibile"


def test_unread_counts_per_tavolo_and_read_marker(client_as, tavolo):
    for text in ("Uno", "Due", "Tre"):
        post(client_as("membro@example.org"), tavolo, text)
    coord = client_as("coord.ets@example.org")
    workspace = coord.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    assert 'title="commenti non letti">3</span>' in workspace
    assert "Tavolo Povertà" in coord.get("/notifiche").get_data(as_text=True)
    listed = thread(coord, tavolo).json
    marked = coord.post(
        f"/tavoli/{tavolo.id}/commenti/letti",
        json={"thread_id": listed["thread_id"], "last_comment_id": listed["comments"][1]["id"]},
    )
    assert marked.status_code == 200
    assert 'title="commenti non letti">1</span>' in coord.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    author_page = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    assert "commenti non letti" not in author_page  # one's own comments are never unread


def test_followers_get_new_comment_notifications(client_as, tavolo):
    coord = client_as("coord.ets@example.org")
    assert coord.post(
        f"/tavoli/{tavolo.id}/commenti/segui", json={"target_kind": "tavolo", "target_id": tavolo.id}
    ).json["following"]
    post(client_as("membro@example.org"), tavolo, "Novità")
    assert "ha commentato" in coord.get("/notifiche").get_data(as_text=True)


def test_notification_preferences_are_saved(client_as, db, user):
    from pdz.notifications.models import NotificationPreference

    client = client_as("membro@example.org")
    assert client.get("/notifiche/preferenze").status_code == 200
    response = client.post("/notifiche/preferenze", data={"mentions": "riepilogo", "others": "mai"})
    assert response.status_code == 302
    db.session.expire_all()
    saved = db.session.get(NotificationPreference, user("membro@example.org").id)
    assert (str(saved.mentions), str(saved.others)) == ("riepilogo", "mai")


def test_thread_query_count_does_not_grow(client_as, tavolo, count_queries):
    member = client_as("membro@example.org")
    post(member, tavolo, "Primo")
    with count_queries() as few:
        thread(member, tavolo)
    for i in range(12):
        post(
            client_as("coord.ets@example.org" if i % 2 else "coord.pubblico@example.org"),
            tavolo,
            f"Commento {i}",
        )
    with count_queries() as many:
        thread(member, tavolo)
    assert many() == few()


class TestFlood:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"PDZ_COMMENT_RATE_LIMIT": "3 per minute"}

    def test_a_flood_of_comments_is_rate_limited_with_a_clear_message(self, client_as, tavolo, db):
        member = client_as("coord.pubblico@example.org")  # no demo comments of theirs in the last minute
        assert [post(member, tavolo, f"n. {i}").status_code for i in range(3)] == [201, 201, 201]
        refused = post(member, tavolo, "troppi")
        assert refused.status_code == 429 and "attendi" in refused.json["error"]
        assert count_comments(db) == 3


def test_demo_discussion_is_loaded_once(app, db, client_as, body):
    from pdz.comments.models import Comment
    from pdz.db import unit_of_work
    from pdz.demo import load_demo

    housing = body("Tavolo Politiche Abitative")
    listed = thread(client_as("membro@example.org"), housing).json["comments"]
    assert len(listed) == 3 and listed[1]["parent_id"] == listed[0]["id"]
    with unit_of_work():
        load_demo()
    assert db.session.scalar(select(func.count(Comment.id))) == 3


def test_someone_who_left_the_tavolo_gets_no_more_notifications_nor_digest(app, client_as, tavolo, user, db):
    from pdz.db import unit_of_work
    from pdz.tavoli import services as tavoli_services
    from pdz.tavoli.models import Membership

    member = user("membro@example.org")
    post(client_as(member.email), tavolo, "Seguo questa discussione")
    post(client_as("coord.ets@example.org"), tavolo, "Prima dell'uscita")  # pending for the digest
    membership = db.session.scalar(
        select(Membership).where(
            Membership.user_id == member.id, Membership.body_id == tavolo.id, Membership.ended_at.is_(None)
        )
    )
    assert "Prima dell" in client_as(member.email).get("/notifiche").get_data(as_text=True)
    with unit_of_work():
        tavoli_services.end_membership(tavolo, membership.id, actor=user("coord.ets@example.org"))
    post(client_as("coord.ets@example.org"), tavolo, "Dopo l'uscita")
    notes = client_as(member.email).get("/notifiche").get_data(as_text=True)
    assert "Prima dell" not in notes and "Dopo l" not in notes  # nothing of a tavolo they can no longer read
    assert client_as(member.email).get("/notifiche/conteggio").json["unread"] == 0
    app.test_cli_runner().invoke(args=["notifications-digest"])
    assert outbox(db, member.email) == []  # what was pending is not mailed once they cannot read it


def test_notification_centre_query_count_does_not_grow(client_as, tavolo, count_queries):
    coord = client_as("coord.ets@example.org")
    coord.post(f"/tavoli/{tavolo.id}/commenti/segui", json={"target_kind": "tavolo", "target_id": tavolo.id})
    post(client_as("membro@example.org"), tavolo, "Uno")
    with count_queries() as few:
        coord.get("/notifiche")
    for i in range(10):
        post(client_as("membro@example.org" if i % 2 else "osservatore@example.org"), tavolo, f"Altro {i}")
    with count_queries() as many:
        page = coord.get("/notifiche")
    assert page.get_data(as_text=True).count('data-testid="notification"') == 11
    assert many() == few()


def test_opening_a_notification_marks_it_read_and_only_its_owner_may(client_as, tavolo, user, db):
    from pdz.notifications.models import Notification

    coord = user("coord.ets@example.org")
    post(client_as("membro@example.org"), tavolo, "Ciao", mention_ids=[coord.id])
    note = db.session.scalar(select(Notification).where(Notification.user_id == coord.id))
    assert client_as("osservatore@example.org").post(f"/notifiche/{note.id}/apri").status_code == 403
    opened = client_as(coord.email).post(f"/notifiche/{note.id}/apri")
    assert opened.status_code == 302 and opened.location.endswith(
        f"/tavoli/{tavolo.id}/discussione#commento-{note.comment_id}"
    )
    assert client_as(coord.email).get("/notifiche/conteggio").json["unread"] == 0


def test_mention_candidates_are_the_people_who_may_read(client_as, tavolo, user):
    people = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}/commenti/persone?q=").json["people"]
    ids = {p["id"] for p in people}
    everyone = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}/commenti/persone?q=a").json["people"]
    assert user("disabilita@example.org").id not in ids | {p["id"] for p in everyone}
    coord = user("coord.ets@example.org")
    found = (
        client_as("membro@example.org")
        .get(f"/tavoli/{tavolo.id}/commenti/persone?q={coord.full_name[:4]}")
        .json["people"]
    )
    assert coord.id in {p["id"] for p in found}
    assert (
        client_as("disabilita@example.org").get(f"/tavoli/{tavolo.id}/commenti/persone?q=a").status_code
        == 403
    )


def test_field_threads_beside_each_part_of_the_mandate(client_as, tavolo, body, db, user):
    from pdz.comments import queries
    from pdz.tavoli.models import Mandate, MandateStatus

    mandate = db.session.scalar(
        select(Mandate).where(Mandate.body_id == tavolo.id, Mandate.status == MandateStatus.IN_FORCE)
    )
    member = client_as("membro@example.org")
    page = member.get(f"/tavoli/{tavolo.id}/discussione").get_data(as_text=True)
    assert page.count("data-thread-box") == 6 and 'data-field-key="finalita"' in page
    on_field = post(
        member,
        tavolo,
        "Aggiungerei i giovani adulti",
        target_kind="mandate",
        target_id=mandate.id,
        field_key="finalita",
    )
    assert on_field.status_code == 201 and on_field.json["comment"]["field_key"] == "finalita"
    assert (
        post(
            member, tavolo, "x", target_kind="mandate", target_id=mandate.id, field_key="inventato"
        ).status_code
        == 404
    )
    other = db.session.scalar(select(Mandate).where(Mandate.body_id == body("Tavolo Politiche Abitative").id))
    assert (
        post(member, tavolo, "x", target_kind="mandate", target_id=other.id, field_key="finalita").status_code
        == 404
    )
    listed = member.get(f"/tavoli/{tavolo.id}/commenti?kind=mandate&id={mandate.id}&field=finalita").json[
        "comments"
    ]
    assert [c["source"] for c in listed] == ["Aggiungerei i giovani adulti"]
    assert (
        member.get(f"/tavoli/{tavolo.id}/commenti?kind=mandate&id={mandate.id}&field=tempi").json["comments"]
        == []
    )
    coord = user("coord.ets@example.org")
    assert queries.unread_by_field(coord, "mandate", mandate.id) == {"finalita": 1}
    assert queries.unread_by_target(coord, "mandate", [mandate.id]) == {mandate.id: 1}
