"""Backup and restore (issue #13 point 5): `flask --app wsgi backup PATH` and `restore PATH` bring back every
row of every table, on SQLite (online backup API) and PostgreSQL (pg_dump / pg_restore), with the uploads
folder; a missing or invalid file is refused and changes nothing."""

from __future__ import annotations

import io
import json
import tarfile
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import MetaData, create_engine, func, select

from conftest import _pg_admin, _pg_url, make_app


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, Any]:
    """An instance folder of the test's own: the backup takes its uploads folder."""
    instance = tmp_path / "instance"
    instance.mkdir()
    return {"INSTANCE_DIR": str(instance)}


def every_row(database_url: str) -> dict[str, list[str]]:
    """Every row of every table in the database (read afresh, not through PdZ), each as text, sorted."""
    engine = create_engine(database_url)
    try:
        with engine.connect() as connection:
            metadata = MetaData()
            metadata.reflect(connection)
            return {
                name: sorted(repr(tuple(row)) for row in connection.execute(select(table)))
                for name, table in sorted(metadata.tables.items())
            }
    finally:
        engine.dispose()


def cli(app: Any, *args: str) -> Any:
    return app.test_cli_runner().invoke(args=list(args))


def post_comment(client: Any, tavolo_id: int, text: str) -> Any:
    payload = {
        "target_kind": "tavolo",
        "target_id": tavolo_id,
        "text": text,
        "client_op_id": uuid.uuid4().hex,
    }
    return client.post(f"/tavoli/{tavolo_id}/commenti", json=payload, headers={"Accept": "application/json"})


def test_backup_then_restore_brings_back_every_table_exactly(
    app: Any, db: Any, client_as: Any, tavolo: Any, database_url: str, tmp_path: Path
) -> None:
    from pdz.comments.models import Comment

    tavolo_id = tavolo.id
    member = client_as("membro@example.org")
    assert post_comment(member, tavolo_id, "Prima del backup").status_code == 201
    db.session.remove()  # nothing of the test holds the database while it is dumped or replaced
    before = every_row(database_url)
    archive = tmp_path / "pdz.tar.gz"

    made = cli(app, "backup", str(archive))

    assert made.exit_code == 0, made.output
    assert "Backup scritto" in made.output
    # Life goes on: a comment, a removed audit trail, a changed person.
    assert post_comment(member, tavolo_id, "Dopo il backup").status_code == 201
    with db.engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM audit_entries")
        connection.exec_driver_sql(
            "UPDATE users SET full_name = 'Cambiato' WHERE email = 'membro@example.org'"
        )
    assert every_row(database_url) != before

    restored = cli(app, "restore", str(archive), "--yes")

    assert restored.exit_code == 0, restored.output
    assert every_row(database_url) == before
    # The database goes on working after the restore: new rows get new ids (sequences came back too).
    assert post_comment(member, tavolo_id, "Dopo il ripristino").status_code == 201
    texts = db.session.scalars(select(Comment.body_source).where(Comment.body_id == tavolo_id)).all()
    assert "Dopo il ripristino" in texts and "Dopo il backup" not in texts


def test_a_backup_restored_into_an_empty_database_brings_back_every_table_and_the_uploads(
    app: Any, db: Any, backend: str, database_url: str, run_dir: Path, tmp_path: Path
) -> None:
    from pdz.extensions import db as database

    uploads = Path(app.instance_path) / "uploads"
    (uploads / "verbali").mkdir(parents=True)
    (uploads / "verbali" / "verbale.pdf").write_bytes(b"%PDF-1.7 verbale di prova\x00\x01")
    db.session.remove()
    before = every_row(database_url)
    archive = tmp_path / "pdz.tar.gz"
    assert cli(app, "backup", str(archive)).exit_code == 0

    if backend == "sqlite":
        target_url, name = f"sqlite:///{tmp_path / 'ripristinato.sqlite3'}", None
    else:
        name = f"pdz_r_{uuid.uuid4().hex[:10]}"
        _pg_admin(f"CREATE DATABASE {name}")
        target_url = _pg_url(name)
    other_instance = tmp_path / "altra-istanza"
    other_instance.mkdir()
    other = make_app(target_url, run_dir, INSTANCE_DIR=str(other_instance))
    try:
        with other.app_context():
            restored = cli(other, "restore", str(archive), "--yes")
            database.session.remove()
            database.engine.dispose()
        assert restored.exit_code == 0, restored.output
        assert every_row(target_url) == before
        assert (other_instance / "uploads" / "verbali" / "verbale.pdf").read_bytes() == (
            b"%PDF-1.7 verbale di prova\x00\x01"
        )
        assert other.test_client().get("/login").status_code == 200
    finally:
        if name:
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _tar(path: Path, files: dict[str, bytes]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, content in files.items():
            info = tarfile.TarInfo(name)
            info.size = len(content)
            archive.addfile(info, io.BytesIO(content))
    return path


def test_restore_refuses_a_missing_or_invalid_file_and_changes_nothing(
    app: Any, db: Any, backend: str, database_url: str, tmp_path: Path
) -> None:
    from pdz.accounts.models import User

    db.session.remove()
    before = every_row(database_url)
    kind, other_kind = ("sqlite", "postgresql") if backend == "sqlite" else ("postgresql", "sqlite")
    not_an_archive = tmp_path / "note.txt"
    not_an_archive.write_text("non sono un backup")
    cases = {
        str(tmp_path / "manca.tar.gz"): "File di backup non trovato",
        str(not_an_archive): "non è un backup di PdZ valido",
        str(_tar(tmp_path / "vuoto.tar.gz", {"altro.txt": b"x"})): "non è un backup di PdZ valido",
        str(
            _tar(tmp_path / "formato.tar.gz", {"manifest.json": json.dumps({"format": "altro"}).encode()})
        ): "formato conosciuto",
        str(
            _tar(
                tmp_path / "altro-db.tar.gz",
                {"manifest.json": json.dumps({"format": "pdz-backup-1", "database": other_kind}).encode()},
            )
        ): f"Il backup è di un database {other_kind}",
        str(
            _tar(
                tmp_path / "senza-db.tar.gz",
                {"manifest.json": json.dumps({"format": "pdz-backup-1", "database": kind}).encode()},
            )
        ): "non contiene il database",
    }
    for path, message in cases.items():
        result = cli(app, "restore", path, "--yes")
        assert result.exit_code != 0, (path, result.output)
        assert message in result.output, (path, result.output)
        assert "Traceback" not in result.output

    assert every_row(database_url) == before
    assert db.session.scalar(select(func.count(User.id))) > 0


def test_backup_refuses_to_overwrite_an_existing_file(app: Any, tmp_path: Path) -> None:
    existing = tmp_path / "gia-qui.tar.gz"
    existing.write_text("importante")

    result = cli(app, "backup", str(existing))

    assert result.exit_code != 0 and "esiste già" in result.output
    assert existing.read_text() == "importante"
