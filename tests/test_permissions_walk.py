"""The permission walk: every route x every demo role x the demo's objects, against the matrix as data.

The expected answers do not come from `policy.py`: they come from the table in `docs/permissions.md` (parsed
here), from the demo's memberships (who is what in which body) and from `ROUTES` below, which says, for each
route, which documented action it performs, on which object, and what it answers when allowed (200 for a
page; for a POST sent without its fields, the documented redirect or the Italian 4xx message for bad input).
Refused: 403; anonymous: the redirect to the sign-in page. A new route fails here until it is listed.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import current_app
from sqlalchemy import func, select

DOCS = Path(__file__).resolve().parents[1] / "docs" / "permissions.md"
COLUMNS = ["Admin", "UdP", "Coord.", "Member", "Observer", "Signed in", "closed, suspended"]
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

# (endpoint, method): (documented action, the object it acts on, status when allowed). Public routes: action
# None, and the status anyone gets. Objects: see `_samples`; None for routes without one.
ROUTES: dict[tuple[str, str], tuple[str | None, str | None, int]] = {
    ("home.index", "GET"): ("home.view", None, 200),
    ("home.todo", "GET"): ("home.view", None, 200),
    ("search.search", "GET"): ("home.view", None, 200),
    ("admin.index", "GET"): ("admin.view", None, 200),
    ("admin.users", "GET"): ("user.list", None, 200),
    ("admin.staff_role", "POST"): ("user.grant_staff", None, 302),
    ("admin.reset_second_factor", "POST"): ("user.grant_staff", None, 302),
    ("admin.toggle_active", "POST"): ("user.manage", None, 302),
    ("admin.outbox", "GET"): ("outbox.view", None, 200),
    ("admin.audit_log", "GET"): ("audit.view", None, 200),
    ("admin.audit_log_csv", "GET"): ("audit.view", None, 200),
    ("approvals.overview", "GET"): ("approval.overview", None, 200),
    ("approvals.submission", "GET"): ("approval.view", "submission", 200),
    ("approvals.download", "GET"): ("approval.view", "submission", 200),
    ("approvals.forward", "POST"): ("approval.review", "submission", 303),
    ("approvals.schedule", "POST"): ("approval.schedule", "submission", 303),
    ("approvals.send_back", "POST"): ("approval.review", "submission", 303),
    ("approvals.chains", "GET"): ("approval.configure", None, 200),
    ("approvals.chains", "POST"): ("approval.configure", None, 422),
    ("meetings.feed", "GET"): (None, None, 404),
    ("cycles.index", "GET"): ("cycle.manage", None, 200),
    ("cycles.create", "POST"): ("cycle.manage", None, 422),
    ("cycles.set_status", "POST"): ("cycle.manage", None, 422),
    ("cycles.funds", "GET"): ("plan.view", "plan", 200),
    ("cycles.add_allocation", "POST"): ("plan.manage", "plan", 422),
    ("cycles.remove_allocation", "POST"): ("plan.manage", "plan", 303),
    ("accordo.page", "GET"): ("accordo.view", None, 200),
    ("accordo.create", "POST"): ("accordo.manage", None, 303),
    ("accordo.sign", "POST"): ("accordo.manage", None, 422),
    ("accordo.add_signatory", "POST"): ("accordo.manage", None, 422),
    ("accordo.amend", "POST"): ("accordo.manage", None, 422),
    ("accordo.public_list", "GET"): (None, None, 200),
    ("accordo.public_page", "GET"): (None, None, 200),
    ("territory.index", "GET"): ("comune.list", None, 200),
    ("territory.edit", "GET"): ("comune.edit", None, 200),
    ("territory.edit", "POST"): ("comune.edit", None, 422),
    ("orgs.index", "GET"): ("org.list", None, 200),
    ("orgs.detail", "GET"): ("org.view", None, 200),
    ("orgs.add_adhesion", "POST"): ("org.edit", None, 302),
    ("orgs.edit", "GET"): ("org.edit", None, 200),
    ("orgs.edit", "POST"): ("org.edit", None, 302),
    ("orgs.create", "GET"): ("org.create", None, 200),
    ("orgs.create", "POST"): ("org.create", None, 422),
    ("healthz", "GET"): (None, None, 200),
    ("meetings.calendar", "GET"): ("meeting.calendar", None, 200),
    ("meetings.detail", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.cancel", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.start", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.add_action", "POST"): ("meeting.minutes.write", "meeting", 422),
    ("meetings.action_status", "POST"): ("meeting.minutes.write", "meeting", 302),
    ("meetings.conclude", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.publish", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.add_decision", "POST"): ("meeting.minutes.write", "meeting", 422),
    ("meetings.event_ics", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.edit", "GET"): ("meeting.manage", "meeting", 200),
    ("meetings.edit", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.quorum", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.add_item", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.edit_item", "GET"): ("meeting.manage", "meeting", 200),
    ("meetings.edit_item", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.delete_item", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.move_item", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.register", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.mark", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.current_item", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.run", "GET"): ("meeting.manage", "meeting", 200),
    ("meetings.checkin", "POST"): ("meeting.checkin", "meeting", 422),
    ("meetings.answer", "POST"): ("meeting.respond", "meeting", 422),
    ("meetings.printable", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.minutes", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.minutes_pdf", "GET"): ("meeting.view", "meeting", 200),
    ("meetings.approve", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.propose", "POST"): ("meeting.agenda.propose", "meeting", 422),
    ("meetings.accept_proposal", "POST"): ("meeting.agenda.review", "meeting", 422),
    ("meetings.decline_proposal", "POST"): ("meeting.agenda.review", "meeting", 422),
    ("meetings.mark_all", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.undo_attendance", "POST"): ("meeting.manage", "meeting", 422),
    ("meetings.qr_checkin", "GET"): ("meeting.checkin", "meeting", 200),
    ("meetings.qr_checkin", "POST"): ("meeting.checkin", "meeting", 422),
    ("meetings.month", "GET"): ("meeting.calendar", None, 200),
    ("approvals.minutes_document", "GET"): ("meeting.view", "meeting", 200),
    # minutes are approved by their own body at its next meeting: the chain refuses them (issue #15 point 5)
    ("approvals.minutes_submit", "POST"): ("minutes.submit", "meeting", 422),
    ("meetings.add_minutes_item", "POST"): ("meeting.manage", "meeting", 422),  # concluded: agenda closed
    ("meetings.decide_minutes", "POST"): ("meeting.manage", "meeting", 422),  # decided during a meeting
    ("meetings.reset_feed", "POST"): ("meeting.calendar", None, 302),
    ("meetings.revoke_feed", "POST"): ("meeting.calendar", None, 302),
    ("accounts.accept_invitation", "GET"): (None, None, 404),
    ("accounts.accept_invitation", "POST"): (None, None, 404),
    ("accounts.login", "GET"): (None, None, 200),
    ("accounts.login", "POST"): (None, None, 422),
    ("accounts.enrol_at_sign_in", "GET"): (None, None, 302),
    ("accounts.enrol_at_sign_in", "POST"): (None, None, 302),
    ("accounts.second_step", "GET"): (None, None, 302),
    ("accounts.second_step", "POST"): (None, None, 302),
    ("notifications.index", "GET"): ("notification.view", None, 200),
    ("notifications.open_one", "POST"): ("notification.open", "notification", 302),
    ("notifications.count", "GET"): ("notification.view", None, 200),
    ("notifications.unsubscribe", "GET"): (None, None, 404),
    ("notifications.unsubscribe", "POST"): (None, None, 404),
    ("notifications.read_all", "POST"): ("notification.view", None, 302),
    ("notifications.preferences", "GET"): ("notification.preferences", None, 200),
    ("notifications.preferences", "POST"): ("notification.preferences", None, 302),
    ("tavoli.governance", "GET"): ("body.list", None, 200),
    ("participation.dashboard", "GET"): ("participation.view", None, 200),
    ("participation.export", "GET"): ("participation.view", None, 200),
    ("accounts.forgot_password", "GET"): (None, None, 200),
    ("accounts.forgot_password", "POST"): (None, None, 422),
    ("accounts.reset_password", "GET"): (None, None, 404),
    ("accounts.reset_password", "POST"): (None, None, 404),
    ("approvals.plans", "GET"): ("plan.view", None, 200),
    ("approvals.plan", "GET"): ("plan.view", "plan", 200),
    ("approvals.plan_submit", "POST"): ("plan.manage", "plan", 303),
    ("approvals.plan_entry", "POST"): ("plan.manage", "plan", 303),
    ("approvals.plan_action", "POST"): ("plan.manage", "plan", 303),
    ("approvals.plan_draft", "GET"): ("plan.view", "plan", 200),
    ("approvals.plan_exclude", "POST"): ("plan.manage", "plan", 422),
    ("approvals.plan_readmit", "POST"): ("plan.manage", "plan", 422),
    ("approvals.plan_create", "POST"): ("plan.manage", None, 303),
    ("accounts.profile", "GET"): ("account.view", None, 200),
    ("accounts.profile", "POST"): ("account.view", None, 302),
    ("participation.mine", "GET"): ("account.view", None, 200),
    ("accounts.change_password", "POST"): ("account.edit", None, 422),
    ("accounts.active_sessions", "GET"): ("account.view", None, 200),
    ("accounts.end_session", "POST"): ("account.edit", None, 302),
    ("accounts.second_factor_settings", "GET"): ("account.view", None, 200),
    ("accounts.second_factor_start", "POST"): ("account.edit", None, 302),
    ("accounts.recovery_codes_renew", "POST"): ("account.edit", None, 422),
    ("accounts.second_factor_confirm", "POST"): ("account.edit", None, 422),
    ("accounts.second_factor_disable", "POST"): ("account.edit", None, 422),
    ("accounts.trusted_devices_forget", "POST"): ("account.edit", None, 302),
    ("approvals.public_list", "GET"): (None, None, 200),
    ("help.glossary", "GET"): (None, None, 200),
    ("approvals.public_document", "GET"): (None, None, 404),
    ("approvals.public_download", "GET"): (None, None, 404),
    ("cards.detail", "GET"): ("card.view", "card", 200),
    ("approvals.card_document", "GET"): ("card.view", "card", 200),
    ("approvals.card_submit", "POST"): ("card.submit", "card", 303),
    ("cards.save", "POST"): ("card.edit", "card", 303),
    ("cards.compare", "GET"): ("card.view", "card", 200),
    ("evaluation.record_value", "POST"): ("indicator.record", "card", 422),
    ("evaluation.monitoring", "GET"): ("card.view", "card", 200),
    ("cards.rows_fragment", "GET"): ("card.view", "card", 422),
    ("cards.add_row", "POST"): ("card.edit", "card", 422),
    ("cards.update_row", "POST"): ("card.edit", "card", 422),
    ("cards.remove_row", "POST"): ("card.edit", "card", 303),
    ("cards.restore", "POST"): ("card.edit", "card", 303),
    ("cards.move", "POST"): ("card.move", "card", 303),
    ("cards.print_view", "GET"): ("card.view", "card", 200),
    ("cards.status", "POST"): ("card.edit", "card", 303),
    ("cards.history", "GET"): ("card.view", "card", 200),
    ("cards.version", "GET"): ("card.view", "card", 200),
    ("evaluation.swot", "GET"): ("swot.view", "assessment", 200),
    ("approvals.swot_document", "GET"): ("swot.view", "assessment", 200),
    ("approvals.swot_submit", "POST"): ("swot.submit", "assessment", 303),
    ("evaluation.close", "POST"): ("swot.close", "assessment", 303),
    ("evaluation.add_entry", "POST"): ("swot.write", "assessment", 303),
    ("evaluation.remove_entry", "POST"): ("swot.write", "assessment", 303),
    ("tavoli.index", "GET"): ("tavolo.list", None, 200),
    ("tavoli.workspace", "GET"): ("tavolo.view", "body", 200),
    ("comments.thread", "GET"): ("tavolo.view", "body", 200),
    ("comments.create", "POST"): ("comment.create", "body", 422),
    ("comments.edit", "POST"): ("comment.edit", "comment", 422),
    ("comments.history", "GET"): ("tavolo.view", "body", 200),
    ("comments.reopen", "POST"): ("comment.resolve", "body", 200),
    ("comments.remove", "POST"): ("comment.remove", "comment", 200),
    ("comments.resolve", "POST"): ("comment.resolve", "body", 200),
    ("comments.mark_read", "POST"): ("tavolo.view", "body", 200),
    ("comments.people", "GET"): ("tavolo.view", "body", 200),
    ("comments.follow", "POST"): ("tavolo.view", "body", 200),
    ("tavoli.members", "GET"): ("tavolo.members.manage", "body", 200),
    ("tavoli.remove_member", "POST"): ("tavolo.members.manage", "body", 302),
    ("tavoli.set_role", "POST"): ("tavolo.members.manage", "body", 422),
    ("tavoli.invite", "POST"): ("tavolo.members.manage", "body", 422),
    ("comments.discussion", "GET"): ("tavolo.view", "body", 200),
    ("meetings.body_list", "GET"): ("meeting.list", "body", 200),
    ("meetings.quorum_rule", "GET"): ("meeting.quorum.configure", "body", 200),
    ("meetings.quorum_rule", "POST"): ("meeting.quorum.configure", "body", 302),
    ("meetings.create", "GET"): ("meeting.schedule", "body", 200),
    ("meetings.create", "POST"): ("meeting.schedule", "body", 422),
    ("tavoli.revoke_invitation", "POST"): ("tavolo.members.manage", "body", 302),
    ("tavoli.mandate", "GET"): ("mandate.propose", "body", 200),
    ("tavoli.submit_mandate", "POST"): ("mandate.propose", "body", 422),
    ("tavoli.decide_mandate", "POST"): ("mandate.decide", "body", 422),
    ("tavoli.edit", "GET"): ("tavolo.edit", "body", 200),
    ("tavoli.edit", "POST"): ("tavolo.edit", "body", 302),
    ("participation.tavolo", "GET"): ("participation.view_tavolo", "body", 200),
    ("participation.tavolo_export", "GET"): ("participation.view_tavolo", "body", 200),
    ("cards.index", "GET"): ("tavolo.view", "body", 200),
    ("cards.create", "GET"): ("card.create", "body", 200),
    ("cards.create", "POST"): ("card.create", "body", 422),
    ("evaluation.tavolo_swots", "GET"): ("swot.view", "body", 200),
    ("evaluation.open_swot", "POST"): ("swot.open", "body", 422),
    ("tavoli.create", "GET"): ("tavolo.create", None, 200),
    ("tavoli.create", "POST"): ("tavolo.create", None, 422),
    ("evaluation.synthesis", "GET"): ("evaluation.view", None, 200),
    ("evaluation.objectives_csv", "GET"): ("evaluation.view", None, 200),
    ("evaluation.edit_evaluation", "GET"): ("evaluation.edit", None, 200),
    ("evaluation.edit_evaluation", "POST"): ("evaluation.edit", None, 302),
    ("evaluation.synthesis_csv", "GET"): ("evaluation.view", None, 200),
    ("approvals.verify", "GET"): (None, None, 200),
    ("approvals.verify", "POST"): (None, None, 422),
    ("approvals.ballot", "GET"): ("ballot.view", "ballot", 200),
    ("approvals.open_ballot", "POST"): ("ballot.manage", "ballot", 303),
    ("approvals.close_ballot", "POST"): ("ballot.manage", "ballot", 303),
    ("approvals.vote", "POST"): ("ballot.vote", "ballot", 303),
    # attachments: downloads walk an id that exists nowhere, so an allowed reader gets 404 after the guard
    ("attachments.upload_tavolo", "POST"): ("attachment.add", "body", 422),
    ("attachments.download_tavolo", "GET"): ("attachment.view", "body", 404),
    ("attachments.remove_tavolo", "POST"): ("attachment.remove", "body", 422),
    ("attachments.upload_card", "POST"): ("attachment.add", "card", 422),
    ("attachments.download_card", "GET"): ("attachment.view", "card", 404),
    ("attachments.remove_card", "POST"): ("attachment.remove", "card", 422),
    ("attachments.upload_meeting", "POST"): ("meeting.attachments", "meeting", 422),
    ("attachments.download_meeting", "GET"): ("attachment.view", "meeting", 404),
    ("attachments.remove_meeting", "POST"): ("meeting.attachments", "meeting", 422),
    ("accounts.logout", "POST"): ("account.view", None, 302),
    ("accounts.sign_out_everywhere", "POST"): ("account.edit", None, 302),
}

# An allowed POST sent without its fields either does what it does and redirects (or answers JSON), or is
# refused as bad input with its Italian message (400, 409 for a state that does not allow it, 422); never
# 403, 404 or 500. GETs and public routes answer exactly the status in ROUTES.
ALLOWED_POST = frozenset({200, 201, 302, 303, 400, 409, 422})
# Public routes that answer differently to someone already signed in: the sign-in pages send them home.
PUBLIC_SIGNED_IN = {("accounts.login", "GET"): 302, ("accounts.login", "POST"): 302}
# Walked last, in this order: removing the sample comment, then ending the session.
WALKED_LAST = ["comments.remove", "accounts.logout", "accounts.sign_out_everywhere"]


def matrix() -> dict[str, dict[str, str]]:
    """The table of docs/permissions.md: action -> column -> cell."""
    lines = DOCS.read_text(encoding="utf-8").splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("| action | Admin"))
    assert [c.strip() for c in lines[header].strip("|").split("|")][1:] == COLUMNS
    table: dict[str, dict[str, str]] = {}
    for line in lines[header + 2 :]:
        if not line.startswith("|"):
            break
        cells = [c.strip() for c in line.strip("|").split("|")]
        names = re.findall(r"`([a-z_.]+)`", re.sub(r"\([^)]*\)", "", cells[0]))
        assert names and len(cells) == len(COLUMNS) + 1, line
        for name in names:
            assert name not in table, f"{name} twice in the matrix"
            table[name] = dict(zip(COLUMNS, cells[1:], strict=True))
    return table


MATRIX = matrix()


def test_the_matrix_names_every_action_of_the_policy_and_no_other() -> None:
    from pdz import policy

    assert set(MATRIX) == set(policy.RULES)
    assert {cell for row in MATRIX.values() for cell in row.values()} <= {
        "✓",
        "–",
        "own",
        "✓¹",
        "✓²",
        "³",
        "⁴",
        "⁵",
        "⁶",
    }


def test_every_route_is_listed_with_its_documented_action(app: Any) -> None:
    listed = {
        (rule.endpoint, method)
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static"
        for method in (rule.methods or set()) & {"GET", "POST"}
    }
    assert sorted(listed - set(ROUTES)) == [], "add these routes to ROUTES"
    assert sorted(set(ROUTES) - listed) == []
    for (_endpoint, _method), (action, _subject, _status) in ROUTES.items():
        assert action is None or action in MATRIX


def test_every_route_has_a_policy_guard(app: Any) -> None:
    unguarded = [
        rule.endpoint
        for rule in app.url_map.iter_rules()
        if rule.endpoint != "static" and getattr(app.view_functions[rule.endpoint], "_pdz_rule", None) is None
    ]
    assert unguarded == []


# --- who is what, from the demo's memberships (never from the policy) ------------------------------------


class Facts:
    """The demo facts a cell of the matrix depends on, read from the database."""

    def __init__(self, db: Any, user: Any) -> None:
        from pdz.tavoli.models import Body, Membership

        self.db, self.user = db, user
        rows = db.session.execute(
            select(Membership.body_id, Membership.role, Body.kind)
            .join(Body, Body.id == Membership.body_id)
            .where(Membership.user_id == user.id, Membership.ended_at.is_(None))
        ).all()
        self.roles = {body_id: str(role) for body_id, role, _kind in rows}
        self.kinds = {str(kind) for _body_id, _role, kind in rows}

    def column(self, body: Any) -> str:
        if self.user.is_admin:
            return "Admin"
        if self.user.is_udp:
            return "UdP"
        role = self.roles.get(body.id) if body is not None else None
        if role is None:
            return "Signed in"
        if role in ("coordinatore_pubblico", "coordinatore_ets"):
            return "Coord."
        return "Observer" if role == "osservatore" else "Member"

    def footnote(self, number: str, body: Any, obj: Any) -> bool:
        if number == "¹":  # when a member of that body
            return body is not None and body.id in self.roles
        if number == "²":  # only the secretary
            return body is not None and self.roles.get(body.id) == "segretario"
        if number == "³":  # a member of the UdP Integrato
            return "udp_integrato" in self.kinds
        if number == "⁴":  # approved, or a member of a body of the chain
            return obj.status == "approvata" or bool({s.body_kind for s in obj.steps} & self.kinds)
        if number == "⁵":  # co-coordinators of the reviewing body: the column is already relative to it
            return body is not None and self.roles.get(body.id) in (
                "coordinatore_pubblico",
                "coordinatore_ets",
            )
        if number == "⁶":  # members of the UdP Integrato, the Comitato Ristretto or the Assemblea
            return bool({"udp_integrato", "comitato_ristretto", "assemblea_sindaci"} & self.kinds)
        raise AssertionError(number)

    def allowed(self, action: str, body: Any, obj: Any, owner_id: int | None) -> bool:
        row = MATRIX[action]
        column = self.column(body)
        read_only = body is not None and str(body.status) != "attivo"
        if read_only and row["closed, suspended"] == "–" and column != "Admin":
            return False
        cell = row[column]
        if cell == "✓":
            return True
        if cell == "–":
            return False
        if cell == "own":
            return owner_id == self.user.id
        return self.footnote(cell[-1], body, obj)


def _step_body(db: Any, submission: Any) -> Any:
    from pdz.tavoli.models import Body

    step = submission.steps[submission.step_index] if submission.step_index < len(submission.steps) else None
    if step is None:
        return None
    return db.session.scalar(
        select(Body).where(Body.kind == step.body_kind, Body.status == "attivo").order_by(Body.id).limit(1)
    )


def subject_of(
    db: Any, samples: dict[str, Any], action: str, subject: str | None
) -> tuple[Any, Any, int | None]:
    """(the body the matrix's columns are relative to, the object, its owner's id) for a route's subject."""
    from pdz.approvals.models import Ballot, Submission
    from pdz.cards.models import Card
    from pdz.comments.models import Comment
    from pdz.evaluation.models import SwotAssessment
    from pdz.meetings.models import Meeting
    from pdz.notifications.models import Notification
    from pdz.tavoli.models import Body

    if subject is None or subject == "plan":
        return None, None, None
    if subject == "body":
        return db.session.get(Body, samples["body_id"]), None, None
    if subject == "card":
        card = db.session.get(Card, samples["card_id"])
        return card.body, card, None
    if subject == "meeting":
        meeting = db.session.get(Meeting, samples["meeting_id"])
        return meeting.body, meeting, None
    if subject == "assessment":
        assessment = db.session.get(SwotAssessment, samples["assessment_id"])
        return assessment.body, assessment, None
    if subject == "comment":
        comment = db.session.get(Comment, samples["comment_id"])
        return db.session.get(Body, comment.body_id), comment, comment.author_id
    if subject == "notification":
        note = db.session.get(Notification, samples["notification_id"])
        return db.session.get(Body, note.body_id), note, note.user_id
    if subject == "submission":
        submission = db.session.get(Submission, samples["submission_id"])
        body = _step_body(db, submission) if action == "approval.review" else submission.body
        return body, submission, None
    if subject == "ballot":
        ballot = db.session.get(Ballot, samples["ballot_id"])
        return ballot.meeting.body, ballot, None
    raise AssertionError(subject)


