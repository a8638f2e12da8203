"""Search (issue #16 point 1) through HTTP on both databases: permissions, escaping, stemming, and the index
written in the same transaction as each change."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select


def groups(page: str) -> list[str]:
    return re.findall(r'data-testid="search-group-(\w+)"', page)


def search(client: Any, q: str, **args: str) -> str:
    response = client.get("/cerca", query_string={"q": q, **args})
    assert response.status_code == 200
    return response.get_data(as_text=True)


def add_org(db: Any, name: str, description: str = "") -> Any:
    from pdz.orgs.models import Organisation, OrgKind

    org = Organisation(name=name, kind=OrgKind.ETS, description=description)
    db.session.add(org)
    db.session.commit()
    return org


def entry(db: Any, kind: str, object_id: int) -> Any:
    from pdz.search.models import SearchEntry

    return db.session.scalar(
        select(SearchEntry).where(SearchEntry.kind == kind, SearchEntry.object_id == object_id)
    )


def test_demo_is_indexed_and_grouped_by_kind(client_as: Any) -> None:
    udp = client_as("udp@example.org")
    page = search(udp, "servizi")
    assert "card" in groups(page) and "document" in groups(page)
    assert "<mark>" in page
    assert "Povertà" in search(udp, "povertà")  # diacritics kept in the page, folded in the match
    for word, kind in (("Incontro", "meeting"), ("Banco Solidarietà", "org"), ("membro", "person")):
        assert kind in groups(search(udp, word)), word


def test_a_member_sees_only_what_his_tavoli_may_read(db: Any, client_as: Any, user: Any) -> None:
    from pdz.cards.models import Card
    from pdz.tavoli.models import Membership

    membro = user("membro@example.org")
    mine = set(
        db.session.scalars(
            select(Membership.body_id).where(Membership.user_id == membro.id, Membership.ended_at.is_(None))
        )
    )
    other = db.session.scalar(select(Card).where(Card.body_id.not_in(mine)).order_by(Card.id))
    own = db.session.scalar(select(Card).where(Card.body_id.in_(mine)).order_by(Card.id))
    assert other is not None and own is not None
    word = "Ciliegiolo"
    for card in (other, own):
        card.title = f"{card.title} {word}{card.id}"
    db.session.commit()
    member_page = search(client_as("membro@example.org"), word)
    udp_page = search(client_as("udp@example.org"), word)
    assert f"/schede/{own.id}" in member_page and f"/schede/{other.id}" not in member_page
    assert f"/schede/{own.id}" in udp_page and f"/schede/{other.id}" in udp_page
    # the counts shown follow the same filter
    assert search(client_as("membro@example.org"), f"{word}{other.id}").count('data-testid="search-hit"') == 0


def test_highlights_are_escaped(db: Any, client_as: Any) -> None:
    add_org(db, "Zafferano <script>alert(1)</script> ODV", 'Sede "<b>qui</b>" & <img src=x onerror=alert(2)>')
    page = search(client_as("udp@example.org"), "zafferano")
    assert "<mark>Zafferano</mark>" in page
    assert "<script>alert(1)" not in page and "<img src=x" not in page and "<b>qui" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    hostile = search(client_as("udp@example.org"), '"(zafferano* ^:-')
    assert "<mark>Zafferano</mark>" in hostile  # FTS/tsquery syntax in the box is only words


def test_italian_inflections_match(db: Any, client_as: Any) -> None:
    add_org(db, "Cooperativa Biancospino", "Gestisce un servizio di prossimità per le famiglie.")
    udp = client_as("udp@example.org")
    for query in ("servizi biancospino", "servizio biancospino", "famiglia biancospino", "biancospini"):
        assert "Biancospino" in search(udp, query), query


def test_index_follows_the_transaction(app: Any, db: Any, client_as: Any) -> None:
    from pdz.orgs.models import Organisation, OrgKind

    org = Organisation(name="Associazione Ontano", kind=OrgKind.ETS)
    db.session.add(org)
    db.session.flush()
    ident = org.id
    db.session.rollback()
    assert entry(db, "org", ident) is None
    assert "Ontano" not in search(client_as("udp@example.org"), "ontano")
    org = add_org(db, "Associazione Ontano")
    assert entry(db, "org", org.id).title == "Associazione Ontano"
    org.name = "Associazione Frassino"
    db.session.commit()
    udp = client_as("udp@example.org")
    assert "Frassino" in search(udp, "frassino") and "Ontano" not in search(udp, "ontano")
    db.session.delete(org)
    db.session.commit()
    assert entry(db, "org", org.id) is None


def test_card_fields_written_through_the_engine_are_found(
    db: Any, client_as: Any, user: Any, tavolo: Any
) -> None:
    from pdz.cards.models import Card
    from pdz.coedit import engine

    card = db.session.scalar(select(Card).where(Card.body_id == tavolo.id).order_by(Card.id))
    answer = engine.replace_text(
        f"card:{card.id}", "needs", "Servono sportelli di quartiere Melograno.", actor=user("udp@example.org")
    )
    assert answer["ok"], answer  # the engine stores, materialises and commits in its own transaction
    page = search(client_as("coord.pubblico@example.org"), "melograno")
    assert f"/schede/{card.id}" in page and "<mark>Melograno</mark>" in page


def test_removed_comment_leaves_the_results(db: Any, client_as: Any) -> None:
    from pdz.comments.models import Comment, CommentStatus

    comment = db.session.scalar(select(Comment).order_by(Comment.id))
    assert comment is not None
    comment.body_source = "Serve un incontro con il Gelsomino"
    db.session.commit()
    assert "comment" in groups(search(client_as("udp@example.org"), "gelsomino"))
    comment.status = CommentStatus.REMOVED
    db.session.commit()
    assert groups(search(client_as("udp@example.org"), "gelsomino")) == []


def test_one_kind_asks_and_bad_input_is_calm(client_as: Any) -> None:
    udp = client_as("udp@example.org")
    page = search(udp, "incontro", tipo="meeting")
    assert groups(page) == ["meeting"] and page.count('data-testid="search-hit"') > 5
    assert groups(search(udp, "incontro", tipo="nonesiste"))  # unknown kind: every kind
    assert "Scrivi almeno una parola" in search(udp, "* - !")
    assert "accorciata" in search(udp, "parola " * 60)
    assert "Nessun risultato" in search(udp, "xqzwvk")
    assert udp.get("/cerca?q=%00%ED%A0%80%FF").status_code in (200, 400)


def test_search_needs_signing_in_and_the_box_is_in_the_header(app: Any, client_as: Any) -> None:
    assert app.test_client().get("/cerca?q=servizi").status_code == 302
    home = client_as("membro@example.org").get("/").get_data(as_text=True)
    assert 'action="/cerca"' in home and 'for="search-box-q"' in home


def test_reindex_command_rebuilds(app: Any, db: Any, client_as: Any) -> None:
    from pdz.search.models import SearchEntry

    db.session.execute(SearchEntry.__table__.delete())
    db.session.commit()
    assert groups(search(client_as("udp@example.org"), "servizi")) == []
    result = app.test_cli_runner().invoke(args=["search-reindex"])
    assert result.exit_code == 0, result.output
    assert "card" in groups(search(client_as("udp@example.org"), "servizi"))


def test_a_common_word_ranks_the_newest_matches_and_caps_the_count(
    db: Any, client_as: Any, user: Any, monkeypatch: Any
) -> None:
    """docs/search.md: each kind ranks only its newest CANDIDATES matches the person may read (newest = the
    most recently indexed), and counts up to one more ("più di N"); a row the person may not read never
    takes one of those places."""
    from pdz.cards.models import Card
    from pdz.search import queries
    from pdz.search.models import SearchEntry
    from pdz.tavoli.models import Membership

    monkeypatch.setattr(queries, "CANDIDATES", 2)
    monkeypatch.setattr(queries, "_STATEMENTS", {})  # statements are built with the limit inside
    membro = user("membro@example.org")
    mine = set(
        db.session.scalars(
            select(Membership.body_id).where(Membership.user_id == membro.id, Membership.ended_at.is_(None))
        )
    )
    entry_of = dict(
        db.session.execute(
            select(SearchEntry.object_id, SearchEntry.id).where(SearchEntry.kind == "card")
        ).all()
    )
    own = sorted(
        db.session.scalars(select(Card).where(Card.body_id.in_(mine))), key=lambda c: entry_of[c.id]
    )[:3]
    other = max(
        db.session.scalars(select(Card).where(Card.body_id.not_in(mine))), key=lambda c: entry_of[c.id]
    )
    assert len(own) == 3 and entry_of[other.id] > max(entry_of[c.id] for c in own)
    for card in (*own, other):
        card.title = f"{card.title} Tamerice"
    db.session.commit()

    def shown(page: str) -> set[int]:
        return {int(i) for i in re.findall(r'href="/schede/(\d+)"', page)}

    member_page = search(client_as("membro@example.org"), "tamerice")
    # the newest two of the three cards he may read; the newer hidden card took no place
    assert shown(member_page) == {own[1].id, own[2].id}
    assert "più di 2" in member_page and "Altri risultati in schede" in member_page
    assert shown(search(client_as("membro@example.org"), "tamerice", tipo="card")) == {own[1].id, own[2].id}
    udp_page = search(client_as("udp@example.org"), "tamerice")
    assert shown(udp_page) == {other.id, own[2].id} and "più di 2" in udp_page
    # below the cap the count is exact and every match is ranked
    monkeypatch.setattr(queries, "CANDIDATES", 1000)
    monkeypatch.setattr(queries, "_STATEMENTS", {})
    member_page = search(client_as("membro@example.org"), "tamerice")
    assert shown(member_page) == {c.id for c in own} and "più di" not in member_page
    assert 'Schede <span class="muted">(3)</span>' in member_page
