"""Hooks between domains (blinker signals, as Flask and Indico use them).

Domains form layers: a domain imports only the ones below it (`tests/test_import_graph.py` checks that the
packages have no cycle). When a lower domain must let a higher one act, it sends one of these signals and
the higher domain connects a receiver at import time (every domain is imported by `create_app`). Receivers
run synchronously, in the sender's transaction: an exception they raise (e.g. `Invalid`) stops the sender.

Layers, lowest first: accounts, territory, cycles, orgs, coedit, tavoli, comments, notifications, cards,
evaluation, meetings, approvals, accordo, attachments; then the read-only domains participation, search, home, help,
admin.
"""

from __future__ import annotations

from blinker import Namespace

_signals = Namespace()

# accounts -> tavoli: a person accepted an invitation (sender: the Invitation; user=the User). The tavolo
# adds the membership through its services (audit, live event, closed-body check).
invitation_accepted = _signals.signal("invitation-accepted")

# cards -> approvals: someone asks to change a card's status by hand (sender: the Card). Receivers return why
# the status is not theirs to change now (the card is under approval), or None.
card_status_asked = _signals.signal("card-status-asked")

# orgs -> tavoli: the organisation's page lists the bodies it sits in (sender: the Organisation). Receivers
# return a list of Membership rows.
organisation_memberships = _signals.signal("organisation-memberships")

# cycles -> cards: the funds page compares allocations with what the cards plan (sender: the PlanningCycle).
# Receivers return {(year, source value): cents}.
programmed_by_year = _signals.signal("programmed-by-year")

# comments -> notifications: a comment was posted (sender: the Comment; thread, target, obj, body, parent,
# mentioned, actor as keywords). Notifications tells the followers, the mentioned and the replied-to.
comment_posted = _signals.signal("comment-posted")

# meetings -> approvals: a meeting is about to be concluded (sender: the Meeting). A receiver raises
# `Invalid` to refuse (a ballot of the approval chain is still open in it).
meeting_concluding = _signals.signal("meeting-concluding")

# meetings -> attachments: the convocation mail and the minutes PDF list the files attached to a meeting
# (sender: the Meeting). Mail: receivers return lines of text. PDF (heading, normal: the paragraph styles as
# keywords): receivers return reportlab flowables.
meeting_mail_lines = _signals.signal("meeting-mail-lines")
meeting_minutes_flowables = _signals.signal("meeting-minutes-flowables")

# meetings -> approvals: a body approved the minutes of one of its meetings at a later meeting (sender: the
# Meeting whose minutes are approved; approved_in=the later Meeting, actor=the User recording it). Approvals
# freezes the minutes as an approved version with its fingerprint; a receiver raises `Invalid` to refuse.
minutes_approved = _signals.signal("minutes-approved")

# accordo -> anyone above: the last signatory signed the Accordo di Programma, so the cycle's Piano di Zona is
# approved and signed (sender: the Accordo). Nothing connects yet; notifications or exports may.
accordo_signed_by_all = _signals.signal("accordo-signed-by-all")
