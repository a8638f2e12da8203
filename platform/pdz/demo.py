"""The Ambito Cremasco demo: real territory, bodies, tavoli and areas; fictional people. Idempotent.

Facts come from seed/ambito.json (copied from the Ambito's documents); people from seed/demo.json.
Each domain adds its own step to STEPS, run in order after the foundation.
"""

from __future__ import annotations

import json
import random
import unicodedata
from collections.abc import Callable
from datetime import UTC, date, datetime
from importlib import import_module
from importlib.util import find_spec
from typing import Any

from sqlalchemy import select

from . import BLUEPRINTS
from .accounts.models import Affiliation, Function, Gender, StaffRole, User
from .accounts.services import hash_password
from .config import ROOT
from .cycles.models import CycleStatus, CycleYear, PlanningCycle, PolicyArea
from .extensions import db
from .orgs.models import Adhesion, LegalForm, Organisation, OrgKind
from .tavoli.models import Body, BodyKind, Mandate, MandateStatus, Membership, MembershipRole
from .territory.models import Ambito, AssignmentSource, Comune, SubAmbito
from .text import render_markdown

SEED = ROOT / "seed"
DEMO_PASSWORD = "demo"  # noqa: S105 - published demo password

BODY_KINDS = {
    "tavolo tematico istituzionalizzato": BodyKind.TAVOLO,
    "rete": BodyKind.RETE,
    "gruppo di lavoro": BodyKind.GRUPPO_LAVORO,
    "organismo di governance 0-6": BodyKind.ORGANISMO,
}
GOVERNANCE = {
    "ASSEMBLEA_SINDACI": BodyKind.ASSEMBLEA_SINDACI,
    "COMITATO_RISTRETTO": BodyKind.COMITATO_RISTRETTO,
    "UDP": BodyKind.UDP,
    "UDP_INTEGRATO": BodyKind.UDP_INTEGRATO,
    "COORDINAMENTO_TECNICO": BodyKind.COORDINAMENTO_TECNICO,
}


def load_json(name: str) -> Any:
    return json.loads((SEED / name).read_text(encoding="utf-8"))


def slug(text: str) -> str:
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch if ch.isalnum() else "." for ch in ascii_text).strip(".").replace("..", ".")


def get_or_create(model: Any, defaults: dict[str, Any] | None = None, **keys: Any) -> Any:
    found = db.session.scalar(select(model).filter_by(**keys))
    if found is None:
        found = model(**keys, **(defaults or {}))
        db.session.add(found)
        db.session.flush()
    return found


class Demo:
    """State shared by the demo steps (lookups by name, the shared password hash)."""

    def __init__(self) -> None:
        self.ambito = load_json("ambito.json")
        self.people = load_json("demo.json")
        self.rng = random.Random(2025)  # noqa: S311 - deterministic demo data
        self.password_hash = hash_password(DEMO_PASSWORD)
        self.orgs: dict[str, Organisation] = {}
        self.bodies: dict[str, Body] = {}
        self.users: dict[str, User] = {}
        self.sub_ambiti: dict[str, SubAmbito] = {}
        self.comuni: dict[str, Comune] = {}
        self.cycle: PlanningCycle | None = None

    def user(
        self,
        email: str,
        full_name: str,
        org: Organisation,
        function: Function,
        staff: StaffRole | None = None,
    ) -> User:
        user = db.session.scalar(select(User).where(User.email == email))
        if user is None:
            user = User(email=email, full_name=full_name, password_hash=self.password_hash, staff_role=staff)
            user.gender = self.gender_of(full_name)
            db.session.add(user)
            db.session.flush()
        if not db.session.scalar(
            select(Affiliation).where(Affiliation.user_id == user.id, Affiliation.organisation_id == org.id)
        ):
            db.session.add(Affiliation(user_id=user.id, organisation_id=org.id, function=function))
        self.users[email] = user
        return user

    def gender_of(self, full_name: str) -> Gender | None:
        """The demo's people are fictional: their first name says how their roles are named (unknown for an
        account named by its function, such as "Amministratore PdZ")."""
        first = full_name.split(" ", 1)[0]
        if first in self.people["feminine_first_names"]:
            return Gender.FEMININE
        if first in self.people["masculine_first_names"]:
            return Gender.MASCULINE
        return None

    def member(self, body: Body, user: User, org: Organisation, role: MembershipRole) -> Membership:
        found = db.session.scalar(
            select(Membership).where(
                Membership.body_id == body.id, Membership.user_id == user.id, Membership.ended_at.is_(None)
            )
        )
        if found is None:
            found = Membership(body_id=body.id, user_id=user.id, organisation_id=org.id, role=role)
            db.session.add(found)
            db.session.flush()
        return found

    def filler_person(self, org: Organisation, function: Function) -> User:
        first = self.rng.choice(self.people["first_names"])
        last = self.rng.choice(self.people["last_names"])
        email = f"{slug(first)}.{slug(last)}@example.org"
        return self.user(email, f"{first} {last}", org, function)


