"""The card's list rows (objectives, actions, budget lines, personnel, indicators, PNRR measures).

Each kind declares its attributes; a row's state is a canonical JSON snapshot, stored in revisions as the
field "<kind>:<row id>" so history, diff and restore treat rows like any other field.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from ..cycles import funds
from ..cycles.models import SOURCE_LABELS
from ..errors import Invalid
from ..inputs import line_problem, positive_id, text_problem
from ..money import format_cents, parse_amount, stored_cents
from ..text import render_markdown
from . import budget_years
from .models import (
    CardAction,
    CardBudgetLine,
    CardIndicator,
    CardObjective,
    CardPersonnel,
    CardPnrr,
    IndicatorKind,
    IndicatorSet,
)

PNRR_MEASURES = {
    "1.1.1": "M5C2 1.1.1 – PIPPI: sostegno alle capacità genitoriali",
    "1.1.2": "M5C2 1.1.2 – Autonomia degli anziani non autosufficienti",
    "1.1.3": "M5C2 1.1.3 – Percorsi di dimissioni protette",
    "1.1.4": "M5C2 1.1.4 – Rafforzamento dei servizi sociali e prevenzione del burn out",
    "1.2": "M5C2 1.2 – Percorsi di autonomia per persone con disabilità",
    "1.3.1": "M5C2 1.3.1 – Housing First",
}


@dataclass(frozen=True)
class Attr:
    name: str
    label: str
    type: str  # text | markdown | money | bool | choice
    max: int = 300
    options: dict[str, str] | None = None
    required: bool = False


@dataclass(frozen=True)
class RowKind:
    key: str
    model: Any
    label: str
    attrs: tuple[Attr, ...]

    def snapshot(self, row: Any) -> dict[str, Any]:
        data = {a.name: _plain(getattr(row, a.name)) for a in self.attrs}
        data["removed"] = bool(row.removed)
        return data

    def dump(self, row: Any | None) -> str:
        return "" if row is None else json.dumps(self.snapshot(row), sort_keys=True, ensure_ascii=False)

    def clean(self, values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        cleaned: dict[str, Any] = {}
        for attr in self.attrs:
            if attr.name not in values:
                if not partial and attr.required:
                    raise Invalid(errors={attr.name: f"«{attr.label}» è obbligatorio."})
                continue
            cleaned[attr.name] = _clean(attr, values[attr.name])
        unknown = set(values) - {a.name for a in self.attrs}
        if unknown:
            raise Invalid(errors={"": "Dati della riga non previsti."})
        return cleaned

    def apply(self, row: Any, values: dict[str, Any]) -> None:
        for name, value in values.items():
            setattr(row, name, value)
            if name == "text_source":
                row.text_html = str(render_markdown(value))

    def display(self, data: dict[str, Any], attr: Attr) -> str:
        value = data.get(attr.name)
        if attr.type == "money":
            return format_cents(value) if value is not None else "—"
        if attr.type == "bool":
            return "sì" if value else "no"
        if attr.type == "choice" and attr.options:
            return attr.options.get(str(value), str(value or ""))
        return str(value or "")


def _plain(value: Any) -> Any:
    return value.value if isinstance(value, StrEnum) else value


def _clean(attr: Attr, value: Any) -> Any:
    if attr.type == "bool":
        return value in (True, "1", "true", "on", "si", "sì", 1)
    if attr.type == "money":
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                raise Invalid(errors={attr.name: "L'importo non può essere negativo."})
            return stored_cents(value, field=attr.name)
        if not isinstance(value, str):
            raise Invalid(errors={attr.name: f"«{attr.label}»: indica un importo, per esempio 1.250,50 €."})
        return stored_cents(parse_amount(value, field=attr.name), field=attr.name)
    if value is not None and not isinstance(value, (str, int, float)):
        raise Invalid(errors={attr.name: f"«{attr.label}»: valore non valido, è atteso un testo."})
    text = str(value if value is not None else "").replace("\r\n", "\n")
    problem = text_problem(text) if attr.type == "markdown" else line_problem(text)
    if problem:
        raise Invalid(errors={attr.name: f"«{attr.label}»: {problem}"})
    if len(text) > attr.max:
        raise Invalid(
            errors={
                attr.name: f"«{attr.label}» è troppo lungo: al massimo {attr.max:,} caratteri.".replace(
                    ",", "."
                )
            }
        )
    if attr.type == "choice":
        assert attr.options is not None
        if text not in attr.options:
            raise Invalid(errors={attr.name: f"Valore non previsto per «{attr.label}»."})
        return text
    if attr.required and not text.strip():
        raise Invalid(errors={attr.name: f"«{attr.label}» è obbligatorio."})
    return text if attr.type == "markdown" else " ".join(text.split())


# --- budget lines: amount split by year --------------------------------------------------------------

_MISSING: Any = object()


def _split_text(split: dict[str, int] | None) -> str:
    """ "2025: 1.000,00 €; 2026: 1.000,00 €" (also what the form field accepts back)."""
    if not split:
        return "—"
    return "; ".join(f"{year}: {format_cents(cents)}" for year, cents in sorted(split.items()))


def _clean_split(attr: Attr, value: Any) -> dict[str, int] | None:
    """A split as given: a {year: amount} object, or "2025: 1.000,00; 2026: 2.000,00" text; empty means "in
    equal parts". Amounts may be cents (integers) or Italian texts."""
    if value is None or (isinstance(value, str) and value.strip() in {"", "—", "-"}):
        return None
    pairs: list[tuple[Any, Any]]
    if isinstance(value, dict):
        pairs = list(value.items())
    elif isinstance(value, str):
        if len(value) > attr.max:
            raise Invalid(errors={attr.name: f"«{attr.label}» è troppo lungo."})
        pairs = []
        for part in value.split(";"):
            if not part.strip():
                continue
            year, sep, amount = part.partition(":")
            if not sep:
                raise Invalid(
                    errors={
                        attr.name: f"«{attr.label}»: scrivi anno e quota separati da due punti, "
                        "per esempio «2025: 1.000,00; 2026: 1.000,00; 2027: 1.000,00»."
                    }
                )
            pairs.append((year.strip(), amount))
    else:
        raise Invalid(errors={attr.name: f"«{attr.label}»: valore non valido."})
    split: dict[str, int] = {}
    for year, amount in pairs:
        if not (isinstance(year, (str, int)) and str(year).isdigit() and 2000 <= int(year) <= 2100):
            raise Invalid(errors={attr.name: f"«{attr.label}»: «{year}» non è un anno."})
        if isinstance(amount, int) and not isinstance(amount, bool):
            if amount < 0:
                raise Invalid(errors={attr.name: "La quota di un anno non può essere negativa."})
            cents = amount
        elif isinstance(amount, str):
            cents = parse_amount(amount, field=attr.name)
        else:
            raise Invalid(errors={attr.name: f"«{attr.label}»: indica un importo per ogni anno."})
        if str(int(year)) in split:
            raise Invalid(errors={attr.name: f"«{attr.label}»: l'anno {int(year)} compare due volte."})
        split[str(int(year))] = stored_cents(cents, field=attr.name)
    return split


