"""Issue #16 point 8: the participation dashboard's maps (tavolo x sub-ambito, tavolo x kind of organisation),
its alerts grouped by kind and tavolo, and the Italian CSV exports, read over HTTP on the demo.

Expected figures are computed here from the raw rows (concluded meetings, attendance sheets, organisations),
following the rule as the dashboard states it: an organisation attended a meeting when at least one of its
people was present or represented by a delegate (a delegate's own row does not count); the rate of a cell
is attended (meeting, organisation) pairs / expected pairs, over the organisations of that sub-ambito (an
organisation working in several sub-ambiti counts in each) or of that kind (ETS split by legal form).
"""

from __future__ import annotations

import csv
import io
import re
from collections import defaultdict
from datetime import UTC, date
from html import unescape
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select

ROME = ZoneInfo("Europe/Rome")

# The column titles of the kinds' map, as the documents name the kinds (ETS by legal form, shortened).
KIND_TITLES = {
    "comune": "Comune",
    "asst": "ASST",
    "ats": "ATS",
    "azienda_consortile": "Azienda consortile",
    "ufficio_di_piano": "Ufficio di Piano",
    "ente_pubblico": "Altro ente pubblico",
    "scuola": "Scuola",
    "sindacato": "Sindacato",
    "altro": "Altro",
    "ets:aps": "ETS – APS",
    "ets:odv": "ETS – ODV",
    "ets:cooperativa_sociale": "ETS – Cooperativa sociale / impresa sociale",
    "ets:fondazione": "ETS – Fondazione",
    "ets:consorzio": "ETS – Consorzio",  # Consorzio Arcobaleno (seed/demo.json)
    "ets:altro_ets": "ETS – Altro ETS",
}


def _csv(client: Any, name: str, query: str = "") -> list[list[str]]:
    response = client.get(f"/partecipazione/{name}.csv" + (f"?{query}" if query else ""))
    assert response.status_code == 200, (name, response.status_code)
    return list(csv.reader(io.StringIO(response.get_data(as_text=True))))


def _pct(attended: int, expected: int) -> str:
    return f"{round(100 * attended / expected, 1)}"


def _expected(db: Any, first: date, last: date) -> dict[str, dict[tuple[str, str], tuple[int, int]]]:
    """{"sub_ambiti" | "tipi": {(tavolo, column): (attended pairs, expected pairs)}} from the raw rows."""
    from pdz.meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Body

    pairs: dict[tuple[int, int], int] = {}
    bodies: dict[int, int] = {}
    rows = db.session.execute(
        select(Meeting.id, Meeting.body_id, Meeting.starts_at, Attendance.organisation_id, Attendance.status)
        .join(Attendance, Attendance.meeting_id == Meeting.id)
        .where(Meeting.status == MeetingStatus.CONCLUDED, Attendance.stands_for_id.is_(None))
    )
    for meeting_id, body_id, starts_at, org_id, status in rows:
        when = (starts_at if starts_at.tzinfo else starts_at.replace(tzinfo=UTC)).astimezone(ROME).date()
        if not first <= when <= last:
            continue
        came = 1 if status in (AttendanceStatus.PRESENT, AttendanceStatus.REPRESENTED) else 0
        pairs[(meeting_id, org_id)] = max(pairs.get((meeting_id, org_id), 0), came)
        bodies[meeting_id] = body_id
    names = {b.id: b.name for b in db.session.scalars(select(Body))}
    orgs = {o.id: o for o in db.session.scalars(select(Organisation))}
    out: dict[str, dict[tuple[str, str], list[int]]] = {
        "sub_ambiti": defaultdict(lambda: [0, 0]),
        "tipi": defaultdict(lambda: [0, 0]),
    }
    for (meeting_id, org_id), came in pairs.items():
        org, tavolo = orgs[org_id], names[bodies[meeting_id]]
        kind = org.kind.value
        if kind == "ets":
            kind += ":" + (org.legal_form.value if org.legal_form else "altro_ets")
        for key, column in [("tipi", KIND_TITLES[kind])] + [("sub_ambiti", s.name) for s in org.sub_ambiti]:
            out[key][(tavolo, column)][0] += came
            out[key][(tavolo, column)][1] += 1
    return {k: {cell: (a, n) for cell, (a, n) in v.items()} for k, v in out.items()}


