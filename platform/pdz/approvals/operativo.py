"""The Piano Operativo: one year of the Piano di Zona, shaped like the 2015 PO (seed 004).

Pure builder, like `plans.py`: it reads the canonical contents of the approved cards and what the Ufficio di
Piano chose for the year (`Choice` per card action), reads no database and sorts explicitly, so the same input
always gives byte-identical canonical JSON and the same fingerprint.

Per objective with at least one action chosen for the year: "Obiettivo del triennio", "Azioni <anno>" (the
chosen actions only, numbered across the whole plan as in 2015), "Referenti" (people, each for their
organisation), "Risorse" (per action, the parts of the card's budget lines given to it out of each line's share
for the year, with the objective's total), "Valutazione" (the card's outcome indicators and the year's
"Range di valutazione" per action) and "Tempi" per action. Targets and timing not yet written are said to be
missing, never filled in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..money import format_cents
from . import document as doc
from .document import Content
from .plans import (
    AMBITO,
    DASH,
    _area,
    _area_label,
    _card_refs,
    _cycle_years,
    _data,
    _money_lines,
    _ordered,
    _with_unit,
    _year_cents,
)

MISSING_TIMING = "Tempi non ancora indicati"
MISSING_TARGETS = "Range non ancora indicato"
NO_RESOURCES = "Nessuna risorsa assegnata"


@dataclass(frozen=True)
class Choice:
    """What the Ufficio di Piano wrote for one chosen action: referents as (name, organisation), the cents given
    to the action from each budget line (by line id), the year's targets and the timing."""

    referents: tuple[tuple[str, str], ...] = ()
    budget: dict[int, int] = field(default_factory=dict)
    targets: str = ""
    timing: str = ""


@dataclass(frozen=True)
class CardIds:
    """The database ids of a card's approved actions and budget lines, in the order of its content (None where
    an approved row no longer matches one: it cannot be chosen)."""

    actions: tuple[int | None, ...] = ()
    lines: tuple[int | None, ...] = ()


def year_lines(
    card: Content, line_ids: tuple[int | None, ...], year: int, cycle_name: str
) -> list[dict[str, Any]]:
    """The card's counted money lines with a share for `year`: id, labels and that share (for forms and checks)."""
    years = _cycle_years(cycle_name)
    budget = _data(card).get("budget", [])
    ids = {id(line): line_ids[n] for n, line in enumerate(budget) if n < len(line_ids)}
    found = []
    for line in _money_lines(card):
        cents = _year_cents(line, year, years)
        line_id = ids.get(id(line))
        if cents and line_id is not None:
            found.append(
                {
                    "id": line_id,
                    "source": str(line.get("source_label") or line["source"]),
                    "description": str(line.get("description", "")),
                    "cents": cents,
                }
            )
    return found


