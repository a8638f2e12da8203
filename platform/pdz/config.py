"""Configuration read from PDZ_* environment variables, with embedded defaults."""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


def _instance_dir() -> Path:
    path = Path(os.environ.get("PDZ_INSTANCE_DIR", ROOT / "instance"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def _secret_key(instance: Path) -> str:
    """PDZ_SECRET_KEY, else a key generated once and kept under instance/."""
    if key := os.environ.get("PDZ_SECRET_KEY"):
        return key
    key_file = instance / "secret_key"
    if not key_file.exists():
        key_file.write_text(secrets.token_hex(32))
        key_file.chmod(0o600)
    return key_file.read_text().strip()


def _bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def load_config(overrides: dict[str, Any] | None = None) -> dict[str, Any]:
    instance = _instance_dir()
    database_url = os.environ.get("PDZ_DATABASE_URL") or f"sqlite:///{instance / 'pdz.sqlite3'}"
    if database_url.startswith("postgresql://"):
        database_url = "postgresql+psycopg://" + database_url.removeprefix("postgresql://")
    config: dict[str, Any] = {
        "SECRET_KEY": _secret_key(instance),
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        "PDZ_REDIS_URL": os.environ.get("PDZ_REDIS_URL") or None,
        "PDZ_REDIS_CHANNEL": os.environ.get(
            "PDZ_REDIS_CHANNEL", "flask-socketio"
        ),  # one per deployment / test
        # With several processes, seconds after a join at which the editor is sent what was stored since.
        "PDZ_COEDIT_CATCH_UP": tuple(
            float(x) for x in os.environ.get("PDZ_COEDIT_CATCH_UP", "1,4").split(",") if x.strip()
        ),
        # Socket.IO transports the server accepts. Several worker processes behind one port without sticky
        # sessions need "websocket" only (a long-polling session must come back to the process that made it).
        "PDZ_SOCKET_TRANSPORTS": [
            t.strip()
            for t in os.environ.get("PDZ_SOCKET_TRANSPORTS", "websocket,polling").split(",")
            if t.strip()
        ],
        # Comment flood guard: meant for people, raised by the benchmark.
        "PDZ_COMMENT_RATE_LIMIT": os.environ.get("PDZ_COMMENT_RATE_LIMIT", "20 per minute"),
        "PDZ_BASE_URL": os.environ.get("PDZ_BASE_URL", "http://127.0.0.1:5000"),
        "PDZ_SMTP_HOST": os.environ.get("PDZ_SMTP_HOST") or None,
        "PDZ_SMTP_PORT": int(os.environ.get("PDZ_SMTP_PORT", "587")),
        "PDZ_SMTP_USER": os.environ.get("PDZ_SMTP_USER") or None,
        "PDZ_SMTP_PASSWORD": os.environ.get("PDZ_SMTP_PASSWORD") or None,
        "PDZ_SMTP_STARTTLS": _bool("PDZ_SMTP_STARTTLS", True),
        "PDZ_MAIL_FROM": os.environ.get("PDZ_MAIL_FROM", "PdZ Ambito Cremasco <noreply@pdz.local>"),
        # Sign-in throttling: meant for people, so configurable for load tests.
        "PDZ_LOGIN_RATE_LIMIT": os.environ.get("PDZ_LOGIN_RATE_LIMIT", "10 per minute;50 per hour"),
        "PDZ_RATE_LIMIT_STORAGE": os.environ.get("PDZ_RATE_LIMIT_STORAGE", "memory://"),
        # argon2 cost; tests lower it to keep the suite fast.
        "PDZ_ARGON2_TIME_COST": int(os.environ.get("PDZ_ARGON2_TIME_COST", "3")),
        "PDZ_ARGON2_MEMORY_COST": int(os.environ.get("PDZ_ARGON2_MEMORY_COST", "65536")),
        "PDZ_RESET_TOKEN_HOURS": 2,
        "PDZ_INVITATION_DAYS": 14,
        "PDZ_TIMEZONE": "Europe/Rome",
        # Number of reverse proxies in front of PdZ whose X-Forwarded-* headers are trusted (0: none).
        "PDZ_PROXY_FIX": int(os.environ.get("PDZ_PROXY_FIX", "0")),
        # Optional address that receives the browser's Content-Security-Policy violation reports.
        "PDZ_CSP_REPORT_URI": os.environ.get("PDZ_CSP_REPORT_URI") or None,
        "WTF_CSRF_TIME_LIMIT": None,
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_NAME": "pdz_session",
        "PERMANENT_SESSION_LIFETIME": 14 * 24 * 3600,
        "BABEL_DEFAULT_LOCALE": "it",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Rome",
        "PDZ_LOCALES": ["it", "en"],
        "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
        # Attachments (pdz.attachments): where their bytes are kept (None: `uploads/` in the instance folder),
        # and the largest file accepted; the upload routes alone raise MAX_CONTENT_LENGTH to this size.
        "PDZ_UPLOAD_DIR": os.environ.get("PDZ_UPLOAD_DIR") or None,
        "PDZ_UPLOAD_MAX_MB": int(os.environ.get("PDZ_UPLOAD_MAX_MB", "20")),
        "INSTANCE_DIR": str(instance),
    }
    if overrides:
        config.update(overrides)
    return config
