"""Run one real PdZ server process (HTTP + Socket.IO, threading mode). Configuration comes from PDZ_*.

    python bench/serve.py --port 5001

Used by bench/fanout.py and the two-process test; in production run it behind a proxy (docs/realtime.md).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    from wsgi import app, socketio

    socketio.run(app, host=args.host, port=args.port, allow_unsafe_werkzeug=True, log_output=False)


if __name__ == "__main__":
    main()
