"""Frozen versions (docs/approvals.md): the canonical JSON byte for byte, the fingerprint, tampering noticed and
shown, and `/verifica` answering only for versions that were approved."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

EXAMPLE = Path(__file__).parent / "data" / "canonical_example.json"
# sha256sum tests/rules/data/canonical_example.json
EXAMPLE_SHA256 = "e8202eb1b9f3ca42e82090760692eb80a2a98fa33d1d6086b30a58243dc7412a"
# what the example file holds, written with its keys out of order and its text with non-ASCII characters,
# a quotation mark and a new line
CONTENT = {
    "title": "Scheda – Povertà",
    "schema": 1,
    "kind": "scheda",
    "sections": [
        {
            "heading": "Obiettivo",
            "blocks": [
                {"type": "field", "text": 'Più "casa"\n€ 1.234,50', "label": "Titolo", "format": "plain"}
            ],
        }
    ],
    "data": {"b": 2, "a": [1, {"z": None, "y": True}]},
}
INTACT = "integra: il contenuto registrato corrisponde all'impronta"
NOT_INTACT = "ATTENZIONE: il contenuto registrato non corrisponde all'impronta"
NEVER_APPROVED = "Nessun documento approvato ha questa impronta"


def test_the_canonical_json_is_the_stored_example_byte_for_byte() -> None:
    from pdz.approvals import document

    assert document.canonical_bytes(CONTENT) == EXAMPLE.read_bytes()
    assert document.fingerprint(CONTENT) == EXAMPLE_SHA256 == hashlib.sha256(EXAMPLE.read_bytes()).hexdigest()


def _approved(db: Any) -> Any:
    from pdz.approvals.models import Submission

    return db.session.scalar(
        select(Submission).where(Submission.status == "approvata").order_by(Submission.id)
    )


def _never_approved(db: Any) -> list[Any]:
    from pdz.approvals.models import Submission

    return list(db.session.scalars(select(Submission).where(Submission.status != "approvata")))


def test_an_approved_version_downloads_as_its_canonical_json(app: Any, db: Any) -> None:
    sub = _approved(db)
    response = app.test_client().get(f"/pubblico/{sub.id}/documento.json")
    assert response.status_code == 200
    data = response.get_data()
    canonical = json.dumps(json.loads(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert data == canonical.encode("utf-8")
    assert hashlib.sha256(data).hexdigest() == sub.fingerprint == response.headers["X-Pdz-Fingerprint"]
    page = app.test_client().get(f"/pubblico/{sub.id}").get_data(as_text=True)
    assert sub.fingerprint in page and INTACT in page and NOT_INTACT not in page


def _spaced(content: str) -> str:
    return json.dumps(json.loads(content), sort_keys=True, ensure_ascii=False)  # same data, not canonical


def _one_figure_changed(content: str) -> str:
    for old, new in (("1", "2"), ("2", "3"), ("a", "e")):
        if old in content:
            return content.replace(old, new, 1)
    raise AssertionError("nothing to change")


@pytest.mark.parametrize("tamper", [_one_figure_changed, _spaced], ids=["a-character", "only-whitespace"])
def test_tampered_frozen_content_is_detected_and_shown(
    app: Any, db: Any, client_as: Any, tamper: Any
) -> None:
    """Someone with database access rewrites a frozen version: the public page, the submission page and
    `/verifica` say it no longer matches its fingerprint, even when the JSON still means the same."""
    from pdz.approvals.models import Submission

    sub = _approved(db)
    tampered = tamper(sub.content)
    assert tampered != sub.content
    db.session.execute(update(Submission).where(Submission.id == sub.id).values(content=tampered))
    db.session.commit()
    public = app.test_client().get(f"/pubblico/{sub.id}").get_data(as_text=True)
    assert NOT_INTACT in public and INTACT not in public
    staff = client_as("udp@example.org").get(f"/approvazioni/{sub.id}").get_data(as_text=True)
    assert NOT_INTACT in staff and INTACT not in staff
    verify = app.test_client().post("/verifica", data={"fingerprint": sub.fingerprint}).get_data(as_text=True)
    assert 'class="result ko"' in verify and 'class="result ok"' not in verify


def test_verifica_accepts_the_fingerprint_of_an_approved_version(app: Any, db: Any) -> None:
    sub = _approved(db)
    page = app.test_client().post("/verifica", data={"fingerprint": sub.fingerprint.upper()})
    assert page.status_code == 200
    assert 'class="result ok"' in page.get_data(as_text=True)


def test_verifica_refuses_the_fingerprint_of_a_version_never_approved(
    app: Any, db: Any, client_as: Any
) -> None:
    """Every version in review, awaiting a vote or sent back: typed, or uploaded as its own JSON copy."""
    from conftest import card_awaiting_vote

    card_awaiting_vote(app, db)
    udp = client_as("udp@example.org")
    others = _never_approved(db)
    assert {str(s.status) for s in others} >= {"in_esame", "in_attesa_di_voto", "restituita"}
    for sub in others:
        typed = (
            app.test_client().post("/verifica", data={"fingerprint": sub.fingerprint}).get_data(as_text=True)
        )
        assert NEVER_APPROVED in typed and 'class="result ko"' in typed, sub.status
        copy = udp.get(f"/approvazioni/{sub.id}/documento.json").get_data()
        assert hashlib.sha256(copy).hexdigest() == sub.fingerprint
        from io import BytesIO

        uploaded = app.test_client().post(
            "/verifica", data={"file": (BytesIO(copy), "copia.json")}, content_type="multipart/form-data"
        )
        assert NEVER_APPROVED in uploaded.get_data(as_text=True), sub.status