class BudgetRowKind(RowKind):
    """Budget lines also carry their split by year of the cycle (`cycles.models.BudgetLineYear`): even by
    default, the remainder cents on the last year; a split given by a person must sum to the line's amount."""

    def snapshot(self, row: Any) -> dict[str, Any]:
        data = {a.name: _plain(getattr(row, a.name)) for a in self.attrs if a.type != "split"}
        data["years"] = {str(y): c for y, c in budget_years.card_split_of(row).items()}
        data["removed"] = bool(row.removed)
        return data

    def clean(self, values: dict[str, Any], *, partial: bool) -> dict[str, Any]:
        rest = {k: v for k, v in values.items() if k != "years"}
        cleaned = super().clean(rest, partial=partial)
        if "years" in values:
            split_attr = next(a for a in self.attrs if a.type == "split")
            cleaned["years"] = _clean_split(split_attr, values["years"])
        return cleaned

    def apply(self, row: Any, values: dict[str, Any]) -> None:
        given = values.get("years", _MISSING)
        budget_years.forget_splits(row.card_id)
        super().apply(row, {k: v for k, v in values.items() if k != "years"})
        current = funds.split_of(row.id)
        if row.amount_cents is None:
            if current:
                budget_years.store_split(row, {})
            return
        years = budget_years.years_of_card(row.card_id)
        wanted = {int(y): int(c) for y, c in given.items()} if isinstance(given, dict) else None
        if wanted is None or wanted == current:
            valid = sorted(current) == years and sum(current.values()) == row.amount_cents
            target = current if valid and given is not None else funds.even_split(row.amount_cents, years)
        else:
            funds.check_split(wanted, row.amount_cents, years)
            target = wanted
        if target != current:
            budget_years.store_split(row, target)

    def display(self, data: dict[str, Any], attr: Attr) -> str:
        if attr.type == "split":
            return _split_text(data.get(attr.name))
        return super().display(data, attr)


