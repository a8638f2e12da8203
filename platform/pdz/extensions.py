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
    """SocketIO whose handlers also reach servers made by later `init_app` calls.

    Flask-SocketIO keeps a handler for future servers only if no server exists yet; socket modules are
    imported inside create_app (after init_app), so a second app in the same process (tests, tools) would
    otherwise have no handlers at all.
    """

    def on(self, message: str, namespace: str | None = None):  # type: ignore[no-untyped-def]
        decorator = super().on(message, namespace)

        def register(handler):  # type: ignore[no-untyped-def]
            server: Any = getattr(self, "server", None)
            self.server = None
            try:
                decorator(handler)  # with no server, Flask-SocketIO keeps it in self.handlers
            finally:
                self.server = server
            if server is not None:
                name, wrapped, space = self.handlers[-1]
                server.on(name, wrapped, namespace=space)
            return handler

        return register

db = SQLAlchemy(model_class=Base)
migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
socketio = _SocketIO()
limiter = Limiter(key_func=get_remote_address, default_limits=[])
