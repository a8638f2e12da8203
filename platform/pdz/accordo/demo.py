"""Demo: the Accordo di Programma of the 2025-2027 Piano di Zona, to be signed by the 48 comuni and ASST di Crema
(001 l.1782). In the demo story the Assemblea has not voted the Piano di Zona yet, so nobody has signed and no
amendment exists (the documents name none for 2025-2027). Idempotent."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask import current_app
from sqlalchemy import select

from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..extensions import db
from . import services
from .models import Accordo

if TYPE_CHECKING:  # pdz.demo imports every domain's demo: the type only
    from ..demo import Demo


def load(demo: Demo) -> None:
    cycle = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))
    udp = db.session.scalar(select(User).where(User.email == "udp@example.org"))
    if cycle is None or udp is None:
        return
    if db.session.scalar(select(Accordo.id).where(Accordo.cycle_id == cycle.id)) is not None:
        return
    with current_app.test_request_context(base_url=current_app.config["PDZ_BASE_URL"]):
        services.create_accordo(cycle, actor=udp)
