"""Demo: the institutional funds assigned to the Ambito in 2023 and 2024, with their acts (seed/funds.json,
from the documents). Idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from ..demo import load_json
from ..extensions import db
from ..money import parse_amount
from .models import FundAllocation

if TYPE_CHECKING:  # pdz.demo imports every domain's demo: the type only
    from ..demo import Demo


def load(demo: Demo) -> None:
    positions: dict[int, int] = {}
    for item in load_json("funds.json")["allocations"]:
        year = int(item["year"])
        positions[year] = positions.get(year, 0) + 1
        if db.session.scalar(
            select(FundAllocation.id).where(FundAllocation.year == year, FundAllocation.name == item["name"])
        ):
            continue
        db.session.add(
            FundAllocation(
                year=year,
                source=item["source"],
                name=item["name"],
                act=item["act"],
                amount_cents=parse_amount(item["amount"]),
                position=positions[year],
            )
        )
