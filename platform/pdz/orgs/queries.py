from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from .models import Adhesion, LegalForm, Organisation, OrgKind, organisation_sub_ambiti


def directory(
    kind: str = "", legal_form: str = "", sub_ambito_id: int | None = None, q: str = ""
) -> list[Organisation]:
    stmt = select(Organisation).options(
        selectinload(Organisation.sub_ambiti),
        selectinload(Organisation.seat),
        selectinload(Organisation.adhesions).selectinload(Adhesion.cycle),
    )
    if kind in OrgKind.__members__.values() or kind in {k.value for k in OrgKind}:
        stmt = stmt.where(Organisation.kind == kind)
    if legal_form in {f.value for f in LegalForm}:
        stmt = stmt.where(Organisation.legal_form == legal_form)
    if sub_ambito_id:
        stmt = stmt.where(
            Organisation.id.in_(
                select(organisation_sub_ambiti.c.organisation_id).where(
                    organisation_sub_ambiti.c.sub_ambito_id == sub_ambito_id
                )
            )
        )
    if q:
        stmt = stmt.where(Organisation.name.ilike(f"%{q[:100]}%"))
    return list(db.session.scalars(stmt.order_by(Organisation.name)))


def detail(org_id: int) -> Organisation | None:
    return db.session.scalar(
        select(Organisation)
        .where(Organisation.id == org_id)
        .options(
            selectinload(Organisation.sub_ambiti),
            selectinload(Organisation.areas),
            selectinload(Organisation.adhesions).selectinload(Adhesion.cycle),
        )
    )
