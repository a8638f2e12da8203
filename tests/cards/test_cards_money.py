"""Italian money parsing and formatting: exact cents, never float."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pdz.errors import Invalid
from pdz.money import format_cents, parse_amount


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("4.042.451,36 €", 404245136),
        ("1.000", 100000),
        ("12,5", 1250),
        ("12", 1200),
        ("0,07", 7),
        ("€ 131.169,74", 13116974),
        ("2 400 000,00", 240000000),
    ],
)
def test_parses_italian_amounts(text: str, cents: int) -> None:
    assert parse_amount(text) == cents


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("-1,00", "negativo"),
        ("12.5", "non è un importo valido"),
        ("1,234", "due cifre"),
        ("", "Indica un importo"),
        ("dieci", "non è un importo valido"),
        ("2.500.00,00", "non è un importo valido"),
    ],
)
def test_rejects_malformed_or_negative_amounts(text: str, message: str) -> None:
    with pytest.raises(Invalid) as error:
        parse_amount(text)
    assert message in error.value.message


@given(st.integers(0, 10**12))
def test_format_then_parse_is_exact(cents: int) -> None:
    assert parse_amount(format_cents(cents)) == cents
