"""Running PdZ: the start-up check, `/healthz`, and backup and restore of the database and uploaded files.

A backup is one `.tar.gz` archive holding `manifest.json` (format, database kind, Alembic revision, row count
of every table), the database (`database.sqlite3`, a copy made with SQLite's online backup API, or
`database.dump`, PostgreSQL's `pg_dump --format=custom`) and, when the instance has one, the `uploads/`
folder (the attachments' `PDZ_UPLOAD_DIR`, default `instance/uploads`). Restore checks the archive before
touching anything and refuses one that is missing, unreadable, of another format or of the other kind of
database."""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from datetime import datetime
from pathlib import Path
from typing import Any

import redis
from flask import Flask, jsonify
from sqlalchemy import create_engine, inspect, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.pool import NullPool

from . import mail, policy
from .db import utcnow
from .extensions import db

log = logging.getLogger(__name__)

FORMAT = "pdz-backup-1"
MANIFEST = "manifest.json"
UPLOADS = "uploads"
# gunicorn stops (instead of starting the worker again and again) when a worker exits with this code, its
# "application could not be loaded"; any non-zero code would do for `flask run` and the CLI.
STARTUP_FAILED = 4


class OpsError(Exception):
    """An operation refused or failed: the message says why, in Italian, for the person at the console."""


def install(app: Flask) -> None:
    @app.get("/healthz")
    @policy.public
    def healthz() -> Any:
        checks = health(app)
        ok = checks["database"] == "ok" and checks["redis"] in {"ok", "not configured"}
        return jsonify(status="ok" if ok else "error", **checks), 200 if ok else 503

    mail.install(app)


# --- health and start-up ---------------------------------------------------------------------------


def health(app: Flask) -> dict[str, str]:
    """`ok` or why not, for the database and (when configured) Redis. Reasons name the kind of error only:
    the details (hosts, ports) go to the log, not to an anonymous caller."""
    checks: dict[str, str] = {}
    try:
        with db.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - whatever it is, the database is not usable
        log.warning("healthz: database unreachable: %s", error)
        checks["database"] = f"unreachable ({type(error).__name__})"
    redis_url = app.config.get("PDZ_REDIS_URL")
    if not redis_url:
        checks["redis"] = "not configured"
    else:
        try:
            _redis(app, redis_url).ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001
            log.warning("healthz: redis unreachable: %s", error)
            checks["redis"] = f"unreachable ({type(error).__name__})"
    return checks


def _redis(app: Flask, url: str) -> Any:
    client = app.extensions.get("pdz_health_redis")
    if client is None:
        client = redis.Redis.from_url(url, socket_connect_timeout=2, socket_timeout=2)
        app.extensions["pdz_health_redis"] = client
    return client


def database_problem(app: Flask, timeout: int = 5) -> str | None:
    """None when the configured database answers a `SELECT 1` (within `timeout` seconds), else why not."""
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    connect_args = {"connect_timeout": timeout} if url.get_backend_name() == "postgresql" else {}
    engine = create_engine(url, connect_args=connect_args, poolclass=NullPool)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - reported to the operator, whatever it is
        cause = getattr(error, "orig", None) or error  # the driver's own error, without SQLAlchemy's wrapping
        detail = " ".join(str(cause).split("\n")[0].split())[:300]
        return f"{type(cause).__name__}: {detail}"
    finally:
        engine.dispose()
    return None


def exit_unless_database_reachable(app: Flask) -> None:
    """Run by `wsgi.py` (web servers and every `flask --app wsgi` command): a PdZ that cannot reach its
    database stops at once with one clear line, instead of answering every request with a 500."""
    problem = database_problem(app)
    if problem is None:
        return
    shown = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).render_as_string(hide_password=True)
    print(
        f"PdZ non può partire: il database {shown} non risponde ({problem}). "
        "Controlla PDZ_DATABASE_URL e che il server del database sia avviato.",
        file=sys.stderr,
        flush=True,
    )
    raise SystemExit(STARTUP_FAILED)


# --- backup ----------------------------------------------------------------------------------------


def backup(app: Flask, target: Path) -> dict[str, Any]:
    """Write a backup archive to `target` (through a temporary file, renamed when complete)."""
    target = target.resolve()
    if not target.parent.is_dir():
        raise OpsError(f"La cartella {target.parent} non esiste.")
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    kind = url.get_backend_name()
    uploads = uploads_dir(app)
    manifest: dict[str, Any] = {
        "format": FORMAT,
        "database": kind,
        "created_at": utcnow().isoformat(timespec="seconds"),
        "revision": _revision(),
        "tables": _row_counts(),
        "uploads": uploads.is_dir(),
    }
    with tempfile.TemporaryDirectory(prefix="pdz-backup-", dir=target.parent) as work:
        workdir = Path(work)
        if kind == "sqlite":
            database_file = workdir / "database.sqlite3"
            _sqlite_copy(_sqlite_path(url), database_file)
        elif kind == "postgresql":
            database_file = workdir / "database.dump"
            _pg("pg_dump", url, "--format=custom", "--no-owner", "--no-privileges", f"--file={database_file}")
        else:
            raise OpsError(f"Backup non disponibile per un database {kind}.")
        (workdir / MANIFEST).write_text(json.dumps(manifest, indent=2, ensure_ascii=False))
        partial = workdir / "archive.tar.gz"
        with tarfile.open(partial, "w:gz") as archive:
            archive.add(workdir / MANIFEST, arcname=MANIFEST)
            archive.add(database_file, arcname=database_file.name)
            if manifest["uploads"]:
                archive.add(uploads, arcname=UPLOADS)
        partial.chmod(0o600)
        os.replace(partial, target)
    return manifest


