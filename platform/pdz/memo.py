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


def per_request(func: F) -> F:
    name = f"{func.__module__}.{func.__qualname__}"

    @functools.wraps(func)
    def reuse(*args: Any) -> Any:
        if (
            not has_request_context()
            or request.method not in ("GET", "HEAD")
            or getattr(request, "sid", None) is not None  # a Socket.IO event runs in its handshake's GET
        ):
            return func(*args)
        answers: dict[tuple[Any, ...], Any] = g.setdefault("pdz_reads", {})
        key = (name, *args)
        if key not in answers:
            answers[key] = func(*args)
        return answers[key]

    return cast(F, reuse)
