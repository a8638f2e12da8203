"""The funds-by-year migration keeps every budget line and splits it evenly over its cycle's years, the
remainder cents on the last year (issue #15 point 1), on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from flask_migrate import upgrade

from conftest import BACKENDS, _pg_admin, _pg_url, make_app

BEFORE = "d4f8b2a6c1e7"


@pytest.mark.parametrize("backend_name", BACKENDS)
def test_existing_lines_get_an_even_split_and_nothing_is_lost(backend_name: str, run_dir: Path) -> None:
    from pdz.extensions import db

    if backend_name == "sqlite":
        url, name = f"sqlite:///{run_dir / ('funds_' + uuid.uuid4().hex[:8] + '.sqlite3')}", None
    else:
        name = f"pdz_f_{uuid.uuid4().hex[:10]}"
        _pg_admin(f"CREATE DATABASE {name}")
        url = _pg_url(name)
    app = make_app(url, run_dir)
    now = datetime(2026, 11, 30, 12, 0)
    try:
        with app.app_context():
            upgrade(revision=BEFORE)
            with db.engine.begin() as connection:
                run = connection.execute
                run(
                    sa.text(
                        "INSERT INTO planning_cycles (id, name, start_year, end_year, status, created_at, updated_at) "
                        "VALUES (1, 'Piano di Zona 2025-2027', 2025, 2027, 'in_corso', :t, :t)"
                    ),
                    {"t": now},
                )
                run(
                    sa.text(
                        "INSERT INTO bodies (id, name, short_name, kind, status, description, created_at, updated_at) "
                        "VALUES (1, 'Ufficio di Piano Integrato', 'UdP Integrato', 'udp_integrato', 'attivo', '', :t, :t)"
                    ),
                    {"t": now},
                )
                run(
                    sa.text(
                        "INSERT INTO cards (id, cycle_id, body_id, key, title, status, revision_no, created_at, updated_at) "
                        "VALUES (1, 1, 1, 'K', 'Ufficio di Piano', 'bozza', 0, :t, :t)"
                    ),
                    {"t": now},
                )
                for line_id, source, description, cents, counted in [
                    (1, "fnps", "assunzioni assistenti sociali PUA", 10000000, False),
                    (2, "fnps", "costo Ufficio di Piano", 86660483, True),
                    (3, "risorse_umane", "risorse umane delle reti", None, False),
                ]:
                    run(
                        sa.text(
                            "INSERT INTO card_budget_lines (id, card_id, source, description, amount_cents, counted, "
                            "position, removed, created_at) VALUES (:id, 1, :s, :d, :c, :counted, :id, false, :t)"
                        ),
                        {
                            "id": line_id,
                            "s": source,
                            "d": description,
                            "c": cents,
                            "counted": counted,
                            "t": now,
                        },
                    )
            upgrade()
            with db.engine.connect() as connection:
                lines = connection.execute(
                    sa.text("SELECT id, amount_cents FROM card_budget_lines ORDER BY id")
                ).all()
                parts = connection.execute(
                    sa.text(
                        "SELECT line_id, year, amount_cents FROM card_budget_years ORDER BY line_id, year"
                    )
                ).all()
            assert [tuple(r) for r in lines] == [(1, 10000000), (2, 86660483), (3, None)]
            assert [tuple(p) for p in parts] == [
                (1, 2025, 3333333),
                (1, 2026, 3333333),
                (1, 2027, 3333334),
                (2, 2025, 28886827),  # 866.604,83 €: 288.868,27 + 288.868,27 + 288.868,29
                (2, 2026, 28886827),
                (2, 2027, 28886829),
            ]
            db.session.remove()
            db.engine.dispose()
    finally:
        if name:
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
