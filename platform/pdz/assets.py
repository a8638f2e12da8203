"""Static files under content-hashed names, cached for a year, gzip-compressed when the browser accepts it.

Templates write `{{ static_url('js/cards.js') }}`, which gives `/static/js/cards.<12 hex of sha256>.js`.
That URL is answered with `Cache-Control: public, max-age=31536000, immutable`: a browser keeps the file
until the page names another hash, which happens as soon as the file's content changes. The plain URL
(`/static/js/cards.js`, and files reached only by a relative path, e.g. the bundle coedit.js imports) keeps
working, with `Cache-Control: no-cache` and an ETag (the browser asks again, and gets 304 if unchanged). A
hashed URL whose hash is no longer the file's (a page rendered before a deploy) gets the current file,
not cached.

Text files (JavaScript, CSS, SVG, JSON, maps, text) are sent gzip-compressed to browsers that accept gzip,
so no proxy is needed for it (`Vary: Accept-Encoding`). Each file is read, hashed and compressed once per
process and kept in memory (the whole static folder is under 1 MB); a file changed on disk (development) is
noticed through its size and modification time.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
import re
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask, Response, abort, request, url_for
from werkzeug.utils import get_content_type

YEAR = 31536000
IMMUTABLE = f"public, max-age={YEAR}, immutable"
COMPRESSIBLE = re.compile(r"^(text/|application/(javascript|json|xml|manifest\+json)|image/svg\+xml)")
_HASHED = re.compile(r"^(?P<stem>.+)\.(?P<digest>[0-9a-f]{12})(?P<ext>\.[A-Za-z0-9]+)$")


@dataclass(frozen=True)
class Asset:
    stamp: tuple[int, int]  # (size, mtime_ns) when read
    digest: str
    mimetype: str
    body: bytes
    gzipped: bytes | None  # None when not worth it (not text, or no smaller)


class Assets:
    def __init__(self, folder: str) -> None:
        self.folder = Path(folder).resolve()
        self._cache: dict[str, Asset] = {}
        self._lock = threading.Lock()

    def get(self, filename: str) -> Asset | None:
        """The file `filename` (relative to the static folder), or None if it is not a file in it."""
        try:
            path = (self.folder / filename).resolve()
            stat = path.stat()
        except (OSError, ValueError):  # no such file, or a name no file can have (NUL)
            return None
        if not path.is_relative_to(self.folder):
            return None
        if not path.is_file():
            return None
        stamp = (stat.st_size, stat.st_mtime_ns)
        asset = self._cache.get(filename)
        if asset is not None and asset.stamp == stamp:
            return asset
        with self._lock:
            body = path.read_bytes()
            mimetype = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
            gzipped = None
            if COMPRESSIBLE.match(mimetype):
                packed = gzip.compress(body, compresslevel=9, mtime=0)
                gzipped = packed if len(packed) < len(body) else None
            asset = Asset(stamp, hashlib.sha256(body).hexdigest()[:12], mimetype, body, gzipped)
            self._cache[filename] = asset
            return asset

    def hashed_name(self, filename: str) -> str:
        """`js/cards.js` -> `js/cards.<digest>.js` (the name unchanged if there is no such file)."""
        asset = self.get(filename)
        if asset is None:
            return filename
        match = re.fullmatch(r"(?P<stem>.+)(?P<ext>\.[A-Za-z0-9]+)", filename)
        if match is None or "/" in match["ext"]:
            return filename  # no extension: not hashed (none in static/ today)
        return f"{match['stem']}.{asset.digest}{match['ext']}"

    def response(self, filename: str) -> Response:
        """The answer to GET /static/<filename>: hashed names immutable, plain names revalidated."""
        asset = self.get(filename)
        immutable = False
        if asset is None and (match := _HASHED.match(filename)):
            original = match["stem"] + match["ext"]
            asset = self.get(original)
            immutable = asset is not None and asset.digest == match["digest"]
        if asset is None:
            abort(404)
        use_gzip = asset.gzipped is not None and request.accept_encodings["gzip"] > 0
        body = asset.gzipped if use_gzip and asset.gzipped is not None else asset.body
        response = Response(body, content_type=get_content_type(asset.mimetype, "utf-8"))
        if use_gzip:
            response.headers["Content-Encoding"] = "gzip"
        if asset.gzipped is not None:
            response.vary.add("Accept-Encoding")
        response.set_etag(asset.digest + ("-gz" if use_gzip else ""))
        response.headers["Cache-Control"] = IMMUTABLE if immutable else "no-cache"
        response.make_conditional(request)
        return response


def install(app: Flask) -> None:
    """Serve /static through `Assets` and give templates `static_url(filename)`."""
    assets = Assets(str(app.static_folder))
    app.extensions["pdz_assets"] = assets

    def static(filename: str) -> Any:
        return assets.response(filename)

    app.view_functions["static"] = static

    def static_url(filename: str) -> str:
        return url_for("static", filename=assets.hashed_name(filename))

    app.jinja_env.globals["static_url"] = static_url
