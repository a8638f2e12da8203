"""Issue #16 point 6 in the browser, under the strict CSP, at 1280 and 390 px: a member proposes an agenda item
with a card on the draft agenda, a co-coordinator declines one with a reason and accepts another; the month
view of the calendar goes month by month; the QR code on the meeting page leads a member to a one-tap check-in.
Screenshots are kept as artifacts (`PDZ_TEST_ARTIFACTS`, else the run directory) under `meetings-practice/`;
every page here has no serious or critical axe violation, no CSP violation and no sideways scroll on a phone."""

from __future__ import annotations

import os
from datetime import date, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

pytestmark = pytest.mark.browser

MEMBER, COORD = "membro@example.org", "coord.pubblico@example.org"
PHONE = {"width": 390, "height": 844}
WIDE = {"width": 1280, "height": 900}
LISTEN = """window.__pdzCsp = [];
document.addEventListener("securitypolicyviolation", e => window.__pdzCsp.push(e.effectiveDirective + " " + e.blockedURI));"""
OVERFLOW = "() => Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)"


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    """The behaviour is in the page: one backend is enough."""
    return request.param


def _meetings(app: Any) -> dict[str, Any]:
    """A draft in the Tavolo Povertà two months ahead, and a meeting in progress."""
    from pdz.accounts.models import User
    from pdz.extensions import db
    from pdz.meetings import agenda, lifecycle
    from pdz.tavoli.models import Body

    ahead = (date.today().replace(day=1) + timedelta(days=62)).replace(day=10)
    with app.test_request_context(base_url=app.config["PDZ_BASE_URL"]):
        coord = db.session.scalar(select(User).where(User.email == COORD))
        povertà = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
        ids: dict[str, Any] = {"day": ahead}
        for name, day in (("draft", ahead), ("running", date.today() + timedelta(days=3))):
            meeting = lifecycle.schedule_meeting(
                povertà,
                title=f"Incontro {name}",
                day=day,
                start=time(17, 0),
                end=time(19, 0),
                place="Sala Alessandrini, Crema",
                actor=coord,
            )
            db.session.flush()
            agenda.add_agenda_item(meeting, title="Apertura e saluti", actor=coord)
            if name == "running":
                lifecycle.publish_meeting(meeting, actor=coord)
                lifecycle.start_meeting(meeting, actor=coord)
            db.session.commit()
            ids[name] = meeting.id
        db.session.remove()
    return ids


def _axe() -> Any:
    from axe_playwright_python.sync_playwright import Axe

    return Axe()


def _serious(axe: Any, page: Any) -> list[str]:
    """Serious and critical axe violations (as tests/browser/test_pages_browser.py counts them)."""
    return [
        f"{v['id']} ({v['impact']}): {v['help']} – {[n['target'] for n in v['nodes'][:3]]}"
        for v in axe.run(page).response["violations"]
        if v.get("impact") in ("serious", "critical")
    ]


def _page(page_as: Any, email: str) -> Any:
    page = page_as(email)
    page.context.add_init_script(LISTEN)
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.errors = errors
    return page


def _check(page: Any, axe: Any, out: Path, name: str, locator: str | None = None) -> None:
    """At 1280 and 390 px: a screenshot, no sideways scroll on the phone, no serious axe violation, no CSP."""
    for size in (WIDE, PHONE):
        page.set_viewport_size(size)
        target = page.locator(locator) if locator else page
        kwargs = {} if locator else {"full_page": True}
        target.screenshot(path=str(out / f"{name}-{size['width']}.png"), **kwargs)
        if size is PHONE:
            assert page.evaluate(OVERFLOW) <= PHONE["width"], f"{name} scrolls sideways at 390 px"
    assert _serious(axe, page) == [], name
    assert page.evaluate("() => window.__pdzCsp") == [], name
    assert page.errors == [], name
    page.set_viewport_size(WIDE)


