"""The whole approval chain in real browsers, through the pages only: a co-coordinator sends a Tavolo Povertà
card, the Ufficio di Piano forwards it and puts it on the agenda of the Assemblea dei Sindaci, starts the
meeting, two comuni check in with the code shown in the room and vote, the chair closes the vote, the outcome
lands in the minutes, and anyone sees the approved version (and not one still in review) on the public page."""

from __future__ import annotations

import re
from typing import Any

import pytest
from sqlalchemy import select

FINGERPRINT = re.compile(r"^[0-9a-f]{64}$")


@pytest.fixture
def backend() -> str:
    return "sqlite"  # the browser flow is the same on both; the services are covered on both elsewhere


def _demo_ids(db: Any) -> dict[str, Any]:
    from pdz.approvals.models import Submission, SubmissionStatus
    from pdz.cards.models import Card
    from pdz.meetings.models import Meeting
    from pdz.tavoli.models import Body, BodyKind

    povertà = db.session.scalar(select(Body).where(Body.name == "Tavolo Povertà"))
    assemblea = db.session.scalar(select(Body).where(Body.kind == BodyKind.ASSEMBLEA_SINDACI))
    sent = select(Submission.document_id).where(Submission.document_kind == "scheda")
    card = db.session.scalar(
        select(Card).where(Card.body_id == povertà.id, Card.id.not_in(sent)).order_by(Card.id)
    )
    meeting = db.session.scalar(
        select(Meeting).where(Meeting.body_id == assemblea.id, Meeting.title == "Seduta n. 9")
    )
    in_review = db.session.scalar(
        select(Submission).where(Submission.status == SubmissionStatus.IN_REVIEW).order_by(Submission.id)
    )
    assert card is not None and meeting is not None and in_review is not None
    assert meeting.status == "convocata"
    ids = {
        "card": card.id,
        "meeting": meeting.id,
        "assemblea": assemblea.id,
        "in_review_title": in_review.title,
    }
    db.session.remove()  # hold no read transaction while the live server writes to the SQLite file
    return ids


