"""Sign-in, sign-out, sessions that end everywhere, cookies, rate limiting, CSRF."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from conftest import login


def test_demo_roles_sign_in_and_land_on_their_home(client_as: Any) -> None:
    client = client_as("membro@example.org")
    page = client.get("/").get_data(as_text=True)
    assert "I miei tavoli" in page
    assert "Tavolo Povertà" in page and "Tavolo Politiche Abitative" in page
    assert "Prossimi incontri" in page and "Da fare" in page


def test_email_is_case_insensitive(app: Any) -> None:
    client = app.test_client()
    response = client.post("/login", data={"email": "  MEMBRO@Example.org ", "password": "demo"})
    assert response.status_code == 302


def test_wrong_password_is_refused_in_italian_and_audited(app: Any, db: Any) -> None:
    from pdz.audit import AuditEntry

    response = app.test_client().post("/login", data={"email": "membro@example.org", "password": "sbagliata"})
    assert response.status_code == 401
    assert "E-mail o password non corretti" in response.get_data(as_text=True)
    assert (
        db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.sign_in_failed")) is not None
    )


def test_unknown_user_gets_the_same_answer(app: Any) -> None:
    response = app.test_client().post("/login", data={"email": "nessuno@example.org", "password": "demo"})
    assert response.status_code == 401
    assert "E-mail o password non corretti" in response.get_data(as_text=True)


def test_open_redirect_after_login_is_refused(app: Any) -> None:
    response = app.test_client().post(
        "/login", data={"email": "membro@example.org", "password": "demo", "next": "//evil.example.com/x"}
    )
    assert response.status_code == 302 and response.location == "/"


def test_sign_out(client_as: Any) -> None:
    client = client_as("membro@example.org")
    client.post("/logout")
    assert client.get("/").status_code == 302


def test_sign_out_everywhere_ends_other_sessions(app: Any, client_as: Any) -> None:
    laptop, phone = client_as("membro@example.org"), client_as("membro@example.org")
    assert phone.get("/").status_code == 200
    laptop.post("/profilo/esci-ovunque")
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 302


def test_password_change_keeps_this_session_and_ends_the_others(app: Any, client_as: Any) -> None:
    laptop, phone = client_as("membro@example.org"), client_as("membro@example.org")
    response = laptop.post(
        "/profilo/password",
        data={"pw-current": "demo", "pw-password": "nuova-password-1", "pw-confirm": "nuova-password-1"},
    )
    assert response.status_code == 302
    assert laptop.get("/").status_code == 200
    assert phone.get("/").status_code == 302
    login(app.test_client(), "membro@example.org", "nuova-password-1")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"pw-current": "sbagliata", "pw-password": "nuova-password-1", "pw-confirm": "nuova-password-1"},
            "La password attuale non è corretta",
        ),
        ({"pw-current": "demo", "pw-password": "corta", "pw-confirm": "corta"}, "almeno 8 caratteri"),
        (
            {"pw-current": "demo", "pw-password": "nuova-password-1", "pw-confirm": "altra-password-2"},
            "non coincidono",
        ),
    ],
)
def test_bad_password_change_is_refused_and_changes_nothing(
    app: Any, client_as: Any, data: dict, message: str
) -> None:
    response = client_as("membro@example.org").post("/profilo/password", data=data)
    assert response.status_code == 422
    assert message in response.get_data(as_text=True)
    login(app.test_client(), "membro@example.org", "demo")


def test_deactivated_user_is_signed_out_and_cannot_sign_in(app: Any, client_as: Any, user: Any) -> None:
    member = client_as("membro@example.org")
    udp = client_as("udp@example.org")
    target = user("membro@example.org")
    assert udp.post(f"/admin/persone/{target.id}/stato").status_code == 302
    assert member.get("/").status_code == 302
    response = app.test_client().post("/login", data={"email": "membro@example.org", "password": "demo"})
    assert response.status_code == 401


def test_cannot_deactivate_yourself(client_as: Any, user: Any) -> None:
    udp = client_as("udp@example.org")
    udp.post(f"/admin/persone/{user('udp@example.org').id}/stato")
    assert udp.get("/").status_code == 200


def test_profile_update_validates(client_as: Any) -> None:
    client = client_as("membro@example.org")
    assert client.post("/profilo", data={"full_name": "", "locale": "it"}).status_code == 422
    assert client.post("/profilo", data={"full_name": "x" * 121, "locale": "it"}).status_code == 422
    assert client.post("/profilo", data={"full_name": "Luca Bonizzi", "locale": "en"}).status_code == 302
    page = client.get("/").get_data(as_text=True)  # the person chose English: the page is in English
    assert "My page" in page and "La mia pagina" not in page


def test_session_cookie_is_httponly_and_samesite(app: Any) -> None:
    response = app.test_client().post("/login", data={"email": "membro@example.org", "password": "demo"})
    cookie = response.headers["Set-Cookie"]
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_session_cookie_is_secure_over_https(app: Any) -> None:
    response = app.test_client().post(
        "/login", data={"email": "membro@example.org", "password": "demo"}, base_url="https://localhost"
    )
    assert "Secure" in response.headers["Set-Cookie"]


class TestRateLimit:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"PDZ_LOGIN_RATE_LIMIT": "3 per minute"}

    def test_sign_in_is_rate_limited_with_an_italian_message(self, app: Any) -> None:
        client = app.test_client()
        for _ in range(3):
            assert (
                client.post("/login", data={"email": "membro@example.org", "password": "x"}).status_code
                == 401
            )
        response = client.post("/login", data={"email": "membro@example.org", "password": "demo"})
        assert response.status_code == 429
        assert "Troppi tentativi" in response.get_data(as_text=True)


class TestCsrf:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_forms_without_csrf_token_are_refused(self, app: Any) -> None:
        response = app.test_client().post("/login", data={"email": "membro@example.org", "password": "demo"})
        assert response.status_code == 400
        assert "Il modulo è scaduto" in response.get_data(as_text=True)