def territory(demo: Demo) -> None:
    facts = demo.ambito["ambito"]
    get_or_create(
        Ambito,
        {k: facts[k] for k in ("region", "province", "population", "population_year", "area_km2")},
        name=facts["name"],
    )
    for name in demo.ambito["sub_ambiti"]:
        demo.sub_ambiti[name] = get_or_create(SubAmbito, name=name)
    for item in demo.ambito["comuni"]:
        comune = db.session.scalar(select(Comune).where(Comune.name == item["name"]))
        if comune is None:
            comune = Comune(
                name=item["name"],
                population=item["population"],
                population_year=item["population_year"],
                population_source=item["population_source"],
                sub_ambito_id=demo.sub_ambiti[item["sub_ambito"]].id,
                assignment=AssignmentSource.DOCUMENTED if item["documented"] else AssignmentSource.TO_CHECK,
                is_capofila=item["documented"],
            )
            db.session.add(comune)
            db.session.flush()
        demo.comuni[comune.name] = comune
        org = get_or_create(
            Organisation,
            {"kind": OrgKind.COMUNE, "represents_comune_id": comune.id, "seat_comune_id": comune.id},
            name=f"Comune di {comune.name}",
        )
        if comune.sub_ambito_id and not org.sub_ambiti:
            org.sub_ambiti = [db.session.get(SubAmbito, comune.sub_ambito_id)]
        demo.orgs[org.name] = org


def cycles_and_areas(demo: Demo) -> None:
    current = get_or_create(
        PlanningCycle,
        {"start_year": 2025, "end_year": 2027, "status": CycleStatus.RUNNING},
        name="Piano di Zona 2025-2027",
    )
    previous = get_or_create(
        PlanningCycle,
        {"start_year": 2021, "end_year": 2023, "status": CycleStatus.CLOSED},
        name="Piano di Zona 2021-2023",
    )
    for cycle in (current, previous):
        for year in range(cycle.start_year, cycle.end_year + 1):
            get_or_create(CycleYear, cycle_id=cycle.id, year=year)
    demo.cycle = current
    for position, area in enumerate(demo.ambito["areas"]):
        get_or_create(
            PolicyArea,
            {
                "code": area["code"],
                "name": area["name"],
                "co_programming_area": area["co_programming_area"],
                "position": position,
            },
            key=area["key"],
        )


def organisations(demo: Demo) -> None:
    assert demo.cycle is not None
    previous = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2021))
    for item in demo.people["public"]:
        seat = demo.comuni.get(item["seat"] or "")
        demo.orgs[item["name"]] = get_or_create(
            Organisation,
            {"kind": OrgKind(item["kind"]), "seat_comune_id": seat.id if seat else None},
            name=item["name"],
        )
    for index, item in enumerate(demo.people["ets"]):
        seat = demo.comuni.get(item["seat"])
        org = get_or_create(
            Organisation,
            {
                "kind": OrgKind.ETS,
                "legal_form": LegalForm(item["legal_form"]),
                "seat_comune_id": seat.id if seat else None,
                "runts_number": None if index % 7 == 6 else f"{100000 + index * 137}",
            },
            name=item["name"],
        )
        if not org.sub_ambiti:
            org.sub_ambiti = [demo.sub_ambiti[name] for name in item["sub_ambiti"]]
        demo.orgs[org.name] = org
        get_or_create(
            Adhesion,
            {"adhered_on": date(2024, 4, 10 + index % 15)},
            organisation_id=org.id,
            cycle_id=demo.cycle.id,
        )
        if previous is not None and index % 3 != 2:
            get_or_create(
                Adhesion,
                {"adhered_on": date(2021, 3, 1 + index % 20)},
                organisation_id=org.id,
                cycle_id=previous.id,
            )


