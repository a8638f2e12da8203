"""In the browser, with the real Content-Security-Policy: every page each demo role can open (every GET rule of
the URL map with real ids, as the permission walk builds them, plus the links those pages show) loads and runs
its scripts without a single CSP violation."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest

from conftest import http_session
from test_permissions_walk import ROLES, _samples

pytestmark = pytest.mark.browser

# Collects the violations of each document; the console catches what happens before the listener exists.
LISTEN = """
window.__pdzCsp = [];
document.addEventListener("securitypolicyviolation", function (e) {
  window.__pdzCsp.push(e.effectiveDirective + " blocked " + (e.blockedURI || "inline") + " at " +
    e.sourceFile + ":" + e.lineNumber + " " + (e.sample || ""));
});
// Every Socket.IO connection the page's scripts open, so that the crawl can wait until they have settled.
window.__pdzSockets = [];
(function () {
  var wrapped;
  Object.defineProperty(window, "io", {
    configurable: true,
    get: function () { return wrapped; },
    set: function (io) {
      wrapped = Object.assign(function () {
        var socket = io.apply(this, arguments);
        socket.on("connect_error", function () { socket.__pdzFailed = true; });
        window.__pdzSockets.push(socket);
        return socket;
      }, io);
    },
  });
})();
"""
# The page's late scripts have run: every socket it opened is connected (or was refused), and every
# co-writing editor has its first answer from the server (synced, or read-only, or showing its problem).
SETTLED = """() => window.__pdzSockets.every(s => s.connected || s.__pdzFailed) &&
  [...document.querySelectorAll("[data-coedit-doc]")].every(root =>
    ["saved", "readonly"].includes(root.dataset.coeditState) || root.querySelector("[data-coedit-problem]"))"""
SESSION_ENDING = {"accounts.logout", "accounts.sign_out_everywhere"}
PER_PATTERN = 3  # links followed per URL shape (/incontri/N, /schede/N/storia ...), beyond the URL map's own


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Templates and scripts do not depend on the database: one backend is enough here."""
    return request.param


def _shape(path: str) -> str:
    return re.sub(r"/\d+", "/N", path)


def _html_pages(server: Any, email: str | None, urls: list[str]) -> list[str]:
    """The URLs that answer this role with an HTML page (downloads, redirects and refusals left out)."""
    import requests

    session = http_session(server, email) if email else requests.Session()
    pages = []
    for url in urls:
        response = session.get(server.url + url, allow_redirects=False, timeout=30)
        if response.status_code == 200 and response.headers.get("Content-Type", "").startswith("text/html"):
            pages.append(url)
    session.close()
    return pages


def reachable_pages(db: Any, body: Any, live_server: Any, email: str | None) -> list[str]:
    """Every GET route of the URL map, built with the demo's sample ids, that answers `email` with HTML."""
    samples = _samples(db, body)
    urls = []
    for rule in sorted(live_server.app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint == "static" or "GET" not in (rule.methods or ()) or rule.endpoint in SESSION_ENDING:
            continue
        urls.append(rule.build({arg: samples[arg] for arg in rule.arguments})[1])
    pages = _html_pages(live_server, email, urls)
    assert len(pages) >= (3 if email is None else 10), pages
    return pages


@pytest.mark.parametrize("email", ROLES)
def test_no_page_breaks_the_content_security_policy(
    app: Any, db: Any, body: Any, live_server: Any, page_as: Any, email: str | None
) -> None:
    pages = reachable_pages(db, body, live_server, email)

    page = page_as(email)
    page.context.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    base = live_server.url
    violations: dict[str, list[str]] = {}
    seen_shapes: dict[str, int] = {}
    for url in pages:
        seen_shapes[_shape(url)] = seen_shapes.get(_shape(url), 0) + 1
    queue = list(pages)
    visited: set[str] = set()

    # The listener itself works: an injected inline script is reported.
    page.goto(base + "/login" if email is None else base + "/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__pdzCsp.length > 0")
    console.clear()

    while queue:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        response = page.goto(base + url, wait_until="load")
        assert response is not None
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            continue
        page.wait_for_function(SETTLED)  # scripts that start after load (live channels, editors)
        found = page.evaluate("() => window.__pdzCsp || []") + console
        console.clear()
        if found:
            violations[url] = found
        for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
            target = urlsplit(urljoin(base + url, href))
            if target.netloc != urlsplit(base).netloc or target.query:
                continue
            path = target.path
            if (
                path in visited
                or path.startswith("/static/")
                or re.search(r"\.(csv|ics|pdf|docx|json)$|/documento\.", path)
                or seen_shapes.get(_shape(path), 0) >= PER_PATTERN
            ):
                continue
            seen_shapes[_shape(path)] = seen_shapes.get(_shape(path), 0) + 1
            queue.append(path)
    assert not violations, "\n".join(f"{url}: {v}" for url, found in violations.items() for v in found)
    assert len(visited) >= len(pages)