# --- the objects walked ---------------------------------------------------------------------------------


def _samples(db: Any, body: Callable[[str], Any]) -> dict[str, Any]:
    """One real object per URL argument, in the Tavolo Povertà where it has one, chosen so POSTs never touch
    the roles' own accounts."""
    from pdz.accounts.models import Invitation, User
    from pdz.approvals.models import Ballot, PlanDocument, Submission
    from pdz.cards.models import Card, CardBudgetLine, CardIndicator
    from pdz.cycles.models import FundAllocation, PlanningCycle
    from pdz.db import utcnow
    from pdz.evaluation.models import ObjectiveEvaluation, SwotAssessment, SwotEntry
    from pdz.meetings.models import Meeting, MeetingStatus, MinutesStatus
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
    if meeting.actions:
        # an action's owner may mark it done (docs/permissions.md, note under the table): the sample action is
        # owned by someone who is none of the walked roles, so the walk checks the rule for everyone else (the
        # demo draws owners at random along a calendar that moves with today)
        meeting.actions[0].owner_id = filler.user_id
        db.session.commit()
    comment = _comment_by(db, povertà, filler.user)
    card_id = db.session.scalar(select(Card.id).where(Card.body_id == povertà.id).order_by(Card.id))
    return {
        "assessment_id": assessment.id,
        "cycle_id": db.session.scalar(select(PlanningCycle.id).where(PlanningCycle.start_year == 2021)),
        "entry_id": db.session.scalar(select(SwotEntry.id).where(SwotEntry.assessment_id == assessment.id)),
        "evaluation_id": db.session.scalar(select(ObjectiveEvaluation.id).order_by(ObjectiveEvaluation.id)),
        "meeting_id": meeting.id,
        "notification_id": _notification_for(db, "membro@example.org", povertà.id),  # membro's own
        "comment_id": comment.id,
        "thread_id": comment.thread_id,
        "card_id": card_id,
        "kind": "budget",
        "indicator_id": db.session.scalar(
            select(CardIndicator.id).where(CardIndicator.card_id == card_id).order_by(CardIndicator.id)
        ),
        "row_id": db.session.scalar(
            select(CardBudgetLine.id).where(CardBudgetLine.card_id == card_id).order_by(CardBudgetLine.id)
        ),
        "allocation_id": db.session.scalar(select(FundAllocation.id).order_by(FundAllocation.id).limit(1)),
        "item_id": meeting.items[0].id,
        "attendance_id": meeting.attendances[0].id,
        "action_id": meeting.actions[0].id if meeting.actions else 0,
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
        # the card still under review at the UdP Integrato; the demo's first ballot; the Piano Operativo
        "submission_id": db.session.scalar(
            select(Submission.id).where(Submission.status == "in_esame").order_by(Submission.id).limit(1)
        ),
        "ballot_id": db.session.scalar(select(Ballot.id).order_by(Ballot.id).limit(1)),
        "plan_id": db.session.scalar(select(PlanDocument.id).where(PlanDocument.kind == "piano_operativo")),
        "fmt": "pdf",
        "attachment_id": 2**31 - 1,  # no such attachment (see ROUTES)
    }


