"""CSV exports never hand a spreadsheet a formula: every cell from people's text that starts with =, +, -, @,
a tab or a carriage return arrives with a leading apostrophe (OWASP "CSV injection"); numbers stay numbers."""

from __future__ import annotations

import csv
import html
import io
import re
from typing import Any

from sqlalchemy import text

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
NUMBER = re.compile(r"-?\d+([.,]\d+)?")


def _plant(db: Any) -> None:
    """People's text everywhere the exports read it, each starting with a different formula character."""
    for statement, prefix in (
        ("UPDATE organisations SET name = :p || name", '=HYPERLINK("http://evil.example";"x")'),
        ("UPDATE bodies SET name = :p || name", "-"),
        ("UPDATE users SET full_name = :p || full_name", "@"),
        ("UPDATE swot_entries SET text_source = :p || text_source", "+"),
        ("UPDATE swot_tags SET name = :p || name", "\t"),
        ("UPDATE objective_evaluations SET title = :p || title", "\r=1+1 "),
    ):
        db.session.execute(text(statement), {"p": prefix})
    db.session.commit()


def _csv_links(client: Any, page: str) -> list[str]:
    body = client.get(page).get_data(as_text=True)
    return sorted({html.unescape(h) for h in re.findall(r'href="([^"]+\.csv[^"]*)"', body)})


def _cells(response: Any) -> list[str]:
    assert response.status_code == 200 and response.mimetype == "text/csv", response.status_code
    content = response.get_data(as_text=True).lstrip("\ufeff")
    return [cell for row in csv.reader(io.StringIO(content, newline="")) for cell in row]


def test_csv_exports_neutralise_formulas(app: Any, db: Any, client_as: Any, tavolo: Any) -> None:
    _plant(db)
    udp = client_as("udp@example.org")
    links = (
        _csv_links(udp, "/valutazione/?anche_aperte=1")
        + _csv_links(udp, "/partecipazione/")
        + _csv_links(udp, f"/tavoli/{tavolo.id}/partecipazione")
        + ["/admin/registro.csv"]
    )
    assert len(links) >= 10, links
    neutralised: dict[str, int] = {start: 0 for start in FORMULA_STARTS}
    for link in links:
        for cell in _cells(udp.get(link)):
            assert not cell.startswith(FORMULA_STARTS) or NUMBER.fullmatch(cell), (link, cell)
            if cell.startswith("'") and cell[1:2] in FORMULA_STARTS:
                neutralised[cell[1]] += 1
    # Each planted kind reached at least one export, and came out neutralised.
    assert all(neutralised.values()), neutralised


def test_the_helper_keeps_numbers_and_plain_text() -> None:
    from pdz.exports import csv_text, safe_cell

    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell(None) is None
    assert safe_cell("Tavolo Povertà") == "Tavolo Povertà"
    assert safe_cell("=1+1") == "'=1+1" and safe_cell("\r=1") == "'\r=1" and safe_cell("\t@x") == "'\t@x"
    assert csv_text([["-5", -5, "a-b"]]) == "'-5,-5,a-b\r\n"
