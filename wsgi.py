"""WSGI entry point: `flask --app wsgi run` serves PdZ with Socket.IO (threading mode); in production
`gunicorn -k gthread -w 2 --threads 50 wsgi:app` with PostgreSQL, Redis and PDZ_SOCKET_TRANSPORTS=websocket
(README, "Operare PdZ"; docs/realtime.md). Each worker imports this module after the fork (no --preload).

A PdZ that cannot reach its database stops here, with one clear line and a non-zero exit code."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent / "platform"))

from pdz import create_app  # noqa: E402
from pdz.extensions import socketio  # noqa: E402
from pdz.ops import exit_unless_database_reachable  # noqa: E402

app = create_app()
exit_unless_database_reachable(app)

__all__ = ["app", "socketio"]
