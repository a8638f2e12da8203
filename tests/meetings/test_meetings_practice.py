"""Meetings in practice (issue #16 points 4 and 6), through HTTP: "Segna tutti presenti" and one-click marks
can be undone while nothing changed since; a QR code on the meeting page leads a member to a one-tap check-in
that works only while the meeting is in progress; the calendar has a month view."""

from __future__ import annotations

import re
from datetime import date, timedelta
from html import unescape
from urllib.parse import urlsplit

import segno
from meetings_support import create_meeting, load, rome_today, started_meeting, text
from sqlalchemy import func, select

MEMBER, OBSERVER, OUTSIDER = "membro@example.org", "osservatore@example.org", "disabilita@example.org"
COORD, CO_COORD = "coord.pubblico@example.org", "coord.ets@example.org"


def _sheet(db, meeting_id):
    """Each person's row as (status, arrived_at, left_at)."""
    meeting = load(db, meeting_id)
    return {a.user_id: (a.status.value, a.arrived_at, a.left_at) for a in meeting.attendances}


def _audit(db):
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(AuditEntry))


def _undo_id(page: str) -> str:
    match = re.search(r'name="entry_id" value="(\d+)"', page)
    assert match, "no undo offered"
    return match.group(1)


# --- attendance: all present, one click, undo ------------------------------------------------------------


def test_all_present_is_one_click_and_undone_in_one(app, db, client_as, tavolo):
    coord = client_as(COORD)
    meeting_id = started_meeting(coord, tavolo.id)
    before = _sheet(db, meeting_id)
    absent = {user for user, (status, _a, _l) in before.items() if status == "assente"}
    assert len(absent) >= 3

    response = coord.post(f"/incontri/{meeting_id}/presenze/tutti-presenti")
    assert response.status_code == 302
    after = _sheet(db, meeting_id)
    assert all(after[user][0] == "presente" for user in absent)
    assert all(after[u] == before[u] for u in before if u not in absent)  # the excused stay excused
    page = text(coord.get(f"/incontri/{meeting_id}/regia"))
    assert f"Hai segnato presenti {len(absent)} persone." in page

    response = coord.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": _undo_id(page)})
    assert response.status_code == 302
    assert _sheet(db, meeting_id) == before  # exactly as it was: absent, no arrival time
    assert 'name="entry_id"' not in text(coord.get(f"/incontri/{meeting_id}/regia"))

    # Undone once: the same undo again is refused, nothing changes.
    count = _audit(db)
    again = coord.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": _undo_id(page)})
    assert again.status_code == 422 and "non si può più annullare" in text(again)
    assert _sheet(db, meeting_id) == before and _audit(db) == count

    # Nobody absent: said so, nothing recorded.
    assert coord.post(f"/incontri/{meeting_id}/presenze/tutti-presenti").status_code == 302
    count = _audit(db)
    nobody = coord.post(f"/incontri/{meeting_id}/presenze/tutti-presenti")
    assert nobody.status_code == 422 and "Nessuno risulta assente." in text(nobody)
    assert _audit(db) == count


def test_a_one_click_mark_is_undone_unless_the_row_changed_since(app, db, client_as, tavolo, user):
    coord = client_as(COORD)
    meeting_id = started_meeting(coord, tavolo.id)
    member_id = user(MEMBER).id
    row = next(a for a in load(db, meeting_id).attendances if a.user_id == member_id)
    before = _sheet(db, meeting_id)

    assert (
        coord.post(f"/incontri/{meeting_id}/presenze/{row.id}", data={"mark": "giustificato"}).status_code
        == 302
    )
    assert _sheet(db, meeting_id)[member_id][0] == "giustificato"
    page = text(coord.get(f"/incontri/{meeting_id}/regia"))
    assert "Hai cambiato una presenza." in page
    assert (
        coord.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": _undo_id(page)}).status_code
        == 302
    )
    assert _sheet(db, meeting_id) == before

    # The other co-coordinator changes the same person after my click: my undo is refused.
    assert (
        coord.post(f"/incontri/{meeting_id}/presenze/{row.id}", data={"mark": "presente"}).status_code == 302
    )
    page = text(coord.get(f"/incontri/{meeting_id}/regia"))
    entry = _undo_id(page)
    co_coord = client_as(CO_COORD)
    assert (
        co_coord.post(f"/incontri/{meeting_id}/presenze/{row.id}", data={"mark": "assente"}).status_code
        == 302
    )
    changed, count = _sheet(db, meeting_id), _audit(db)
    refused = coord.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": entry})
    assert refused.status_code == 422 and "nel frattempo le presenze sono cambiate" in text(refused)
    assert _sheet(db, meeting_id) == changed and _audit(db) == count
    assert 'name="entry_id"' not in text(coord.get(f"/incontri/{meeting_id}/regia"))


