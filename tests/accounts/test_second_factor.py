"""The second factor: TOTP after the password, mandatory enrolment for staff, recovery codes, replay and
brute-force limits, trusted devices, the administrator's reset, the demo, and an audit entry for each step."""

from __future__ import annotations

import re
import time
from datetime import timedelta
from typing import Any

import pyotp
import pytest
from sqlalchemy import select, update

from conftest import demo_code, login

UDP, ADMIN, MEMBER, MAYOR = (
    "udp@example.org",
    "admin@example.org",
    "membro@example.org",
    "sindaco@example.org",
)


def password_step(client: Any, email: str, password: str = "demo", **kwargs: Any) -> Any:
    return client.post("/login", data={"email": email, "password": password}, **kwargs)


def actions(db: Any, user: Any) -> list[str]:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return list(
        db.session.scalars(
            select(AuditEntry.action)
            .where(AuditEntry.object_type == "users", AuditEntry.object_id == user.id)
            .order_by(AuditEntry.id)
        )
    )


def last_details(db: Any, user: Any, action: str) -> dict[str, Any]:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    entry = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.object_id == user.id, AuditEntry.action == action)
        .order_by(AuditEntry.id.desc())
    )
    assert entry is not None, action
    return dict(entry.details)


def next_code(secret: str) -> str:
    """The code of the next time step: still accepted now, and not the one already used in this step."""
    return str(pyotp.TOTP(secret).at(time.time() + 30))