def _comment_by(db: Any, tavolo: Any, author: Any) -> Any:
    """A new comment on the tavolo's own thread, written by `author`."""
    import uuid

    from pdz.comments.services import create_comment

    with current_app.test_request_context():
        comment, _created = create_comment(
            tavolo, "tavolo", tavolo.id, "", "Un commento.", client_op_id=str(uuid.uuid4()), actor=author
        )
        db.session.commit()
    return comment


def _notification_for(db: Any, email: str, body_id: int) -> int:
    from pdz.accounts.models import User
    from pdz.notifications.models import Notification, NotificationKind

    owner = db.session.scalar(select(User).where(User.email == email))
    note = Notification(
        user_id=owner.id,
        kind=NotificationKind.MENTION,
        body_id=body_id,
        target_kind="tavolo",
        target_id=body_id,
        text="x",
        url="/",
    )
    db.session.add(note)
    db.session.commit()
    return int(note.id)


def _request(samples: dict[str, Any], endpoint: str) -> dict[str, Any]:
    """What a route reads besides its URL: comment routes name their thread."""
    target = {"target_kind": "tavolo", "target_id": samples["body_id"]}
    return {
        "comments.thread": {"query_string": {"kind": "tavolo", "id": samples["body_id"]}},
        "comments.create": {"json": {**target, "text": ""}},
        "comments.edit": {"json": {"text": ""}},
        "comments.mark_read": {"json": {"thread_id": samples["thread_id"], "last_comment_id": 0}},
        "comments.follow": {"json": {**target, "follow": True}},
    }.get(endpoint, {"data": {}})


