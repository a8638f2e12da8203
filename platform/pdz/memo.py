"""Reads reused within one GET request.

A page often asks the same question several times through different services (the Piano di Zona page asks
which cards are approved for its content, its gate, its card list and its readiness). `per_request` answers
repeated calls with the same arguments from the first answer, for the rest of the request, on GET and HEAD
only: those never write, so the answer cannot change underneath. On any other method (and outside a request:
CLI, Socket.IO events, tests calling services) every call reads again, so a service that writes and then reads never
sees a stale answer. Answers are shared between callers: they must not be mutated (return tuples, frozensets
or lists nobody changes)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar, cast

from flask import g, has_request_context, request

F = TypeVar("F", bound=Callable[..., Any])


def _reusing() -> bool:
    return (
        has_request_context()
        and request.method in ("GET", "HEAD")
        and getattr(request, "sid", None) is None  # a Socket.IO event runs in its handshake's GET
    )


def _name(func: Callable[..., Any]) -> str:
    return f"{func.__module__}.{func.__qualname__}"


def per_request(func: F) -> F:
    name = _name(func)

    @functools.wraps(func)
    def reuse(*args: Any) -> Any:
        if not _reusing():
            return func(*args)
        answers: dict[tuple[Any, ...], Any] = g.setdefault("pdz_reads", {})
        key = (name, *args)
        if key not in answers:
            answers[key] = func(*args)
        return answers[key]

    return cast(F, reuse)


def seed(func: Callable[..., Any], *args: Any, answer: Any) -> None:
    """Give `func(*args)` (a `per_request` function) its answer for this request, when a broader read has
    already found it (the content of every approved card also tells which cards are approved)."""
    if _reusing():
        g.setdefault("pdz_reads", {}).setdefault((_name(func), *args), answer)
