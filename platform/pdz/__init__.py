"""PdZ: the co-programming platform of the Ambito Territoriale Sociale Cremasco."""

from __future__ import annotations

import time
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from flask import Flask, has_request_context, jsonify, render_template, request
from flask.sessions import SecureCookieSessionInterface
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

from . import assets, fast_i18n, formatting, inputs, livecheck, models, ops, policy, realtime, security  # noqa: F401 - models registers every table on Base.metadata
from .accounts.services import load_user
from .coedit.sockets import install_fast_paths
from .config import ROOT, load_config
from .db import install_session_hooks
from .errors import Invalid, NotAllowed, NotFound, PdzError
from .extensions import babel, csrf, limiter, login_manager, migrate, socketio
from .extensions import db as _db  # `pdz.db` must stay the module
from .routing import LazyBuildRule

# Domain packages with pages, in menu order; each has a blueprint `bp` in __init__ and routes in views.
BLUEPRINTS = [
    "home",
    "accounts",
    "tavoli",
    "orgs",
    "territory",
    "admin",
    "cycles",
    "cards",
    "meetings",
    "comments",
    "notifications",
    "evaluation",
    "participation",
    "approvals",
    "accordo",
    "help",
    "search",
    "attachments",
]


class _SessionInterface(SecureCookieSessionInterface):
    """Cookies are Secure whenever the request came over HTTPS (directly or through a trusted proxy).

    Every Socket.IO event runs in a request context built from the connection's handshake, so Flask opens
    (verifies and decompresses) the same cookie again for each keystroke. For those events the verified
    session is remembered for a short while, per cookie value; ordinary HTTP requests are not affected."""

    SOCKET_CACHE_SECONDS = 30.0

    def get_cookie_secure(self, app: Flask) -> bool:
        return bool(app.config.get("SESSION_COOKIE_SECURE")) or request.is_secure

    def open_session(self, app: Flask, request: Any) -> Any:
        if not request.path.startswith("/socket.io"):
            return super().open_session(app, request)
        raw = request.cookies.get(self.get_cookie_name(app), "")
        now = time.monotonic()
        cache = app.extensions.setdefault("pdz_socket_sessions", {})
        hit = cache.get(raw)
        if hit is not None and hit[0] > now:
            return self.session_class(dict(hit[1]))
        session = super().open_session(app, request)
        if session is not None and raw:
            if len(cache) > 2000:
                cache.clear()
            cache[raw] = (now + self.SOCKET_CACHE_SECONDS, dict(session))
        return session


def _select_locale() -> str:
    locales = ["it", "en"]
    if not has_request_context():  # CLI commands (digest, demo): Italian unless a caller forces a locale
        return "it"
    if current_user and getattr(current_user, "is_authenticated", False) and current_user.locale in locales:
        return current_user.locale
    return request.accept_languages.best_match(locales) or "it"


