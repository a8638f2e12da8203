"""Password reset by single-use expiring link; invitations from e-mail to first sign-in."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select, update

from conftest import link_in, login, outbox


def test_password_reset_by_single_use_link(app: Any, db: Any) -> None:
    client = app.test_client()
    response = client.post("/password/dimenticata", data={"email": "Membro@example.org"})
    assert response.status_code == 302
    [mail] = outbox(db, "membro@example.org")
    link = link_in(mail)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "una-nuova-password", "confirm": "una-nuova-password"})
    assert response.status_code == 302
    login(app.test_client(), "membro@example.org", "una-nuova-password")
    again = client.post(link, data={"password": "ancora-unaltra-pw", "confirm": "ancora-unaltra-pw"})
    assert again.status_code == 404
    assert "non è valido" in again.get_data(as_text=True)


def test_reset_for_unknown_email_looks_the_same_and_sends_nothing(app: Any, db: Any) -> None:
    response = app.test_client().post("/password/dimenticata", data={"email": "nessuno@example.org"})
    assert response.status_code == 302
    assert outbox(db, "nessuno@example.org") == []


def test_expired_reset_link_is_refused(app: Any, db: Any) -> None:
    from pdz.accounts.models import PasswordReset
    from pdz.db import utcnow

    client = app.test_client()
    client.post("/password/dimenticata", data={"email": "membro@example.org"})
    db.session.execute(update(PasswordReset).values(expires_at=utcnow() - timedelta(minutes=1)))
    db.session.commit()
    link = link_in(outbox(db, "membro@example.org")[0])
    response = client.post(link, data={"password": "una-nuova-password", "confirm": "una-nuova-password"})
    assert response.status_code == 404
    login(app.test_client(), "membro@example.org", "demo")


def test_reset_with_mismatched_passwords_changes_nothing(app: Any, db: Any) -> None:
    client = app.test_client()
    client.post("/password/dimenticata", data={"email": "membro@example.org"})
    link = link_in(outbox(db, "membro@example.org")[0])
    response = client.post(link, data={"password": "una-nuova-password", "confirm": "diversa-password"})
    assert response.status_code == 422
    assert "non coincidono" in response.get_data(as_text=True)
    login(app.test_client(), "membro@example.org", "demo")


def _org_id(db: Any, name: str) -> int:
    from pdz.orgs.models import Organisation

    return db.session.scalar(select(Organisation.id).where(Organisation.name == name))


def test_invitation_journey_from_email_to_first_sign_in(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    coordinator = client_as("coord.ets@example.org")
    response = coordinator.post(
        f"/tavoli/{tavolo.id}/componenti/invito",
        data={
            "email": "Nuova.Volontaria@example.org",
            "full_name": "Nuova Volontaria",
            "organisation_id": _org_id(db, "Auser Cremasco"),
            "role": "membro",
            "function": "volontario",
        },
    )
    assert response.status_code == 302
    [mail] = outbox(db, "nuova.volontaria@example.org")
    assert "Tavolo Povertà" in mail.body
    newcomer = app.test_client()
    link = link_in(mail)
    assert "Tavolo Povertà" in newcomer.get(link).get_data(as_text=True)
    response = newcomer.post(
        link,
        data={"full_name": "Nuova Volontaria", "password": "la-mia-password", "confirm": "la-mia-password"},
    )
    assert response.status_code == 302 and response.location == f"/tavoli/{tavolo.id}"
    workspace = newcomer.get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    assert "Nuova Volontaria" in workspace and "Auser Cremasco" in workspace
    assert newcomer.get(link).status_code == 404  # single use
    login(app.test_client(), "nuova.volontaria@example.org", "la-mia-password")


def test_existing_account_accepts_invitation_after_signing_in(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    client_as("coord.ets@example.org").post(
        f"/tavoli/{tavolo.id}/componenti/invito",
        data={
            "email": "disabilita@example.org",
            "organisation_id": _org_id(db, "Associazione Autismo e Famiglie APS"),
            "role": "membro",
            "function": "referente_ets",
        },
    )
    link = link_in(outbox(db, "disabilita@example.org")[0])
    anonymous = app.test_client()
    assert "accedi" in anonymous.get(link).get_data(as_text=True).lower()
    assert anonymous.post(link, data={}).status_code == 422
    invited = client_as("disabilita@example.org")
    assert invited.get(f"/tavoli/{tavolo.id}").status_code == 403
    assert invited.post(link, data={}).status_code == 302
    assert invited.get(f"/tavoli/{tavolo.id}").status_code == 200


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"email": "x@example.org", "organisation_id": "", "role": "membro", "function": "altro"},
            "Ente sconosciuto",
        ),
        (
            {"email": "x@example.org", "organisation_id": "99999", "role": "membro", "function": "altro"},
            "Ente sconosciuto",
        ),
        (
            {"email": "non-una-email", "organisation_id": "1", "role": "membro", "function": "altro"},
            "non è valido",
        ),
        (
            {
                "email": "x@example.org",
                "organisation_id": "1",
                "role": "coordinatore_ets",
                "function": "altro",
            },
            "co-coordinatore",
        ),
        (
            {"email": "membro@example.org", "organisation_id": "1", "role": "membro", "function": "altro"},
            "fa già parte",
        ),
        (
            {
                "email": "x@example.org",
                "full_name": "x" * 500,
                "organisation_id": "1",
                "role": "membro",
                "function": "altro",
            },
            "troppo lungo",
        ),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_sent(
    client_as: Any, db: Any, tavolo: Any, data: dict, message: str
) -> None:
    from pdz.accounts.models import Invitation

    response = client_as("coord.ets@example.org").post(f"/tavoli/{tavolo.id}/componenti/invito", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    assert db.session.scalar(select(Invitation).where(Invitation.email == data["email"])) is None


def test_wrong_and_revoked_invitation_tokens_are_refused(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    from pdz.accounts.models import Invitation

    assert app.test_client().get("/invito/inventato").status_code == 404
    coordinator = client_as("coord.ets@example.org")
    coordinator.post(
        f"/tavoli/{tavolo.id}/componenti/invito",
        data={
            "email": "revocato@example.org",
            "organisation_id": _org_id(db, "Auser Cremasco"),
            "role": "membro",
            "function": "volontario",
        },
    )
    invitation = db.session.scalar(select(Invitation).where(Invitation.email == "revocato@example.org"))
    assert coordinator.post(f"/tavoli/{tavolo.id}/inviti/{invitation.id}/revoca").status_code == 302
    link = link_in(outbox(db, "revocato@example.org")[0])
    response = app.test_client().post(
        link, data={"full_name": "R", "password": "password-lunga", "confirm": "password-lunga"}
    )
    assert response.status_code == 404
    assert "revocato" in response.get_data(as_text=True)


def test_members_cannot_invite(client_as: Any, tavolo: Any) -> None:
    response = client_as("membro@example.org").post(
        f"/tavoli/{tavolo.id}/componenti/invito",
        data={"email": "x@example.org", "organisation_id": "1", "role": "membro", "function": "altro"},
    )
    assert response.status_code == 403


def _invite(client_as: Any, db: Any, tavolo: Any, email: str) -> str:
    response = client_as("coord.ets@example.org").post(
        f"/tavoli/{tavolo.id}/componenti/invito",
        data={
            "email": email,
            "full_name": "Nuova Persona",
            "organisation_id": _org_id(db, "Auser Cremasco"),
            "role": "membro",
            "function": "volontario",
        },
    )
    assert response.status_code == 302
    return link_in(outbox(db, email)[0])


def test_accepting_an_invitation_makes_an_audited_membership_announced_live(
    app: Any, db: Any, client_as: Any, tavolo: Any
) -> None:
    from pdz.audit import AuditEntry
    from pdz.realtime import LiveEvent

    link = _invite(client_as, db, tavolo, "nuova.persona@example.org")
    newcomer = app.test_client()
    response = newcomer.post(
        link,
        data={
            "full_name": "Nuova Persona",
            "password": "una-password-lunga",
            "confirm": "una-password-lunga",
        },
    )
    assert response.status_code == 302
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "membership.created").order_by(AuditEntry.id.desc())
    ).first()
    assert entry is not None
    assert entry.details["body_id"] == tavolo.id and entry.details["role"] == "membro"
    assert "invitation_id" in entry.details
    user_id = entry.details["user_id"]
    assert (
        db.session.scalars(
            select(LiveEvent).where(
                LiveEvent.room == f"user:{user_id}", LiveEvent.name == "membership.created"
            )
        ).first()
        is not None
    )


@pytest.mark.parametrize("status", ["concluso", "sospeso"])
def test_an_invitation_to_a_body_closed_since_is_refused_and_creates_nobody(
    app: Any, db: Any, client_as: Any, tavolo: Any, status: str
) -> None:
    from pdz.accounts.models import User
    from pdz.tavoli.models import Body

    link = _invite(client_as, db, tavolo, "tardiva@example.org")
    db.session.execute(update(Body).where(Body.id == tavolo.id).values(status=status))
    db.session.commit()
    response = app.test_client().post(
        link, data={"full_name": "Tardiva", "password": "una-password-lunga", "confirm": "una-password-lunga"}
    )
    assert response.status_code == 422
    assert "non può accogliere nuovi componenti" in response.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(User).where(User.email == "tardiva@example.org")) is None
