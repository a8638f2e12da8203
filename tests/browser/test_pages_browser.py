"""Every page each demo role can open, in a real browser, once per width: every GET route of the URL map with
real ids (as the permission walk builds them) plus the links those pages show, loaded at 1280 px and at 390 px.

- Content-Security-Policy (issue #13): at either width no page breaks the real policy while its scripts run
  (the crawl waits until every Socket.IO connection and co-writing editor the page starts has settled).
- Accessibility (issue #16): axe-core finds no serious or critical violation on the URL map's pages at either
  width, for the roles in AXE_ROLES (anonymous, UdP, co-coordinator, member, mayor).
- Phone (issue #16 point 5): at 390 px no page is wider than the viewport; a screenshot of any that is.

The three checks used to be three crawls per role (CSP and phone following links, axe on the URL map's pages
at both widths): four page loads per page. One crawl loads each page once per width and runs every check on it.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
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


PHONE = {"width": 390, "height": 844}
# How far the page reaches to the right, and the widest element that sticks out (to name it in the failure).
OVERFLOW = """() => {
  const view = document.documentElement.clientWidth;
  const width = Math.max(document.documentElement.scrollWidth, document.body.scrollWidth);
  let worst = null;
  if (width > view) {
    for (const el of document.body.querySelectorAll("*")) {
      const right = el.getBoundingClientRect().right;
      if (right > view + 1 && (!worst || right > worst.right)) {
        worst = { right: Math.round(right), tag: el.tagName.toLowerCase() + (el.className ? "." + String(el.className).split(" ").join(".") : "") + (el.id ? "#" + el.id : "") };
      }
    }
  }
  return { view, width, worst };
}"""
SERIOUS = {"serious", "critical"}
AXE_ROLES = {
    None,
    "udp@example.org",
    "coord.pubblico@example.org",
    "membro@example.org",
    "sindaco@example.org",
}
DESKTOP = {"width": 1280, "height": 900}
SKIPPED = re.compile(r"\.(csv|ics|pdf|docx|json)$|/documento\.")


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """Markup, scripts and layout do not depend on the database: one backend is enough here."""
    return request.param


def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _serious(axe: Any, page: Any) -> list[str]:
    results = axe.run(page).response
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
        for v in results["violations"]
        if v.get("impact") in SERIOUS
    ]


def _links(page: Any, base: str, url: str) -> list[str]:
    paths = []
    for href in page.eval_on_selector_all("a[href]", "links => links.map(a => a.getAttribute('href'))"):
        target = urlsplit(urljoin(base + url, href))
        if target.netloc == urlsplit(base).netloc and not target.query:
            paths.append(target.path)
    return paths


@pytest.mark.parametrize("email", ROLES)
def test_every_page_keeps_the_policy_is_accessible_and_fits_a_phone(
    app: Any, db: Any, body: Any, live_server: Any, page_as: Any, run_dir: Path, email: str | None
) -> None:
    pages = reachable_pages(db, body, live_server, email)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "phone"
    out.mkdir(parents=True, exist_ok=True)
    axe = _axe() if email in AXE_ROLES else None
    base = live_server.url

    page = page_as(email)
    page.context.add_init_script(LISTEN)
    console: list[str] = []
    page.on(
        "console",
        lambda message: console.append(message.text) if "Content Security Policy" in message.text else None,
    )
    # The listener itself works: an injected inline script is reported.
    page.goto(base + "/login" if email is None else base + "/")
    page.evaluate(
        "() => { const s = document.createElement('script'); s.textContent = '1'; document.body.append(s); }"
    )
    page.wait_for_function("() => window.__pdzCsp.length > 0")
    console.clear()

    violations: dict[str, list[str]] = {}
    inaccessible: dict[str, list[str]] = {}
    wide: dict[str, Any] = {}

    def check(url: str, width: int) -> bool:
        """Loads `url` and runs the checks of this width; False when it is not an HTML page for this role."""
        response = page.goto(base + url, wait_until="load")
        assert response is not None
        if response.status != 200 or not response.headers.get("content-type", "").startswith("text/html"):
            return False
        page.wait_for_function(SETTLED)  # scripts that start after load (live channels, editors)
        found = page.evaluate("() => window.__pdzCsp || []") + console
        console.clear()
        if found:
            violations[f"{url} @{width}"] = found
        if axe is not None and url in pages:
            problems = _serious(axe, page)
            if problems:
                inaccessible[f"{url} @{width}"] = problems
        if width == PHONE["width"]:
            measured = page.evaluate(OVERFLOW)
            if measured["width"] > measured["view"]:
                wide[url] = measured
                page.screenshot(
                    path=str(out / (re.sub(r"\W+", "_", url).strip("_") + ".png")), full_page=True
                )
        return True

    # Wide screen: the URL map's pages, then the links they show (at most PER_PATTERN per URL shape).
    page.set_viewport_size(DESKTOP)
    seen_shapes: dict[str, int] = {}
    for url in pages:
        seen_shapes[_shape(url)] = seen_shapes.get(_shape(url), 0) + 1
    queue, visited, html = list(pages), set(), []
    while queue:
        url = queue.pop(0)
        if url in visited:
            continue
        visited.add(url)
        if not check(url, DESKTOP["width"]):
            continue
        html.append(url)
        for path in _links(page, base, url):
            if (
                path in visited
                or path.startswith("/static/")
                or SKIPPED.search(path)
                or seen_shapes.get(_shape(path), 0) >= PER_PATTERN
            ):
                continue
            seen_shapes[_shape(path)] = seen_shapes.get(_shape(path), 0) + 1
            queue.append(path)
    # Phone: the same pages.
    page.set_viewport_size(PHONE)
    for url in html:
        check(url, PHONE["width"])

    assert not violations, "\n".join(f"{url}: {v}" for url, found in violations.items() for v in found)
    assert not inaccessible, "\n".join(f"{url}: {p}" for url, ps in inaccessible.items() for p in ps)
    assert not wide, "\n".join(f"{url}: {m}" for url, m in wide.items())
    assert len(visited) >= len(pages) and set(pages) <= set(html)