def _running_cycle(db: Any) -> Any:
    from pdz.cycles.models import CycleStatus, PlanningCycle

    return db.session.scalar(select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING))


def _matrix_cells(html: str, table_id: str) -> dict[tuple[str, str], tuple[str, str, str]]:
    """{(row title, column title): (shown rate, shown pairs, level class)} of one map table in the page."""
    table = re.search(rf'<table class="matrix" id="{table_id}">(.*?)</table>', html, re.S)
    assert table, table_id
    head, body = table.group(1).split("</thead>")
    titles = [unescape(t).strip() for t in re.findall(r'<th scope="col">([^<]*)</th>', head)]
    cells = {}
    for row in re.findall(r"<tr>(.*?)</tr>", body, re.S):
        row_title = unescape(re.search(r'<th scope="row">([^<]*)</th>', row).group(1)).strip()
        for column, cell in zip(titles, re.findall(r"<td (.*?)</td>", row, re.S), strict=True):
            level = re.search(r'class="(level-[a-z0-9]+)"', cell).group(1)
            shown = re.search(r'<span class="pct">([^<]*)</span>', cell)
            pairs = re.search(r'<span class="pairs">(\d+/\d+)', cell)
            cells[(row_title, column)] = (
                shown.group(1) if shown else "",
                pairs.group(1) if pairs else "",
                level,
            )
    return cells


def _level(pct: float) -> str:
    """The legend as the page states it: below 40 %, 40-55, 55-70, 70-85, 85 % and more."""
    return f"level-{sum(pct >= edge for edge in (40, 55, 70, 85))}"


def test_maps_show_each_tavolo_by_sub_ambito_and_kind_of_organisation(client_as: Any, db: Any) -> None:
    cycle = _running_cycle(db)
    expected = _expected(db, date(cycle.start_year, 1, 1), date(cycle.end_year, 12, 31))
    udp = client_as("udp@example.org")
    page = udp.get("/partecipazione/")
    assert page.status_code == 200
    html = page.get_data(as_text=True)

    for name, column in (("sub_ambiti", "Sub-ambito"), ("tipi", "Tipo di ente")):
        rows = _csv(udp, f"matrice_{name}")
        assert rows[0] == ["Tavolo", column, "Presenze", "Attese", "Tasso (%)"]
        found = {(r[0], r[1]): (int(r[2]), int(r[3]), r[4]) for r in rows[1:]}
        want = {cell: (a, n, _pct(a, n)) for cell, (a, n) in expected[name].items()}
        assert found == want, name
        assert len(found) > 20  # the demo: 13 tavoli with meetings, 6 sub-ambiti, 13 kinds

        cells = _matrix_cells(html, f"table-matrice_{name}")
        assert {k for k, v in cells.items() if v[0]} == set(want)
        for cell, (a, n, pct) in want.items():
            assert cells[cell] == (f"{pct}%", f"{a}/{n}", _level(100 * a / n)), cell
        assert all(v == ("", "", "level-none") for k, v in cells.items() if k not in want)

    # The same pairs counted by kind add up to each tavolo's own figure (each organisation has one kind).
    by_tavolo = {r[1]: (int(r[2]), int(r[3])) for r in _csv(udp, "tavoli")[1:]}
    sums: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for (tavolo, _kind), (a, n) in expected["tipi"].items():
        sums[tavolo][0] += a
        sums[tavolo][1] += n
    assert by_tavolo == {k: tuple(v) for k, v in sums.items()}


def test_maps_follow_the_period_filter(client_as: Any, db: Any) -> None:
    """A period cut inside months: its partial months are counted from the raw rows."""
    expected = _expected(db, date(2026, 2, 15), date(2026, 11, 20))
    rows = _csv(client_as("udp@example.org"), "matrice_sub_ambiti", "dal=2026-02-15&al=2026-11-20")
    assert {(r[0], r[1]): (int(r[2]), int(r[3])) for r in rows[1:]} == expected["sub_ambiti"]


