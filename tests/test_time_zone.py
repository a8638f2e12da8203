"""One time zone (issue #13, point 6): every time PdZ shows is Europe/Rome, wherever it is shown.

One moment per season, chosen so that UTC and Rome disagree on the hour, the day and the month: 00:30 in Rome
on the first of the month is 23:30 (winter, CET = UTC+1) or 22:30 (summer, CEST = UTC+2) of the last day of
the previous month in UTC. The moment is written into the database as the time of a comment, of its
notification, of a meeting, of an audit entry and of a submission (explicit timestamps: no clock is mocked),
then read back from the pages, the digest mail in the outbox, the calendar, the minutes PDF, the approval PDF
and DOCX and the CSV exports. The expected values are the Rome wall clock of that moment.
"""

from __future__ import annotations

import io
import re
import uuid
import zipfile
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pypdf import PdfReader
from sqlalchemy import select, update
from tests.conftest import outbox

# (the moment in UTC, what Rome's clock says in each style PdZ uses)
MOMENTS = {
    "inverno": (
        datetime(2026, 2, 28, 23, 30, tzinfo=UTC),
        {
            "datetime": "1 mar 2026, 00:30",
            "stamp": "01/03/2026 00:30",
            "day": "01/03/2026",
            "long": "domenica 1 marzo 2026, 00:30",
            "ics": "20260301T003000",
            "month": "2026-03",
            "iso_day": "2026-03-01",
        },
    ),
    "estate": (
        datetime(2026, 6, 30, 22, 30, tzinfo=UTC),
        {
            "datetime": "1 lug 2026, 00:30",
            "stamp": "01/07/2026 00:30",
            "day": "01/07/2026",
            "long": "mercoledì 1 luglio 2026, 00:30",
            "ics": "20260701T003000",
            "month": "2026-07",
            "iso_day": "2026-07-01",
        },
    ),
}


def _post_comment(client: Any, body_id: int, text: str, **extra: Any) -> Any:
    payload = {"target_kind": "tavolo", "target_id": body_id, "text": text, "client_op_id": uuid.uuid4().hex}
    response = client.post(
        f"/tavoli/{body_id}/commenti", json={**payload, **extra}, headers={"Accept": "application/json"}
    )
    assert response.status_code == 201, response.get_data(as_text=True)
    return response.json["comment"]


def _ok(response: Any, *codes: int) -> Any:
    assert response.status_code in (codes or (200,)), (
        response.status_code,
        response.get_data(as_text=True)[:500],
    )
    return response


