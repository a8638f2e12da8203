"""Directory of organisations and comuni; UdP edits them; bad input changes nothing."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select


def test_directory_filters_by_kind_legal_form_and_sub_ambito(client_as: Any, db: Any) -> None:
    from pdz.territory.models import SubAmbito

    client = client_as("membro@example.org")
    odv = client.get("/enti/?tipo=ets&forma=odv").get_data(as_text=True)
    assert (
        "Auser Cremasco" in odv
        and "Fondazione Benefattori Cremaschi Onlus" not in odv
        and "Comune di Crema" not in odv
    )
    soncino = db.session.scalar(select(SubAmbito).where(SubAmbito.name == "Soncino"))
    page = client.get(f"/enti/?sub_ambito={soncino.id}").get_data(as_text=True)
    assert (
        "Fondazione L&#39;Oasi Onlus" in page and "Comune di Soncino" in page and "Coop Sentiero" not in page
    )
    assert "Nessun ente corrisponde" in client.get("/enti/?q=zzzzzz").get_data(as_text=True)


def test_directory_lists_adhesions_and_runts(client_as: Any) -> None:
    page = client_as("membro@example.org").get("/enti/?tipo=ets").get_data(as_text=True)
    assert "2025-2027" in page and "2021-2023" in page and "non iscritto" in page


def test_comuni_page_groups_by_sub_ambito_and_flags_assignments_to_check(client_as: Any) -> None:
    page = client_as("membro@example.org").get("/comuni/").get_data(as_text=True)
    assert page.count("Sub-ambito di") == 6
    # Crema's 34.144 inhabitants at 31/12/2010 (002 l.603): the one year the documents give for every comune
    assert "Da verificare" in page and "capofila" in page and "34.144" in page


def test_udp_confirms_a_comune_assignment(client_as: Any, db: Any) -> None:
    from pdz.territory.models import AssignmentSource, Comune, SubAmbito

    comune = db.session.scalar(select(Comune).where(Comune.name == "Ricengo"))
    sergnano = db.session.scalar(select(SubAmbito).where(SubAmbito.name == "Sergnano"))
    udp = client_as("udp@example.org")
    assert (
        udp.post(
            f"/comuni/{comune.id}/modifica", data={"sub_ambito_id": sergnano.id, "population": "1.750"}
        ).status_code
        == 302
    )
    db.session.expire_all()
    assert (comune.sub_ambito_id, comune.population, comune.assignment) == (
        sergnano.id,
        1750,
        AssignmentSource.CONFIRMED,
    )
    bad = udp.post(
        f"/comuni/{comune.id}/modifica", data={"sub_ambito_id": sergnano.id, "population": "mille"}
    )
    assert bad.status_code == 422 and "numero intero" in bad.get_data(as_text=True)
    assert (
        client_as("membro@example.org")
        .post(f"/comuni/{comune.id}/modifica", data={"sub_ambito_id": sergnano.id})
        .status_code
        == 403
    )


def test_udp_creates_an_ets_and_records_its_adhesion(client_as: Any, db: Any) -> None:
    from pdz.cycles.models import PlanningCycle
    from pdz.orgs.models import Organisation

    udp = client_as("udp@example.org")
    response = udp.post(
        "/enti/nuovo",
        data={
            "name": "Associazione Nuovi Orizzonti APS",
            "kind": "ets",
            "legal_form": "aps",
            "runts_number": "123",
        },
    )
    assert response.status_code == 302
    org = db.session.scalar(
        select(Organisation).where(Organisation.name == "Associazione Nuovi Orizzonti APS")
    )
    cycle = db.session.scalar(select(PlanningCycle).where(PlanningCycle.start_year == 2025))
    assert (
        udp.post(
            f"/enti/{org.id}/adesioni", data={"cycle_id": cycle.id, "adhered_on": "2025-02-03"}
        ).status_code
        == 302
    )
    udp.post(f"/enti/{org.id}/adesioni", data={"cycle_id": cycle.id, "adhered_on": "2025-02-04"})
    db.session.expire_all()
    assert [a.adhered_on.isoformat() for a in org.adhesions] == ["2025-02-03"]


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "Comune di Crema", "kind": "comune", "legal_form": ""}, "Esiste già"),
        ({"name": "Nuova ETS", "kind": "ets", "legal_form": ""}, "forma giuridica"),
        ({"name": "ASST Nuova", "kind": "asst", "legal_form": "odv"}, "solo per gli Enti del Terzo Settore"),
        ({"name": "", "kind": "ets", "legal_form": "odv"}, "Indica il nome"),
    ],
)
def test_bad_organisation_is_refused(client_as: Any, data: dict, message: str) -> None:
    response = client_as("udp@example.org").post("/enti/nuovo", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)


def test_user_text_is_escaped(client_as: Any, db: Any) -> None:
    udp = client_as("udp@example.org")
    udp.post(
        "/enti/nuovo",
        data={
            "name": "<script>alert(1)</script>",
            "kind": "altro",
            "legal_form": "",
            "description": "<b>x</b>",
        },
    )
    page = udp.get("/enti/").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