def test_map_legend_and_hint_are_there_for_screen_readers(client_as: Any) -> None:
    html = client_as("udp@example.org").get("/partecipazione/").get_data(as_text=True)
    legend = re.search(r'<ul class="matrix-legend" aria-label="Legenda dei colori">(.*?)</ul>', html, re.S)
    assert legend
    items = [
        " ".join(unescape(re.sub(r"<[^>]+>", " ", li)).split())
        for li in re.findall(r"<li>(.*?)</li>", legend.group(1), re.S)
    ]
    assert items == [
        "meno del 40%",
        "dal 40 al 55%",
        "dal 55 al 70%",
        "dal 70 all'85%",
        "85% e oltre",
        "— nessuna presenza attesa",
    ]
    for table in ("matrice_sub_ambiti", "matrice_tipi"):
        region = re.search(
            rf'<div class="matrix-scroll" ([^>]*)>\s*<table class="matrix" id="table-{table}">', html
        )
        assert region and 'role="region"' in region.group(1) and 'tabindex="0"' in region.group(1)
    assert html.count('<span class="sr-only"> presenze su attese</span>') > 40


def test_alerts_are_grouped_by_kind_and_tavolo_with_counts(client_as: Any) -> None:
    udp = client_as("udp@example.org")
    rows = _csv(udp, "allerte")
    assert rows[0] == ["Segnale", "Tavolo", "Chi o dove", "Dettaglio"]
    by_kind: dict[str, dict[str, list[str]]] = defaultdict(lambda: defaultdict(list))
    for kind, tavolo, subject, _detail in rows[1:]:
        by_kind[kind][tavolo].append(subject)
    assert set(by_kind) <= {"Ente che non partecipa più", "Tavolo fermo da due mesi", "Sub-ambito assente"}
    assert len(by_kind["Ente che non partecipa più"]) > 1 and len(by_kind["Sub-ambito assente"]) > 1

    html = udp.get("/partecipazione/").get_data(as_text=True)
    assert f'Segnali di attenzione <span class="muted">({len(rows) - 1})</span>' in html
    groups = re.findall(r'<details class="alert-group" id="allerte-[a-z]+">(.*?)</details>', html, re.S)
    assert len(groups) == len(by_kind)
    for group in groups:
        summary = re.search(
            r'<span class="alert-kind">([^<]*)</span>\s*<span class="tally">([^<]*)</span>', group
        )
        kind = unescape(summary.group(1))
        count = sum(len(s) for s in by_kind[kind].values())
        tavoli = len(by_kind[kind])
        assert unescape(summary.group(2)) == (
            f"{count} segnal{'e' if count == 1 else 'i'}, {tavoli} tavol{'o' if tavoli == 1 else 'i'}"
        )
        shown = {
            unescape(t): int(n)
            for t, n in re.findall(r'<h3>([^<]*) <span class="tally">\((\d+)\)</span></h3>', group)
        }
        assert shown == {t: len(s) for t, s in by_kind[kind].items()}


