"""The plan documents the Ufficio di Piano assembles from approved objective cards.

Pure builders: each takes the canonical contents of the approved cards (`sources.card_content`, whose "data"
block carries the figures) plus what the Ufficio di Piano adds (timing, what was done, what was committed,
indicator values) and returns canonical content (`document.py`). They read no database and depend on no
locale, and they sort explicitly, so the same input always gives byte-identical canonical JSON and therefore
the same fingerprint.

`cycle_name` is the triennium as it should follow "Piano di Zona" in a title, e.g. "2025-2027".
Amounts are summed in integer cents from the cards' budget lines counted in the total and having an amount.
"""

from __future__ import annotations

import copy
from collections import defaultdict
from typing import Any

from ..cycles.funds import even_split
from ..evaluation.services import period_order
from ..money import format_cents
from . import document as doc
from .document import Content

AMBITO = "Ambito Territoriale Sociale Cremasco"
NO_AREA = "Senza area"
NO_AREA_KEY = ""  # the key of cards without an area in the "by_area" figures
DASH = "—"


# --- reading card contents -------------------------------------------------------------------------


def _data(card: Content) -> dict[str, Any]:
    data: dict[str, Any] = card.get("data") or {}
    return data


def _card_id(card: Content) -> int:
    return int(_data(card)["card_id"])


def _area(card: Content) -> dict[str, Any] | None:
    area: dict[str, Any] | None = _data(card).get("area")
    return area


def _area_key(card: Content) -> str:
    area = _area(card)
    return str(area["key"]) if area else NO_AREA_KEY


def _area_label(area: dict[str, Any] | None) -> str:
    return f"{area['code']} – {area['name']}" if area else NO_AREA


def _area_sort(area: dict[str, Any] | None) -> tuple[int, int, str]:
    """Areas by their position in the plan, then key; cards without an area come last."""
    return (0, int(area["position"]), str(area["key"])) if area else (1, 0, "")


def _ordered(cards: list[Content]) -> list[Content]:
    return sorted(cards, key=lambda c: (*_area_sort(_area(c)), str(c.get("title", "")), _card_id(c)))


def _total(card: Content) -> int:
    return int(_data(card).get("total_cents") or 0)


def _money_lines(card: Content) -> list[dict[str, Any]]:
    """The budget lines counted in the card's total: counted and with an amount (non-monetary lines have none)."""
    return [
        line for line in _data(card).get("budget", []) if line.get("counted") and line.get("amount_cents")
    ]


def _cycle_years(cycle_name: str) -> list[int]:
    start, _sep, end = cycle_name.partition("-")
    return list(range(int(start), int(end) + 1)) if start.isdigit() and end.isdigit() else []


def _year_cents(line: dict[str, Any], year: int, years: list[int]) -> int:
    """The part of a budget line planned for `year`: its split by year, or (a card approved before lines were
    split) the even split over the cycle's years that the migration gives every line."""
    split = line.get("years")
    if split:
        return int(split.get(str(year), 0))
    return even_split(int(line["amount_cents"]), years).get(year, 0)


def _year_lines(card: Content, year: int, years: list[int]) -> list[tuple[dict[str, Any], int]]:
    """The counted money lines of a card with their part for `year` (lines with nothing that year left out)."""
    found = [(line, _year_cents(line, year, years)) for line in _money_lines(card)]
    return [(line, cents) for line, cents in found if cents]


def _fingerprint(card: Content, fingerprints: dict[int, str]) -> str:
    card_id = _card_id(card)
    if card_id not in fingerprints:
        raise ValueError(
            f"no fingerprint for card {card_id}: plans are assembled from approved versions only"
        )
    return fingerprints[card_id]


def _card_refs(cards: list[Content], fingerprints: dict[int, str]) -> list[dict[str, Any]]:
    return [{"card_id": _card_id(c), "fingerprint": _fingerprint(c, fingerprints)} for c in cards]


def _nonzero(cents: int) -> str:
    return format_cents(cents) if cents else DASH


