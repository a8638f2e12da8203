from __future__ import annotations

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import func, select

from .. import audit, policy
from ..accounts.models import User
from ..cycles.models import PlanningCycle
from ..errors import Invalid
from ..extensions import db
from ..territory.models import SubAmbito
from .models import Adhesion, LegalForm, Organisation, OrgKind


def save_organisation(
    org: Organisation | None,
    *,
    name: str,
    kind: OrgKind,
    legal_form: LegalForm | None,
    runts_number: str,
    sub_ambito_ids: list[int],
    email: str,
    website: str,
    description: str,
    actor: User,
) -> Organisation:
    policy.require(actor, "org.edit" if org else "org.create", org)
    errors: dict[str, str] = {}
    name = (name or "").strip()
    if not name:
        errors["name"] = _("Indica il nome dell'ente.")
    elif len(name) > 200:
        errors["name"] = _("Il nome è troppo lungo (massimo 200 caratteri).")
    else:
        clash = db.session.scalar(
            select(Organisation.id).where(func.lower(Organisation.name) == name.lower())
        )
        if clash is not None and (org is None or clash != org.id):
            errors["name"] = _("Esiste già un ente con questo nome.")
    if kind != OrgKind.ETS and legal_form is not None:
        errors["legal_form"] = _("La forma giuridica si indica solo per gli Enti del Terzo Settore.")
    if kind == OrgKind.ETS and legal_form is None:
        errors["legal_form"] = _("Indica la forma giuridica dell'ETS.")
    if len(runts_number or "") > 40:
        errors["runts_number"] = _("Numero RUNTS troppo lungo.")
    sub_ambiti = list(db.session.scalars(select(SubAmbito).where(SubAmbito.id.in_(sub_ambito_ids or []))))
    if len(sub_ambiti) != len(set(sub_ambito_ids or [])):
        errors["sub_ambito_ids"] = _("Sub-ambito sconosciuto.")
    if errors:
        raise Invalid(errors=errors)
    created = org is None
    if org is None:
        org = Organisation(name=name, kind=kind)
        db.session.add(org)
    org.name, org.kind, org.legal_form = name, kind, legal_form
    org.runts_number = (runts_number or "").strip() or None
    org.sub_ambiti = sub_ambiti
    org.email, org.website, org.description = (email or "")[:200], (website or "")[:200], description or ""
    db.session.flush()
    audit.record(actor, "organisation.created" if created else "organisation.updated", org, {"name": name})
    return org


def record_adhesion(
    org: Organisation, cycle: PlanningCycle | None, adhered_on: date | None, *, actor: User
) -> Adhesion:
    policy.require(actor, "org.edit", org)
    if cycle is None:
        raise Invalid(errors={"cycle_id": _("Ciclo di programmazione sconosciuto.")})
    if adhered_on is None:
        raise Invalid(errors={"adhered_on": _("Indica la data di adesione.")})
    if any(a.cycle_id == cycle.id for a in org.adhesions):
        raise Invalid(errors={"cycle_id": _("L'adesione a questo Piano di Zona è già registrata.")})
    adhesion = Adhesion(organisation_id=org.id, cycle_id=cycle.id, adhered_on=adhered_on)
    db.session.add(adhesion)
    db.session.flush()
    audit.record(actor, "organisation.adhered", org, {"cycle_id": cycle.id, "date": adhered_on.isoformat()})
    return adhesion
