"""A co-writing client in Python speaking the same protocol as the page (tests, benchmarks, imports).

It wraps a connected python-socketio client: `Editor(sio, "card:12").join()`, then `insert`, `delete`,
`text`. Updates are sent with an ack (committed on the server) and kept pending until acknowledged; a
resync (`join` again) sends whatever the server still lacks, exactly as the page does after a reconnect.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from pycrdt import Doc, Text

from .engine import STEP1, STEP2, UPDATE, decode_sync, encode_sync, wire


def _bytes_at(text: str, index: int) -> int:
    return len(text[: max(0, index)].encode("utf-8"))


class Editor:
    def __init__(self, sio: Any, key: str, *, on_remote: Callable[[bytes], None] | None = None) -> None:
        self.sio, self.key = sio, key
        self.doc: Doc[Any] = Doc()
        self.lock = threading.RLock()
        self.pending = 0
        self.refused: list[dict[str, Any]] = []
        self.acks: list[dict[str, Any]] = []
        self.joined: dict[str, Any] = {}
        self.on_remote = on_remote
        self.remote_updates = 0
        self.catch_ups = 0  # of the remote updates, those sent to this socket alone after joining
        sio.on("coedit.update", self._on_update)

    # -- protocol --
    def _on_update(self, data: Any) -> None:
        if not isinstance(data, dict) or data.get("doc") != self.key:
            return
        kind, payload = decode_sync(data["msg"])
        with self.lock:
            self.doc.apply_update(payload)
            self.remote_updates += 1
            self.catch_ups += bool(data.get("catch_up"))
        if self.on_remote is not None:
            self.on_remote(payload)

    def join(self, timeout: float = 10) -> dict[str, Any]:
        with self.lock:
            step1 = wire(encode_sync(STEP1, self.doc.get_state()))
        ack = self.sio.call("coedit.join", {"doc": self.key, "msg": step1}, timeout=timeout)
        self.joined = ack
        if not ack.get("ok"):
            return ack
        _kind, missing = decode_sync(ack["step2"])
        _kind, server_state = decode_sync(ack["step1"])
        with self.lock:
            self.doc.apply_update(missing)
            ours = self.doc.get_update(server_state)
        if ours not in (b"\x00\x00", b""):
            self.send(ours, kind=STEP2, wait=True, timeout=timeout)
        return ack

    def _acked(self, answer: Any) -> None:
        with self.lock:
            self.pending -= 1
            self.acks.append(answer)
            if not (isinstance(answer, dict) and answer.get("ok")):
                self.refused.append(answer if isinstance(answer, dict) else {"answer": answer})

    def send(self, update: bytes, *, kind: int = UPDATE, wait: bool = False, timeout: float = 10) -> Any:
        message = {"doc": self.key, "msg": wire(encode_sync(kind, update))}
        with self.lock:
            self.pending += 1
        if wait:
            answer = self.sio.call("coedit.update", message, timeout=timeout)
            self._acked(answer)
            return answer
        self.sio.emit("coedit.update", message, callback=self._acked)
        return None

    # -- editing --
    def _edit(self, field: str, change: Callable[[Text], None], wait: bool) -> Any:
        with self.lock:
            state = self.doc.get_state()
            change(self.doc.get(field, type=Text))
            update = self.doc.get_update(state)
        return self.send(update, wait=wait)

    # Positions are Python characters; pycrdt counts UTF-8 bytes, so they are converted.
    def insert(self, field: str, index: int, text: str, *, wait: bool = False) -> Any:
        return self._edit(field, lambda t: t.insert(_bytes_at(str(t), index), text), wait)

    def append(self, field: str, text: str, *, wait: bool = False) -> Any:
        return self._edit(field, lambda t: t.insert(len(t), text), wait)

    def delete(self, field: str, start: int, end: int, *, wait: bool = False) -> Any:
        def remove(t: Text) -> None:
            current = str(t)
            del t[_bytes_at(current, start) : _bytes_at(current, end)]

        return self._edit(field, remove, wait)

    def text(self, field: str) -> str:
        with self.lock:
            return str(self.doc.get(field, type=Text))

    def texts(self) -> dict[str, str]:
        with self.lock:
            return {key: str(self.doc.get(key, type=Text)) for key in self.doc.keys()}  # noqa: SIM118 - a Doc is not a Mapping

    def leave(self) -> None:
        self.sio.call("coedit.leave", {"doc": self.key}, timeout=5)