MANDATE_TEXT = {
    "finalita": "Raccogliere i bisogni del territorio su **{topic}**, conoscere le reti attive nei sei sub-ambiti e "
    "proporre all'Ufficio di Piano Integrato obiettivi e progetti coerenti con il Piano di Zona 2025-2027.",
    "attivita": "- mappatura delle organizzazioni e dei servizi attivi\n- co-scrittura della scheda obiettivo dell'area\n"
    "- monitoraggio degli indicatori e autovalutazione annuale (SWOT)",
    "tempi": "Incontri almeno mensili; restituzione all'Ufficio di Piano Integrato entro il mese di novembre di ogni anno.",
    "step_valutazione": "Autovalutazione SWOT a febbraio; verifica degli indicatori di processo ogni sei mesi.",
    "risorse_umane": "Un co-coordinatore pubblico e uno del Terzo Settore, un componente del Comitato Ristretto, "
    "un operatore di Comunità Sociale Cremasca, un operatore ASST, almeno tre referenti ETS.",
}


def bodies(demo: Demo) -> None:

    areas = {a.key: a for a in db.session.scalars(select(PolicyArea))}
    for item in demo.ambito["governance_bodies"]:
        kind = GOVERNANCE.get(item["key"])
        if kind is None:
            continue
        body = get_or_create(Body, {"kind": kind, "description": item["composition"]}, name=item["name"])
        demo.bodies[body.name] = body
    for name, sub_ambito in demo.sub_ambiti.items():
        body = get_or_create(
            Body,
            {"kind": BodyKind.ASSEMBLEA_SUB_AMBITO, "sub_ambito_id": sub_ambito.id},
            name=f"Assemblea di Sub-Ambito di {name}",
        )
        demo.bodies[body.name] = body
    for item in demo.ambito["tavoli"]:
        body = db.session.scalar(select(Body).where(Body.name == item["name"]))
        if body is None:
            body = Body(
                name=item["name"],
                short_name=item["short_name"][:80],
                kind=BODY_KINDS[item["kind"]],
                description=item["note"],
            )
            body.areas = [areas[k] for k in item["area_keys"] if k in areas]
            db.session.add(body)
            db.session.flush()
        demo.bodies[body.name] = body