def test_members_may_not_mark_everyone_or_undo(app, db, client_as, tavolo):
    coord = client_as(COORD)
    meeting_id = started_meeting(coord, tavolo.id)
    member = client_as(MEMBER)  # signing in is audited: before counting
    before, count = _sheet(db, meeting_id), _audit(db)
    assert member.post(f"/incontri/{meeting_id}/presenze/tutti-presenti").status_code == 403
    assert member.post(f"/incontri/{meeting_id}/presenze/annulla", data={"entry_id": "1"}).status_code == 403
    assert _sheet(db, meeting_id) == before and _audit(db) == count


# --- QR check-in ----------------------------------------------------------------------------------------


def _qr_link(page: str) -> str:
    match = re.search(r'data-testid="checkin-link">([^<]+)<', page)
    assert match, "no check-in link under the QR code"
    return unescape(match.group(1)).strip()


def test_the_qr_code_leads_a_member_to_a_one_tap_check_in(app, db, client_as, tavolo, user):
    coord = client_as(COORD)
    meeting_id = started_meeting(coord, tavolo.id)
    page = text(coord.get(f"/incontri/{meeting_id}"))
    assert 'data-testid="checkin-qr"' in page
    link = _qr_link(page)
    code = load(db, meeting_id).checkin_code
    assert link.endswith(f"/incontri/{meeting_id}/presenza?codice={code}")
    # The QR code is drawn inline as SVG and encodes exactly that link (the same symbol segno makes of it).
    svg = re.search(r"<svg[^>]*class=\"qr-code\".*?</svg>", page, re.S)
    assert svg and "<script" not in svg.group(0) and "style=" not in svg.group(0)
    expected_path = re.search(r' d="([^"]+)"', segno.make(link, error="m").svg_inline(scale=4, border=2))
    assert expected_path and f'd="{expected_path.group(1)}"' in svg.group(0)
    # Members do not see the QR code (only who runs the meeting shows it).
    member = client_as(MEMBER)
    assert 'data-testid="checkin-qr"' not in text(member.get(f"/incontri/{meeting_id}"))

    parts = urlsplit(link)
    target = f"{parts.path}?{parts.query}"
    landing = text(member.get(target))
    assert "Sono presente" in landing and user(MEMBER).full_name in landing
    response = member.post(target, data={"code": code})
    assert response.status_code == 302
    row = next(a for a in load(db, meeting_id).attendances if a.user_id == user(MEMBER).id)
    assert row.status.value == "presente" and row.self_checkin and row.arrived_at is not None
    assert "La tua presenza è già registrata." in text(member.get(target))

    # Outsiders are refused, nothing recorded.
    outsider = client_as(OUTSIDER)  # signing in is audited: before counting
    count = _audit(db)
    assert outsider.get(target).status_code == 403
    assert outsider.post(target, data={"code": code}).status_code == 403
    assert _audit(db) == count