def enrol_from_page(client: Any, page: str, action: str) -> tuple[str, list[str]]:
    """Read the secret shown for manual entry, confirm it with a code; returns (secret, recovery codes)."""
    assert "<svg" in page and "<script" not in page.split("<svg", 1)[1].split("</svg>", 1)[0]
    secret = re.search(r'data-testid="enrol-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    wrong = client.post(action, data={"code": "000000" if pyotp.TOTP(secret).now() != "000000" else "111111"})
    assert wrong.status_code == 422 and "non è corretto" in wrong.get_data(as_text=True)
    response = client.post(action, data={"code": pyotp.TOTP(secret).now()})
    assert response.status_code == 200, response.status_code
    assert response.headers["Cache-Control"] == "no-store"
    codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", response.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    return secret, codes


def test_staff_sign_in_asks_for_a_code_before_anything_else(app: Any, db: Any, user: Any) -> None:
    client = app.test_client()
    response = password_step(client, UDP)
    assert response.status_code == 302 and response.location == "/login/codice"
    assert client.get("/").status_code == 302  # not signed in between the two steps
    assert client.get("/profilo").location.startswith("/login")
    page = client.get("/login/codice")
    assert page.status_code == 200 and "app di autenticazione" in page.get_data(as_text=True)
    wrong = client.post("/login/codice", data={"code": "12345"})
    assert wrong.status_code == 401 and "non è corretto" in wrong.get_data(as_text=True)
    assert client.get("/").status_code == 302
    right = client.post("/login/codice", data={"code": demo_code()})
    assert right.status_code == 302 and right.location == "/"
    assert client.get("/").status_code == 200
    udp = user(UDP)
    assert actions(db, udp)[-3:] == ["account.mfa_failed", "account.mfa_verified", "account.signed_in"]
    assert last_details(db, udp, "account.signed_in") == {"second_factor": "totp"}


def test_the_code_step_needs_the_password_step_first(app: Any) -> None:
    client = app.test_client()
    response = client.post("/login/codice", data={"code": demo_code()})
    assert response.status_code == 302 and response.location == "/login"
    assert client.get("/").status_code == 302


def test_the_code_step_ends_when_the_password_changes_meanwhile(app: Any, db: Any, user: Any) -> None:
    from pdz.accounts.models import new_session_token

    client = app.test_client()
    password_step(client, UDP)
    user(UDP).session_token = new_session_token()  # what a password change or "esci ovunque" does
    db.session.commit()
    assert client.post("/login/codice", data={"code": demo_code()}).location == "/login"
    assert client.get("/").status_code == 302


def test_a_code_is_never_accepted_twice(app: Any, db: Any, user: Any) -> None:
    code = demo_code()
    first, second = app.test_client(), app.test_client()
    password_step(first, UDP)
    assert first.post("/login/codice", data={"code": code}).status_code == 302
    password_step(second, UDP)
    replay = second.post("/login/codice", data={"code": code})
    assert replay.status_code == 401 and "già stato usato" in replay.get_data(as_text=True)
    assert second.get("/").status_code == 302
    assert last_details(db, user(UDP), "account.mfa_failed")["reason"] == "reused"
    # an older code than the last one used is refused too; the next one is fine
    older = str(pyotp.TOTP(_secret(db, user(UDP))).at(time.time() - 30))
    assert second.post("/login/codice", data={"code": older}).status_code == 401
    assert second.post("/login/codice", data={"code": next_code(_secret(db, user(UDP)))}).status_code == 302


def _secret(db: Any, person: Any) -> str:
    from pdz.accounts.models import SecondFactor

    db.session.expire_all()
    return db.session.scalar(select(SecondFactor.secret).where(SecondFactor.user_id == person.id))


def test_wrong_codes_from_many_addresses_lock_the_account(app: Any, db: Any, user: Any) -> None:
    from pdz.accounts.second_factor import MAX_FAILURES

    for attempt in range(MAX_FAILURES):
        client = app.test_client()
        address = {"REMOTE_ADDR": f"10.0.0.{attempt + 1}"}
        password_step(client, UDP, environ_base=address)
        assert client.post("/login/codice", data={"code": "000001"}, environ_base=address).status_code == 401
    client = app.test_client()
    password_step(client, UDP, environ_base={"REMOTE_ADDR": "10.0.1.1"})
    locked = client.post(
        "/login/codice", data={"code": demo_code()}, environ_base={"REMOTE_ADDR": "10.0.1.1"}
    )
    assert locked.status_code == 429 and "Troppi codici sbagliati" in locked.get_data(as_text=True)
    assert client.get("/").status_code == 302
    assert "account.mfa_locked" in actions(db, user(UDP))
    # the lock ends by itself
    from pdz.accounts.models import SecondFactor
    from pdz.db import utcnow

    db.session.execute(update(SecondFactor).values(locked_until=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert client.post("/login/codice", data={"code": demo_code()}).status_code == 302


class TestCodeStepRateLimit:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"PDZ_LOGIN_RATE_LIMIT": "3 per minute"}

    def test_code_attempts_are_rate_limited(self, app: Any) -> None:
        client = app.test_client()
        password_step(client, UDP)
        for _ in range(3):
            assert client.post("/login/codice", data={"code": "000001"}).status_code == 401
        response = client.post("/login/codice", data={"code": demo_code()})
        assert response.status_code == 429 and "Troppi tentativi" in response.get_data(as_text=True)


def test_recovery_code_works_once(app: Any, db: Any, user: Any) -> None:
    client = login(app.test_client(), MEMBER)
    client.post("/profilo/verifica-in-due-passaggi/attiva")
    page = client.get("/profilo/verifica-in-due-passaggi").get_data(as_text=True)
    _secret_shown, codes = enrol_from_page(client, page, "/profilo/verifica-in-due-passaggi/conferma")
    member = user(MEMBER)
    assert "account.mfa_enrolled" in actions(db, member)

    lost_phone = app.test_client()
    assert password_step(lost_phone, MEMBER).location == "/login/codice"
    response = lost_phone.post("/login/codice", data={"code": codes[0].upper().replace("-", " ")})
    assert response.status_code == 302 and lost_phone.get("/").status_code == 200
    assert last_details(db, member, "account.mfa_recovery_used") == {"left": 9}
    assert last_details(db, member, "account.signed_in") == {"second_factor": "recovery"}

    again = app.test_client()
    password_step(again, MEMBER)
    assert again.post("/login/codice", data={"code": codes[0]}).status_code == 401
    assert again.post("/login/codice", data={"code": codes[1]}).status_code == 302


def test_recovery_codes_are_stored_hashed_and_can_be_renewed(app: Any, db: Any, user: Any) -> None:
    from pdz.accounts.models import RecoveryCode

    client = login(app.test_client(), MEMBER)
    client.post("/profilo/verifica-in-due-passaggi/attiva")
    page = client.get("/profilo/verifica-in-due-passaggi").get_data(as_text=True)
    secret, codes = enrol_from_page(client, page, "/profilo/verifica-in-due-passaggi/conferma")
    member = user(MEMBER)
    stored = set(db.session.scalars(select(RecoveryCode.code_hash).where(RecoveryCode.user_id == member.id)))
    assert len(stored) == 10 and not stored & {c.replace("-", "") for c in codes}
    assert "Ti restano 10 codici di recupero" in client.get("/profilo/verifica-in-due-passaggi").get_data(
        as_text=True
    )
    refused = client.post("/profilo/verifica-in-due-passaggi/codici", data={"code": codes[0]})
    assert refused.status_code == 422  # a recovery code does not renew recovery codes
    renewed = client.post("/profilo/verifica-in-due-passaggi/codici", data={"code": next_code(secret)})
    assert renewed.status_code == 200
    new_codes = re.findall(r"<li><code>([a-z0-9]{5}-[a-z0-9]{5})</code></li>", renewed.get_data(as_text=True))
    assert len(new_codes) == 10 and not set(new_codes) & set(codes)
    assert "account.mfa_recovery_codes_renewed" in actions(db, member)
    old = app.test_client()
    password_step(old, MEMBER)
    assert old.post("/login/codice", data={"code": codes[2]}).status_code == 401


def test_staff_without_a_second_factor_must_enrol_before_anything_else(app: Any, db: Any, user: Any) -> None:
    member_session = login(app.test_client(), MEMBER)
    admin = login(app.test_client(), ADMIN)
    member = user(MEMBER)
    response = admin.post(f"/admin/persone/{member.id}/ruolo", data={"staff_role": "ufficio_di_piano"})
    assert response.status_code == 302
    assert member_session.get("/").status_code == 302  # new staff sign in again, and enrol

    client = app.test_client()
    assert password_step(client, MEMBER).location == "/login/attiva-verifica"
    for url in ("/", "/profilo", "/admin/", "/tavoli/"):
        assert client.get(url).status_code == 302, url
    assert client.get("/login/codice").location == "/login"  # no way round the enrolment
    page = client.get("/login/attiva-verifica")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"
    enrol_from_page(client, page.get_data(as_text=True), "/login/attiva-verifica")
    assert client.get("/").status_code == 200
    assert client.get("/admin/").status_code == 200
    assert actions(db, member)[-2:] == ["account.mfa_enrolled", "account.signed_in"]
    # and staff cannot switch it off
    response = client.post("/profilo/verifica-in-due-passaggi/disattiva", data={"password": "demo"})
    assert response.status_code == 422 and "obbligatoria" in response.get_data(as_text=True)


def test_everyone_may_enrol_and_disable_it_again(app: Any, db: Any, user: Any) -> None:
    client = login(app.test_client(), MEMBER)
    profile = client.get("/profilo").get_data(as_text=True)
    assert "/profilo/verifica-in-due-passaggi" in profile and "non attiva" in profile
    settings = client.get("/profilo/verifica-in-due-passaggi").get_data(as_text=True)
    assert "<svg" not in settings  # nothing generated before asking
    assert client.post("/profilo/verifica-in-due-passaggi/attiva").status_code == 302
    page = client.get("/profilo/verifica-in-due-passaggi").get_data(as_text=True)
    secret, _codes = enrol_from_page(client, page, "/profilo/verifica-in-due-passaggi/conferma")

    fresh = app.test_client()
    assert password_step(fresh, MEMBER).location == "/login/codice"
    assert fresh.post("/login/codice", data={"code": next_code(secret)}).status_code == 302

    wrong = client.post("/profilo/verifica-in-due-passaggi/disattiva", data={"password": "sbagliata"})
    assert wrong.status_code == 422
    assert (
        client.post("/profilo/verifica-in-due-passaggi/disattiva", data={"password": "demo"}).status_code
        == 302
    )
    assert "account.mfa_disabled" in actions(db, user(MEMBER))
    assert password_step(app.test_client(), MEMBER).location == "/"


def test_mayors_are_invited_to_enrol(app: Any, client_as: Any) -> None:
    client = app.test_client()
    response = password_step(client, MAYOR)
    assert response.location == "/"
    assert "verifica in due passaggi" in client.get("/").get_data(as_text=True)
    assert 'data-testid="mfa-suggestion"' in client.get("/profilo").get_data(as_text=True)
    member_profile = client_as(MEMBER).get("/profilo").get_data(as_text=True)
    assert 'data-testid="mfa-suggestion"' not in member_profile


def _trusted_cookie(client: Any) -> Any:
    from pdz.accounts.second_factor import DEVICE_COOKIE

    return client.get_cookie(DEVICE_COOKIE, path="/login")


def test_a_trusted_device_skips_the_code_until_it_expires(app: Any, db: Any, user: Any) -> None:
    from pdz.accounts.models import TrustedDevice
    from pdz.accounts.second_factor import DEVICE_COOKIE
    from pdz.db import utcnow

    client = app.test_client()
    password_step(client, UDP)
    response = client.post("/login/codice", data={"code": demo_code(), "remember": "y"})
    header = next(h for h in response.headers.getlist("Set-Cookie") if h.startswith(DEVICE_COOKIE))
    assert "HttpOnly" in header and "Path=/login" in header and "SameSite=Lax" in header
    assert f"Max-Age={30 * 24 * 3600}" in header
    cookie = _trusted_cookie(client).value
    udp = user(UDP)
    assert "account.mfa_device_remembered" in actions(db, udp)

    client.post("/logout")
    assert password_step(client, UDP).location == "/"  # no code this time
    assert last_details(db, udp, "account.mfa_verified") == {"method": "trusted_device"}

    other_person = app.test_client()  # the cookie is bound to its owner
    other_person.set_cookie(DEVICE_COOKIE, cookie, path="/login")
    assert password_step(other_person, ADMIN).location == "/login/codice"
    forged = app.test_client()
    # Change a character in the middle: the last one of a base64 text may carry only padding bits, so
    # changing the end could leave the same bytes (the test then failed about once in 256 runs).
    middle = len(cookie) // 2
    swapped = "A" if cookie[middle] != "A" else "B"
    forged.set_cookie(DEVICE_COOKIE, cookie[:middle] + swapped + cookie[middle + 1 :], path="/login")
    assert password_step(forged, UDP).location == "/login/codice"

    db.session.execute(update(TrustedDevice).values(expires_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    client.post("/logout")
    assert password_step(client, UDP).location == "/login/codice"


def test_a_trusted_device_can_be_forgotten(app: Any, db: Any, user: Any) -> None:
    client = app.test_client()
    password_step(client, UDP)
    client.post("/login/codice", data={"code": demo_code(), "remember": "y"})
    settings = client.get("/profilo/verifica-in-due-passaggi").get_data(as_text=True)
    assert settings.count('data-testid="trusted-device"') == 1
    device_id = re.search(r'name="device_id" value="(\d+)"', settings).group(1)
    assert (
        client.post(
            "/profilo/verifica-in-due-passaggi/dispositivi", data={"device_id": device_id}
        ).status_code
        == 302
    )
    assert "account.mfa_device_forgotten" in actions(db, user(UDP))
    client.post("/logout")
    assert password_step(client, UDP).location == "/login/codice"


def test_an_administrator_resets_a_second_factor(app: Any, db: Any, user: Any, client_as: Any) -> None:
    udp = user(UDP)
    udp_session = client_as(UDP)
    assert client_as(UDP).post(f"/admin/persone/{user(ADMIN).id}/secondo-fattore").status_code == 403
    admin = client_as(ADMIN)
    assert 'data-testid="reset-second-factor"' in admin.get("/admin/persone").get_data(as_text=True)
    response = admin.post(f"/admin/persone/{udp.id}/secondo-fattore")
    assert response.status_code == 302
    assert "account.mfa_reset" in actions(db, udp)
    assert udp_session.get("/").status_code == 302  # their sessions end
    assert password_step(app.test_client(), UDP).location == "/login/attiva-verifica"
    # nothing to reset twice; never one's own
    admin.post(f"/admin/persone/{udp.id}/secondo-fattore")
    assert "non ha attivato" in admin.get("/admin/persone").get_data(as_text=True)
    admin.post(f"/admin/persone/{user(ADMIN).id}/secondo-fattore")
    assert "Non puoi azzerare" in admin.get("/admin/persone").get_data(as_text=True)


def test_every_step_is_audited(app: Any, db: Any, user: Any) -> None:
    client = app.test_client()
    password_step(client, UDP)
    client.post("/login/codice", data={"code": "999999"})
    client.post("/login/codice", data={"code": demo_code(), "remember": "y"})
    client.post("/logout")
    password_step(client, UDP)
    assert actions(db, user(UDP)) == [
        "account.mfa_failed",
        "account.mfa_verified",
        "account.mfa_device_remembered",
        "account.signed_in",
        "account.signed_out",
        "account.mfa_verified",
        "account.signed_in",
    ]


def test_demo_command_prints_the_staff_secret(app: Any) -> None:
    from pdz.accounts.demo import DEMO_TOTP_SECRET

    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert DEMO_TOTP_SECRET in result.output and "admin@example.org, udp@example.org" in result.output
    assert pyotp.TOTP(DEMO_TOTP_SECRET).now().isdigit()


def test_demo_sign_in_end_to_end_with_the_printed_secret(app: Any) -> None:
    """The README's way in: password `demo`, then the code of the secret the demo command prints."""
    result = app.test_cli_runner().invoke(args=["demo"])
    secret = re.search(r"la chiave ([A-Z2-7]{32})", result.output).group(1)
    for email in (ADMIN, UDP):
        client = app.test_client()
        assert password_step(client, email).location == "/login/codice"
        assert client.post("/login/codice", data={"code": pyotp.TOTP(secret).now()}).location == "/"
        assert client.get("/").status_code == 200
    assert password_step(app.test_client(), "coord.pubblico@example.org").location == "/"


class TestWithCsrf:
    @pytest.fixture
    def app_overrides(self) -> dict[str, Any]:
        return {"WTF_CSRF_ENABLED": True}

    def test_the_code_step_refuses_a_form_without_its_token(self, app: Any) -> None:
        client = app.test_client()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login", data={"csrf_token": token, "email": UDP, "password": "demo"})
        assert response.location == "/login/codice"
        assert client.post("/login/codice", data={"code": demo_code()}).status_code == 400
        page = client.get("/login/codice").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post("/login/codice", data={"csrf_token": token, "code": demo_code()})
        assert response.status_code == 302 and client.get("/").status_code == 200


def test_one_code_sent_twice_at_once_lets_only_one_in(live_server: Any) -> None:
    """Two browsers racing with the same code: the last used time step is claimed by compare-and-swap."""
    import threading

    import requests

    def at_code_step() -> tuple[requests.Session, str]:
        session = requests.Session()
        page = session.get(live_server.url + "/login").text
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        session.post(
            live_server.url + "/login",
            data={"csrf_token": token, "email": UDP, "password": "demo"},
            allow_redirects=False,
        )
        page = session.get(live_server.url + "/login/codice").text
        return session, re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)

    racers, code, barrier, answers = [at_code_step(), at_code_step()], demo_code(), threading.Barrier(2), []

    def send(session: requests.Session, token: str) -> None:
        barrier.wait()
        answer = session.post(
            live_server.url + "/login/codice", data={"csrf_token": token, "code": code}, allow_redirects=False
        )
        answers.append(answer.status_code)

    threads = [threading.Thread(target=send, args=racer) for racer in racers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert sorted(answers) == [302, 401]
