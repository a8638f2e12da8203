"""Alembic migrations bring an empty database to exactly the models' schema, and back down to nothing, on
SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import downgrade, upgrade
from sqlalchemy import inspect

from conftest import BACKENDS, _pg_admin, _pg_url, make_app


@contextmanager
def empty_database(backend_name: str, run_dir: Path) -> Iterator[Any]:
    """An app on a new, empty database of the backend (dropped afterwards on PostgreSQL)."""
    from pdz.extensions import db

    if backend_name == "sqlite":
        url = f"sqlite:///{run_dir / ('empty_' + uuid.uuid4().hex[:8] + '.sqlite3')}"
        name = None
    else:
        name = f"pdz_m_{uuid.uuid4().hex[:10]}"
        _pg_admin(f"CREATE DATABASE {name}")
        url = _pg_url(name)
    app = make_app(url, run_dir)
    try:
        with app.app_context():
            yield db
            db.session.remove()
            db.engine.dispose()
    finally:
        if name:
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def schema_diff(db: Any) -> list[Any]:
    from pdz.db import Base

    with db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        return list(compare_metadata(context, Base.metadata))


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_migrations_reach_head_with_no_model_diff(backend_name: str, run_dir: Path) -> None:
    with empty_database(backend_name, run_dir) as db:
        upgrade()
        assert schema_diff(db) == []


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_every_migration_downgrades_to_nothing_and_upgrades_again(backend_name: str, run_dir: Path) -> None:
    """Upgrade, downgrade to base (every `downgrade()` runs, newest first), upgrade again: the second
    upgrade must find nothing left behind by the downgrades, and reach the models' schema once more."""
    with empty_database(backend_name, run_dir) as db:
        upgrade()
        downgrade(revision="base")
        with db.engine.connect() as connection:
            left = set(inspect(connection).get_table_names()) - {"alembic_version"}
            # FTS5 keeps shadow tables named after its virtual table; none may survive either.
            assert left == set()
            if backend_name == "postgres":
                types = connection.exec_driver_sql(
                    "SELECT typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace "
                    "WHERE n.nspname = 'public' AND t.typtype = 'e'"
                ).scalars()
                assert list(types) == []  # enum types created by the migrations are dropped too
        upgrade()
        assert schema_diff(db) == []


def test_healthz_answers_json(client_as: Any, app: Any) -> None:
    response = app.test_client().get("/healthz")
    assert response.status_code == 200
    assert response.get_json()["status"] == "ok"
