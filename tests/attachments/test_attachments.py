"""Attachments (issue #16 point 2), through HTTP: PDFs, office documents and images on tavoli, cards, meetings
and agenda items; uploaded by who may edit the object, downloaded by who may see it; the kind read from the
content; the size limit; one stored copy per content; removal kept in the history; listed in the convocation
and in the minutes; included in the backup."""

from __future__ import annotations

import html
import io
import re
import uuid
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from attachments_support import ACCEPTED, DISGUISED, audit_actions, count, pdf, stored, upload
from sqlalchemy import select

from conftest import _pg_admin, _pg_url, login, make_app, outbox

COORD, MEMBER, OBSERVER, OUTSIDER = (
    "coord.pubblico@example.org",
    "membro@example.org",
    "osservatore@example.org",
    "disabilita@example.org",
)
LIMIT_MB = 1


@pytest.fixture
def app_overrides(tmp_path: Path) -> dict[str, Any]:
    """Each test its own uploads folder and instance, and a 1 MB limit (the default, 20 MB, is checked apart)."""
    instance = tmp_path / "instance"
    instance.mkdir()
    return {
        "INSTANCE_DIR": str(instance),
        "PDZ_UPLOAD_DIR": str(tmp_path / "allegati"),
        "PDZ_UPLOAD_MAX_MB": LIMIT_MB,
    }


@pytest.fixture
def uploads(app: Any) -> Path:
    return Path(app.config["PDZ_UPLOAD_DIR"])


def _card_id(db: Any, tavolo: Any) -> int:
    from pdz.cards.models import Card

    return int(db.session.scalar(select(Card.id).where(Card.body_id == tavolo.id).order_by(Card.id)))


def _concluded_meeting(db: Any, tavolo: Any) -> Any:
    from pdz.meetings.models import Meeting, MeetingStatus

    return db.session.scalar(
        select(Meeting)
        .where(Meeting.body_id == tavolo.id, Meeting.status == MeetingStatus.CONCLUDED)
        .order_by(Meeting.starts_at.desc())
    )


def _draft_meeting(client: Any, tavolo: Any) -> int:
    """A meeting in a week with one agenda item, created as the co-coordinator does, through the forms."""
    day = (date.today() + timedelta(days=7)).isoformat()
    created = client.post(
        f"/tavoli/{tavolo.id}/incontri/nuovo",
        data={
            "title": "Incontro con allegati",
            "day": day,
            "start": "17:00",
            "end": "19:00",
            "place": "Crema",
        },
    )
    assert created.status_code == 302, created.get_data(as_text=True)
    meeting_id = int(re.search(r"/incontri/(\d+)", created.location).group(1))
    added = client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Bilancio sociale"})
    assert added.status_code == 302
    return meeting_id


# --- who may upload ------------------------------------------------------------------------------------


def test_tavolo_and_card_files_are_uploaded_by_their_writers_only(
    app: Any, db: Any, client_as: Any, tavolo: Any, uploads: Path
) -> None:
    card_id = _card_id(db, tavolo)
    for url in (f"/tavoli/{tavolo.id}/allegati", f"/schede/{card_id}/allegati"):
        for email in (COORD, MEMBER):  # tavolo.write: co-coordinators and members
            answer = upload(client_as(email), url, f"di-{email[:5]}.pdf", pdf(f"{email} {url}"))
            assert answer.status_code == 302, (email, url)
            assert answer.location.endswith("#allegati")
        for email in (OBSERVER, OUTSIDER):
            assert upload(client_as(email), url, "no.pdf", pdf("rifiutato")).status_code == 403, (email, url)
        anonymous = upload(app.test_client(), url, "x.pdf", pdf())
        assert anonymous.status_code == 302 and "/login" in anonymous.location
    assert count(db) == 4
    assert len(stored(uploads)) == 4


