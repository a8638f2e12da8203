"""URL rules whose builders are compiled when first used.

Werkzeug compiles two URL-building functions per rule (Python source, `ast`, `compile`) as soon as the rule is
added to the map: with about 170 rules that is two thirds of `create_app`'s CPU time (0.11 s -> 0.04 s when
deferred), paid by every gunicorn worker at start and twice by every test. Most rules are never built by
`url_for` in a process's first requests, so the builders are compiled on the rule's first `url_for` instead.
Matching (the regular expressions that route a request) is unchanged and still compiled eagerly.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from werkzeug.routing import Rule


class LazyBuildRule(Rule):
    def _compile_builder(self, append_unknown: bool = True) -> Callable[..., tuple[str, str]]:
        compiled: Callable[..., tuple[str, str]] | None = None

        def build(rule: Rule, *args: Any, **kwargs: Any) -> tuple[str, str]:
            nonlocal compiled
            if compiled is None:  # two threads may both compile: the same function, harmless
                compiled = Rule._compile_builder(rule, append_unknown).__get__(rule, None)
            return compiled(*args, **kwargs)

        return build
