"""User Markdown: rendered, then sanitised with an allow-list. The only source of `*_html` fields.

The allow-list is applied by nh3 (the Python binding of the Rust sanitiser ammonia, MIT): bleach, which did
it before, is deprecated upstream and cost about 30 ms on an 18 KB text while holding the GIL, which
stalled every other thread of the process (the co-writing fan-out above all). bleach's `Linker` still turns
bare addresses into links, and runs only on texts that hold one.
"""

from __future__ import annotations

import threading

import markdown
import nh3
from bleach.linkifier import Linker
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
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "th": {"align"}, "td": {"align"}}
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})


LINK_REL = "nofollow noopener noreferrer"

# Thread-safe and reusable (ammonia's builder, compiled once).
_CLEANER = nh3.Cleaner(
    tags=set(ALLOWED_TAGS),
    clean_content_tags={"script", "style"},
    attributes={tag: set(names) for tag, names in ALLOWED_ATTRIBUTES.items()},
    url_schemes=set(ALLOWED_PROTOCOLS),
    strip_comments=True,
    link_rel=LINK_REL,
)


def _set_link_rel(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    return attrs


_LOCAL = threading.local()


def _linker() -> Linker:
    """One Linker per thread: building it (an HTML parser) costs more than linking, and it is not safe to
    share between threads."""
    linker = getattr(_LOCAL, "linker", None)
    if linker is None:
        linker = _LOCAL.linker = Linker(callbacks=[_set_link_rel], skip_tags={"pre", "code"})
    return linker


def _sanitise(html: str) -> str:
    """The allow-list (tags, attributes, link schemes), then bare addresses made links. The Linker re-reads
    the whole text, so it runs only where its own address pattern finds something to link (or a link it
    would leave as it is)."""
    clean = _CLEANER.clean(html)
    linker = _linker()
    if linker.url_re.search(clean) is None:
        return clean
    return linker.linkify(clean)


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
