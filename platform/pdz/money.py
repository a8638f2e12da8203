"""Money the Italian way: "4.042.451,36 €" <-> integer cents. Never float."""

from __future__ import annotations

import re

from .errors import Invalid

MAX_CENTS = 10**13  # one hundred billion euro: anything above is a typing mistake
MAX_STORED_CENTS = 2**31 - 1  # amounts are INTEGER columns: 32 bits on PostgreSQL (21.474.836,47 €)

_GROUPED = re.compile(r"^[0-9]{1,3}(\.[0-9]{3})+$")
_PLAIN = re.compile(r"^[0-9]{1,16}$")


def parse_amount(text: str | None, *, field: str = "amount") -> int:
    """Parse "4.042.451,36 €", "1.000", "12,5" or "12" into cents; raise Invalid with an Italian message."""
    raw = (text or "").replace("\u00a0", " ").replace("€", "").replace("EUR", "").strip().replace(" ", "")
    if not raw:
        raise Invalid(errors={field: "Indica un importo, per esempio 1.250,50 €."})
    if raw.startswith("-") or raw.startswith("−"):
        raise Invalid(errors={field: "L'importo non può essere negativo."})
    if raw.startswith("+"):
        raw = raw[1:]
    whole, sep, decimals = raw.partition(",")
    if sep and not re.fullmatch(r"[0-9]{1,2}", decimals):
        raise Invalid(
            errors={
                field: f"«{text}» non è un importo valido: dopo la virgola al massimo due cifre (es. 12,50)."
            }
        )
    if _GROUPED.match(whole) and len(whole) <= 21:
        whole = whole.replace(".", "")
    elif not _PLAIN.match(whole):
        raise Invalid(
            errors={
                field: f"«{text}» non è un importo valido: usa il punto per le migliaia e la virgola per i decimali (es. 4.042.451,36 €)."
            }
        )
    cents = int(whole) * 100 + (int(decimals.ljust(2, "0")) if sep else 0)
    if cents >= MAX_CENTS:
        raise Invalid(errors={field: "L'importo è troppo grande."})
    return cents


def stored_cents(cents: int, *, field: str = "amount") -> int:
    """An amount about to be stored: what its column holds, else an Italian message (never a 500)."""
    if cents > MAX_STORED_CENTS:
        raise Invalid(
            errors={
                field: f"L'importo è troppo grande: al massimo {format_cents(MAX_STORED_CENTS)} per voce."
            }
        )
    return cents


def format_cents(cents: int | None, *, symbol: bool = True) -> str:
    if cents is None:
        return "—"
    sign = "-" if cents < 0 else ""
    euros, rest = divmod(abs(cents), 100)
    grouped = f"{euros:,}".replace(",", ".")
    return f"{sign}{grouped},{rest:02d}" + (" €" if symbol else "")
