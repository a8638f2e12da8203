"""The demo season of meetings: realistic, and loading the demo twice changes nothing."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import func, select


def test_demo_meetings_are_realistic_and_idempotent(app, db, client_as):
    from pdz.meetings.models import (
        ActionItem,
        Attendance,
        Meeting,
        MeetingStatus,
        MinutesRevision,
        MinutesStatus,
        QuorumRule,
        Rsvp,
    )
    from pdz.tavoli.models import Body

    def counts():
        db.session.expire_all()
        return tuple(
            db.session.scalar(select(func.count(m.id)))
            for m in (Meeting, Attendance, ActionItem, Rsvp, QuorumRule, MinutesRevision)
        )

    before = counts()
    result = app.test_cli_runner().invoke(args=["demo"])
    assert result.exit_code == 0, result.output
    assert counts() == before

    now = datetime.now(UTC)
    bodies = list(db.session.scalars(select(Body)))
    with_meetings = [b for b in bodies if b.is_thematic] + [
        b
        for b in bodies
        if b.name in ("Ufficio di Piano Integrato", "Assemblea dei Sindaci (di Ambito)", "Comitato Ristretto")
    ]
    for body in with_meetings:
        meetings = list(
            db.session.scalars(select(Meeting).where(Meeting.body_id == body.id).order_by(Meeting.starts_at))
        )
        past = [m for m in meetings if m.status == MeetingStatus.CONCLUDED]
        upcoming = [m for m in meetings if m.status == MeetingStatus.CONVENED and m.starts_at > now]
        assert len(upcoming) >= 2, body.name
        assert past and past[0].starts_at.year == 2025 and past[0].starts_at.month <= 3, body.name
        if body.is_thematic:  # roughly monthly, August off
            assert len(past) >= 15, (body.name, len(past))
        approved = [m for m in past if m.minutes_status == MinutesStatus.APPROVED]
        assert len(approved) == len(past) - 1 and past[-1].minutes_status == MinutesStatus.DRAFT
        assert all(m.minutes_approved_in_id for m in approved)
    rules = {
        db.session.get(Body, r.body_id).name: (r.kind.value, r.weighted)
        for r in db.session.scalars(select(QuorumRule))
    }
    assert rules == {
        "Assemblea dei Sindaci (di Ambito)": ("maggioranza", True),
        "Comitato Ristretto": ("maggioranza", False),
    }
    # The named demo accounts see their next meetings on their home page.
    assert "Incontro n." in client_as("membro@example.org").get("/").get_data(as_text=True)
    assert "Seduta n." in client_as("sindaco@example.org").get("/").get_data(as_text=True)
