"""What can be submitted for approval, and how each kind of document is frozen into canonical content.

Each kind registers a `Source`: how to load it, which body owns it, its title and page, and the builder of its
canonical content (see `document.py`). Content is always built in Italian (`force_locale`), so the fingerprint
does not depend on the language of whoever submitted it. Plan documents register themselves in `plans.py`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from .. import signals
from ..cards import queries as card_queries
from ..cards.fields import FIELDS, GROUPS
from ..cards.models import CardStatus
from ..cards.rows import INDICATOR_KIND_LABELS, INDICATOR_SET_LABELS, PNRR_MEASURES, SOURCE_LABELS
from ..cycles.funds import splits_of
from ..cycles.models import PolicyArea
from ..evaluation.models import Dimension, Quadrant, SwotAssessment, SwotEntry
from ..extensions import db
from ..formatting import format_local, local
from ..labels import label
from ..meetings import queries as meeting_queries
from ..meetings.models import MeetingStatus
from ..money import format_cents
from ..tavoli.models import Body
from . import document as doc
from .models import OPEN_STATUSES, DocKind, Submission, SubmissionStatus


@dataclass(frozen=True)
class Source:
    kind: DocKind
    load: Callable[[int], Any]  # id -> object or None
    body_of: Callable[[Any], Body]  # the body that submits it (a tavolo, or the Ufficio di Piano)
    title: Callable[[Any], str]
    url_of: Callable[[Any], str]
    build: Callable[[Any], doc.Content]
    cycle_id_of: Callable[[Any], int | None] = lambda obj: None
    on_status: Callable[[Any, str], None] | None = None  # keep the document's own status in step
    ready: Callable[[Any], str | None] | None = None  # why it cannot be submitted yet, or None


SOURCES: dict[DocKind, Source] = {}


def register(source: Source) -> Source:
    SOURCES[source.kind] = source
    return source


def get(kind: DocKind | str) -> Source:
    return SOURCES[DocKind(kind)]


def content_of(kind: DocKind | str, obj: Any) -> doc.Content:
    with force_locale("it"):
        return get(kind).build(obj)


# --- objective cards -------------------------------------------------------------------------------


def _load_card(ident: int) -> Any:
    return card_queries.card_page(ident)


def _choices_text(spec: Any, value: str, areas: dict[str, str]) -> str:
    options = areas if spec.kind == "area_choices" else spec.options
    return ", ".join(options.get(v, v) for v in value.split("\n") if v) if value else ""


def card_content(card: Any) -> doc.Content:
    areas = {a.key: f"{a.code} – {a.name}" for a in db.session.scalars(select(PolicyArea))}
    values = {v.key: v.value_source for v in card.values}

    budget_rows, budget_data = [], []
    total = 0
    splits = splits_of([line.id for line in card.budget_lines])
    for line in card.budget_lines:
        source_label = SOURCE_LABELS.get(line.source, str(line.source))
        split = splits.get(line.id, {})
        budget_rows.append(
            [
                source_label,
                line.description,
                format_cents(line.amount_cents),
                "; ".join(f"{y}: {format_cents(c)}" for y, c in sorted(split.items())) or "—",
                "sì" if line.counted else "no",
            ]
        )
        budget_data.append(
            {
                "source": str(line.source),
                "source_label": source_label,
                "description": line.description,
                "amount_cents": line.amount_cents,
                "years": {str(y): c for y, c in sorted(split.items())},
                "counted": line.counted,
            }
        )
        if line.counted and line.amount_cents:
            total += line.amount_cents
    sections = []
    for group in GROUPS:
        blocks: list[dict[str, Any]] = []
        for spec in (s for s in FIELDS if s.group == group):
            value = values.get(spec.key, "")
            if spec.kind in {"choices", "area_choices"}:
                value = _choices_text(spec, value, areas)
            elif spec.kind == "yesno":
                value = spec.options.get(value, "")
            elif spec.kind == "tags":
                value = ", ".join(v for v in value.split("\n") if v)
            blocks.append(doc.field(spec.label, value, markdown=spec.kind == "markdown"))
        if group == "Titolo, obiettivi e azioni":
            blocks.append(
                doc.table(
                    "Obiettivi da raggiungere",
                    ["N.", "Obiettivo"],
                    [[str(i), o.text] for i, o in enumerate(card.objectives, 1)],
                )
            )
            blocks.append(
                doc.table(
                    "Azioni programmate",
                    ["N.", "Azione"],
                    [[str(i), a.text_source] for i, a in enumerate(card.actions, 1)],
                )
            )
        if group == "Risorse":
            blocks.append(
                doc.table(
                    "Risorse economiche preventivate",
                    ["Fonte", "Descrizione", "Importo", "Per anno", "Nel totale"],
                    budget_rows,
                    ["Totale stimato", "", format_cents(total), "", ""],
                )
            )
            if card.declared_total_cents is not None:
                blocks.append(
                    doc.field("Totale dichiarato nella scheda", format_cents(card.declared_total_cents))
                )
            blocks.append(
                doc.table(
                    "Risorse di personale dedicate",
                    ["Ente o ruolo", "N. persone", "Funzione"],
                    [[p.organisation, p.quantity, p.function] for p in card.personnel],
                )
            )
            blocks.append(
                doc.table(
                    "Misure PNRR connesse",
                    ["Misura", "Finanziata per", "Descrizione"],
                    [
                        [PNRR_MEASURES.get(p.measure, p.measure), format_cents(p.amount_cents), p.note]
                        for p in card.pnrr
                    ],
                )
            )
        sections.append(doc.section(group, blocks))
    sections.append(
        doc.section(
            "Indicatori",
            [
                doc.table(
                    "Indicatori",
                    ["Insieme", "Indicatore", "Tipologia", "Valore di partenza", "Valore atteso", "Unità"],
                    [
                        [
                            INDICATOR_SET_LABELS.get(i.set, str(i.set)),
                            i.name,
                            INDICATOR_KIND_LABELS.get(i.kind, str(i.kind)),
                            i.baseline,
                            i.target,
                            i.unit,
                        ]
                        for i in card.indicators
                    ],
                )
            ],
        )
    )
    area = card.area
    data = {
        "card_id": card.id,
        "key": card.key,
        "area": {"key": area.key, "code": area.code, "name": area.name, "position": area.position}
        if area
        else None,
        "body": card.body.name,
        "budget": budget_data,
        "total_cents": total,
        "objectives": [o.text for o in card.objectives],
        "actions": [a.text_source for a in card.actions],
        "personnel": [
            {"organisation": p.organisation, "quantity": p.quantity, "function": p.function}
            for p in card.personnel
        ],
        "indicators": [
            {
                "id": i.id,
                "set": str(i.set),
                "name": i.name,
                "kind": str(i.kind),
                "baseline": i.baseline,
                "target": i.target,
                "unit": i.unit,
            }
            for i in card.indicators
        ],
    }
    subtitle = " · ".join(
        x for x in [f"Area {area.code} – {area.name}" if area else "", card.body.name, card.cycle.name] if x
    )
    return doc.document("scheda", card.title, subtitle, {"card_id": card.id}, sections, data)


def _card_status(card: Any, status: str) -> None:
    """The one writer of a card's status: it follows its latest submission's."""
    card.status = {
        SubmissionStatus.IN_REVIEW: CardStatus.REVIEW,
        SubmissionStatus.AWAITING_VOTE: CardStatus.REVIEW,
        SubmissionStatus.APPROVED: CardStatus.AGREED,
    }.get(SubmissionStatus(status), CardStatus.DRAFT)


@signals.card_status_asked.connect
def _card_in_approval(card: Any) -> str | None:
    """While a version of the card is under approval, its status follows the chain, for everyone."""
    status = db.session.scalar(
        select(Submission.status)
        .where(Submission.document_kind == DocKind.CARD, Submission.document_id == card.id)
        .order_by(Submission.round.desc())
        .limit(1)
    )
    if status in OPEN_STATUSES:
        return _(
            "Questa scheda è in approvazione: il suo stato lo decide il percorso di approvazione, "
            "non si cambia a mano."
        )
    return None


register(
    Source(
        kind=DocKind.CARD,
        load=_load_card,
        body_of=lambda card: card.body,
        title=lambda card: card.title,
        url_of=lambda card: url_for("cards.detail", card_id=card.id),
        build=card_content,
        cycle_id_of=lambda card: card.cycle_id,
        on_status=_card_status,
    )
)


# --- SWOT self-evaluations -------------------------------------------------------------------------


def _load_swot(ident: int) -> Any:
    return db.session.scalar(
        select(SwotAssessment)
        .where(SwotAssessment.id == ident)
        .options(
            selectinload(SwotAssessment.entries).selectinload(SwotEntry.tags),
            selectinload(SwotAssessment.body),
            selectinload(SwotAssessment.cycle),
        )
        .execution_options(populate_existing=True)
    )


def swot_content(assessment: Any) -> doc.Content:
    sections = []
    for dimension in Dimension:
        rows = []
        for quadrant in Quadrant:
            for entry in (
                e for e in assessment.entries if e.dimension == dimension and e.quadrant == quadrant
            ):
                rows.append([label(quadrant), entry.text_source, ", ".join(t.name for t in entry.tags)])
        sections.append(
            doc.section(label(dimension), [doc.table(label(dimension), ["Quadrante", "Voce", "Temi"], rows)])
        )
    title = f"Autovalutazione SWOT {assessment.year} – {assessment.body.name}"
    return doc.document(
        "swot",
        title,
        f"{label(assessment.kind)} · {assessment.cycle.name}",
        {"swot_id": assessment.id},
        sections,
        {"body": assessment.body.name, "year": assessment.year},
    )


register(
    Source(
        kind=DocKind.SWOT,
        load=_load_swot,
        body_of=lambda a: a.body,
        title=lambda a: f"SWOT {a.year} – {a.body.display_name}",
        url_of=lambda a: url_for("evaluation.swot", assessment_id=a.id),
        build=swot_content,
        cycle_id_of=lambda a: a.cycle_id,
    )
)


# --- minutes ---------------------------------------------------------------------------------------


def _load_meeting(ident: int) -> Any:
    return meeting_queries.meeting_page(ident)


def minutes_content(meeting: Any) -> doc.Content:
    attendance = [
        [a.organisation.name, a.user.full_name, label(a.status)]
        for a in sorted(meeting.attendances, key=lambda a: (a.organisation.name, a.user.full_name))
    ]
    sections = [doc.section("Presenze", [doc.table("Presenze", ["Ente", "Persona", "Presenza"], attendance)])]
    for n, item in enumerate(meeting.items, 1):
        decisions = [d.text for d in meeting.decisions if d.item_id == item.id]
        blocks = [doc.field("Verbale", item.minutes_source, markdown=True)]
        if decisions:
            blocks.append(
                doc.table("Decisioni", ["N.", "Decisione"], [[str(i), t] for i, t in enumerate(decisions, 1)])
            )
        sections.append(doc.section(f"{n}. {item.title}", blocks))
    actions = [
        [a.title, a.owner.full_name, a.organisation.name, format_local(a.due_on, "day") if a.due_on else ""]
        for a in meeting.actions
    ]
    sections.append(
        doc.section("Azioni", [doc.table("Azioni da svolgere", ["Azione", "Chi", "Ente", "Entro"], actions)])
    )
    subtitle = f"{meeting.body.name} · {format_local(meeting.starts_at, 'stamp')} · {meeting.place or meeting.video_url}"
    return doc.document(
        "verbale",
        f"Verbale – {meeting.title}",
        subtitle,
        {"meeting_id": meeting.id},
        sections,
        {"body": meeting.body.name, "date": local(meeting.starts_at).date().isoformat()},
    )


register(
    Source(
        kind=DocKind.MINUTES,
        load=_load_meeting,
        body_of=lambda m: m.body,
        title=lambda m: f"Verbale – {m.title}",
        url_of=lambda m: url_for("meetings.detail", meeting_id=m.id),
        build=minutes_content,
        ready=lambda m: (
            None
            if m.status == MeetingStatus.CONCLUDED
            else "Il verbale si invia dopo la conclusione dell'incontro."
        ),
    )
)
