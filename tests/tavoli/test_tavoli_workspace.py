"""Tavolo workspaces: who sees them, creation and mandates by the UdP, members and roles."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select


def _audit(db: Any, action: str) -> Any:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return db.session.scalar(
        select(AuditEntry).where(AuditEntry.action == action).order_by(AuditEntry.id.desc())
    )


def test_workspace_shows_mandate_members_by_organisation_and_coordinators(
    client_as: Any, tavolo: Any
) -> None:
    page = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    for text in (
        "Tavolo Povertà",
        "Co-coordinamento",
        "Paolo Donati",
        "Chiara Ogliari",
        "Finalità",
        "Step di valutazione",
        "Componenti per ente",
        "Banco di Solidarietà Cremasco ODV",
        "Fondazione Don Angelo Madeo - Caritas Diocesana",
    ):
        assert text in page


def test_outsider_gets_no_access_even_guessing_urls(client_as: Any, tavolo: Any) -> None:
    outsider = client_as("disabilita@example.org")
    for url in (
        f"/tavoli/{tavolo.id}",
        f"/tavoli/{tavolo.id}/componenti",
        f"/tavoli/{tavolo.id}/mandato",
        f"/tavoli/{tavolo.id}/modifica",
    ):
        response = outsider.get(url)
        assert response.status_code == 403, url
        assert "Non hai i permessi" in response.get_data(as_text=True)
    listing = outsider.get("/tavoli/").get_data(as_text=True)
    assert "Tavolo Povertà" in listing and f'href="/tavoli/{tavolo.id}"' not in listing


def test_udp_creates_a_tavolo_and_it_is_audited(client_as: Any, db: Any) -> None:
    from pdz.cycles.models import PolicyArea
    from pdz.tavoli.models import Body

    area = db.session.scalar(select(PolicyArea).where(PolicyArea.key == "H"))
    response = client_as("udp@example.org").post(
        "/tavoli/nuovo",
        data={
            "name": "Tavolo Salute Mentale",
            "kind": "tavolo",
            "status": "attivo",
            "area_ids": [area.id],
            "description": "Nuovo",
        },
    )
    assert response.status_code == 302
    created = db.session.scalar(select(Body).where(Body.name == "Tavolo Salute Mentale"))
    assert [a.key for a in created.areas] == ["H"]
    assert _audit(db, "body.created").object_id == created.id


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "", "kind": "tavolo"}, "Indica il nome"),
        ({"name": "Tavolo Povertà", "kind": "tavolo"}, "Esiste già"),
        ({"name": "x" * 201, "kind": "tavolo"}, "troppo lungo"),
        ({"name": "Tavolo Nuovo", "kind": "tavolo", "area_ids": ["9999"]}, "Area di policy sconosciuta"),
    ],
)
def test_bad_tavolo_is_refused_and_nothing_created(client_as: Any, db: Any, data: dict, message: str) -> None:
    from pdz.tavoli.models import Body

    before = db.session.scalar(select(func.count(Body.id)))
    response = client_as("udp@example.org").post("/tavoli/nuovo", data={"status": "attivo", **data})
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(Body.id))) == before


def test_only_udp_creates_tavoli(client_as: Any) -> None:
    assert (
        client_as("coord.ets@example.org")
        .post("/tavoli/nuovo", data={"name": "X", "kind": "tavolo"})
        .status_code
        == 403
    )


def write_draft(db: Any, tavolo: Any, email: str, **parts: str) -> list[dict[str, Any]]:
    """Rewrite parts of the mandate draft as `email`: a Yjs update submitted to the co-writing engine, as the
    page's editors send it (sync step 1 to get the document, then one update per part)."""
    from pycrdt import Doc, Text

    from pdz.accounts.models import User
    from pdz.coedit import engine

    author = db.session.scalar(select(User).where(User.email == email))
    key, answers = f"mandate:{tavolo.id}", []
    for part, text in parts.items():
        step2, _step1 = engine.sync_step1(key, Doc().get_state())
        doc = Doc()
        doc.apply_update(engine.decode_sync(step2)[1])
        state, ytext = doc.get_state(), doc.get(part, type=Text)
        with doc.transaction():
            if len(ytext):
                del ytext[0 : len(ytext)]
            ytext.insert(0, text)
        answers.append(engine.submit(key, doc.get_update(state), author.id))
    db.session.expire_all()
    return answers