def piano_operativo(
    cycle_name: str,
    year: int,
    cards: list[Content],
    *,
    ids: dict[int, CardIds],
    choices: dict[int, Choice],
    fingerprints: dict[int, str],
) -> Content:
    """The year's plan: only the chosen actions (`choices`, by card action id) of the approved `cards`."""
    sections = []
    summary = []
    planned: list[dict[str, Any]] = []
    included: list[Content] = []
    left_out: list[str] = []
    missing_timing: list[str] = []
    missing_targets: list[str] = []
    action_no = 0
    total = 0
    for card in _ordered(cards):
        data = _data(card)
        card_ids = ids.get(int(data["card_id"]), CardIds())
        chosen = [
            (text, action_id, choices[action_id])
            for text, action_id in zip(data.get("actions", []), card_ids.actions, strict=False)
            if action_id is not None and action_id in choices
        ]
        if not chosen:
            left_out.append(str(card.get("title", "")))
            continue
        included.append(card)
        k = len(included)
        lines = year_lines(card, card_ids.lines, year, cycle_name)
        action_rows, resource_rows, target_rows, timing_rows = [], [], [], []
        referents: dict[tuple[str, str], list[str]] = {}
        card_total = 0
        for text, action_id, choice in chosen:
            action_no += 1
            number = str(action_no)
            action_rows.append([number, str(text)])
            for person in choice.referents:
                referents.setdefault(person, []).append(number)
            given = [(line, choice.budget.get(line["id"], 0)) for line in lines]
            given = [(line, cents) for line, cents in given if cents]
            action_cents = sum(cents for _line, cents in given)
            card_total += action_cents
            planned.append(
                {
                    "n": action_no,
                    "card_id": int(data["card_id"]),
                    "action_id": action_id,
                    "cents": action_cents,
                }
            )
            resource_rows += [
                [f"Azione {number}", line["description"], line["source"], format_cents(cents)]
                for line, cents in given
            ] or [[f"Azione {number}", NO_RESOURCES, "", DASH]]
            if not choice.targets.strip():
                missing_targets.append(number)
            if not choice.timing.strip():
                missing_timing.append(number)
            target_rows.append([number, str(text), choice.targets.strip() or MISSING_TARGETS])
            timing_rows.append([number, str(text), choice.timing.strip() or MISSING_TIMING])
        total += card_total
        summary.append([str(k), str(card.get("title", "")), str(len(chosen)), format_cents(card_total)])
        blocks = [
            doc.field("Area", _area_label(_area(card))),
            doc.field("Obiettivo del triennio", "\n".join(f"- {o}" for o in data.get("objectives", []))),
            doc.table(f"Azioni {year}", ["N.", "Azione"], action_rows),
            doc.table(
                "Referenti",
                ["Referente", "Per", "Azioni"],
                [
                    [name, organisation, ", ".join(numbers)]
                    for (name, organisation), numbers in sorted(referents.items())
                ],
            ),
            doc.table(
                "Risorse",
                ["Azione", "Voce", "Fonte", f"Importo {year}"],
                resource_rows,
                [f"TOTALE OBIETTIVO {k}", "", "", format_cents(card_total)],
            ),
            doc.table(
                "Valutazione – indicatori di esito",
                ["Indicatore", "Valore di partenza", "Valore atteso nel triennio"],
                [
                    [
                        str(i.get("name", "")),
                        _with_unit(i.get("baseline", ""), i.get("unit", "")),
                        _with_unit(i.get("target", ""), i.get("unit", "")),
                    ]
                    for i in data.get("indicators", [])
                ],
            ),
            doc.table(
                f"Valutazione – range di valutazione {year}",
                ["N.", "Azione", f"Range di valutazione {year}"],
                target_rows,
            ),
            doc.table("Tempi", ["N.", "Azione", "Tempi"], timing_rows),
        ]
        sections.append(doc.section(f"Obiettivo {k}: {card.get('title', '')}", blocks))

    overview: list[dict[str, Any]] = [
        doc.table(
            f"Obiettivi del Piano Operativo {year}",
            ["N.", "Obiettivo", "Azioni", "Totale"],
            summary,
            [f"TOTALE PO {year}", "", str(action_no), format_cents(total)],
        )
    ]
    if not action_no:
        overview.append(doc.field("Da completare", f"Nessuna azione è stata ancora scelta per il {year}."))
    if missing_timing:
        overview.append(doc.field("Tempi mancanti", "Azioni " + ", ".join(missing_timing)))
    if missing_targets:
        overview.append(
            doc.field(f"Range di valutazione {year} mancante", "Azioni " + ", ".join(missing_targets))
        )
    if left_out:
        overview.append(
            doc.field(f"Obiettivi senza azioni nel {year}", "\n".join(f"- {title}" for title in left_out))
        )
    sections.insert(0, doc.section("Sintesi", overview))
    return doc.document(
        "piano_operativo",
        f"Piano Operativo {year}",
        f"Piano di Zona {cycle_name} · {AMBITO}",
        {"cycle": cycle_name, "year": year},
        sections,
        {
            "year": year,
            "cycle": cycle_name,
            "cards": _card_refs(included, fingerprints),
            "actions": planned,
            "total_cents": total,
        },
    )
