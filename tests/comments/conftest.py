"""Comments tests: quick socket teardown.

The threaded werkzeug server ends a websocket without answering the client's close frame, so
websocket-client waits its full 3 s close timeout on every disconnect; a short wait changes nothing else.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
import websocket


@pytest.fixture(autouse=True)
def quick_websocket_close(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    original = websocket.WebSocket.close

    def close(self: Any, status: int = websocket.STATUS_NORMAL, reason: bytes = b"", timeout: float = 3) -> None:
        original(self, status, reason, timeout=min(timeout, 0.2))

    monkeypatch.setattr(websocket.WebSocket, "close", close)
    yield
