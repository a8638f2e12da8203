"""User Markdown: rendered, then sanitised with an allow-list. The only source of `*_html` fields.

bleach is deprecated upstream; `_sanitise` is the one place to swap for nh3 (same allow-lists).
"""

from __future__ import annotations

import bleach
import markdown
from markupsafe import Markup

MAX_SOURCE_CHARS = 100_000

ALLOWED_TAGS = frozenset(
    {
        "p",
        "br",
        "hr",
        "strong",
        "em",
        "b",
        "i",
        "u",
        "s",
        "del",
        "code",
        "pre",
        "blockquote",
        "ul",
        "ol",
        "li",
        "h3",
        "h4",
        "h5",
        "h6",
        "a",
        "table",
        "thead",
        "tbody",
        "tr",
        "th",
        "td",
    }
)
ALLOWED_ATTRIBUTES = {"a": ["href", "title"], "th": ["align"], "td": ["align"]}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = "nofollow noopener noreferrer"
    return attrs


def _sanitise(html: str) -> str:
    cleaned = bleach.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        protocols=ALLOWED_PROTOCOLS,
        strip=True,
        strip_comments=True,
    )
    return bleach.linkify(cleaned, callbacks=[_set_link_rel], skip_tags={"pre", "code"})


def render_markdown(source: str) -> Markup:
    """Markdown to safe HTML. Raw HTML in the source is escaped, links are limited to http(s)/mailto."""
    if not source or not source.strip():
        return Markup("")
    html = markdown.markdown(source, extensions=["sane_lists", "tables", "nl2br"], output_format="html")
    return Markup(_sanitise(html))  # noqa: S704 - sanitised by the allow-list above
