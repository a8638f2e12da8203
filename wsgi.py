"""WSGI entry point: `flask --app wsgi run` serves PdZ with Socket.IO (threading mode)."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

from pdz import create_app  # noqa: E402
from pdz.extensions import socketio  # noqa: E402

app = create_app()

__all__ = ["app", "socketio"]
