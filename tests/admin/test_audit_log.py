"""The audit log reads in Italian for UdP staff and administrators: who, what (a sentence, never a code), on
which object (linked where a page exists), when (Europe/Rome, dd/mm/yyyy hh:mm), readable details (never
JSON); filters by person, kind of action, object type and day range; pages; CSV. Every action code recorded
anywhere in the source has its sentence."""

from __future__ import annotations

import ast
import csv
import html
import io
import math
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import func, select

ROOT = Path(__file__).resolve().parents[2]
ROME = ZoneInfo("Europe/Rome")


# --- every recorded code has a label ---------------------------------------------------------------------


def _strings(expr: ast.expr) -> list[str] | None:
    """The string values an expression can take: a literal or a conditional between literals."""
    if isinstance(expr, ast.Constant) and isinstance(expr.value, str):
        return [expr.value]
    if isinstance(expr, ast.IfExp):
        body, orelse = _strings(expr.body), _strings(expr.orelse)
        return None if body is None or orelse is None else body + orelse
    return None


def _recorded_codes() -> tuple[set[str], list[str]]:
    """Action codes passed to audit.record anywhere in the package, and the calls whose code cannot be read
    from the source (a variable is followed to its assignments in the same function)."""
    codes: set[str] = set()
    unreadable: list[str] = []
    for path in sorted((ROOT / "platform" / "pdz").rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "record"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "audit"
            ):
                continue
            where = f"{path.relative_to(ROOT)}:{node.lineno}"
            action = (
                node.args[1]
                if len(node.args) > 1
                else next((k.value for k in node.keywords if k.arg == "action"), None)
            )
            found = _strings(action) if action is not None else None
            if found is None and isinstance(action, ast.Name):
                scope: ast.AST = node
                while scope in parents and not isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef):
                    scope = parents[scope]
                values = [
                    _strings(n.value)
                    for n in ast.walk(scope)
                    if isinstance(n, ast.Assign)
                    and any(isinstance(t, ast.Name) and t.id == action.id for t in n.targets)
                ]
                if values and all(v is not None for v in values):
                    found = [code for v in values for code in v or []]
            if found is None:
                unreadable.append(where)
            else:
                codes.update(found)
    # Entries written by migrations (audit_entries.insert().values(action="..."))
    for path in sorted((ROOT / "migrations").rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.keyword)
                and node.arg == "action"
                and isinstance(node.value, ast.Constant)
            ):
                codes.add(node.value.value)
    return codes, unreadable


def test_every_recorded_action_has_an_italian_label() -> None:
    from pdz.audit_labels import ACTIONS, AREAS, area_of

    codes, unreadable = _recorded_codes()
    assert unreadable == [], "write the action code as a literal (or a choice between literals)"
    assert len(codes) > 80
    assert sorted(codes - ACTIONS.keys()) == [], "add these codes to pdz/audit_labels.py ACTIONS"
    assert sorted({area_of(code) for code in ACTIONS} - AREAS.keys()) == []


def test_the_label_check_sees_every_kind_of_call() -> None:
    """The walker reads literals, conditionals and variables, and refuses what it cannot read."""
    source = (
        "def f(x):\n    audit.record(a, 'one.code', o)\n    audit.record(a, 'two.yes' if x else 'two.no')\n"
        "    action = 'three.code'\n    audit.record(a, action)\n    audit.record(a, f'{x}.code')\n"
    )
    tree = ast.parse(source)
    calls = [n for n in ast.walk(tree) if isinstance(n, ast.Call) and getattr(n.func, "attr", "") == "record"]
    assert [_strings(c.args[1]) for c in calls] == [["one.code"], ["two.yes", "two.no"], None, None]
    codes, _unreadable = _recorded_codes()
    assert {"comment.resolved", "comment.reopened", "card.conflict_archived"} <= codes


# --- the page ---------------------------------------------------------------------------------------------


def _rows(page: str) -> list[list[str]]:
    """The table's rows as lists of cell texts (tags dropped, whitespace collapsed)."""
    body = page.split('data-testid="audit-log"', 1)[1].split("</table>", 1)[0]
    rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", body, re.S)[1:]:
        if 'class="empty"' in tr:  # "no entry with these filters"
            continue
        cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", tr, re.S)
        rows.append([" ".join(html.unescape(re.sub(r"<[^>]+>", " ", c)).split()) for c in cells])
    return rows