def _audit_count(db: Any) -> int:
    from pdz.audit import AuditEntry

    db.session.expire_all()
    return int(db.session.scalar(select(func.count()).select_from(AuditEntry)) or 0)


def walk(
    app: Any,
    db: Any,
    samples: dict[str, Any],
    email: str | None,
    only: Callable[[str | None, str | None, str], bool],
) -> list[str]:
    """Every route (those `only` keeps) as `email`: the differences from the expected answers."""
    from conftest import login
    from pdz.accounts.models import User

    client = app.test_client()
    if email:
        login(client, email)
    actor = db.session.scalar(select(User).where(User.email == email)) if email else None
    mismatches = []
    last = {endpoint: n + 1 for n, endpoint in enumerate(WALKED_LAST)}
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: (last.get(r.endpoint, 0), r.rule)):
        if rule.endpoint == "static":
            continue
        missing = [arg for arg in rule.arguments if arg not in samples]
        assert not missing, f"add a sample for {missing} used by {rule.rule}"
        url = rule.build({arg: samples[arg] for arg in rule.arguments})[1]
        for method in sorted((rule.methods or set()) & {"GET", "POST"}):
            action, subject, allowed_status = ROUTES[(rule.endpoint, method)]
            if not only(action, subject, method):
                continue
            db.session.expire_all()
            if action is None:
                expected, allowed = allowed_status, True
                if actor is not None:
                    expected = PUBLIC_SIGNED_IN.get((rule.endpoint, method), allowed_status)
            elif actor is None:
                expected, allowed = 302, False
            else:
                body, obj, owner_id = subject_of(db, samples, action, subject)
                allowed = Facts(db, actor).allowed(action, body, obj, owner_id)
                expected = allowed_status if allowed else 403
                if allowed and method == "POST":  # sent without its fields: done, or refused as bad input
                    expected = ALLOWED_POST
            before = _audit_count(db) if not allowed else 0
            response = client.open(url, method=method, **_request(samples, rule.endpoint))
            got = response.status_code
            if actor is None and action is not None and not (got == 302 and "/login" in response.location):
                mismatches.append(
                    f"{method} {url} ({action}) anonymous: expected the sign-in page, got {got}"
                )
            elif isinstance(expected, frozenset) and got in expected:
                pass
            elif got != expected:
                mismatches.append(f"{method} {url} ({action}) as {email}: expected {expected}, got {got}")
            elif not allowed and _audit_count(db) != before:
                mismatches.append(
                    f"{method} {url} ({action}) as {email}: refused, yet something was recorded"
                )
    return mismatches


