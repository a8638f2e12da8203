"""User Markdown: rendered, then sanitised with an allow-list. The only source of `*_html` fields.

bleach is deprecated upstream; `_sanitise` is the one place to swap for nh3 (same allow-lists).
"""

from __future__ import annotations

import threading

import markdown
from bleach.linkifier import Linker
from bleach.sanitizer import Cleaner
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


_LOCAL = threading.local()


def _tools() -> tuple[Cleaner, Linker]:
    """One Cleaner and one Linker per thread: building them (an HTML parser each) cost more than the
    cleaning itself, and they are not safe to share between threads."""
    tools = getattr(_LOCAL, "tools", None)
    if tools is None:
        tools = _LOCAL.tools = (
            Cleaner(
                tags=ALLOWED_TAGS,
                attributes=ALLOWED_ATTRIBUTES,
                protocols=ALLOWED_PROTOCOLS,
                strip=True,
                strip_comments=True,
            ),
            Linker(callbacks=[_set_link_rel], skip_tags={"pre", "code"}),
        )
    return tools


def _sanitise(html: str) -> str:
    cleaner, linker = _tools()
    return linker.linkify(cleaner.clean(html))


def render_markdown(source: str) -> Markup:
    """Markdown to safe HTML. Raw HTML in the source is escaped, links are limited to http(s)/mailto."""
    if not source or not source.strip():
        return Markup("")
    renderer = getattr(_LOCAL, "markdown", None)
    if renderer is None:
        renderer = _LOCAL.markdown = markdown.Markdown(
            extensions=["sane_lists", "tables", "nl2br"], output_format="html"
        )
    html = renderer.reset().convert(source)
    return Markup(_sanitise(html))  # noqa: S704 - sanitised by the allow-list above