def _local(at: datetime) -> str:
    at = at if at.tzinfo else at.replace(tzinfo=UTC)
    return at.astimezone(ROME).strftime("%d/%m/%Y %H:%M")


def _schedule(client: Any, body_id: int, title: str) -> int:
    response = client.post(
        f"/tavoli/{body_id}/incontri/nuovo",
        data={"title": title, "day": "2031-05-20", "start": "17:00", "end": "19:00", "place": "Crema"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(re.search(r"/incontri/(\d+)", response.location).group(1))


def test_the_log_reads_as_italian_sentences(app: Any, db: Any, client_as: Any, tavolo: Any) -> None:
    from pdz.audit import AuditEntry
    from pdz.audit_labels import ACTIONS

    coord = client_as("coord.pubblico@example.org")
    meeting_id = _schedule(coord, tavolo.id, "Incontro per il registro")
    failed = app.test_client().post("/login", data={"email": "membro@example.org", "password": "sbagliata"})
    assert failed.status_code in {200, 401, 422}
    udp = client_as("udp@example.org")

    response = udp.get("/admin/registro")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    rows = _rows(page)
    assert len(rows) == 50  # the first page

    scheduled = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "meeting.scheduled").order_by(AuditEntry.id.desc())
    )
    row = next(r for r in rows if "ha programmato l'incontro" in r[2])
    assert row[0] == _local(scheduled.at)
    assert row[1] == "Paolo Donati"
    assert row[3].startswith("Incontro") and "Incontro per il registro (20/05/2031)" in row[3]
    assert row[4] == "tavolo Tavolo Povertà"  # body_id shown by name, as key and value
    assert f'href="/incontri/{meeting_id}"' in page
    failure = next(r for r in rows if r[2] == "ha tentato l'accesso senza riuscirci")
    assert failure[1] == "Utente non autenticato" and "Luca Bonizzi" in failure[3]
    assert "membro@example.org" in failure[4]
    signed_in = next(r for r in rows if r[1] == "Marta Guerini" and r[2] == "ha effettuato l'accesso")
    assert signed_in[3] == "Persona Marta Guerini"

    for code in ACTIONS:  # no code anywhere in the page, not even in the filter's options
        assert code not in re.sub(r'value="[^"]*"', "", page), code
    assert "{&#34;" not in page and '{"' not in page and "&#34;:" not in page  # no JSON


def test_details_are_readable(app: Any, db: Any, client_as: Any) -> None:
    udp = client_as("udp@example.org")
    rows = _rows(udp.get("/admin/registro?tipo=approval.vote_closed").get_data(as_text=True))
    assert rows and all(r[2] == "ha chiuso una votazione" for r in rows)
    details = rows[0][4]
    assert details.startswith("documento ") and "esito " in details and "{" not in details
    rows = _rows(udp.get("/admin/registro?tipo=approval.vote_cast").get_data(as_text=True))
    assert all(re.search(r"^ente .+ voto (favorevole|contrario|astenuto)", r[4]) for r in rows), rows[:3]


