"""Issue #15 point 7: role names agree with the person's gender where it is known ("Co-coordinatrice"), as
the person says in their profile; unknown keeps the usual form. The expected words are the Italian forms, not
read from the code's label tables."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select


def _coordinators(text: str) -> dict[str, str]:
    """The workspace's coordinator list: name -> role as printed."""
    return dict(re.findall(r"<li><strong>([^<]+)</strong> – ([^<]+)<br>", text))


def test_the_demo_names_each_coordinator_in_their_own_form(client_as: Any, tavolo: Any) -> None:
    text = client_as("membro@example.org").get(f"/tavoli/{tavolo.id}").get_data(as_text=True)
    shown = _coordinators(text)
    assert shown["Paolo Donati"] == "Co-coordinatore (parte pubblica)"
    assert shown["Chiara Ogliari"] == "Co-coordinatrice (Terzo Settore)"
    # the observer's own home names her role in the feminine
    home = client_as("osservatore@example.org").get("/").get_data(as_text=True)
    assert "Osservatrice" in home and "Osservatore<" not in home
    # the mayor's affiliation on her profile
    profile = client_as("sindaco@example.org").get("/profilo").get_data(as_text=True)
    assert "– Sindaca</li>" in profile


def test_a_person_chooses_the_form_in_the_profile_and_bad_input_changes_nothing(
    client_as: Any, db: Any, tavolo: Any
) -> None:
    from pdz.accounts.models import User
    from pdz.audit import AuditEntry

    paolo = client_as("coord.pubblico@example.org")
    reader = client_as("membro@example.org")

    def role() -> str:
        return _coordinators(reader.get(f"/tavoli/{tavolo.id}").get_data(as_text=True))["Paolo Donati"]

    def save(gender: str) -> Any:
        return paolo.post("/profilo", data={"full_name": "Paolo Donati", "locale": "it", "gender": gender})

    assert save("f").status_code == 302
    assert role() == "Co-coordinatrice (parte pubblica)"
    assert save("").status_code == 302  # not given: the usual form
    assert role() == "Co-coordinatore (parte pubblica)"
    db.session.remove()
    user = db.session.scalar(select(User).where(User.email == "coord.pubblico@example.org"))
    assert user.gender is None
    audited = db.session.scalar(
        select(AuditEntry)
        .where(AuditEntry.action == "account.profile_updated")
        .order_by(AuditEntry.id.desc())
    )
    assert audited is not None

    for bad in ("x", "femminile", "F" * 40):
        answer = save(bad)
        assert answer.status_code == 422, bad
        assert "Scegli una delle forme proposte." in answer.get_data(as_text=True)
    db.session.remove()
    assert db.session.scalar(select(User.gender).where(User.email == "coord.pubblico@example.org")) is None
    assert role() == "Co-coordinatore (parte pubblica)"


def test_english_names_the_role_once_for_everyone(client_as: Any, tavolo: Any) -> None:
    reader = client_as("membro@example.org")
    reader.post("/profilo", data={"full_name": "Luca Bonizzi", "locale": "en", "gender": "m"})
    shown = _coordinators(reader.get(f"/tavoli/{tavolo.id}").get_data(as_text=True))
    assert shown["Paolo Donati"] == "Co-coordinator (public side)"
    assert shown["Chiara Ogliari"] == "Co-coordinator (third sector)"
