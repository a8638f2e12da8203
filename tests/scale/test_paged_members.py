"""Issue #17: the members of a tavolo are paged (tavoli.queries.MEMBERS_PAGE a page) on the workspace and on
the members page; together the pages list exactly the current members the single page listed, each once, in
the same order (organisation name, then person name), and the count is every current member."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from sqlalchemy import select


def _current_members(db: Any, tavolo: Any) -> list[tuple[str, str, str]]:
    """(organisation, person, e-mail) of every current membership, in the order the unpaged page used."""
    from pdz.accounts.models import User
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Membership

    rows = db.session.execute(
        select(Organisation.name, User.full_name, User.email)
        .join(Membership, Membership.organisation_id == Organisation.id)
        .join(User, User.id == Membership.user_id)
        .where(Membership.body_id == tavolo.id, Membership.ended_at.is_(None))
    ).all()
    return sorted((tuple(r) for r in rows), key=lambda r: (r[0], r[1]))  # type: ignore[misc]


def _pages(client: Any, url: str) -> list[str]:
    pages, page = [], 1
    while True:
        answer = client.get(f"{url}?pagina={page}")
        assert answer.status_code == 200
        pages.append(answer.get_data(as_text=True))
        if 'rel="next"' not in pages[-1]:
            return pages
        page += 1
        assert page < 100


@pytest.mark.parametrize("per_page", [4, 50])
def test_members_pages_list_every_current_member_once_in_order(
    client_as: Any, db: Any, tavolo: Any, per_page: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdz.tavoli import queries

    monkeypatch.setattr(queries, "MEMBERS_PAGE", per_page)
    expected = _current_members(db, tavolo)
    assert len(expected) > 4
    client = client_as("coord.pubblico@example.org")

    pages = _pages(client, f"/tavoli/{tavolo.id}/componenti")
    assert len(pages) == -(-len(expected) // per_page)
    listed = [
        (html.unescape(org), html.unescape(name), html.unescape(email))
        for page in pages
        for name, email, org in re.findall(
            r'<th scope="row">([^<]+)<br><span class="muted">([^<]+)</span></th>\s*<td>([^<]+)</td>', page
        )
    ]
    assert listed == expected
    if len(pages) > 1:
        assert f"({len(expected)} componenti)" in pages[0]

    workspace = _pages(client, f"/tavoli/{tavolo.id}")
    assert len(workspace) == len(pages)
    assert f'<span class="muted">({len(expected)})</span></h2>' in workspace[0]
    names = []
    for page in workspace:
        section = page.split('id="members"', 1)[1].split("</section>", 1)[0]
        names += [html.unescape(n).strip() for n in re.findall(r"<li>([^<]+)", section)]
    assert names == [name for _, name, _ in expected]


def test_a_page_number_out_of_range_or_not_a_number_shows_the_nearest_page(
    client_as: Any, tavolo: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pdz.tavoli import queries

    monkeypatch.setattr(queries, "MEMBERS_PAGE", 4)
    client = client_as("coord.pubblico@example.org")
    first = client.get(f"/tavoli/{tavolo.id}/componenti").get_data(as_text=True)
    for bad in ("0", "-1", "abc", "1e3", "9999999999"):
        answer = client.get(f"/tavoli/{tavolo.id}/componenti?pagina={bad}")
        assert answer.status_code == 200, bad
        assert "Pagina 1 di" in answer.get_data(as_text=True), bad
    last = client.get(f"/tavoli/{tavolo.id}/componenti?pagina=500").get_data(as_text=True)
    assert 'rel="next"' not in last and 'rel="prev"' in last and last != first