def test_the_agenda_drafted_together_and_the_month_view(
    live_server: Any, page_as: Any, run_dir: Path
) -> None:
    ids = _meetings(live_server.app)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "meetings-practice"
    out.mkdir(parents=True, exist_ok=True)
    base, axe = live_server.url, _axe()

    # A member proposes two items on the draft agenda, one with a card ticked in the filtered list.
    member = _page(page_as, MEMBER)
    member.goto(f"{base}/incontri/{ids['draft']}")
    proposals = member.get_by_test_id("proposals")
    proposals.get_by_label("Titolo del punto che proponi").fill("Sportello casa: i primi tre mesi")
    proposals.get_by_label("Di cosa si tratta").fill("Dati delle richieste e tempi di risposta.")
    proposals.locator(".card-picker input[type=checkbox]").first.check()
    member.get_by_test_id("propose").click()
    member.get_by_text("Proposta inviata ai co-coordinatori").wait_for()
    proposals = member.get_by_test_id("proposals")
    proposals.get_by_label("Titolo del punto che proponi").fill("Gita sociale")
    proposals.get_by_label("Di cosa si tratta").fill("Organizzare una gita per gli ospiti.")
    member.get_by_test_id("propose").click()
    member.get_by_text("Proposta inviata ai co-coordinatori").wait_for()
    assert member.get_by_test_id("proposal").count() == 2
    assert member.get_by_test_id("proposal-status").all_inner_texts() == ["Proposta, da valutare"] * 2

    # The co-coordinator declines one with a reason and accepts the other, which joins the agenda last.
    coord = _page(page_as, COORD)
    coord.goto(f"{base}/incontri/{ids['draft']}")
    trip = coord.get_by_test_id("proposal").filter(has_text="Gita sociale")
    trip.get_by_text("Respingi…").click()
    trip.get_by_label("Motivo (lo legge chi ha proposto)").fill(
        "Non è materia del tavolo: la porto alla consulta."
    )
    trip.get_by_role("button", name="Respingi la proposta").click()
    coord.get_by_text("Proposta respinta").wait_for()
    house = coord.get_by_test_id("proposal").filter(has_text="Sportello casa")
    house.get_by_role("button", name="Accetta").click()
    coord.get_by_text("Proposta accettata").wait_for()
    assert coord.locator("[data-agenda] > li strong").all_inner_texts() == [
        "Apertura e saluti",
        "Sportello casa: i primi tre mesi",
    ]
    _check(coord, axe, out, "draft-agenda-coordinator", "#proposte")

    # The member sees the draft agenda with the proposals' states and the reason.
    member.goto(f"{base}/incontri/{ids['draft']}")
    assert (
        member.locator("[data-agenda] > li strong").all_inner_texts()[-1]
        == "Sportello casa: i primi tre mesi"
    )
    assert sorted(member.get_by_test_id("proposal-status").all_inner_texts()) == ["Accettata", "Respinta"]
    assert "la porto alla consulta" in member.get_by_test_id("proposal-reason").inner_text()
    _check(member, axe, out, "draft-agenda")

    # The month view: the draft on its day; month by month with the links.
    day: date = ids["day"]
    member.goto(f"{base}/incontri/")
    member.get_by_test_id("month-view").click()
    while f"mese={day:%Y-%m}" not in member.url:
        member.get_by_test_id("month-next").click()
        member.wait_for_load_state()
    cell = member.locator(f"td:has(time[datetime='{day.isoformat()}'])")
    assert "Incontro draft" in cell.inner_text()
    _check(member, axe, out, "month")
    member.get_by_test_id("month-previous").click()
    member.wait_for_url(f"**/incontri/mese?mese={(day.replace(day=1) - timedelta(days=1)):%Y-%m}")


def test_the_qr_code_leads_to_a_one_tap_check_in(live_server: Any, page_as: Any, run_dir: Path) -> None:
    ids = _meetings(live_server.app)
    out = Path(os.environ.get("PDZ_TEST_ARTIFACTS") or run_dir) / "meetings-practice"
    out.mkdir(parents=True, exist_ok=True)
    base, axe = live_server.url, _axe()

    coord = _page(page_as, COORD)
    coord.goto(f"{base}/incontri/{ids['running']}")
    qr = coord.get_by_test_id("checkin-qr")
    assert qr.locator("svg.qr-code").is_visible()
    link = qr.get_by_test_id("checkin-link").inner_text().strip()
    _check(coord, axe, out, "checkin-qr", "[data-testid=checkin-qr]")

    member = _page(page_as, MEMBER)
    member.goto(link.replace(live_server.app.config["PDZ_BASE_URL"].rstrip("/"), base))
    _check(member, axe, out, "checkin-landing")
    member.get_by_test_id("qr-confirm").click()
    member.get_by_text("Presenza registrata. Benvenuto!").wait_for()
    assert member.get_by_test_id("checked-in").is_visible()
