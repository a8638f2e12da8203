"""Sessioni attive: each signed-in browser listed and ended on its own; a password change ends the others;
an unknown address costs the same password work as a wrong password."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from sqlalchemy import func, select, update

from conftest import login

MEMBER = "membro@example.org"
FIREFOX_WINDOWS = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0"
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def signed_in(app: Any, user_agent: str, address: str) -> Any:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": user_agent, "REMOTE_ADDR": address})
    return login(client, MEMBER)


def session_rows(db: Any, email: str) -> int:
    from pdz.accounts.models import User, UserSession

    db.session.expire_all()
    return int(
        db.session.scalar(
            select(func.count(UserSession.id))
            .join(User, User.id == UserSession.user_id)
            .where(User.email == email)
        )
    )


def test_the_sessions_page_lists_each_device_in_plain_italian(app: Any) -> None:
    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    signed_in(app, SAFARI_IPHONE, "198.51.100.7")
    page = laptop.get("/profilo/sessioni")
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    rows = re.findall(r'<tr data-testid="session"( data-current)?>(.*?)</tr>', text, re.S)
    assert len(rows) == 2
    current = [row for marker, row in rows if marker]
    assert len(current) == 1 and "Firefox su Windows" in current[0] and "questo dispositivo" in current[0]
    assert "192.0.2.10" in current[0]
    other = next(row for marker, row in rows if not marker)
    assert "Safari su iPhone" in other and "198.51.100.7" in other
    assert "/profilo/sessioni" in laptop.get("/profilo").get_data(as_text=True)


def test_one_session_is_signed_out_from_another(app: Any, db: Any, user: Any) -> None:
    from pdz.audit import AuditEntry

    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    phone = signed_in(app, SAFARI_IPHONE, "198.51.100.7")
    text = laptop.get("/profilo/sessioni").get_data(as_text=True)
    phone_id = re.search(r'<tr data-testid="session">.*?name="session_id" value="(\d+)"', text, re.S).group(1)
    response = laptop.post("/profilo/sessioni/esci", data={"session_id": phone_id})
    assert response.status_code == 302 and response.location == "/profilo/sessioni"
    assert phone.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert session_rows(db, MEMBER) == 1
    entry = db.session.scalar(select(AuditEntry).where(AuditEntry.action == "account.session_revoked"))
    assert entry.details == {"session_id": int(phone_id)} and entry.object_id == user(MEMBER).id


def test_nobody_signs_out_someone_elses_session(app: Any, db: Any, client_as: Any) -> None:
    from pdz.accounts.models import User, UserSession

    other = client_as("coord.ets@example.org")
    theirs = db.session.scalar(
        select(UserSession.id)
        .join(User, User.id == UserSession.user_id)
        .where(User.email == "coord.ets@example.org")
    )
    member = client_as(MEMBER)
    response = member.post("/profilo/sessioni/esci", data={"session_id": theirs})
    assert response.status_code == 302
    assert "Sessione non trovata" in member.get("/profilo/sessioni").get_data(as_text=True)
    assert other.get("/").status_code == 200


def test_signing_out_this_session_from_the_list_signs_out(app: Any, db: Any) -> None:
    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    text = laptop.get("/profilo/sessioni").get_data(as_text=True)
    mine = re.search(r'<tr data-testid="session" data-current>.*?name="session_id" value="(\d+)"', text, re.S)
    response = laptop.post("/profilo/sessioni/esci", data={"session_id": mine.group(1)})
    assert response.location == "/login" and laptop.get("/").status_code == 302
    assert session_rows(db, MEMBER) == 0


def test_sign_out_removes_the_session_row(app: Any, db: Any) -> None:
    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    assert session_rows(db, MEMBER) == 1
    laptop.post("/logout")
    assert session_rows(db, MEMBER) == 0


def test_changing_the_password_ends_the_other_sessions(app: Any, db: Any) -> None:
    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    phone = signed_in(app, SAFARI_IPHONE, "198.51.100.7")
    tablet = signed_in(app, SAFARI_IPHONE, "198.51.100.8")
    response = laptop.post(
        "/profilo/password",
        data={"pw-current": "demo", "pw-password": "nuova-password-1", "pw-confirm": "nuova-password-1"},
    )
    assert response.status_code == 302
    assert phone.get("/").status_code == 302 and tablet.get("/").status_code == 302
    assert laptop.get("/").status_code == 200
    assert session_rows(db, MEMBER) == 1
    assert "Firefox su Windows" in laptop.get("/profilo/sessioni").get_data(as_text=True)


def test_a_session_whose_row_is_gone_is_signed_out(app: Any, db: Any) -> None:
    from pdz.accounts.models import UserSession

    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    db.session.execute(UserSession.__table__.delete())
    db.session.commit()
    assert laptop.get("/").status_code == 302


def test_last_activity_is_recorded_now_and_then(app: Any, db: Any) -> None:
    from pdz.accounts.models import UserSession
    from pdz.db import utcnow

    laptop = signed_in(app, FIREFOX_WINDOWS, "192.0.2.10")
    long_ago = utcnow() - timedelta(hours=3)
    db.session.execute(update(UserSession).values(last_seen_at=long_ago))
    db.session.commit()
    assert laptop.get("/").status_code == 200
    db.session.expire_all()
    assert db.session.scalar(select(UserSession.last_seen_at)) > utcnow() - timedelta(minutes=1)
    # idle longer than the session lifetime: signed out
    db.session.execute(update(UserSession).values(last_seen_at=utcnow() - timedelta(days=15)))
    db.session.commit()
    assert laptop.get("/").status_code == 302


def test_user_agents_in_plain_italian(app: Any) -> None:
    from pdz.accounts.sessions import describe_user_agent

    edge = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Safari/537.36 Edg/126.0.0.0"
    )
    android = (
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/126.0.0.0 Mobile Safari/537.36"
    )
    with app.test_request_context():
        assert describe_user_agent(FIREFOX_WINDOWS) == "Firefox su Windows"
        assert describe_user_agent(SAFARI_IPHONE) == "Safari su iPhone"
        assert describe_user_agent(edge) == "Edge su Windows"
        assert describe_user_agent(android) == "Chrome su Android"
        assert describe_user_agent("python-requests/2.32") == "Browser o programma sconosciuto"


def test_unknown_address_and_wrong_password_cost_one_verification_each(app: Any, monkeypatch: Any) -> None:
    """No timing assertion (it would flake on a busy machine): both paths do exactly one argon2
    verification with the same parameters, and no hashing."""
    from argon2 import PasswordHasher, extract_parameters

    from pdz.accounts import services

    calls: list[tuple[str, str]] = []
    real_verify, real_hash = PasswordHasher.verify, PasswordHasher.hash

    def verify(self: Any, hashed: Any, password: Any) -> Any:
        calls.append(("verify", hashed))
        return real_verify(self, hashed, password)

    def hash_(self: Any, password: Any, **kwargs: Any) -> Any:
        calls.append(("hash", ""))
        return real_hash(self, password, **kwargs)

    client = app.test_client()
    client.post("/login", data={"email": "nessuno@example.org", "password": "x"})  # warm the dummy hash
    monkeypatch.setattr(PasswordHasher, "verify", verify)
    monkeypatch.setattr(PasswordHasher, "hash", hash_)
    assert client.post("/login", data={"email": "nessuno@example.org", "password": "x"}).status_code == 401
    unknown = list(calls)
    calls.clear()
    assert client.post("/login", data={"email": MEMBER, "password": "sbagliata"}).status_code == 401
    wrong = list(calls)
    assert [kind for kind, _h in unknown] == ["verify"] and [kind for kind, _h in wrong] == ["verify"]
    assert extract_parameters(unknown[0][1]) == extract_parameters(wrong[0][1])
    with app.app_context():
        assert services._dummy_hash(services._hasher()) == unknown[0][1]