def test_mandate_proposed_by_coordinator_and_approved_by_udp(client_as: Any, db: Any, tavolo: Any) -> None:
    from pdz.tavoli.models import Mandate, MandateStatus

    parts = {
        "finalita": "Nuove **finalità** condivise",
        "attivita": "- una\n- due",
        "tempi": "Entro giugno",
        "step_valutazione": "",
        "risorse_umane": "",
    }
    assert all(answer["ok"] for answer in write_draft(db, tavolo, "coord.pubblico@example.org", **parts))
    assert (
        client_as("coord.pubblico@example.org").post(f"/tavoli/{tavolo.id}/mandato", data={}).status_code
        == 302
    )
    proposal = db.session.scalar(
        select(Mandate).where(Mandate.body_id == tavolo.id, Mandate.status == MandateStatus.PROPOSED)
    )
    assert proposal.finalita_html == "<p>Nuove <strong>finalità</strong> condivise</p>"
    assert (proposal.attivita_source, proposal.tempi_source, proposal.step_valutazione_source) == (
        "- una\n- due",
        "Entro giugno",
        "",
    )
    assert (
        client_as("membro@example.org")
        .post(f"/tavoli/{tavolo.id}/mandato/{proposal.id}/decisione", data={"decision": "accept"})
        .status_code
        == 403
    )
    assert (
        client_as("udp@example.org")
        .post(f"/tavoli/{tavolo.id}/mandato/{proposal.id}/decisione", data={"decision": "accept"})
        .status_code
        == 302
    )
    db.session.expire_all()
    statuses = dict(
        db.session.execute(select(Mandate.version, Mandate.status).where(Mandate.body_id == tavolo.id)).all()
    )
    assert statuses == {1: MandateStatus.SUPERSEDED, 2: MandateStatus.IN_FORCE}
    assert _audit(db, "mandate.accepted").object_id == proposal.id
    page = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    assert "Versione 2" in page and "<strong>finalità</strong>" in page


