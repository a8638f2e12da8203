"""Convocations go through the one notification path (issue #18 point 1): they honour each person's mail
preference, carry the unsubscribe footer, and appear among the in-app notifications."""

from __future__ import annotations

from meetings_support import add_item, create_meeting, future_day
from sqlalchemy import select

from conftest import outbox


def _user_id(db, email: str) -> int:
    from pdz.accounts.models import User

    return int(db.session.scalar(select(User.id).where(User.email == email)))


def test_convocation_honours_preferences_and_carries_the_footer(app, db, client_as, tavolo):
    from pdz.notifications.models import Notification, NotificationKind

    # The observer wants no mail at all; the member keeps the defaults (the rest by daily digest).
    observer = client_as("osservatore@example.org")
    assert (
        observer.post("/notifiche/preferenze", data={"mentions": "mai", "others": "mai"}).status_code == 302
    )
    coord = client_as("coord.pubblico@example.org")
    meeting_id = create_meeting(coord, tavolo.id, day=future_day(9), title="Incontro di dicembre")
    add_item(coord, meeting_id, "Bilancio dell'anno")
    assert coord.post(f"/incontri/{meeting_id}/convoca").status_code == 302

    # A convocation is urgent: mailed at once to the member although the default for "the rest" is the digest.
    [mail] = [m for m in outbox(db, "membro@example.org") if m.subject.startswith("Convocazione")]
    assert "Incontro di dicembre" in mail.body
    assert "/notifiche/disiscriviti/" in mail.body and "/notifiche/preferenze" in mail.body
    assert mail.attachments and mail.attachments[0]["content_type"].startswith("text/calendar")
    # "mai" means no mail, even for a convocation; the notice is still in PdZ.
    assert not [m for m in outbox(db, "osservatore@example.org") if m.subject.startswith("Convocazione")]
    notes = {
        n.user_id: n
        for n in db.session.scalars(
            select(Notification).where(
                Notification.target_kind == "meeting", Notification.target_id == meeting_id
            )
        )
    }
    for email in ("membro@example.org", "osservatore@example.org"):
        note = notes[_user_id(db, email)]
        assert note.kind == NotificationKind.MEETING and note.url == f"/incontri/{meeting_id}"
        assert "Incontro di dicembre" in note.text
    assert notes[_user_id(db, "osservatore@example.org")].mail_state == "nessuna"
    assert notes[_user_id(db, "membro@example.org")].mail_state == "inviata"
    page = client_as("membro@example.org").get("/notifiche").get_data(as_text=True)
    assert "Incontro di dicembre" in page