def test_meeting_and_agenda_item_files_are_uploaded_by_who_manages_the_meeting(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    coord = client_as(COORD)
    meeting_id = _draft_meeting(coord, tavolo)
    item_id = int(
        re.search(r'data-item-id="(\d+)"', coord.get(f"/incontri/{meeting_id}").get_data(as_text=True)).group(
            1
        )
    )
    url = f"/incontri/{meeting_id}/allegati"
    assert upload(coord, url, "convocazione.pdf", pdf("incontro")).status_code == 302
    assert upload(coord, url, "bilancio.pdf", pdf("punto"), item_id=str(item_id)).status_code == 302
    for email in (MEMBER, OBSERVER, OUTSIDER):  # meeting.manage: co-coordinators only
        assert upload(client_as(email), url, "no.pdf", pdf("no")).status_code == 403, email
    refused = upload(coord, url, "altro.pdf", pdf("altro"), item_id="999999")
    assert refused.status_code == 422
    assert "non è nell'ordine del giorno" in html.unescape(refused.get_data(as_text=True))
    page = client_as(MEMBER).get(f"/incontri/{meeting_id}").get_data(as_text=True)
    assert "convocazione.pdf" in page and "bilancio.pdf" in page and "Punto 1. Bilancio sociale" in page
    assert 'data-testid="attachment-upload"' not in page  # members see the files, not the form
    assert count(db) == 2


# --- the kind comes from the content -------------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(ACCEPTED))
def test_every_accepted_kind_is_stored_and_served_with_its_own_type(
    kind: str, db: Any, client_as: Any, tavolo: Any
) -> None:
    name, make, mime = ACCEPTED[kind]
    data = make()
    client = client_as(COORD)
    assert upload(client, f"/tavoli/{tavolo.id}/allegati", name, data).status_code == 302
    page = client.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    href = re.search(rf'href="(/tavoli/{tavolo.id}/allegati/\d+)"[^>]*>{re.escape(name)}<', page).group(1)
    served = client.get(href)
    assert served.status_code == 200
    assert served.mimetype == mime
    assert served.data == data


@pytest.mark.parametrize("case", sorted(DISGUISED))
def test_a_file_whose_content_is_not_an_accepted_kind_is_refused_whatever_its_name(
    case: str, db: Any, client_as: Any, tavolo: Any, uploads: Path
) -> None:
    name, data = DISGUISED[case]
    answer = upload(client_as(COORD), f"/tavoli/{tavolo.id}/allegati", name, data)
    assert answer.status_code == 422
    text = answer.get_data(as_text=True)
    assert "Questo tipo di file non è ammesso" in text and "dal contenuto, non dal nome" in text
    assert count(db) == 0 and stored(uploads) == []
    assert audit_actions(db, "attachment.added") == []


def test_an_empty_form_or_an_empty_file_is_refused_in_italian(db: Any, client_as: Any, tavolo: Any) -> None:
    client = client_as(COORD)
    missing = client.post(f"/tavoli/{tavolo.id}/allegati", data={})
    assert missing.status_code == 422 and "Scegli un file da allegare" in missing.get_data(as_text=True)
    empty = upload(client, f"/tavoli/{tavolo.id}/allegati", "vuoto.pdf", b"")
    assert empty.status_code == 422 and "vuoto" in empty.get_data(as_text=True)
    assert count(db) == 0


# --- size ----------------------------------------------------------------------------------------------


def test_the_size_limit_defaults_to_20_mb() -> None:
    from pdz.config import load_config

    assert load_config()["PDZ_UPLOAD_MAX_MB"] == 20


def test_a_file_over_the_limit_is_refused_with_the_limit_in_italian_and_nothing_is_stored(
    db: Any, client_as: Any, tavolo: Any, uploads: Path
) -> None:
    client = client_as(COORD)
    just_over = pdf() + b"%" * (LIMIT_MB * 1024 * 1024)  # over the limit, within the request's allowance
    far_over = pdf() + b"%" * (3 * LIMIT_MB * 1024 * 1024)  # refused while the request is read
    for data in (just_over, far_over):
        answer = upload(client, f"/tavoli/{tavolo.id}/allegati", "grande.pdf", data)
        assert answer.status_code == 413
        assert f"Il file è troppo grande: il limite è {LIMIT_MB} MB" in answer.get_data(as_text=True)
    assert count(db) == 0 and stored(uploads) == []
    at_limit = pdf() + b"%" * (LIMIT_MB * 1024 * 1024 - len(pdf()) - 16)
    assert upload(client, f"/tavoli/{tavolo.id}/allegati", "giusto.pdf", at_limit).status_code == 302


def test_other_forms_keep_the_general_request_limit(client_as: Any, tavolo: Any) -> None:
    """Only the upload routes take large bodies: 5 MB posted to a comment form is still refused."""
    answer = client_as(COORD).post(
        f"/tavoli/{tavolo.id}/commenti",
        data={"text": "x" * (5 * 1024 * 1024)},
        content_type="application/x-www-form-urlencoded",
    )
    assert answer.status_code == 413


# --- download ------------------------------------------------------------------------------------------


def _upload_one(client: Any, url: str, name: str, data: bytes) -> str:
    assert upload(client, url, name, data).status_code == 302
    page = client.get(url.rsplit("/allegati", 1)[0]).get_data(as_text=True)
    return re.search(rf'href="({re.escape(url)}/\d+)"[^>]*>{re.escape(name)}<', page).group(1)


def test_downloads_are_attachments_never_inline_and_never_sniffed(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    client = client_as(COORD)
    href = _upload_one(client, f"/tavoli/{tavolo.id}/allegati", "Relazione «finale» 2026.pdf", pdf())
    served = client.get(href)
    assert served.status_code == 200
    disposition = served.headers["Content-Disposition"]
    assert disposition.startswith("attachment;")
    assert "filename*=UTF-8''Relazione%20%C2%ABfinale%C2%BB%202026.pdf" in disposition
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert served.headers["Content-Type"] == "application/pdf"
    assert "sandbox" in served.headers["Content-Security-Policy"]


def test_a_name_with_the_wrong_extension_gets_the_one_of_its_content(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    client = client_as(COORD)
    name, make, mime = ACCEPTED["png"]
    assert upload(client, f"/tavoli/{tavolo.id}/allegati", "../../pagina.html", make()).status_code == 302
    page = client.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    href = re.search(rf'href="(/tavoli/{tavolo.id}/allegati/\d+)"[^>]*>pagina\.html\.png<', page).group(1)
    served = client.get(href)
    assert served.headers["Content-Type"] == "image/png"
    assert re.search(r'filename="?pagina\.html\.png"?$', served.headers["Content-Disposition"])


def test_files_are_served_only_to_who_may_see_the_object(
    db: Any, client_as: Any, tavolo: Any, body: Any
) -> None:
    from flask import current_app

    card_id = _card_id(db, tavolo)
    coord = client_as(COORD)
    on_tavolo = _upload_one(coord, f"/tavoli/{tavolo.id}/allegati", "tavolo.pdf", pdf("t"))
    on_card = _upload_one(coord, f"/schede/{card_id}/allegati", "scheda.pdf", pdf("s"))
    for href in (on_tavolo, on_card):
        for email in (COORD, MEMBER, OBSERVER):  # tavolo.view / card.view
            assert client_as(email).get(href).status_code == 200, (email, href)
        assert client_as(OUTSIDER).get(href).status_code == 403
        anonymous = current_app.test_client().get(href)
        assert anonymous.status_code == 302 and "/login" in anonymous.location
    # An attachment asked for through another tavolo's (or card's) address does not exist there.
    other = body("Tavolo Permanente Disabilità")
    attachment_id = on_tavolo.rsplit("/", 1)[1]
    assert (
        client_as("admin@example.org").get(f"/tavoli/{other.id}/allegati/{attachment_id}").status_code == 404
    )
    assert client_as(COORD).get(f"/schede/{card_id}/allegati/{attachment_id}").status_code == 404


# --- stored once, created once -------------------------------------------------------------------------


def test_the_same_content_is_stored_once(db: Any, client_as: Any, tavolo: Any, uploads: Path) -> None:
    client, data = client_as(COORD), pdf("lo stesso documento")
    card_id = _card_id(db, tavolo)
    assert upload(client, f"/tavoli/{tavolo.id}/allegati", "uno.pdf", data).status_code == 302
    assert upload(client, f"/schede/{card_id}/allegati", "due.pdf", data).status_code == 302
    assert count(db) == 2
    assert len(stored(uploads)) == 1
    again = upload(client, f"/tavoli/{tavolo.id}/allegati", "tre.pdf", data)  # same object, same content
    assert again.status_code == 302
    assert "era già allegato" in client.get(again.location).get_data(as_text=True)
    assert count(db) == 2 and len(stored(uploads)) == 1


def test_a_double_submit_of_the_same_form_creates_one_attachment(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    client, key = client_as(COORD), uuid.uuid4().hex
    first = upload(client, f"/tavoli/{tavolo.id}/allegati", "doppio.pdf", pdf("doppio"), key=key)
    second = upload(client, f"/tavoli/{tavolo.id}/allegati", "doppio.pdf", pdf("doppio"), key=key)
    assert first.status_code == second.status_code == 302
    assert second.location == first.location
    assert count(db) == 1
    assert len(audit_actions(db, "attachment.added")) == 1


# --- removal keeps the history -------------------------------------------------------------------------


def test_a_removed_file_leaves_the_list_but_stays_in_the_history(
    db: Any, client_as: Any, tavolo: Any, uploads: Path
) -> None:
    coord = client_as(COORD)
    href = _upload_one(coord, f"/tavoli/{tavolo.id}/allegati", "superato.pdf", pdf("superato"))
    attachment_id = href.rsplit("/", 1)[1]
    url = f"/tavoli/{tavolo.id}/allegati/rimuovi"
    assert client_as(OBSERVER).post(url, data={"attachment_id": attachment_id}).status_code == 403
    removed = client_as(MEMBER).post(url, data={"attachment_id": attachment_id})
    assert removed.status_code == 303
    page = coord.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    listed, history = (
        page.split('data-testid="attachments-removed"')[0],
        page.split('data-testid="attachments-removed"')[1],
    )
    assert "superato.pdf" not in listed.split('data-testid="attachments"')[1]
    assert "superato.pdf" in history and "1 allegato rimosso" in history
    assert coord.get(href).status_code == 200  # the file itself stays, for the history
    assert len(stored(uploads)) == 1
    added, gone = audit_actions(db, "attachment.added"), audit_actions(db, "attachment.removed")
    assert len(added) == 1 and len(gone) == 1 and gone[0].object_id == int(attachment_id)
    assert gone[0].details["name"] == "superato.pdf"
    from pdz.realtime import LiveEvent

    events = db.session.scalars(select(LiveEvent).where(LiveEvent.room == f"tavolo:{tavolo.id}")).all()
    names = [e.name for e in events if e.payload.get("attachment_id") == int(attachment_id)]
    assert names == ["attachment.added", "attachment.removed"]  # the tavolo's open pages hear of both
    again = client_as(MEMBER).post(url, data={"attachment_id": attachment_id})
    assert again.status_code == 422 and "già stato rimosso" in again.get_data(as_text=True)
    log = client_as("admin@example.org").get("/admin/registro").get_data(as_text=True)
    assert "ha rimosso un allegato" in log and "ha allegato un file" in log


def test_removing_without_saying_which_file_is_refused(client_as: Any, tavolo: Any) -> None:
    answer = client_as(COORD).post(f"/tavoli/{tavolo.id}/allegati/rimuovi", data={})
    assert answer.status_code == 422 and "Indica quale allegato rimuovere" in answer.get_data(as_text=True)


# --- convocation and minutes ---------------------------------------------------------------------------


def test_the_convocation_mail_lists_the_files_of_the_meeting_and_its_items(
    db: Any, client_as: Any, tavolo: Any
) -> None:
    coord = client_as(COORD)
    meeting_id = _draft_meeting(coord, tavolo)
    page = coord.get(f"/incontri/{meeting_id}").get_data(as_text=True)
    item_id = re.search(r'data-item-id="(\d+)"', page).group(1)
    url = f"/incontri/{meeting_id}/allegati"
    assert upload(coord, url, "ordine-del-giorno.pdf", pdf("odg")).status_code == 302
    assert upload(coord, url, "bilancio-2026.pdf", pdf("bilancio"), item_id=item_id).status_code == 302
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302
    mails = [m for m in outbox(db, MEMBER) if "Convocazione" in m.subject]
    assert len(mails) == 1
    body = mails[0].body
    assert "ordine-del-giorno.pdf" in body
    assert "Punto 1. Bilancio sociale: bilancio-2026.pdf" in body
    links = re.findall(rf"http://localhost(/incontri/{meeting_id}/allegati/\d+)", body)
    assert len(links) == 2
    for link in links:  # the addresses in the mail download the files for the people convened
        assert client_as(MEMBER).get(link).status_code == 200


def test_the_minutes_page_print_and_pdf_list_the_files(db: Any, client_as: Any, tavolo: Any) -> None:
    from pypdf import PdfReader

    meeting = _concluded_meeting(db, tavolo)
    meeting_id = meeting.id
    item_id = meeting.items[0].id
    coord = client_as(COORD)
    url = f"/incontri/{meeting_id}/allegati"
    assert upload(coord, url, "presenze-firmate.pdf", pdf("firme")).status_code == 302
    assert (
        upload(coord, url, "foto-lavagna.png", ACCEPTED["png"][1](), item_id=str(item_id)).status_code == 302
    )
    for path in (f"/incontri/{meeting_id}/verbale", f"/incontri/{meeting_id}/stampa"):
        answer = client_as(MEMBER).get(path)
        assert answer.status_code == 200, path
        text = answer.get_data(as_text=True)
        assert 'data-testid="minutes-attachments"' in text, path
        assert "presenze-firmate.pdf" in text and "foto-lavagna.png" in text
    minutes_pdf = client_as(MEMBER).get(f"/incontri/{meeting_id}/verbale.pdf")
    assert minutes_pdf.status_code == 200
    words = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(minutes_pdf.data)).pages)
    assert "Allegati" in words and "presenze-firmate.pdf" in words and "foto-lavagna.png" in words


# --- backup --------------------------------------------------------------------------------------------


def test_a_backup_restored_elsewhere_brings_back_the_attached_files(
    app: Any,
    db: Any,
    client_as: Any,
    tavolo: Any,
    uploads: Path,
    backend: str,
    run_dir: Path,
    tmp_path: Path,
) -> None:
    """`flask backup` archives PDZ_UPLOAD_DIR (here not under the instance folder); `flask restore` on another
    instance puts the files in its own PDZ_UPLOAD_DIR, and the attachment downloads there."""
    from pdz.extensions import db as database

    data = pdf("da salvare")
    href = _upload_one(client_as(COORD), f"/tavoli/{tavolo.id}/allegati", "salvato.pdf", data)
    assert not uploads.is_relative_to(Path(app.instance_path))
    db.session.remove()
    archive = tmp_path / "pdz.tar.gz"
    made = app.test_cli_runner().invoke(args=["backup", str(archive)])
    assert made.exit_code == 0, made.output

    if backend == "sqlite":
        target, name = f"sqlite:///{tmp_path / 'ripristinato.sqlite3'}", None
    else:
        name = f"pdz_r_{uuid.uuid4().hex[:10]}"
        _pg_admin(f"CREATE DATABASE {name}")
        target = _pg_url(name)
    other_uploads = tmp_path / "altri-allegati"
    other_instance = tmp_path / "altra-istanza"
    other_instance.mkdir()
    other = make_app(target, run_dir, INSTANCE_DIR=str(other_instance), PDZ_UPLOAD_DIR=str(other_uploads))
    try:
        with other.app_context():
            restored = other.test_cli_runner().invoke(args=["restore", str(archive), "--yes"])
            database.session.remove()
            database.engine.dispose()
        assert restored.exit_code == 0, restored.output
        assert [p.read_bytes() for p in stored(other_uploads)] == [data]
        served = login(other.test_client(), COORD).get(href)
        assert served.status_code == 200 and served.data == data
        with other.app_context():
            database.session.remove()
            database.engine.dispose()
    finally:
        if name:
            _pg_admin(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


class TestWithCsrf:
    """The upload form carries its CSRF token and idempotency key; the size limit is applied before the CSRF
    check reads the form, so a large file still gets the attachments' own 413 message."""

    @pytest.fixture
    def app_overrides(self, tmp_path: Path) -> dict[str, Any]:
        return {
            "WTF_CSRF_ENABLED": True,
            "PDZ_UPLOAD_DIR": str(tmp_path / "allegati"),
            "PDZ_UPLOAD_MAX_MB": 1,
        }

    @staticmethod
    def _signed_in(app: Any) -> Any:
        client = app.test_client()
        token = re.search(
            r'name="csrf_token"[^>]*value="([^"]+)"', client.get("/login").get_data(as_text=True)
        )
        answer = client.post(
            "/login", data={"email": COORD, "password": "demo", "csrf_token": token.group(1)}
        )
        assert answer.status_code == 302 and "/login" not in answer.location, answer.location
        return client

    def test_the_page_form_uploads_once_and_a_form_without_token_is_refused(
        self, app: Any, db: Any, tavolo: Any
    ) -> None:
        client = self._signed_in(app)
        page = client.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
        form = page.split('data-testid="attachment-upload"')[1].split("</form>")[0]
        fields = dict(re.findall(r'name="(csrf_token|idempotency_key)" value="([^"]+)"', form))
        assert set(fields) == {"csrf_token", "idempotency_key"}
        url = f"/tavoli/{tavolo.id}/allegati"
        assert upload(client, url, "senza.pdf", pdf("senza token")).status_code == 400
        first = upload(client, url, "con.pdf", pdf("con token"), **fields)
        again = upload(client, url, "con.pdf", pdf("con token"), **fields)
        assert first.status_code == again.status_code == 302
        assert count(db) == 1
        too_large = upload(client, url, "grande.pdf", pdf() + b"%" * (3 * 1024 * 1024), **fields)
        assert too_large.status_code == 413
        assert "il limite è 1 MB" in too_large.get_data(as_text=True)
