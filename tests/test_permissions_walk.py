"""Walks the whole URL map as every demo role and checks each answer against the policy module.

A new route is covered without anyone remembering to add it: a route without a policy guard fails
here, and so does a URL argument with no sample below.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

ROLES = [
    None,
    "admin@example.org",
    "udp@example.org",
    "coord.pubblico@example.org",
    "coord.ets@example.org",
    "membro@example.org",
    "osservatore@example.org",
    "disabilita@example.org",
    "sindaco@example.org",
    "delegato@example.org",
]


def _samples(db: Any, body: Callable[[str], Any]) -> dict[str, Any]:
    """One real object id per URL argument name, chosen so POSTs never touch the roles' own accounts."""
    from pdz.accounts.models import Invitation, User
    from pdz.db import utcnow
    from pdz.orgs.models import Organisation, OrgKind
    from pdz.tavoli.models import Mandate, Membership, MembershipRole
    from pdz.territory.models import Comune

    povertà = body("Tavolo Povertà")
    filler = db.session.scalar(
        select(Membership).where(
            Membership.body_id == povertà.id,
            Membership.role == MembershipRole.MEMBER,
            ~Membership.user.has(User.email.in_([r for r in ROLES if r])),
        )
    )
    invitation = Invitation(
        email="nuovo@example.org",
        body_id=povertà.id,
        organisation_id=filler.organisation_id,
        role=MembershipRole.MEMBER,
        token_hash="0" * 64,
        invited_by_id=filler.user_id,
        expires_at=utcnow().replace(year=utcnow().year + 1),
    )
    db.session.add(invitation)
    db.session.commit()
    from pdz.approvals.models import Ballot, PlanDocument, Submission
    from pdz.cards.models import Card, CardBudgetLine, CardIndicator
    from pdz.comments.models import Comment
    from pdz.cycles.models import PlanningCycle
    from pdz.evaluation.models import ObjectiveEvaluation, SwotAssessment, SwotEntry
    from pdz.meetings.models import ActionItem, Meeting, MeetingStatus, MinutesStatus
    from pdz.notifications.models import Notification

    assessment = db.session.scalar(select(SwotAssessment).where(SwotAssessment.body_id == povertà.id))
    meeting = db.session.scalar(  # the latest concluded meeting, minutes not yet approved
        select(Meeting)
        .where(
            Meeting.body_id == povertà.id,
            Meeting.status == MeetingStatus.CONCLUDED,
            Meeting.minutes_status == MinutesStatus.DRAFT,
        )
        .order_by(Meeting.starts_at.desc())
    )
    return {
        "assessment_id": assessment.id,
        "cycle_id": db.session.scalar(select(PlanningCycle.id).where(PlanningCycle.start_year == 2021)),
        "entry_id": db.session.scalar(select(SwotEntry.id).where(SwotEntry.assessment_id == assessment.id)),
        "evaluation_id": db.session.scalar(select(ObjectiveEvaluation.id)),
        "meeting_id": meeting.id,
        # a notification of membro's: only its owner (and the admin) may open it
        "notification_id": db.session.scalar(
            select(Notification.id)
            .join(User, User.id == Notification.user_id)
            .where(User.email == "membro@example.org")
            .limit(1)
        )
        or _notification_for(db, "membro@example.org"),
        "comment_id": db.session.scalar(select(Comment.id).order_by(Comment.id).limit(1)),
        "card_id": (
            card_id := db.session.scalar(select(Card.id).where(Card.body_id == povertà.id).order_by(Card.id))
        ),
        "kind": "budget",
        "indicator_id": db.session.scalar(
            select(CardIndicator.id).where(CardIndicator.card_id == card_id).order_by(CardIndicator.id)
        ),
        "row_id": db.session.scalar(
            select(CardBudgetLine.id).where(CardBudgetLine.card_id == card_id).order_by(CardBudgetLine.id)
        ),
        "item_id": meeting.items[0].id,
        "attendance_id": meeting.attendances[0].id,
        # an action of another meeting: the route answers 404 to whoever may reach it
        "action_id": db.session.scalar(select(ActionItem.id).where(ActionItem.meeting_id != meeting.id)),
        "body_id": povertà.id,
        "org_id": db.session.scalar(select(Organisation.id).where(Organisation.kind == OrgKind.ETS)),
        "comune_id": db.session.scalar(select(Comune.id).where(Comune.name == "Ricengo")),
        "user_id": filler.user_id,
        "membership_id": filler.id,
        "mandate_id": db.session.scalar(select(Mandate.id).where(Mandate.body_id == povertà.id)),
        "invitation_id": invitation.id,
        "token": "not-a-real-token",
        "name": "enti",
        "filename": "css/pdz.css",
        # the submission still under review at the UdP Integrato; the demo's first ballot; the Piano Operativo
        "submission_id": db.session.scalar(
            select(Submission.id).where(Submission.status == "in_esame").limit(1)
        ),
        "ballot_id": db.session.scalar(select(Ballot.id).order_by(Ballot.id).limit(1)),
        "plan_id": db.session.scalar(select(PlanDocument.id).where(PlanDocument.kind == "piano_operativo")),
        "fmt": "pdf",
    }


def _notification_for(db: Any, email: str) -> int:
    from pdz.accounts.models import User
    from pdz.notifications.models import Notification
    from pdz.tavoli.models import Body

    owner = db.session.scalar(select(User).where(User.email == email))
    body_id = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    note = Notification(
        user_id=owner.id,
        kind="mention",
        body_id=body_id,
        target_kind="tavolo",
        target_id=body_id,
        text="x",
        url="/",
    )
    db.session.add(note)
    db.session.commit()
    return note.id


def test_every_route_has_a_policy_guard(app: Any) -> None:
    unguarded = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and getattr(app.view_functions[rule.endpoint], "_pdz_rule", None) is None
    ]
    assert unguarded == []


@pytest.mark.parametrize("email", ROLES)
def test_every_route_answers_as_the_policy_says(
    app: Any, db: Any, body: Callable[[str], Any], email: str | None
) -> None:
    from conftest import login
    from pdz import policy
    from pdz.accounts.models import User

    samples = _samples(db, body)
    client = app.test_client()
    if email:
        login(client, email)
    mismatches = []
    session_ending = {"accounts.logout", "accounts.sign_out_everywhere"}  # walked last
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (r.endpoint in session_ending, r.rule)):
        if rule.endpoint == "static":
            continue
        missing = [arg for arg in rule.arguments if arg not in samples]
        assert not missing, f"add a sample for {missing} used by {rule.rule}"
        url = rule.build({arg: samples[arg] for arg in rule.arguments})[1]
        route_rule = app.view_functions[rule.endpoint]._pdz_rule
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            db.session.expire_all()
            actor = db.session.scalar(select(User).where(User.email == email)) if email else None
            if route_rule.action is None:
                expected = "public"
            elif actor is None:
                expected = "login"
            else:
                obj = db.session.get(route_rule.model, samples[route_rule.arg]) if route_rule.model else None
                with app.test_request_context():
                    expected = "allow" if policy.can(actor, route_rule.action, obj) else "deny"
            response = client.open(url, method=method, data={})
            status = response.status_code
            ok = {
                "public": status < 500 and status != 403,
                "login": status == 302 and "/login" in response.location,
                "allow": status < 500 and status != 403,
                "deny": status == 403,
            }[expected]
            if not ok:
                mismatches.append(f"{method} {url} as {email}: expected {expected}, got {status}")
    assert mismatches == []