def test_udp_sets_the_draft_in_force_and_the_page_shows_the_draft_editors(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    from pdz.tavoli.models import Mandate, MandateStatus

    udp = client_as("udp@example.org")
    page = udp.get(f"/tavoli/{tavolo.id}/mandato").get_data(as_text=True)
    assert f'data-coedit-doc="mandate:{tavolo.id}"' in page
    for part in ("finalita", "attivita", "tempi", "step_valutazione", "risorse_umane"):
        assert f'data-coedit-field="{part}"' in page
    assert "<textarea" not in page  # the text is in the draft, not in the form
    write_draft(db, tavolo, "udp@example.org", tempi="Entro dicembre")
    assert udp.post(f"/tavoli/{tavolo.id}/mandato", data={}).status_code == 302
    latest = db.session.scalar(
        select(Mandate).where(Mandate.body_id == tavolo.id).order_by(Mandate.version.desc())
    )
    assert latest.status == MandateStatus.IN_FORCE and latest.tempi_source == "Entro dicembre"
    assert _audit(db, "mandate.set").object_id == latest.id


def test_mandate_markdown_is_sanitised(client_as: Any, db: Any, tavolo: Any) -> None:
    from pdz.tavoli.models import Mandate

    evil = "<script>alert(1)</script> [clic](javascript:alert(2)) <img src=x onerror=alert(3)>"
    write_draft(db, tavolo, "udp@example.org", finalita=evil)
    assert client_as("udp@example.org").post(f"/tavoli/{tavolo.id}/mandato", data={}).status_code == 302
    mandate = db.session.scalar(
        select(Mandate).where(Mandate.body_id == tavolo.id).order_by(Mandate.version.desc())
    )
    assert mandate.finalita_source == evil
    page = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    for bad in ("<script>alert", "javascript:", "onerror", "<img"):
        assert bad not in mandate.finalita_html and bad not in page


def test_draft_without_finalita_unchanged_or_too_long_is_refused(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    from pdz.tavoli.models import Mandate

    udp = client_as("udp@example.org")
    versions = db.session.scalar(select(func.count(Mandate.id)).where(Mandate.body_id == tavolo.id))
    unchanged = udp.post(f"/tavoli/{tavolo.id}/mandato", data={})
    assert unchanged.status_code == 422 and "uguale" in unchanged.get_data(as_text=True)
    write_draft(db, tavolo, "udp@example.org", finalita=" ")
    assert "Indica le finalità" in udp.post(f"/tavoli/{tavolo.id}/mandato", data={}).get_data(as_text=True)
    [too_long] = write_draft(db, tavolo, "udp@example.org", attivita="x" * 20_001)
    assert too_long["ok"] is False and "troppo lungo" in too_long["message"]
    assert db.session.scalar(select(func.count(Mandate.id)).where(Mandate.body_id == tavolo.id)) == versions


def _membership(db: Any, tavolo: Any, email: str) -> Any:
    from pdz.accounts.models import User
    from pdz.tavoli.models import Membership

    return db.session.scalar(
        select(Membership)
        .join(User, Membership.user_id == User.id)
        .where(Membership.body_id == tavolo.id, User.email == email, Membership.ended_at.is_(None))
    )


def test_co_coordinator_role_rules(client_as: Any, db: Any, tavolo: Any, body: Any) -> None:
    udp = client_as("udp@example.org")
    membro = _membership(db, tavolo, "membro@example.org")  # represents an ODV (ETS)
    url = f"/tavoli/{tavolo.id}/componenti/{membro.id}/ruolo"
    response = udp.post(url, data={"role": "coordinatore_pubblico"})
    assert response.status_code == 422 and "ente pubblico" in response.get_data(as_text=True)
    response = udp.post(url, data={"role": "coordinatore_ets"})
    assert response.status_code == 422 and "ha già questo ruolo" in response.get_data(as_text=True)
    # someone outside the tavolo cannot be given the role
    outsider = _membership(db, body("Tavolo Permanente Disabilità"), "disabilita@example.org")
    response = udp.post(f"/tavoli/{tavolo.id}/componenti/{outsider.id}/ruolo", data={"role": "segretario"})
    assert response.status_code == 422 and "non fa parte" in response.get_data(as_text=True)
    assert udp.post(url, data={"role": "segretario"}).status_code == 302
    db.session.expire_all()
    assert _membership(db, tavolo, "membro@example.org").role == "segretario"


def test_removed_member_loses_access_at_once(client_as: Any, db: Any, tavolo: Any) -> None:
    member = client_as("membro@example.org")
    assert member.get(f"/tavoli/{tavolo.id}").status_code == 200
    membership = _membership(db, tavolo, "membro@example.org")
    assert (
        client_as("coord.ets@example.org")
        .post(f"/tavoli/{tavolo.id}/componenti/{membership.id}/rimuovi")
        .status_code
        == 302
    )
    assert member.get(f"/tavoli/{tavolo.id}").status_code == 403
    assert _audit(db, "membership.ended").object_id == membership.id


def test_tavoli_list_and_workspace_queries_do_not_grow_with_members(
    client_as: Any, count_queries: Any, db: Any, tavolo: Any
) -> None:
    from pdz.accounts.models import Affiliation, User
    from pdz.orgs.models import Organisation, OrgKind
    from pdz.tavoli.models import Membership

    client = client_as("udp@example.org")
    urls = [
        "/tavoli/",
        f"/tavoli/{tavolo.id}",
        f"/tavoli/{tavolo.id}/componenti",
        "/",
        "/enti/",
        "/comuni/",
        "/admin/persone",
    ]
    before = {}
    for url in urls:
        with count_queries() as n:
            assert client.get(url).status_code == 200
        before[url] = n()
    orgs = list(db.session.scalars(select(Organisation).where(Organisation.kind == OrgKind.ETS)))
    for i in range(40):
        person = User(email=f"extra{i}@example.org", full_name=f"Extra {i}", password_hash="x")
        db.session.add(person)
        db.session.flush()
        db.session.add(Affiliation(user_id=person.id, organisation_id=orgs[i % len(orgs)].id))
        db.session.add(
            Membership(body_id=tavolo.id, user_id=person.id, organisation_id=orgs[i % len(orgs)].id)
        )
    db.session.commit()
    for url in urls:
        with count_queries() as n:
            assert client.get(url).status_code == 200
        assert n() == before[url], url