def _meeting(client: Any, body_id: int, until: str = "chiudi") -> int:
    day = (datetime.now(UTC) + timedelta(days=10)).date().isoformat()
    created = _ok(
        client.post(
            f"/tavoli/{body_id}/incontri/nuovo",
            data={
                "title": "Incontro sul fuso orario",
                "day": day,
                "start": "17:00",
                "end": "19:00",
                "place": "Sala Ricevimenti, Crema",
            },
        ),
        302,
    )
    meeting_id = int(re.search(r"/incontri/(\d+)", created.headers["Location"]).group(1))  # type: ignore[union-attr]
    _ok(client.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Apertura"}), 302)
    for step in ("convoca", "avvia", "chiudi"):
        _ok(client.post(f"/incontri/{meeting_id}/{step}"), 302)
        if step == until:
            break
    return meeting_id


def _pdf_text(data: bytes) -> str:
    return " ".join(
        " ".join((page.extract_text() or "").split()) for page in PdfReader(io.BytesIO(data)).pages
    )


def _docx_text(data: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        xml = " ".join(archive.read(n).decode("utf-8") for n in archive.namelist() if n.startswith("word/"))
    return re.sub(r"<[^>]+>", "", xml)


@pytest.mark.parametrize("season", list(MOMENTS))
def test_one_moment_reads_the_same_everywhere(app, db, client_as, tavolo, season):
    from pdz.approvals.models import Submission
    from pdz.audit import AuditEntry
    from pdz.comments.models import Comment
    from pdz.meetings.models import Meeting
    from pdz.notifications.models import Notification

    moment, rome = MOMENTS[season]
    utc_clock = f"{moment:%d/%m/%Y %H:%M}"  # what a page would show if it forgot the time zone
    member, coord = client_as("membro@example.org"), client_as("coord.pubblico@example.org")

    # A comment and the notification of its reply: the reply waits for the daily digest.
    root = _post_comment(member, tavolo.id, "Proposta sul calendario degli sportelli")
    reply = _post_comment(coord, tavolo.id, "D'accordo sul calendario", parent_id=root["id"])
    db.session.execute(update(Comment).where(Comment.id == reply["id"]).values(created_at=moment))
    db.session.execute(
        update(Notification).where(Notification.comment_id == reply["id"]).values(created_at=moment)
    )
    db.session.commit()

    # A meeting held at that moment, its minutes approved (and frozen) at that moment.
    meeting_id = _meeting(coord, tavolo.id)
    db.session.execute(
        update(Meeting)
        .where(Meeting.id == meeting_id)
        .values(starts_at=moment, ends_at=moment + timedelta(hours=2))
    )
    db.session.execute(
        update(AuditEntry)
        .where(AuditEntry.action == "meeting.concluded", AuditEntry.object_id == meeting_id)
        .values(at=moment)
    )
    db.session.commit()
    # The tavolo approves those minutes at its next meeting: they are frozen as an approved version.
    later_id = _meeting(coord, tavolo.id, until="avvia")
    _ok(coord.post(f"/incontri/{meeting_id}/verbale/approva", data={"approving_meeting_id": later_id}), 302)
    submission_id = db.session.scalar(
        select(Submission.id).where(
            Submission.document_kind == "verbale", Submission.document_id == meeting_id
        )
    )
    assert submission_id, "the approved minutes were not frozen"
    db.session.execute(
        update(Submission)
        .where(Submission.id == submission_id)
        .values(submitted_at=moment, decided_at=moment)
    )
    db.session.commit()

    # Pages: the reply's notification, the meeting, the audit log.
    notifications = _ok(member.get("/notifiche")).get_data(as_text=True)
    assert rome["datetime"] in notifications
    meeting_page = _ok(coord.get(f"/incontri/{meeting_id}")).get_data(as_text=True)
    assert f"{rome['long']}–02:30" in meeting_page
    admin = client_as("admin@example.org")
    assert rome["stamp"] in _ok(admin.get("/admin/registro")).get_data(as_text=True)

    # The comment thread sends the moment itself (UTC, ISO 8601); the browser test reads it on the page.
    listed = _ok(member.get(f"/tavoli/{tavolo.id}/commenti?kind=tavolo&id={tavolo.id}")).get_data(
        as_text=True
    )
    assert moment.isoformat() in listed

    # Mail: the daily digest lists the reply at Rome's time.
    output = app.test_cli_runner().invoke(args=["notifications-digest"]).output
    assert "Riepiloghi inviati" in output, output
    [digest] = [m for m in outbox(db, "membro@example.org") if "D'accordo sul calendario" in m.body]
    assert f"- {rome['datetime']} · " in digest.body, digest.body

    # Calendar: the local hour with TZID=Europe/Rome.
    ics = _ok(coord.get(f"/incontri/{meeting_id}/evento.ics")).get_data(as_text=True)
    assert f"DTSTART;TZID=Europe/Rome:{rome['ics']}" in ics, ics

    # Minutes as PDF, and the approval exports (PDF and DOCX) of the minutes frozen at that moment.
    minutes = _pdf_text(_ok(coord.get(f"/incontri/{meeting_id}/verbale.pdf")).data)
    assert f"{rome['day']}, dalle 00:30 alle 02:30" in minutes, minutes[:400]
    for fmt, read in (("pdf", _pdf_text), ("docx", _docx_text)):
        document = read(_ok(coord.get(f"/approvazioni/{submission_id}/documento.{fmt}")).data)
        assert rome["stamp"] in document, (fmt, document[:600])  # the minutes' subtitle
        assert f"Approvato il {rome['day']}" in document, (fmt, document[:600])  # the status line
        assert utc_clock not in document

    # CSV: the audit log (time of the entry, date of the meeting it names) and participation by month.
    audit_csv = _ok(admin.get("/admin/registro.csv")).get_data(as_text=True)
    concluded = [line for line in audit_csv.splitlines() if line.startswith(rome["stamp"] + ",")]
    assert concluded and f"Incontro sul fuso orario ({rome['day']})" in concluded[0], audit_csv[:600]
    udp = client_as("udp@example.org")
    day = rome["iso_day"]
    months = _ok(udp.get(f"/partecipazione/mesi.csv?dal={day}&al={day}")).get_data(as_text=True)
    assert [line.split(",")[0] for line in months.splitlines()[1:]] == [rome["month"]], months

    everything = notifications + meeting_page + digest.body + minutes + audit_csv
    assert utc_clock not in everything and f"{moment:%H:%M}" not in notifications + digest.body + minutes


def test_an_immediate_mail_gives_the_time_of_its_comment_in_rome(client_as, tavolo, user, db):
    from pdz.comments.models import Comment

    coord = user("coord.ets@example.org")
    comment = _post_comment(
        client_as("membro@example.org"), tavolo.id, f"@{coord.full_name} guarda qui", mention_ids=[coord.id]
    )
    stored = db.session.scalar(select(Comment.created_at).where(Comment.id == comment["id"]))
    rome = stored.astimezone(ZoneInfo("Europe/Rome"))
    [mail] = outbox(db, coord.email)
    assert f", {rome:%H:%M} (ora italiana)" in mail.body, mail.body
    assert f", {stored:%H:%M} (ora italiana)" not in mail.body  # Rome is never UTC


@pytest.mark.browser
@pytest.mark.parametrize("backend", ["sqlite"])  # the page is the same on both databases
def test_the_comment_thread_shows_rome_time_in_a_browser_set_to_another_zone(
    browser, live_server, database_url
):
    """The issue's case: a thread formatted by the browser in its own zone, one hour off its notification.
    A comment of the demo (the Tavolo Politiche Abitative's discussion, which the member reads) is given the
    moment; it was never a live event, so nothing replayed can show an older time."""
    from sqlalchemy import create_engine, text

    from pdz.comments.models import Comment

    moment, rome = MOMENTS["inverno"]
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            body_id, comment_id = connection.execute(
                text(
                    "SELECT t.body_id, c.id FROM comments c JOIN comment_threads t ON t.id = c.thread_id"
                    " JOIN bodies b ON b.id = t.body_id WHERE b.name = 'Tavolo Politiche Abitative'"
                    " AND t.target_kind = 'tavolo' AND c.parent_id IS NULL ORDER BY c.id LIMIT 1"
                )
            ).one()
            connection.execute(update(Comment).where(Comment.id == comment_id).values(created_at=moment))
    finally:
        engine.dispose()
    context = browser.new_context(locale="it-IT", timezone_id="America/New_York")  # UTC-5 that day
    try:
        page = context.new_page()
        page.goto(live_server.url + "/login")
        page.fill("input[name=email]", "membro@example.org")
        page.fill("input[name=password]", "demo")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/login" not in url)
        page.goto(f"{live_server.url}/tavoli/{body_id}/discussione")
        meta = page.locator(f"#commento-{comment_id} > p.meta")
        meta.wait_for()
        assert rome["datetime"] in meta.inner_text()
    finally:
        context.close()