def test_filters_person_kind_object_and_days(
    app: Any, db: Any, client_as: Any, tavolo: Any, user: Any
) -> None:
    from pdz.audit import AuditEntry
    from pdz.audit_labels import ACTIONS, area_of

    coord = client_as("coord.pubblico@example.org")
    _schedule(coord, tavolo.id, "Per i filtri")
    udp = client_as("udp@example.org")

    def rows(query: str) -> list[list[str]]:
        response = udp.get("/admin/registro?" + query)
        assert response.status_code == 200, query
        return _rows(response.get_data(as_text=True))

    by_person = rows("persona=paolo%20donati")
    assert by_person and {r[1] for r in by_person} == {"Paolo Donati"}
    by_email = rows("persona=coord.pubblico%40example")
    assert [r[:3] for r in by_email] == [r[:3] for r in by_person]
    coord_id = user("coord.pubblico@example.org").id
    assert {r[1] for r in rows(f"chi={coord_id}")} == {"Paolo Donati"}

    assert {r[2] for r in rows("tipo=account.signed_in")} == {"ha effettuato l'accesso"}
    meeting_sentences = {str(label) for code, label in ACTIONS.items() if area_of(code) == "meeting"}
    in_area = rows("tipo=area:meeting")
    assert in_area and {r[2] for r in in_area} <= meeting_sentences
    assert {r[3].split(" ")[0] for r in rows("oggetto=ballots")} == {"Votazione"}

    # Days are Europe/Rome days: 23:30 UTC on 10 March 2025 is 00:30 on the 11th in Crema.
    entry = db.session.scalar(select(AuditEntry).order_by(AuditEntry.id).limit(1))
    entry.at = datetime(2025, 3, 10, 23, 30, tzinfo=UTC)
    db.session.commit()
    assert [r[0] for r in rows("dal=2025-03-11&al=2025-03-11")] == ["11/03/2025 00:30"]
    assert rows("dal=2025-03-10&al=2025-03-10") == []
    assert [r[0] for r in rows("al=2025-03-11")] == ["11/03/2025 00:30"]
    assert "11/03/2025 00:30" not in [r[0] for r in rows("dal=2025-03-12")]

    # A day that is not a date is refused with a message; the other filters still apply.
    response = udp.get("/admin/registro?dal=ieri&tipo=account.signed_in")
    assert response.status_code == 422
    assert {r[2] for r in _rows(response.get_data(as_text=True))} == {"ha effettuato l'accesso"}
    assert udp.get("/admin/registro?tipo=nessuna.operazione").status_code == 422


def test_pages_and_csv(app: Any, db: Any, client_as: Any, tavolo: Any) -> None:
    from pdz.audit import AuditEntry

    udp = client_as("udp@example.org")
    total = db.session.scalar(select(func.count(AuditEntry.id)))  # udp's sign-in included
    pages = math.ceil(total / 50)
    first = udp.get("/admin/registro").get_data(as_text=True)
    assert f"Pagina 1 di {pages}" in first
    second = udp.get("/admin/registro?pagina=2").get_data(as_text=True)
    assert f"Pagina 2 di {pages}" in second
    assert len(_rows(first)) == 50 and len(_rows(second)) == min(50, total - 50)
    last = udp.get(f"/admin/registro?pagina={pages}").get_data(as_text=True)
    assert len(_rows(last)) == total - 50 * (pages - 1)

    coord = client_as("coord.pubblico@example.org")
    meeting_id = _schedule(coord, tavolo.id, '=HYPERLINK("http://evil.example")')
    response = udp.get("/admin/registro.csv?tipo=meeting.scheduled")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert "attachment" in response.headers["Content-Disposition"]
    table = list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"), newline="")))
    assert table[0] == [
        "Quando",
        "Chi",
        "E-mail",
        "Operazione",
        "Tipo di oggetto",
        "Oggetto",
        "Indirizzo",
        "Dettagli",
    ]
    expected = db.session.scalar(
        select(func.count(AuditEntry.id)).where(AuditEntry.action == "meeting.scheduled")
    )
    assert len(table) - 1 == expected
    mine = next(r for r in table[1:] if r[6] == f"/incontri/{meeting_id}")
    entry = db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == "meeting.scheduled").order_by(AuditEntry.id.desc())
    )
    assert mine[:5] == [
        _local(entry.at),
        "Paolo Donati",
        "coord.pubblico@example.org",
        "ha programmato l'incontro",
        "Incontro",
    ]
    assert mine[5].startswith("'=HYPERLINK")  # people's text never starts a formula
    assert mine[7] == "tavolo: Tavolo Povertà"


def test_only_udp_staff_and_administrators_read_it(app: Any, client_as: Any) -> None:
    for email in ("admin@example.org", "udp@example.org"):
        client = client_as(email)
        assert client.get("/admin/registro").status_code == 200
        assert client.get("/admin/registro.csv").status_code == 200
    for email in ("membro@example.org", "coord.pubblico@example.org", "sindaco@example.org"):
        client = client_as(email)
        assert client.get("/admin/registro").status_code == 403
        assert client.get("/admin/registro.csv").status_code == 403
    anonymous = app.test_client().get("/admin/registro.csv")
    assert anonymous.status_code == 302 and "/login" in anonymous.location


def test_a_page_takes_few_queries_whatever_it_shows(app: Any, client_as: Any, count_queries: Any) -> None:
    udp = client_as("udp@example.org")
    with count_queries() as n:
        assert udp.get("/admin/registro?pagina=2").status_code == 200
    assert n() < 40