def _with_unit(value: str, unit: str) -> str:
    value, unit = (value or "").strip(), (unit or "").strip()
    if not value:
        return DASH
    if not unit:
        return value
    return f"{value}{unit}" if unit == "%" else f"{value} {unit}"


def _objective_heading(n: int, card: Content) -> str:
    return f"Obiettivo {n}: {card.get('title', '')}"


def percentage(part: int | None, whole: int) -> str:
    """`part` as a share of `whole` with one decimal, Italian style ("85,3%"); "—" when it cannot be said."""
    if part is None or whole <= 0:
        return DASH
    tenths = (part * 2000 + whole) // (2 * whole)  # rounded half up, integers only
    whole_part, decimal = divmod(tenths, 10)
    return f"{whole_part:,}".replace(",", ".") + f",{decimal}%"


# --- Piano di Zona ---------------------------------------------------------------------------------


def piano_di_zona(cycle_name: str, cards: list[Content], *, fingerprints: dict[int, str]) -> Content:
    """The triennial plan: resources by source and by area, the list of objectives, then every card in full."""
    ordered = _ordered(cards)
    labels: dict[str, set[str]] = defaultdict(set)
    by_source: dict[str, int] = defaultdict(int)
    by_area: dict[str, int] = defaultdict(int)
    matrix: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    areas: dict[str, dict[str, Any] | None] = {}
    cards_per_area: dict[str, int] = defaultdict(int)
    for card in ordered:
        key = _area_key(card)
        areas[key] = _area(card)
        cards_per_area[key] += 1
        by_area[key] += _total(card)
        for line in _money_lines(card):
            source = str(line["source"])
            labels[source].add(str(line.get("source_label") or source))
            by_source[source] += int(line["amount_cents"])
            matrix[key][source] += int(line["amount_cents"])
    source_label = {source: min(names) for source, names in labels.items()}
    sources = sorted(by_source, key=lambda s: (-by_source[s], source_label[s], s))
    area_keys = sorted(areas, key=lambda k: _area_sort(areas[k]))  # `areas` keeps one entry per key
    total = sum(_total(c) for c in ordered)
    lines_total = sum(by_source.values())

    by_source_table = doc.table(
        "Risorse per fonte di finanziamento",
        ["Fonte", "Importo"],
        [[source_label[s], format_cents(by_source[s])] for s in sources],
        ["Totale", format_cents(lines_total)],
    )
    by_area_table = doc.table(
        "Risorse per area di policy",
        ["Area", "Obiettivi", "Importo"],
        [[_area_label(areas[k]), str(cards_per_area[k]), format_cents(by_area[k])] for k in area_keys],
        ["Totale", str(len(ordered)), format_cents(total)],
    )
    matrix_table = doc.table(
        "Risorse per area e fonte",
        ["Area", *(source_label[s] for s in sources), "Totale"],
        [
            [
                _area_label(areas[k]),
                *(_nonzero(matrix[k][s]) for s in sources),
                format_cents(sum(matrix[k].values())),
            ]
            for k in area_keys
        ],
        ["Totale", *(format_cents(by_source[s]) for s in sources), format_cents(lines_total)],
    )
    listing = doc.table(
        "Elenco delle schede",
        ["N.", "Area", "Titolo", "Tavolo", "Importo", "Impronta della scheda approvata"],
        [
            [
                str(n),
                _area_label(_area(c)),
                str(c.get("title", "")),
                str(_data(c).get("body", "")),
                format_cents(_total(c)),
                _fingerprint(c, fingerprints)[:12],
            ]
            for n, c in enumerate(ordered, 1)
        ],
        ["Totale", "", "", "", format_cents(total), ""],
    )

    sections = [
        doc.section("Quadro delle risorse", [by_source_table, by_area_table, matrix_table]),
        doc.section("Obiettivi", [listing]),
    ]
    for card in ordered:
        area = _area(card)
        title = str(card.get("title", ""))
        heading = f"{area['code']} – {title}" if area else title
        sections.append(doc.section(heading, _readable_blocks(card)))
    data = {
        "cycle": cycle_name,
        "cards": _card_refs(ordered, fingerprints),
        "by_source": dict(sorted(by_source.items())),
        "by_area": dict(sorted(by_area.items())),
        "total_cents": total,
    }
    return doc.document(
        "piano_di_zona",
        f"Piano di Zona {cycle_name}",
        f"{AMBITO} · {len(ordered)} obiettivi",
        {"cycle": cycle_name},
        sections,
        data,
    )