def test_the_qr_check_in_refuses_outside_the_meeting_and_with_a_wrong_code(app, db, client_as, tavolo, user):
    coord = client_as(COORD)
    member = client_as(MEMBER)
    meeting_id = started_meeting(coord, tavolo.id)
    code = load(db, meeting_id).checkin_code
    target = f"/incontri/{meeting_id}/presenza"
    before, count = _sheet(db, meeting_id), _audit(db)

    wrong = member.post(target + "?codice=ZZZZZZ", data={"code": "ZZZZZZ"})
    assert (
        wrong.status_code == 422
        and "Codice non valido" in text(wrong)
        and "Non è cambiato nulla." in text(wrong)
    )
    assert _sheet(db, meeting_id) == before and _audit(db) == count

    # Concluded: the code no longer works; the page says so; nothing changes.
    assert coord.post(f"/incontri/{meeting_id}/chiudi").status_code == 302
    before, count = _sheet(db, meeting_id), _audit(db)
    assert "solo mentre l'incontro è in corso" in text(member.get(f"{target}?codice={code}"))
    late = member.post(f"{target}?codice={code}", data={"code": code})
    assert late.status_code == 422 and "possibile solo durante l'incontro" in text(late)
    assert _sheet(db, meeting_id) == before and _audit(db) == count

    # Not started yet (convened): refused the same way.
    convened = create_meeting(coord, tavolo.id, title="Incontro futuro")
    coord.post(f"/incontri/{convened}/ordine-del-giorno", data={"title": "Punto"})
    assert coord.post(f"/incontri/{convened}/convoca").status_code == 302
    count = _audit(db)
    early = member.post(f"/incontri/{convened}/presenza", data={"code": "ABCDEF"})
    assert early.status_code == 422 and "possibile solo durante l'incontro" in text(early)
    assert _audit(db) == count and not load(db, convened).attendances


# --- month view -----------------------------------------------------------------------------------------


def _month(day: date) -> str:
    return day.strftime("%Y-%m")


def test_the_month_view_shows_my_meetings_on_their_day(app, db, client_as, tavolo):
    coord = client_as(COORD)
    day = rome_today() + timedelta(days=40)
    meeting_id = create_meeting(coord, tavolo.id, day=day.isoformat(), title="Incontro del mese")
    coord.post(f"/incontri/{meeting_id}/ordine-del-giorno", data={"title": "Punto"})
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302
    draft_id = create_meeting(
        coord, tavolo.id, day=day.isoformat(), start="10:00", end="11:00", title="Bozza del mese"
    )

    member = client_as(MEMBER)
    page = text(member.get(f"/incontri/mese?mese={_month(day)}"))
    cell = re.search(rf'<time datetime="{day.isoformat()}">.*?</td>', page, re.S)
    assert cell and "Incontro del mese" in cell.group(0) and "17:00" in cell.group(0)
    # A member sees the draft too (its agenda is being drafted together), before the convened one.
    assert "Bozza del mese" in cell.group(0)
    assert cell.group(0).index("Bozza del mese") < cell.group(0).index("Incontro del mese")
    assert f"/incontri/{meeting_id}" in cell.group(0) and f"/incontri/{draft_id}" in cell.group(0)
    # Month by month: links to the previous and the next month.
    previous = (day.replace(day=1) - timedelta(days=1)).replace(day=1)
    following = (day.replace(day=28) + timedelta(days=5)).replace(day=1)
    assert f"mese={_month(previous)}" in page and f"mese={_month(following)}" in page
    # A week is a row of seven days under weekday headers, the first column Monday.
    assert re.search(r'<th scope="col"><abbr title="lunedì">', page)

    # Someone outside the tavolo sees neither.
    other = text(client_as(OUTSIDER).get(f"/incontri/mese?mese={_month(day)}"))
    assert "Incontro del mese" not in other and "Bozza del mese" not in other
    assert "Nessun incontro in questo mese." in text(client_as(OUTSIDER).get("/incontri/mese?mese=2099-01"))


def test_a_bad_month_is_refused_in_italian(app, db, client_as):
    member = client_as(MEMBER)
    assert member.get("/incontri/mese").status_code == 200
    for bad in ("2026-13", "dicembre", "1800-01"):
        response = member.get(f"/incontri/mese?mese={bad}")
        assert response.status_code == 422 and "Mese non valido" in text(response)