def test_many_alerts_name_five_per_tavolo_and_the_table_is_paged(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    """Sixty organisations join a tavolo and never come (as in a district fifty times the demo): the grouped
    view still counts every alert of each tavolo but names its first five, the table shows 50 a page, and
    its pages together are the CSV, in its order."""
    from pdz.accounts.models import User
    from pdz.orgs.models import Organisation, OrgKind
    from pdz.tavoli.models import Membership

    for n in range(60):
        org = Organisation(name=f"Associazione di prova {n:02d}", kind=OrgKind.ETS)
        person = User(email=f"prova{n:02d}@example.org", full_name=f"Persona di prova {n:02d}")
        db.session.add_all([org, person])
        db.session.flush()
        db.session.add(Membership(body_id=tavolo.id, user_id=person.id, organisation_id=org.id))
    db.session.commit()

    udp = client_as("udp@example.org")
    rows = _csv(udp, "allerte")[1:]
    mine = [r for r in rows if r[0] == "Ente che non partecipa più" and r[1] == tavolo.name]
    assert {f"Associazione di prova {n:02d}" for n in range(60)} <= {r[2] for r in mine}

    html = udp.get("/partecipazione/").get_data(as_text=True)
    group = re.search(r'<details class="alert-group" id="allerte-stopped">(.*?)</details>', html, re.S).group(
        1
    )
    block = re.search(
        rf"<h3>{re.escape(tavolo.name)} <span class=\"tally\">\((\d+)\)</span></h3>\s*<ul>(.*?)</ul>",
        group,
        re.S,
    )
    assert int(block.group(1)) == len(mine)
    named = [unescape(s) for s in re.findall(r"<li><strong>([^<]*)</strong>", block.group(2))]
    assert named == [r[2] for r in mine[:5]]
    assert f"e altri {len(mine) - 5}: vedi la tabella qui sotto o il CSV" in unescape(block.group(2))

    def table_rows(page_html: str) -> list[list[str]]:
        table = page_html.split('id="table-allerte"', 1)[1].split("</table>", 1)[0]
        return [
            [unescape(c).replace("—", "") for c in re.findall(r"<td>([^<]*)</td>", tr)]
            for tr in re.findall(r"<tr>(.*?)</tr>", table.split("<tbody>", 1)[1], re.S)
        ]

    assert '<details class="alert-table" id="allerte-tabella">' in html  # closed until a page is asked for
    shown, page = [], 1
    while True:
        text = (
            html if page == 1 else udp.get(f"/partecipazione/?allerte_pagina={page}").get_data(as_text=True)
        )
        found = table_rows(text)
        assert 0 < len(found) <= 50
        shown += found
        if page > 1:
            assert '<details class="alert-table" id="allerte-tabella" open>' in text
        pager = text.split('id="table-allerte"', 1)[1].split("</details>", 1)[0]
        if 'rel="next"' not in pager:
            break
        page += 1
    assert page == -(-len(rows) // 50) > 1
    assert shown == rows
    # A page number that is not one answers the first page, one past the end the last.
    assert table_rows(udp.get("/partecipazione/?allerte_pagina=x").get_data(as_text=True)) == rows[:50]
    assert table_rows(udp.get("/partecipazione/?allerte_pagina=999").get_data(as_text=True)) == found


def test_exports_have_italian_headers(client_as: Any) -> None:
    udp = client_as("udp@example.org")
    rate = ["Codice", "Nome", "Presenze", "Attese", "Tasso (%)"]
    for name in ("tavoli", "enti", "tipi", "sub_ambiti", "mesi", "persone"):
        assert _csv(udp, name)[0] == rate, name
    tipi = {r[1]: r[0] for r in _csv(udp, "tipi")[1:]}
    assert tipi["ETS – Cooperativa sociale / impresa sociale"] == "ets:cooperativa-sociale"
    assert _csv(udp, "contributi_enti")[0] == [
        "Nome",
        "Voci SWOT scritte o modificate",
        "Azioni completate",
        "Modifiche alle schede obiettivo",
        "Commenti scritti",
        "Totale",
    ]
    registry = _csv(udp, "registro")
    assert registry[0] == ["Ente", "Forma giuridica", "Adesione", "Tavoli", "Incontri con presenza"]
    assert {r[1] for r in registry[1:]} <= {
        "APS – Associazione di promozione sociale",
        "ODV – Organizzazione di volontariato",
        "Cooperativa sociale / impresa sociale",
        "Fondazione",
        "Consorzio",
        "Altro ETS",
        "",
    }


def test_a_tavolo_page_has_no_maps_but_grouped_alerts(client_as: Any, tavolo: Any) -> None:
    html = (
        client_as("coord.pubblico@example.org")
        .get(f"/tavoli/{tavolo.id}/partecipazione")
        .get_data(as_text=True)
    )
    assert 'class="matrix"' not in html and "Segnali di attenzione" in html
    assert (
        client_as("udp@example.org").get(f"/tavoli/{tavolo.id}/partecipazione/matrice_tipi.csv").status_code
        == 404
    )
