"""The Accordo di Programma's use cases, all the Ufficio di Piano's: prepare the cycle's accordo with its
signatories, add a signatory, record a signature (once, dated between the Assemblea's approval and today),
record an amendment approved by the Assemblea.

The Piano di Zona's approval is complete once every signatory has signed: the last signature sends
`signals.accordo_signed_by_all` and writes the `accordo.completed` audit entry."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select, update

from .. import audit, policy
from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..db import utcnow
from ..errors import Invalid
from ..extensions import db
from ..formatting import format_local, local
from ..inputs import line_problem, text_value
from ..orgs.models import Organisation, OrgKind
from ..signals import accordo_signed_by_all
from ..text import render_markdown
from . import queries
from .models import ADDABLE_KINDS, Accordo, AccordoAmendment, AccordoSignatory

MAX_DESCRIPTION = 20_000


def today() -> date:
    """Today on the clocks of Rome."""
    return local(utcnow()).date()


def create_accordo(cycle: PlanningCycle, *, actor: User) -> Accordo:
    """The cycle's accordo, to be signed by the 48 comuni (one organisation each) and ASST di Crema, which the
    documents name (001 l.1782: "la sottoscrizione dell'Accordo di Programma da parte dell'ASST di Crema").
    Other public bodies are added by hand (the Provincia signed the 2015-2017 accordo, 004 l.72-74)."""
    policy.require(actor, "accordo.manage", cycle)
    if db.session.scalar(select(Accordo.id).where(Accordo.cycle_id == cycle.id)) is not None:
        raise Invalid(_("L'Accordo di Programma di questo ciclo è già stato predisposto."))
    accordo = Accordo(
        cycle_id=cycle.id,
        title=f"Accordo di Programma per l'attuazione del Piano di Zona {cycle.label}",
        created_by_id=actor.id,
    )
    db.session.add(accordo)
    db.session.flush()
    comuni = db.session.scalars(
        select(Organisation)
        .where(Organisation.kind == OrgKind.COMUNE, Organisation.represents_comune_id.is_not(None))
        .order_by(Organisation.name)
    )
    others = db.session.scalars(
        select(Organisation).where(Organisation.kind == OrgKind.ASST).order_by(Organisation.name)
    )
    for position, org in enumerate([*comuni, *others], start=1):
        db.session.add(AccordoSignatory(accordo_id=accordo.id, organisation_id=org.id, position=position))
    db.session.flush()
    audit.record(actor, "accordo.created", accordo, {"cycle_id": cycle.id})
    return accordo


def add_signatory(accordo: Accordo, organisation_id: int | None, *, actor: User) -> AccordoSignatory:
    policy.require(actor, "accordo.manage", accordo)
    org = db.session.get(Organisation, organisation_id) if organisation_id else None
    if org is None or org.kind not in ADDABLE_KINDS:
        raise Invalid(errors={"organisation_id": _("Scegli un ente pubblico dall'elenco.")})
    taken = db.session.scalar(
        select(AccordoSignatory.id).where(
            AccordoSignatory.accordo_id == accordo.id, AccordoSignatory.organisation_id == org.id
        )
    )
    if taken is not None:
        raise Invalid(errors={"organisation_id": _("Questo ente è già tra i sottoscrittori.")})
    last = db.session.scalar(
        select(func.max(AccordoSignatory.position)).where(AccordoSignatory.accordo_id == accordo.id)
    )
    signatory = AccordoSignatory(accordo_id=accordo.id, organisation_id=org.id, position=(last or 0) + 1)
    db.session.add(signatory)
    db.session.flush()
    audit.record(actor, "accordo.signatory_added", accordo, {"organisation": org.name})
    return signatory


def _decision_day(accordo: Accordo, day: date | None, field: str, what: str) -> date:
    """A day between the Assemblea's approval of the Piano di Zona and today, else an Italian refusal."""
    if day is None:
        raise Invalid(errors={field: _("Indica la data (gg/mm/aaaa).")})
    approved = queries.approved_on(accordo.cycle_id)
    if approved is None:
        raise Invalid(
            errors={
                field: _(
                    "Il Piano di Zona non è ancora stato approvato dall'Assemblea dei Sindaci: %(what)s si "
                    "registra dopo l'approvazione.",
                    what=what,
                )
            }
        )
    if day > today():
        raise Invalid(errors={field: _("La data non può essere nel futuro.")})
    if day < approved:
        raise Invalid(
            errors={
                field: _(
                    "La data non può precedere l'approvazione dell'Assemblea dei Sindaci (%(d)s).",
                    d=format_local(approved, "date"),
                )
            }
        )
    return day


def sign(
    accordo: Accordo, signatory_id: int | None, signed_on: date | None, *, actor: User
) -> AccordoSignatory:
    """Record that a signatory signed on `signed_on`. Once: the row is updated only while unsigned, so of two
    requests racing for the same signature one records it and the other is refused."""
    policy.require(actor, "accordo.manage", accordo)
    signatory = db.session.get(AccordoSignatory, signatory_id) if signatory_id else None
    if signatory is None or signatory.accordo_id != accordo.id:
        raise Invalid(errors={"signatory_id": _("Sottoscrittore sconosciuto.")})
    org = db.session.get(Organisation, signatory.organisation_id)
    assert org is not None
    if signatory.signed_on is not None:
        raise Invalid(_("La firma di %(org)s è già registrata.", org=org.name))
    day = _decision_day(accordo, signed_on, "signed_on", _("la firma"))
    done = db.session.execute(
        update(AccordoSignatory)
        .where(AccordoSignatory.id == signatory.id, AccordoSignatory.signed_on.is_(None))
        .values(signed_on=day, recorded_by_id=actor.id, recorded_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount  # type: ignore[attr-defined]
    if done != 1:
        raise Invalid(_("La firma di %(org)s è già registrata.", org=org.name))
    db.session.refresh(signatory)
    audit.record(actor, "accordo.signed", accordo, {"organisation": org.name, "signed_on": day.isoformat()})
    signed, total = queries.signature_counts(accordo.id)
    if signed == total:
        audit.record(actor, "accordo.completed", accordo, {"signatories": total})
        accordo_signed_by_all.send(accordo)
    return signatory


def add_amendment(
    accordo: Accordo, title: str, description: str, decided_on: date | None, *, actor: User
) -> AccordoAmendment:
    """An amendment ("modifiche e integrazioni") the Assemblea dei Sindaci approved on `decided_on`."""
    policy.require(actor, "accordo.manage", accordo)
    errors: dict[str, str] = {}
    title = text_value(title, "title").strip()
    description = text_value(description, "description").strip()
    if not title:
        errors["title"] = _("Indica il titolo della modifica.")
    elif len(title) > 200:
        errors["title"] = _("Il titolo è troppo lungo (massimo 200 caratteri).")
    elif problem := line_problem(title):
        errors["title"] = problem
    if len(description) > MAX_DESCRIPTION:
        errors["description"] = _("La descrizione è troppo lunga (massimo 20.000 caratteri).")
    try:
        day = _decision_day(accordo, decided_on, "decided_on", _("una modifica"))
    except Invalid as refused:
        errors.update(refused.errors)
    if errors:
        raise Invalid(errors=errors)
    amendment = AccordoAmendment(
        accordo_id=accordo.id,
        title=title,
        description_source=description,
        description_html=str(render_markdown(description)),
        decided_on=day,
        created_by_id=actor.id,
    )
    db.session.add(amendment)
    db.session.flush()
    audit.record(actor, "accordo.amended", accordo, {"title": title, "decided_on": day.isoformat()})
    return amendment