def uploads_dir(app: Flask) -> Path:
    """The attachments' folder: `PDZ_UPLOAD_DIR` (default `instance/uploads`)."""
    return Path(app.config.get("PDZ_UPLOAD_DIR") or Path(app.instance_path) / UPLOADS)


def _revision() -> str | None:
    with db.engine.connect() as connection:
        if not inspect(connection).has_table("alembic_version"):
            return None
        return connection.execute(text("SELECT version_num FROM alembic_version")).scalar()


def _row_counts() -> dict[str, int]:
    with db.engine.connect() as connection:
        names = sorted(inspect(connection).get_table_names())
        return {
            name: int(connection.execute(text(f'SELECT COUNT(*) FROM "{name}"')).scalar() or 0)  # noqa: S608
            for name in names
        }


def _sqlite_path(url: URL) -> Path:
    if not url.database or url.database == ":memory:":
        raise OpsError("Il database SQLite configurato non è un file.")
    return Path(url.database).resolve()


def _sqlite_copy(source: Path, target: Path) -> None:
    """A consistent copy of a live SQLite database (WAL included) through the online backup API, written
    as one self-contained file (rollback journal, no -wal beside it)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")
    finally:
        dst.close()
        src.close()


def _pg(program: str, url: URL, *args: str) -> subprocess.CompletedProcess[str]:
    """Run pg_dump or pg_restore on the configured database; the password goes through the environment."""
    binary = shutil.which(program) or (
        f"/usr/bin/{program}" if Path(f"/usr/bin/{program}").exists() else None
    )
    if binary is None:
        raise OpsError(
            f"{program} non trovato: installa il client di PostgreSQL (pacchetto postgresql-client)."
        )
    conninfo = url.set(drivername="postgresql", password=None).render_as_string(hide_password=False)
    env = {**os.environ, "PGOPTIONS": "-c lock_timeout=30s"}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    done = subprocess.run(  # noqa: S603 - fixed program, arguments built here
        [binary, *args, f"--dbname={conninfo}"], env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise OpsError(f"{program} non riuscito: {done.stderr.strip()[-1000:]}")
    return done


# --- restore ---------------------------------------------------------------------------------------


def read_manifest(source: Path) -> dict[str, Any]:
    """The archive's manifest, or OpsError when `source` is not a PdZ backup."""
    if not source.is_file():
        raise OpsError(f"File di backup non trovato: {source}")
    try:
        with tarfile.open(source, "r:gz") as archive:
            member = archive.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            manifest = json.loads(member.read().decode("utf-8"))
    except (tarfile.TarError, KeyError, OSError, EOFError, UnicodeDecodeError, ValueError) as error:
        raise OpsError(f"{source} non è un backup di PdZ valido ({type(error).__name__}).") from error
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise OpsError(f"{source} non è un backup di PdZ in un formato conosciuto.")
    return manifest


def restore(app: Flask, source: Path) -> dict[str, Any]:
    """Replace the configured database (and the uploads folder, when the backup has one) with a backup."""
    manifest = read_manifest(source)
    url = make_url(app.config["SQLALCHEMY_DATABASE_URI"])
    kind = url.get_backend_name()
    if manifest.get("database") != kind:
        raise OpsError(
            f"Il backup è di un database {manifest.get('database')}, ma PdZ è configurato su {kind}: "
            "ripristinalo su un database dello stesso tipo."
        )
    with tempfile.TemporaryDirectory(prefix="pdz-restore-") as work:
        workdir = Path(work)
        try:
            with tarfile.open(source, "r:gz") as archive:
                archive.extractall(workdir, filter="data")
        except (tarfile.TarError, OSError, EOFError) as error:
            raise OpsError(f"{source} è danneggiato: {error}") from error
        db.session.remove()
        db.engine.dispose()  # no pooled connection of this process may hold a lock on what is replaced
        if kind == "sqlite":
            _sqlite_restore(workdir / "database.sqlite3", _sqlite_path(url))
        elif kind == "postgresql":
            dump = workdir / "database.dump"
            if not dump.is_file():
                raise OpsError(f"{source} non contiene il database.")
            # A damaged dump is refused before anything is dropped.
            _pg("pg_restore", url, "--list", str(dump))
            _pg(
                "pg_restore",
                url,
                "--clean",
                "--if-exists",
                "--no-owner",
                "--no-privileges",
                "--single-transaction",
                "--exit-on-error",
                str(dump),
            )
        else:
            raise OpsError(f"Ripristino non disponibile per un database {kind}.")
        if (workdir / UPLOADS).is_dir():
            _replace_uploads(workdir / UPLOADS, uploads_dir(app))
    return manifest


def _sqlite_restore(copy: Path, live: Path) -> None:
    if not copy.is_file():
        raise OpsError("Il backup non contiene il database.")
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    try:
        try:
            check = src.execute("PRAGMA integrity_check").fetchone()
            has_version = src.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            ).fetchone()
        except sqlite3.DatabaseError as error:
            raise OpsError(f"Il database nel backup è illeggibile: {error}") from error
        if not check or check[0] != "ok" or not has_version:
            raise OpsError("Il database nel backup è danneggiato o non è un database di PdZ.")
        live.parent.mkdir(parents=True, exist_ok=True)
        dst = sqlite3.connect(live, timeout=30)
        try:
            src.backup(dst)  # page by page into the live file, under SQLite's own locking
        finally:
            dst.close()
    finally:
        src.close()


def _replace_uploads(restored: Path, uploads: Path) -> None:
    previous = uploads.with_name(f"{UPLOADS}.prima-del-ripristino-{datetime.now():%Y%m%d%H%M%S}")
    if uploads.exists():
        uploads.rename(previous)
    shutil.copytree(restored, uploads)
    if previous.exists():
        shutil.rmtree(previous)
