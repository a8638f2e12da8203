"""Jinja's `_()` / `ngettext()` without Flask-Babel's per-call lookups.

Flask-Babel's Jinja callables ask `get_translations()` on every call: the Babel context, the domain, the
locale and its string, the cache key (8 % of the card page's time: ~550 calls). Here the translations object
is kept on Flask-Babel's own per-request context together with the locale it was made for, and reused while
that locale object is the same; `flask_babel.refresh()` and `force_locale()` replace or drop the locale, so
the next call asks Flask-Babel again. Same strings, same escaping (Jinja's newstyle gettext)."""

from __future__ import annotations

from typing import Any

from flask import Flask, g
from flask_babel import get_translations


def _translations() -> Any:
    try:
        context = g._flask_babel
    except (AttributeError, RuntimeError):  # before Flask-Babel's first look-up, or outside a request
        return get_translations()
    locale = getattr(context, "babel_locale", None)
    cached = getattr(context, "pdz_translations", None)
    if locale is not None and cached is not None and cached[0] is locale:
        return cached[1]
    translations = get_translations()
    context.pdz_translations = (getattr(context, "babel_locale", None), translations)
    return translations


def install(app: Flask) -> None:
    """Replace the gettext callables Flask-Babel installed in `app.jinja_env` (call after babel.init_app)."""
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        newstyle=True,
    )
