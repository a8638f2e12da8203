"""Static files (issue #17 point 4): pages name them under content-hashed URLs, which are cached for a year
(immutable) and sent gzip-compressed to browsers that accept it; the plain URLs keep working and are
revalidated. Over HTTP, against the files on disk."""

from __future__ import annotations

import gzip
import hashlib
import re
from pathlib import Path

import requests

from conftest import http_session

STATIC = Path(__file__).resolve().parents[2] / "static"
YEAR = "public, max-age=31536000, immutable"


def _hashed(relative: str) -> str:
    """The URL the rule gives: the name with the first 12 hex digits of the content's SHA-256 before the extension."""
    digest = hashlib.sha256((STATIC / relative).read_bytes()).hexdigest()[:12]
    stem, ext = relative.rsplit(".", 1)
    return f"/static/{stem}.{digest}.{ext}"


def _static_urls(html: str) -> list[str]:
    return re.findall(r'(?:src|href)="(/static/[^"]+)"', html)


def test_pages_name_hashed_urls_cached_for_a_year_and_gzipped(live_server) -> None:
    login = requests.get(live_server.url + "/login", timeout=10).text
    for relative in ("css/pdz.css", "js/behaviours.js", "favicon.svg"):
        assert _hashed(relative) in _static_urls(login), relative

    for relative in ("css/pdz.css", "js/behaviours.js"):
        on_disk = (STATIC / relative).read_bytes()
        packed = requests.get(
            live_server.url + _hashed(relative), headers={"Accept-Encoding": "gzip"}, timeout=10, stream=True
        )
        assert packed.status_code == 200
        assert packed.headers["Cache-Control"] == YEAR
        assert packed.headers["Content-Encoding"] == "gzip"
        assert "Accept-Encoding" in packed.headers["Vary"]
        raw = packed.raw.read(decode_content=False)
        assert len(raw) < len(on_disk) and gzip.decompress(raw) == on_disk

        plain = requests.get(
            live_server.url + _hashed(relative), headers={"Accept-Encoding": "identity"}, timeout=10
        )
        assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
        assert plain.content == on_disk and plain.headers["Cache-Control"] == YEAR
    assert requests.get(live_server.url + _hashed("js/behaviours.js"), timeout=10).headers[
        "Content-Type"
    ].split(";")[0] in ("text/javascript", "application/javascript")


def test_every_static_url_of_a_signed_in_page_is_hashed_and_answers(live_server) -> None:
    session = http_session(live_server, "coord.pubblico@example.org")
    home = session.get(live_server.url + "/").text
    card = re.search(r'href="(/schede/\d+)"', home) or re.search(
        r'href="(/schede/\d+)"', session.get(live_server.url + "/tavoli/").text
    )
    pages = [home]
    if card:
        pages.append(session.get(live_server.url + card.group(1)).text)
    urls = {url for page in pages for url in _static_urls(page)}
    assert len(urls) >= 3
    for url in urls:
        relative = re.sub(r"\.[0-9a-f]{12}(\.[A-Za-z0-9]+)$", r"\1", url.removeprefix("/static/"))
        assert url == _hashed(relative), url
        answer = session.get(live_server.url + url, timeout=10)
        assert answer.status_code == 200 and answer.headers["Cache-Control"] == YEAR, url
        assert answer.content == (STATIC / relative).read_bytes()


def test_plain_and_stale_urls_still_work_but_are_revalidated(live_server) -> None:
    on_disk = (STATIC / "css/pdz.css").read_bytes()
    plain = requests.get(live_server.url + "/static/css/pdz.css", timeout=10)
    assert plain.status_code == 200 and plain.content == on_disk
    assert plain.headers["Cache-Control"] == "no-cache" and plain.headers.get("ETag")
    again = requests.get(
        live_server.url + "/static/css/pdz.css",
        headers={
            "If-None-Match": plain.headers["ETag"],
            "Accept-Encoding": plain.request.headers["Accept-Encoding"],
        },
        timeout=10,
    )
    assert again.status_code == 304

    # A page rendered before the file changed names an old hash: the current file, not cached for a year.
    stale = requests.get(live_server.url + "/static/css/pdz.000000000000.css", timeout=10)
    assert (
        stale.status_code == 200 and stale.content == on_disk and stale.headers["Cache-Control"] == "no-cache"
    )

    # The coedit script's relative import reaches the bundle by its plain name, compressed.
    bundle = requests.get(
        live_server.url + "/static/vendor/coedit-13.6.33/coedit.bundle.js",
        headers={"Accept-Encoding": "gzip"},
        timeout=10,
    )
    assert bundle.status_code == 200 and bundle.headers["Content-Encoding"] == "gzip"

    for missing in (
        "/static/css/nessuno.css",
        "/static/css/nessuno.0123456789ab.css",
        "/static/../wsgi.py",
        "/static/%2e%2e/wsgi.py",
        "/static/css",
    ):
        assert requests.get(live_server.url + missing, timeout=10).status_code == 404, missing