def _readable_blocks(card: Content) -> list[dict[str, Any]]:
    """The card's blocks in order, without empty fields and empty tables (copies: the plan owns them)."""
    blocks = []
    for section in card.get("sections", []):
        for block in section.get("blocks", []):
            if block.get("type") == "field" and not block.get("text"):
                continue
            if block.get("type") == "table" and not block.get("rows"):
                continue
            blocks.append(copy.deepcopy(block))
    return blocks


# --- Report Annuale --------------------------------------------------------------------------------


def report_annuale(
    cycle_name: str,
    year: int,
    cards: list[Content],
    *,
    done: dict[int, str],
    committed: dict[int, int | None],
    values: dict[int, list[dict[str, Any]]],
    fingerprints: dict[int, str],
) -> Content:
    """What was done in a year: per objective the narrative, the year's planned part vs committed money and the indicator
    values measured in that year (`values`: indicator id -> the latest value per period, chosen by the caller)."""
    ordered = _ordered(cards)
    years = _cycle_years(cycle_name)
    prefix = str(year)
    sections = []
    summary = []
    planned_total = 0
    committed_total: int | None = None
    for n, card in enumerate(ordered, 1):
        card_id = _card_id(card)
        planned = sum(cents for _line, cents in _year_lines(card, year, years))
        spent = committed.get(card_id)
        planned_total += planned
        if spent is not None:
            committed_total = (committed_total or 0) + spent
        summary.append([str(n), str(card.get("title", "")), format_cents(planned), format_cents(spent)])
        indicator_rows = []
        for indicator in _data(card).get("indicators", []):
            measured = sorted(
                (
                    v
                    for v in values.get(int(indicator["id"]), [])
                    if str(v.get("period", "")).startswith(prefix)
                ),
                key=lambda v: period_order(str(v.get("period", ""))),
            )
            unit = indicator.get("unit", "")
            indicator_rows.append(
                [
                    str(indicator.get("name", "")),
                    _with_unit(indicator.get("baseline", ""), unit),
                    _with_unit(indicator.get("target", ""), unit),
                    "; ".join(f"{v['period']}: {_with_unit(str(v.get('value', '')), unit)}" for v in measured)
                    or DASH,
                ]
            )
        blocks = [
            doc.field("Che cosa è stato fatto", done.get(card_id) or "Non ancora descritto."),
            doc.table(
                "Budget",
                ["Voce", f"Previsto {year}", f"Impegnato {year}"],
                [["Totale obiettivo", format_cents(planned), format_cents(spent)]],
            ),
            doc.field("Impegnato sul previsto", percentage(spent, planned)),
            doc.table(
                "Indicatori",
                ["Indicatore", "Valore di partenza", "Valore atteso", f"Valori {year}"],
                indicator_rows,
            ),
        ]
        sections.append(doc.section(_objective_heading(n, card), blocks))
    sections.insert(
        0,
        doc.section(
            "Sintesi",
            [
                doc.table(
                    f"Obiettivi – risorse {year}",
                    ["N.", "Obiettivo", f"Previsto {year}", f"Impegnato {year}"],
                    summary,
                    ["Totale", "", format_cents(planned_total), format_cents(committed_total)],
                ),
                doc.field("Impegnato sul previsto", percentage(committed_total, planned_total)),
            ],
        ),
    )
    data = {
        "year": year,
        "cycle": cycle_name,
        "cards": _card_refs(ordered, fingerprints),
        "planned_cents": planned_total,
        "committed_cents": committed_total,
    }
    return doc.document(
        "report_annuale",
        f"Report Annuale {year}",
        f"Piano di Zona {cycle_name} · {AMBITO}",
        {"cycle": cycle_name, "year": year},
        sections,
        data,
    )