@pytest.mark.browser
def test_a_card_goes_through_the_chain_to_the_public_page(page_as, live_server, db):
    ids = _demo_ids(db)
    url = live_server.url

    # 1. The co-coordinator sends the card exactly as it is.
    coord = page_as("coord.pubblico@example.org")
    coord.goto(f"{url}/schede/{ids['card']}")
    coord.get_by_test_id("card-approval").click()
    coord.get_by_test_id("submit-approval").click()
    coord.wait_for_url(re.compile(r"/approvazioni/\d+$"))
    submission_url = coord.url
    assert coord.get_by_test_id("submission-status").inner_text() == "In esame"
    fingerprint = (coord.get_by_test_id("fingerprint").text_content() or "").strip()  # in a closed <details>
    assert FINGERPRINT.match(fingerprint)
    title = coord.locator("h1").evaluate("h => h.firstChild.textContent").strip()
    assert title

    # 2. The Ufficio di Piano forwards it to the vote and puts it on the Assemblea's agenda.
    udp = page_as("udp@example.org")
    udp.goto(submission_url)
    udp.get_by_test_id("forward").click()
    udp.get_by_test_id("confirm-ok").click()  # the confirmation dialog (issue #16 point 4)
    udp.get_by_test_id("submission-status").filter(has_text="In attesa di votazione").wait_for()
    udp.goto(url + "/")
    assert udp.get_by_test_id("todo").get_by_text(f"Iscrivi «{title}»").count() == 1
    udp.goto(submission_url)
    seduta = udp.locator("#meeting_id option", has_text=re.compile(r"Seduta n\. 9$")).get_attribute("value")
    assert seduta == str(ids["meeting"])
    udp.select_option("#meeting_id", seduta)
    udp.get_by_test_id("schedule").click()
    ballot_link = udp.get_by_role("link", name="Votazione nell'incontro «Seduta n. 9»")
    ballot_url = url + (ballot_link.get_attribute("href") or "")
    assert re.search(r"/votazioni/\d+$", ballot_url)

    # The demo Assemblea needs a quorum of half its population, which two comuni are far from: this chain
    # decides by the majority of the (population-weighted) comuni present, set on the body's rule page.
    udp.goto(f"{url}/tavoli/{ids['assemblea']}/incontri/numero-legale")
    assert udp.input_value("#kind") == "maggioranza"
    udp.select_option("#kind", "nessuno")
    udp.check("#weighted")
    udp.select_option("#majority", "presenti")
    udp.get_by_role("button", name="Salva").click()
    udp.wait_for_url(re.compile(r"/tavoli/\d+/incontri$"))

    # 3. The meeting starts; the mayor of Offanengo and Pandino's delegate check in with the code in the room.
    meeting_url = f"{url}/incontri/{ids['meeting']}"
    udp.goto(meeting_url)
    udp.get_by_test_id("start").click()
    if udp.locator("#confirm-dialog[open]").count():  # asks only on a day other than the scheduled one
        udp.get_by_test_id("confirm-ok").click()
    udp.wait_for_url(re.compile(r"/regia$"))
    code = udp.get_by_test_id("checkin-code").inner_text().strip()
    assert code
    sindaco = page_as("sindaco@example.org")
    delegato = page_as("delegato@example.org")
    for person in (sindaco, delegato):
        person.goto(meeting_url)
        person.get_by_label("Codice dell'incontro").fill(code)
        person.get_by_test_id("checkin").click()
        person.get_by_test_id("checked-in").wait_for()

    # 4. The chair opens the vote; each comune votes once; the chair closes it.
    udp.goto(ballot_url)
    udp.get_by_test_id("open-ballot").click()
    udp.get_by_test_id("confirm-ok").click()
    udp.get_by_test_id("close-ballot").wait_for()
    sindaco.goto(url + "/")
    assert sindaco.get_by_test_id("todo").get_by_text(f"Vota su «{title}»").count() == 1
    sindaco.goto(ballot_url)
    sindaco.get_by_test_id("vote-for").click()
    assert "Favorevole" in sindaco.get_by_test_id("my-vote").inner_text()
    assert sindaco.get_by_test_id("vote-for").count() == 0  # one vote per comune
    delegato.goto(ballot_url)
    delegato.get_by_test_id("vote-for").click()
    delegato.get_by_test_id("my-vote").wait_for()
    udp.goto(ballot_url)
    udp.get_by_test_id("close-ballot").click()
    udp.get_by_test_id("confirm-ok").click()
    assert udp.get_by_test_id("ballot-outcome").inner_text() == "Approvato"
    favourable = udp.get_by_test_id("tally").get_by_role("row", name=re.compile("^Favorevoli"))
    assert favourable.locator("td").first.inner_text() == "2"
    udp.goto(submission_url)
    assert udp.get_by_test_id("submission-status").inner_text() == "Approvata"
    udp.screenshot(path="/tmp/pdz-submission.png", full_page=True)

    # 5. The outcome is in the minutes of the agenda item.
    sindaco.goto(f"{meeting_url}/verbale")
    item = sindaco.locator("section.minutes-item", has_text=f"Votazione: {title}")
    minutes = item.locator("[data-minutes-html]").inner_text()
    assert "Esito della votazione" in minutes and "Favorevoli 2" in minutes

    # 6. Anyone, without signing in, finds the approved version with the same fingerprint.
    anonymous = page_as(None)
    anonymous.goto(url + "/pubblico/")
    listed = anonymous.get_by_test_id("public-list")
    assert listed.get_by_text(ids["in_review_title"], exact=True).count() == 0
    listed.get_by_role("link", name=title, exact=True).click()
    anonymous.wait_for_url(re.compile(r"/pubblico/\d+$"))
    assert (anonymous.get_by_test_id("fingerprint").text_content() or "").strip() == fingerprint
    anonymous.screenshot(path="/tmp/pdz-public.png", full_page=True)
