"""In the browser: every demo role signs in to its own home; the invitation journey; outsiders stay out."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

HOMES = {
    "admin@example.org": ("Amministratore PdZ", "Ufficio di Piano"),
    "udp@example.org": ("Marta Guerini", "Ufficio di Piano Integrato"),
    "coord.pubblico@example.org": ("Paolo Donati", "Tavolo Povertà"),
    "coord.ets@example.org": ("Chiara Ogliari", "Tavolo Povertà"),
    "membro@example.org": ("Luca Bonizzi", "Tavolo Politiche Abitative"),
    "osservatore@example.org": ("Elena Scotti", "Osservatrice"),  # the feminine form: issue #15 point 7
    "disabilita@example.org": ("Giorgio Tomasoni", "Tavolo Permanente Disabilità"),
    "sindaco@example.org": ("Francesca Pagliari", "Assemblea dei Sindaci (di Ambito)"),
    "delegato@example.org": ("Stefano Bertoni", "Delegato del Sindaco"),
}


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return request.param


def test_each_demo_role_sees_its_own_home(page_as: Any, live_server: Any) -> None:
    for email, (name, expected) in HOMES.items():
        page = page_as(email)
        assert page.get_by_test_id("whoami").inner_text() == name
        assert page.get_by_role("heading", name="I miei tavoli").is_visible()
        assert expected in page.locator("main").inner_text(), email
        page.context.close()


def test_invitation_journey_from_email_to_first_sign_in(page_as: Any, live_server: Any, run_dir: Any) -> None:
    from pdz.extensions import db
    from pdz.mail import OutboxMessage
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    coordinator = page_as("coord.ets@example.org")
    coordinator.goto(f"{live_server.url}/tavoli/{tavolo_id}")
    coordinator.get_by_role("link", name="Gestisci componenti").click()
    coordinator.get_by_label("E-mail").fill("anna.nuova@example.org")
    coordinator.get_by_label("Nome e cognome").fill("Anna Nuova")
    coordinator.get_by_label("Ente rappresentato").select_option(label="Auser Cremasco")
    coordinator.get_by_label("Funzione nell'ente").select_option(label="Volontario")
    coordinator.get_by_role("button", name="Invia l'invito").click()
    assert "Invito inviato a anna.nuova@example.org" in coordinator.locator(".flashes").inner_text()
    coordinator.screenshot(path=str(run_dir / "invite.png"), full_page=True)

    with live_server.app.app_context():
        mail = db.session.scalar(select(OutboxMessage).where(OutboxMessage.to == "anna.nuova@example.org"))
        link = re.search(r"https?://\S+", mail.body).group(0).split("/", 3)[3]
    newcomer = page_as(None)
    newcomer.goto(f"{live_server.url}/{link}")
    assert "Sei invitato in Tavolo Povertà" in newcomer.locator("h1").inner_text()
    newcomer.get_by_label("Scegli una password").fill("corta")
    newcomer.get_by_label("Ripeti la password").fill("corta")
    newcomer.get_by_role("button", name="Accetta ed entra").click()
    assert "almeno 8 caratteri" in newcomer.locator("main").inner_text()
    newcomer.get_by_label("Scegli una password").fill("password-di-anna")
    newcomer.get_by_label("Ripeti la password").fill("password-di-anna")
    newcomer.get_by_role("button", name="Accetta ed entra").click()
    newcomer.wait_for_url(f"{live_server.url}/tavoli/{tavolo_id}")
    assert "Benvenuto in PdZ" in newcomer.locator(".flashes").inner_text()
    assert "Anna Nuova" in newcomer.locator("main").inner_text()
    newcomer.screenshot(path=str(run_dir / "welcome.png"), full_page=True)


def test_a_user_outside_a_tavolo_gets_no_access(page_as: Any, live_server: Any) -> None:
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    outsider = page_as("disabilita@example.org")
    outsider.goto(f"{live_server.url}/tavoli/")
    assert outsider.get_by_role("link", name="Tavolo Povertà").count() == 0
    response = outsider.goto(f"{live_server.url}/tavoli/{tavolo_id}")
    assert response.status == 403
    assert outsider.get_by_role("heading", name="Accesso non consentito").is_visible()
