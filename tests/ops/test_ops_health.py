"""Start-up and health (issue #13 point 5): a PdZ that cannot reach its database refuses to start with one
clear line; `/healthz` answers 200 when the database (and Redis, where configured) answer, 503 with the
reason when not."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import redis

from conftest import free_port, make_app

ROOT = Path(__file__).resolve().parents[2]
UNREACHABLE_POSTGRES = "postgresql://postgres@127.0.0.1:1/pdz"  # nothing listens on port 1
UNREACHABLE_REDIS = "redis://127.0.0.1:1/0"
REDIS_URL = os.environ.get("PDZ_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def test_healthz_answers_200_with_a_small_json_when_all_is_well(app: Any) -> None:
    response = app.test_client().get("/healthz")

    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "redis": "not configured"}


def test_healthz_answers_503_with_the_reason_when_the_database_is_down(run_dir: Path) -> None:
    from pdz.extensions import db

    app = make_app("postgresql+psycopg://postgres@127.0.0.1:1/pdz", run_dir)
    try:
        response = app.test_client().get("/healthz")
    finally:
        with app.app_context():
            db.engine.dispose()

    assert response.status_code == 503
    answer = response.get_json()
    assert answer["status"] == "error"
    assert answer["database"].startswith("unreachable") and "OperationalError" in answer["database"]


def test_healthz_answers_503_when_the_configured_redis_is_down_and_200_when_it_answers(app: Any) -> None:
    client = app.test_client()
    app.config["PDZ_REDIS_URL"] = UNREACHABLE_REDIS

    down = client.get("/healthz")

    assert down.status_code == 503
    assert down.get_json()["database"] == "ok"
    assert down.get_json()["redis"].startswith("unreachable")

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if os.environ.get("PDZ_REQUIRE_REDIS") == "1":
            pytest.fail(f"PDZ_REQUIRE_REDIS=1 but Redis is not reachable at {REDIS_URL}")
        return
    app.config["PDZ_REDIS_URL"] = REDIS_URL
    app.extensions.pop("pdz_health_redis", None)  # the health check keeps one client per app
    up = client.get("/healthz")
    assert up.status_code == 200 and up.get_json()["redis"] == "ok"


def _env(tmp_path: Path, database_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PDZ_", "FLASK_"))}
    env.update(PDZ_DATABASE_URL=database_url, PDZ_INSTANCE_DIR=str(tmp_path), PDZ_SECRET_KEY="startup-test")
    return env


@pytest.mark.parametrize(
    "server",
    [
        ["-m", "flask", "--app", "wsgi", "run", "--port", "{port}"],
        [
            "-m",
            "gunicorn",
            "-k",
            "gthread",
            "-w",
            "1",
            "--threads",
            "4",
            "--no-control-socket",
            "-b",
            "127.0.0.1:{port}",
            "wsgi:app",
        ],
    ],
    ids=["flask-run", "gunicorn"],
)
def test_start_up_with_the_database_unreachable_exits_with_a_clear_message(
    server: list[str], tmp_path: Path
) -> None:
    port = str(free_port())
    command = [sys.executable, *[part.replace("{port}", port) for part in server]]

    done = subprocess.run(
        command,
        cwd=ROOT,
        env=_env(tmp_path, UNREACHABLE_POSTGRES),
        capture_output=True,
        text=True,
        timeout=120,
    )

    output = done.stdout + done.stderr
    assert done.returncode != 0, output
    assert (
        "PdZ non può partire: il database postgresql+psycopg://postgres@127.0.0.1:1/pdz non risponde"
        in output
    )
    assert "Controlla PDZ_DATABASE_URL" in output
    assert "Traceback" not in output
    assert output.count("PdZ non può partire") == 1  # gunicorn stopped instead of booting the worker again
