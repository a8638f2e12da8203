"""The demo territory says what the documents say (issue #15 point 6), through the Comuni and directory pages.

- Populations of one year for all 48 comuni: 2010, the only year the documents give for every comune (002: the
  density table l.603-621 for ten comuni, the 2010 spending table l.1326-1450 for the others, each figure being
  spending / per-capita spending). The documents' total is 163.769 at 31/12/2010 (002 l.495); the estimates
  make the sum differ by a few people.
- "Crema e il polo di Pandino ... ospitando complessivamente il 43,47% della popolazione residente nell'Ambito";
  "I sub ambiti di Bagnolo Cremasco e Castelleone sono quelli invece di minor concentrazione" (001 l.700-704).
  No document lists the comuni of each sub-ambito: only the six eponymous ones are documented.
- Consorzio Arcobaleno is a consortium (001 l.6740, 12487; 004 l.585).
"""

from __future__ import annotations

import re
from html import unescape
from typing import Any

from sqlalchemy import select


def text_of(response: Any) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", response.get_data(as_text=True))).split())


def test_every_comune_has_a_population_of_the_same_stated_year(client_as: Any, db: Any) -> None:
    from pdz.territory.models import Comune

    comuni = list(db.session.scalars(select(Comune)))
    assert len(comuni) == 48
    assert {c.population_year for c in comuni} == {2010}
    assert all(c.population and "Piano di Zona 2012-2014" in c.population_source for c in comuni)
    total = sum(c.population or 0 for c in comuni)
    assert abs(total - 163769) <= 0.0001 * 163769  # 163.769 at 31/12/2010 (002 l.495), within 0,01%
    crema = next(c for c in comuni if c.name == "Crema")
    assert crema.population == 34144  # 002 l.603
    page = client_as("membro@example.org").get("/comuni/")
    assert page.status_code == 200
    text = text_of(page)
    shown = f"{total:,}".replace(",", ".")
    assert f"Abitanti nel 2010, lo stesso anno per tutti i comuni: {shown} in totale." in text
    assert "Piano di Zona 2012-2014" in text


def test_crema_and_pandino_hold_43_47_percent_and_the_assignments_stay_to_check(
    client_as: Any, db: Any
) -> None:
    from pdz.territory.models import AssignmentSource, Comune, SubAmbito

    people: dict[str, int] = {}
    for sub in db.session.scalars(select(SubAmbito)):
        people[sub.name] = sum(
            c.population or 0
            for c in db.session.scalars(select(Comune).where(Comune.sub_ambito_id == sub.id))
        )
    total = sum(people.values())
    assert round(100 * (people["Crema"] + people["Pandino"]) / total, 2) == 43.47
    assert sorted(people, key=people.__getitem__)[:2] == ["Bagnolo Cremasco", "Castelleone"]
    assert sorted(people, key=people.__getitem__)[-2:] in (["Pandino", "Crema"], ["Crema", "Pandino"])
    comuni = list(db.session.scalars(select(Comune)))
    documented = {c.name for c in comuni if c.assignment == AssignmentSource.DOCUMENTED}
    assert documented == set(people)  # the six eponymous comuni only
    assert sum(c.assignment == AssignmentSource.TO_CHECK for c in comuni) == 42
    # the page shows each sub-ambito's share: Crema's and Pandino's add up to the documents' 43,47%
    text = text_of(client_as("membro@example.org").get("/comuni/"))
    shares = {
        name: float(share.replace(",", "."))
        for name, share in re.findall(
            r"Sub-ambito di ([A-Za-z ]+?) \(\d+ comuni, [\d.]+ abitanti, ([\d,]+)%\)", text
        )
    }
    assert len(shares) == 6
    assert abs(shares["Crema"] + shares["Pandino"] - 43.47) <= 0.01


def test_consorzio_arcobaleno_is_a_consortium(client_as: Any, db: Any) -> None:
    from pdz.orgs.models import LegalForm, Organisation

    org = db.session.scalar(select(Organisation).where(Organisation.name == "Consorzio Arcobaleno"))
    assert org is not None and org.legal_form == LegalForm.CONSORZIO
    text = text_of(client_as("membro@example.org").get("/enti/?forma=consorzio"))
    assert "Consorzio Arcobaleno" in text and "Nessun ente corrisponde" not in text
