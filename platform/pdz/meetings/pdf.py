"""The minutes (verbale) as PDF, with reportlab (BSD): header, attendance, items, decisions, actions."""

from __future__ import annotations

from io import BytesIO
from typing import Any
from xml.sax.saxutils import escape

from flask_babel import gettext as _
from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import getSampleStyleSheet
from reportlab.lib.units import cm
from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

from .. import labels, signals
from ..formatting import format_local
from .models import Meeting


def _p(text: str, style: Any) -> Paragraph:
    return Paragraph(escape(text or "").replace("\n", "<br/>"), style)


def minutes_pdf(meeting: Meeting, quorum: Any) -> bytes:
    styles = getSampleStyleSheet()
    normal, heading, title = styles["BodyText"], styles["Heading2"], styles["Title"]
    story: list[Any] = [
        _p(_("Verbale – %(b)s", b=meeting.body.name), title),
        _p(meeting.title, styles["Heading3"]),
        _p(
            _(
                "%(d)s, dalle %(s)s alle %(e)s – %(p)s",
                d=format_local(meeting.starts_at, "day"),
                s=format_local(meeting.starts_at, "time"),
                e=format_local(meeting.ends_at, "time"),
                p=meeting.place or meeting.video_url,
            ),
            normal,
        ),
        _p(
            labels.label(meeting.minutes_status)
            + (f" ({format_local(meeting.approved_in.starts_at, 'day')})" if meeting.approved_in else ""),
            normal,
        ),
        Spacer(1, 0.4 * cm),
        _p(_("Presenze"), heading),
    ]
    rows = [[_("Persona"), _("Ente"), _("Stato")]]
    for a in sorted(meeting.attendances, key=lambda a: (a.organisation.name, a.user.full_name)):
        state = labels.label(a.status)
        if a.stands_for is not None:
            state += " – " + _("delegato per %(n)s", n=a.stands_for.full_name)
        if a.left_at:
            state += " – " + _("uscito alle %(t)s", t=format_local(a.left_at, "time"))
        rows.append([_p(a.user.full_name, normal), _p(a.organisation.name, normal), _p(state, normal)])
    table = Table(rows, colWidths=[5 * cm, 6.5 * cm, 5.5 * cm], repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#eef1f4")),
            ]
        )
    )
    story.append(table)
    if quorum is not None and quorum.applies:
        story.append(
            _p(
                _(
                    "Numero legale: %(p)s su %(t)s (richiesto %(r)s)",
                    p=quorum.present,
                    t=quorum.total,
                    r=quorum.required,
                ),
                normal,
            )
        )
    for item in meeting.items:
        story.append(_p(f"{item.position}. {item.title}", heading))
        story.append(_p(item.minutes_source or "—", normal))
        for decision in meeting.decisions:
            if decision.item_id == item.id:
                story.append(_p(_("Decisione: %(t)s", t=decision.text), normal))
    general = [d for d in meeting.decisions if d.item_id is None]
    if general:
        story.append(_p(_("Decisioni"), heading))
        story.extend(_p(d.text, normal) for d in general)
    if meeting.actions:
        story.append(_p(_("Azioni"), heading))
        action_rows = [[_("Azione"), _("Responsabile"), _("Scadenza"), _("Stato")]]
        for action in meeting.actions:
            action_rows.append(
                [
                    _p(action.title, normal),
                    _p(f"{action.owner.full_name} ({action.organisation.name})", normal),
                    format_local(action.due_on, "day") if action.due_on else "—",
                    labels.label(action.status),
                ]
            )
        actions = Table(action_rows, colWidths=[6.5 * cm, 5.5 * cm, 2.5 * cm, 2.5 * cm], repeatRows=1)
        actions.setStyle(
            TableStyle([("GRID", (0, 0), (-1, -1), 0.3, colors.grey), ("VALIGN", (0, 0), (-1, -1), "TOP")])
        )
        story.append(actions)
    for _receiver, flowables in signals.meeting_minutes_flowables.send(
        meeting, heading=heading, normal=normal
    ):
        story.extend(flowables)  # the files attached to the meeting
    buffer = BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        title=f"Verbale {meeting.title}",
        author="PdZ Ambito Cremasco",
        leftMargin=2 * cm,
        rightMargin=2 * cm,
        topMargin=2 * cm,
        bottomMargin=2 * cm,
    )
    doc.build(story)
    return buffer.getvalue()