def people(demo: Demo) -> None:
    udp_org = demo.orgs["Ufficio di Piano - Comune di Crema"]
    udp = demo.user("udp@example.org", "Marta Guerini", udp_org, Function.COORDINATORE, StaffRole.UDP)
    # Named demo accounts, one per role.
    for account in demo.people["accounts"]:
        org = demo.orgs[account["org"]]
        user = demo.user(
            account["email"],
            account["name"],
            org,
            Function(account["function"]),
            StaffRole(account["staff"]) if account.get("staff") else None,
        )
        for body_name, role in account.get("memberships", []):
            demo.member(demo.bodies[body_name], user, org, MembershipRole(role))
    # Mayors in the Assemblea dei Sindaci (Pandino sends a delegate instead).
    assemblea = demo.bodies["Assemblea dei Sindaci (di Ambito)"]
    comitato = demo.bodies["Comitato Ristretto"]
    mayors: dict[str, User] = {}
    for name in sorted(demo.comuni):
        if name in {"Offanengo", "Pandino"}:
            continue
        org = demo.orgs[f"Comune di {name}"]
        first = demo.rng.choice(demo.people["first_names"])
        last = demo.rng.choice(demo.people["last_names"])
        mayor = demo.user(f"sindaco.{slug(name)}@example.org", f"{first} {last}", org, Function.SINDACO)
        demo.member(assemblea, mayor, org, MembershipRole.MEMBER)
        mayors[name] = mayor
    for capofila in ("Crema", "Castelleone", "Soncino", "Sergnano", "Bagnolo Cremasco"):
        if capofila in mayors:
            demo.member(comitato, mayors[capofila], demo.orgs[f"Comune di {capofila}"], MembershipRole.MEMBER)
    # Tavoli: two co-coordinators, a Comitato Ristretto liaison, CSC, ASST and several ETS.
    public_pool = [
        demo.orgs[n]
        for n in (
            "Comune di Crema",
            "Azienda Speciale Consortile Comunità Sociale Cremasca a.s.c.",
            "ASST di Crema",
        )
    ]
    ets_pool = [o for o in demo.orgs.values() if o.kind == OrgKind.ETS]
    others = [
        demo.orgs[n]
        for n in (
            "CGIL Crema",
            "CISL Asse del Po - Crema",
            "Centro per l'Impiego di Crema",
            "Istituto di Istruzione Superiore del Cremasco",
        )
    ]
    for body in demo.bodies.values():
        if not body.is_thematic:
            continue
        current = list(
            db.session.scalars(
                select(Membership).where(Membership.body_id == body.id, Membership.ended_at.is_(None))
            )
        )
        roles = {m.role for m in current}
        if MembershipRole.COORD_PUBLIC not in roles:
            org = demo.rng.choice(public_pool)
            demo.member(
                body, demo.filler_person(org, Function.ASSISTENTE_SOCIALE), org, MembershipRole.COORD_PUBLIC
            )
        if MembershipRole.COORD_ETS not in roles:
            org = demo.rng.choice(ets_pool)
            demo.member(body, demo.filler_person(org, Function.REFERENTE_ETS), org, MembershipRole.COORD_ETS)
        if len(current) < 6:
            for org in demo.rng.sample(ets_pool, 5):
                demo.member(body, demo.filler_person(org, Function.REFERENTE_ETS), org, MembershipRole.MEMBER)
            for org in demo.rng.sample(public_pool, 2) + demo.rng.sample(others, 1):
                demo.member(body, demo.filler_person(org, Function.OPERATORE), org, MembershipRole.MEMBER)
            liaison = demo.rng.choice(list(mayors.items()))
            demo.member(body, liaison[1], demo.orgs[f"Comune di {liaison[0]}"], MembershipRole.MEMBER)
        if not db.session.scalar(select(Mandate.id).where(Mandate.body_id == body.id)):
            topic = ", ".join(a.name.lower() for a in body.areas) or body.display_name.lower()
            mandate = Mandate(
                body_id=body.id,
                version=1,
                status=MandateStatus.IN_FORCE,
                author_id=udp.id,
                decided_by_id=udp.id,
                decided_at=datetime(2025, 2, 12, 16, 0, tzinfo=UTC),
            )
            for part, template in MANDATE_TEXT.items():
                source = template.format(topic=topic)
                setattr(mandate, f"{part}_source", source)
                setattr(mandate, f"{part}_html", str(render_markdown(source)))
            db.session.add(mandate)


STEPS: list[Callable[[Demo], None]] = [territory, cycles_and_areas, organisations, bodies, people]


def domain_steps() -> list[Callable[[Demo], None]]:
    """Each domain with a `demo.py` module adds its `load(demo)` step, in the order of BLUEPRINTS."""
    return [
        import_module(f"pdz.{domain}.demo").load
        for domain in BLUEPRINTS
        if find_spec(f"pdz.{domain}.demo") is not None
    ]


def load_demo() -> Demo:
    demo = Demo()
    for step in STEPS + domain_steps():
        step(demo)
        db.session.flush()
    return demo


def account_table() -> list[tuple[str, str]]:
    return [(a["email"], a["role_label"]) for a in load_json("demo.json")["accounts"]]
