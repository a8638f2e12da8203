"""A named delegate may read the meeting they stand in for, and only that one (docs/permissions.md:
`meeting.view` "also a named delegate"); naming a delegate opens the meeting to nobody else."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select


@pytest.fixture(params=["sqlite"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


def test_only_the_named_delegate_reads_the_meeting(app: Any, db: Any, client_as: Any, user: Any) -> None:
    from pdz.meetings.models import Meeting, Rsvp
    from pdz.tavoli.models import Body

    povertà = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    meeting, other = db.session.scalars(
        select(Meeting).where(Meeting.body_id == povertà, Meeting.status == "convocata").order_by(Meeting.id)
    ).all()[:2]
    # the member sends a delegate from outside the tavolo to the first meeting only
    db.session.add(
        Rsvp(
            meeting_id=meeting.id,
            user_id=user("membro@example.org").id,
            answer="delega",
            delegate_id=user("disabilita@example.org").id,
        )
    )
    db.session.commit()
    delegate, outsider = client_as("disabilita@example.org"), client_as("sindaco@example.org")
    assert delegate.get(f"/incontri/{meeting.id}").status_code == 200
    assert delegate.get(f"/incontri/{other.id}").status_code == 403
    assert outsider.get(f"/incontri/{meeting.id}").status_code == 403
