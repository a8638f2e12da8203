"""Flask extension singletons, bound to the app in create_app."""

from __future__ import annotations

from typing import Any

from flask_babel import Babel
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_socketio import SocketIO
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect

from .db import Base


class _SocketIO(SocketIO):
    """Remembers every handler, so each `create_app` (tests build several apps in one process) gets all.

    Flask-SocketIO registers a handler on the current server only once a server exists, and `init_app`
    makes a new server: handlers imported after the first app would be lost on the next ones.
    """

    def on(self, message, namespace=None):  # type: ignore[no-untyped-def]
        def decorator(handler):  # type: ignore[no-untyped-def]
            server: Any = getattr(self, "server", None)
            self.server = None
            try:
                result = SocketIO.on(self, message, namespace)(handler)  # appends to self.handlers
            finally:
                self.server = server
            if server is not None:
                name, wrapped, space = self.handlers[-1]
                server.on(name, wrapped, namespace=space)
            return result

        return decorator

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
socketio = _SocketIO()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
