"""Demo command, error pages, Markdown sanitising, locale."""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select


def test_demo_command_is_idempotent(app: Any, db: Any) -> None:
    from pdz.accounts.models import User
    from pdz.tavoli.models import Body, Membership
    from pdz.territory.models import Comune

    def counts() -> tuple[int, ...]:
        db.session.expire_all()
        return tuple(db.session.scalar(select(func.count(m.id))) for m in (User, Body, Membership, Comune))

    before = counts()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert "udp@example.org" in result.output and "password per tutti: demo" in result.output
    assert counts() == before
    assert before[3] == 48


def test_error_pages_are_in_italian_without_stack_traces(client_as: Any) -> None:
    client = client_as("membro@example.org")
    missing = client.get("/tavoli/999999")
    assert missing.status_code == 404 and "Pagina non trovata" in missing.get_data(as_text=True)
    assert "Traceback" not in missing.get_data(as_text=True)
    assert client.get("/non-esiste").status_code == 404


def test_markdown_renders_then_sanitises() -> None:
    from pdz.text import render_markdown

    html = str(
        render_markdown(
            "**ok** <script>x()</script> [a](javascript:alert(1)) [b](https://example.org) <iframe src=x>"
        )
    )
    assert "<strong>ok</strong>" in html and 'href="https://example.org"' in html and 'rel="nofollow' in html
    assert "<script" not in html and "javascript:" not in html and "<iframe" not in html
    assert str(render_markdown("")) == ""
    linked = str(render_markdown("Sito: www.comune.crema.cr.it, <b onclick=x()>grassetto</b>"))
    assert 'href="http://www.comune.crema.cr.it"' in linked and 'rel="nofollow noopener noreferrer"' in linked
    assert "onclick" not in linked and "<b>grassetto</b>" in linked
    assert "<a" not in str(render_markdown("Nessun indirizzo in questo testo."))


def test_english_is_the_second_locale(client_as: Any) -> None:
    client = client_as("membro@example.org")
    client.post("/profilo", data={"full_name": "Luca Bonizzi", "locale": "en"})
    page = client.get("/").get_data(as_text=True)
    assert 'lang="en"' in page and "My tables" in page and "Sign out" in page