def create_app(overrides: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        template_folder=str(ROOT / "templates"),
        static_folder=str(ROOT / "static"),
        instance_path=load_config(overrides)["INSTANCE_DIR"],
    )
    app.url_rule_class = LazyBuildRule  # URL builders compiled on first use (routing.py)
    app.config.update(load_config(overrides))
    app.session_interface = _SessionInterface()

    _db.init_app(app)
    install_session_hooks(_db.session.session_factory.class_)
    realtime.install(_db.session.session_factory.class_)  # live events get their position in commit order
    migrate.init_app(app, _db, directory=str(ROOT / "migrations"), render_as_batch=True)
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_select_locale)
    app.config["RATELIMIT_STORAGE_URI"] = app.config["PDZ_RATE_LIMIT_STORAGE"]
    limiter.init_app(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Accedi per continuare.")
    login_manager.login_message_category = "info"
    login_manager.session_protection = "basic"
    _import_socket_handlers()  # before init_app, so every app instance gets the handlers
    socketio.init_app(
        app,
        async_mode="threading",
        message_queue=app.config["PDZ_REDIS_URL"],
        # Redis fan-out (PDZ_REDIS_CHANNEL) when configured; every delivery to a room checked by the policy
        client_manager=livecheck.client_manager(app),
        cors_allowed_origins=[],
        manage_session=False,
        transports=app.config["PDZ_SOCKET_TRANSPORTS"],  # "websocket" only with several workers (realtime.md)
    )
    # After Socket.IO wrapped the WSGI app: ProxyFix outermost; security headers on every response.
    security.install(app)

    install_fast_paths()  # coedit.update, once per keystroke, without a Flask request context
    livecheck.install(app)  # rights that change: sockets leave their rooms at once, on every process

    login_manager.user_loader(load_user)

    inputs.install(app)  # before the blueprints: their <int:...> rules take positive ids only
    _register_blueprints(app)
    _register_error_handlers(app)
    _register_template_helpers(app)

    from . import cli  # function-level: cli imports demo, which reads BLUEPRINTS from this module

    cli.register(app)
    ops.install(app)  # /healthz, and the mail worker thread in single-process deployments

    return app


def _register_blueprints(app: Flask) -> None:
    for domain in BLUEPRINTS:
        import_module(f"pdz.{domain}.views")  # routes attach to the blueprint on import
        app.register_blueprint(import_module(f"pdz.{domain}").bp)


def _import_socket_handlers() -> None:
    """Socket handlers register on the SocketIO singleton when their module is first imported."""
    import_module("pdz.sockets")
    import_module("pdz.coedit.sockets")
    for domain in BLUEPRINTS:
        if find_spec(f"pdz.{domain}.sockets") is not None:
            import_module(f"pdz.{domain}.sockets")
        if find_spec(f"pdz.{domain}.coedit") is not None:
            import_module(f"pdz.{domain}.coedit")  # registers the domain's kind of co-written document


def _register_error_handlers(app: Flask) -> None:
    def page(status: int, title: str, message: str) -> Any:
        if request.accept_mimetypes.best == "application/json" or request.path.startswith("/api/"):
            return jsonify(error=message), status
        return render_template("error.html", status=status, title=title, message=message), status

    @app.errorhandler(NotAllowed)
    def not_allowed(error: NotAllowed) -> Any:
        return page(
            403, _l("Accesso non consentito"), error.message or _l("Non hai i permessi per questa pagina.")
        )

    @app.errorhandler(NotFound)
    def not_found(error: NotFound) -> Any:
        return page(404, _l("Pagina non trovata"), error.message or _l("Quello che cerchi non esiste."))

    @app.errorhandler(Invalid)
    def invalid(error: Invalid) -> Any:
        return page(422, _l("Dati non validi"), error.message)

    @app.errorhandler(PdzError)
    def pdz_error(error: PdzError) -> Any:
        return page(error.status, _l("Operazione non riuscita"), error.message)

    @app.errorhandler(CSRFError)
    def csrf_error(error: CSRFError) -> Any:
        return page(
            400, _l("Modulo scaduto"), _l("Il modulo è scaduto o non è valido: ricarica la pagina e riprova.")
        )

    messages = {
        400: (_l("Richiesta non valida"), _l("La richiesta non è valida.")),
        403: (_l("Accesso non consentito"), _l("Non hai i permessi per questa pagina.")),
        404: (_l("Pagina non trovata"), _l("La pagina che cerchi non esiste o è stata spostata.")),
        405: (_l("Operazione non consentita"), _l("Questa operazione non è disponibile qui.")),
        413: (_l("Contenuto troppo grande"), _l("Il contenuto inviato è troppo grande.")),
        429: (
            _l("Troppi tentativi"),
            _l("Hai fatto troppi tentativi in poco tempo: attendi qualche minuto e riprova."),
        ),
    }

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException) -> Any:
        code = error.code or 500
        title, message = messages.get(code, (_l("Errore"), _l("Si è verificato un errore.")))
        return page(code, title, message)

    @app.errorhandler(Exception)
    def server_error(error: Exception) -> Any:
        app.logger.exception("unhandled error")
        _db.session.rollback()
        if app.config.get("PROPAGATE_EXCEPTIONS") and app.testing:
            raise error
        return page(
            500, _l("Errore del server"), _l("Si è verificato un errore imprevisto. Riprova tra poco.")
        )


def _register_template_helpers(app: Flask) -> None:
    assets.install(app)  # static_url(): content-hashed, long-cached, gzip-compressed static files
    fast_i18n.install(app)  # Jinja's _() reuses the request's translations (same strings, fewer look-ups)

    @app.context_processor
    def inject() -> dict[str, Any]:
        return {
            "can": lambda action, obj=None: policy.can(current_user, action, obj),
            "current_locale": str(get_locale() or "it"),
        }

    formatting.register(app)
