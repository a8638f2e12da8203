"""Security headers on every answer (CSP without inline code, nosniff, referrer, permissions, framing), and
behind an HTTPS proxy (PDZ_PROXY_FIX) HSTS and Secure cookies; a client's own X-Forwarded-* is not trusted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from conftest import make_app

ROOT = Path(__file__).resolve().parents[1]


def _csp(response: Any) -> dict[str, list[str]]:
    header = response.headers.get("Content-Security-Policy", "")
    directives: dict[str, list[str]] = {}
    for part in header.split(";"):
        name, *values = part.split()
        directives[name] = values
    return directives


def _check_headers(response: Any, host: str = "localhost") -> None:
    csp = _csp(response)
    assert csp["script-src"] == ["'self'"], csp  # no 'unsafe-inline', no 'unsafe-eval', no other origin
    # <style> elements only for the co-writing editor's run-time themes (see pdz.security); never attributes
    assert csp["style-src-elem"] == ["'self'", "'unsafe-inline'"], csp
    assert csp["style-src-attr"] == ["'none'"], csp
    assert csp["default-src"] == ["'self'"]
    assert csp["object-src"] == ["'none'"]
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["connect-src"] == ["'self'", f"ws://{host}", f"wss://{host}"]
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
    permissions = response.headers["Permissions-Policy"]
    for feature in ("camera=()", "microphone=()", "geolocation=()", "payment=()"):
        assert feature in permissions
    assert response.headers["X-Frame-Options"] == "DENY"


def test_every_kind_of_answer_carries_the_security_headers(app: Any, client_as: Any) -> None:
    anonymous = app.test_client()
    udp = client_as("udp@example.org")
    answers = {
        "login page": anonymous.get("/login"),
        "redirect to sign in": anonymous.get("/tavoli/"),
        "page": udp.get("/tavoli/"),
        "not found": udp.get("/non-esiste"),
        "forbidden": client_as("membro@example.org").get("/admin/"),
        "static file": anonymous.get("/static/js/behaviours.js"),
        "json": anonymous.get("/healthz"),
        "csv": udp.get("/partecipazione/tavoli.csv"),
    }
    for name, response in answers.items():
        assert response.status_code in {200, 302, 403, 404}, name
        _check_headers(response)
        assert "Strict-Transport-Security" not in response.headers, name  # plain HTTP: no HSTS
        response.close()


def test_plain_http_cookies_are_not_secure_and_forwarded_headers_are_ignored(app: Any) -> None:
    client = app.test_client()
    response = client.post(
        "/login",
        data={"email": "membro@example.org", "password": "demo"},
        headers={"X-Forwarded-Proto": "https", "X-Forwarded-Host": "evil.example"},
    )
    assert response.status_code == 302
    cookie = response.headers["Set-Cookie"]
    assert "pdz_session=" in cookie and "Secure" not in cookie
    assert "Strict-Transport-Security" not in response.headers
    _check_headers(response)  # the Host the client sent directly, not the forwarded one


def test_behind_an_https_proxy_hsts_and_secure_cookies(database_url: str, run_dir: Path) -> None:
    from pdz.extensions import db

    proxied = make_app(database_url, run_dir, PDZ_PROXY_FIX=1)
    try:
        client = proxied.test_client()
        forwarded = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "pdz.example.org"}
        response = client.post(
            "/login", data={"email": "membro@example.org", "password": "demo"}, headers=forwarded
        )
        assert response.status_code == 302
        assert response.location in {"/", "https://pdz.example.org/"}
        cookies = response.headers.getlist("Set-Cookie")
        assert cookies and all(re.search(r";\s*Secure(;|$)", c) for c in cookies), cookies
        assert response.headers["Strict-Transport-Security"].startswith("max-age=")
        assert int(response.headers["Strict-Transport-Security"].split("=")[1].split(";")[0]) >= 15552000
        _check_headers(response, host="pdz.example.org")

        page = client.get("/", headers=forwarded)
        assert page.status_code == 200 and "Strict-Transport-Security" in page.headers

        # The same proxy forwarding a plain HTTP request: no HSTS (a browser would ignore it anyway).
        plain = client.get("/login", headers={"X-Forwarded-Proto": "http"})
        assert "Strict-Transport-Security" not in plain.headers
    finally:
        with proxied.app_context():
            db.session.remove()
            db.engine.dispose()


INLINE = [
    (re.compile(r"<[a-zA-Z][^>]*\son[a-z]+\s*=", re.S), "inline event handler"),
    (re.compile(r"<script\b(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", re.S), "inline script"),
    (re.compile(r"<[a-zA-Z][^>]*\sstyle\s*=", re.S), "inline style attribute"),
    (re.compile(r"<style\b"), "style element"),
    (re.compile(r"javascript:", re.I), "javascript: URL"),
]


def test_no_template_holds_inline_script_handlers_or_styles() -> None:
    """What the CSP would block is not written in the first place (the browser walk checks the result)."""
    found = []
    for path in sorted((ROOT / "templates").rglob("*.html")):
        source = path.read_text(encoding="utf-8")
        for pattern, what in INLINE:
            for match in pattern.finditer(source):
                line = source.count("\n", 0, match.start()) + 1
                found.append(f"{path.relative_to(ROOT)}:{line}: {what}")
    assert found == []