@pytest.mark.parametrize("email", ROLES)
def test_every_route_answers_as_the_matrix_says(
    app: Any, db: Any, body: Callable[[str], Any], email: str | None
) -> None:
    mismatches = walk(app, db, _samples(db, body), email, lambda action, subject, method: True)
    assert not mismatches, "\n".join(mismatches)


@pytest.mark.parametrize("state", ["concluso", "sospeso"])
def test_a_closed_or_suspended_tavolo_refuses_writes_and_still_reads(
    app: Any, db: Any, body: Callable[[str], Any], state: str
) -> None:
    """The Tavolo Povertà closed, then suspended: its routes walked by its co-coordinator, a member, an
    observer and the Ufficio di Piano; the matrix's last column says which are refused."""
    from pdz.tavoli.models import Membership

    samples = _samples(db, body)
    povertà = body("Tavolo Povertà")
    emails = [
        "coord.pubblico@example.org",
        "membro@example.org",
        "osservatore@example.org",
        "udp@example.org",
    ]
    author = db.session.get(Membership, samples["membership_id"]).user
    comments = {email: _comment_by(db, povertà, author).id for email in emails}  # one each: some remove it
    povertà.status = state
    db.session.commit()

    def writes(action: str | None, subject: str | None, method: str) -> bool:
        """The tavolo's routes whose action the matrix refuses on a closed or suspended body."""
        in_tavolo = subject in {"body", "card", "meeting", "assessment", "comment"}
        return in_tavolo and action is not None and MATRIX[action]["closed, suspended"] == "–"

    for email in emails:
        samples["comment_id"] = comments[email]
        mismatches = walk(app, db, samples, email, writes)
        assert not mismatches, "\n".join(mismatches)