INDICATOR_SET_LABELS = {
    IndicatorSet.PROCESS: "Indicatori di processo",
    IndicatorSet.OUTPUT: "Indicatori di output",
    IndicatorSet.OUTCOME: "Indicatori di outcome",
}
INDICATOR_KIND_LABELS = {
    IndicatorKind.PRESENCE: "Presenza/assenza",
    IndicatorKind.COUNT: "Numero",
    IndicatorKind.PERCENTAGE: "Percentuale",
    IndicatorKind.AMOUNT: "Importo",
    IndicatorKind.TIME: "Tempo medio",
    IndicatorKind.LEVEL: "Livello percepito",
    IndicatorKind.RATIO: "Rapporto",
}

ROW_KINDS: dict[str, RowKind] = {
    kind.key: kind
    for kind in [
        RowKind(
            "obiettivi",
            CardObjective,
            "Obiettivi da raggiungere",
            (Attr("text", "Obiettivo", "text", 2000, required=True),),
        ),
        RowKind(
            "azioni",
            CardAction,
            "AZIONI PROGRAMMATE",
            (Attr("text_source", "Azione", "markdown", 10_000, required=True),),
        ),
        BudgetRowKind(
            "risorse",
            CardBudgetLine,
            "RISORSE ECONOMICHE PREVENTIVATE",
            (
                Attr(
                    "source",
                    "Fonte",
                    "choice",
                    options={k.value: v for k, v in SOURCE_LABELS.items()},
                    required=True,
                ),
                Attr("description", "Descrizione", "text", 300),
                Attr("amount_cents", "Importo", "money"),
                Attr("counted", "Conteggiata nel totale", "bool"),
                Attr("years", "Quota per anno", "split", 400),
            ),
        ),
        RowKind(
            "personale",
            CardPersonnel,
            "RISORSE DI PERSONALE DEDICATE",
            (
                Attr("organisation", "Ente o ruolo", "text", 200, required=True),
                Attr("quantity", "N. persone", "text", 40),
                Attr("function", "Funzione", "text", 300),
            ),
        ),
        RowKind(
            "indicatori",
            CardIndicator,
            "Indicatori",
            (
                Attr(
                    "set",
                    "Insieme",
                    "choice",
                    options={k.value: v for k, v in INDICATOR_SET_LABELS.items()},
                    required=True,
                ),
                Attr("name", "Indicatore", "text", 300, required=True),
                Attr(
                    "kind",
                    "Tipologia",
                    "choice",
                    options={k.value: v for k, v in INDICATOR_KIND_LABELS.items()},
                ),
                Attr("baseline", "Valore di partenza", "text", 60),
                Attr("target", "Valore atteso", "text", 60),
                Attr("unit", "Unità di misura", "text", 40),
            ),
        ),
        RowKind(
            "pnrr",
            CardPnrr,
            "MISURE PNRR CONNESSE ALLA POLICY",
            (
                Attr("measure", "Misura", "choice", options=PNRR_MEASURES, required=True),
                Attr("amount_cents", "Finanziata per", "money"),
                Attr("note", "Descrizione", "markdown", 5000),
            ),
        ),
    ]
}


def row_kind(key: str) -> RowKind:
    try:
        return ROW_KINDS[key]
    except KeyError:
        raise Invalid(errors={"": "Elenco della scheda sconosciuto."}) from None


def parse_field(field: str) -> tuple[str, int] | None:
    kind, sep, ident = field.partition(":")
    number = positive_id(ident)
    return (kind, number) if sep and kind in ROW_KINDS and number is not None else None
