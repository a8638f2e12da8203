"""Pages of the approval chain: submit, review, vote, plans, exports, the public list and verification."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from flask import (
    Response,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from .. import policy
from ..cards import queries as card_queries
from ..cards.models import Card
from ..comments import targets
from ..cycles.models import CycleStatus, PlanningCycle
from ..evaluation.models import SwotAssessment
from ..extensions import db
from ..formatting import format_local
from ..inputs import parse_int
from ..labels import label
from ..meetings.models import Meeting
from ..policy import guard, public
from ..tavoli.models import BodyKind
from ..webutil import run
from . import (
    assembly,
    bp,
    coedit,
    export,
    operativo_choices,
    pdz,
    pdz_chapters,
    pdz_export,
    queries,
    services,
    sources,
)
from . import document as doc
from . import labels as _labels  # noqa: F401 - registers the Italian labels of the approval enums
from .models import PLAN_KINDS, Ballot, DocKind, PlanDocument, Step, StepMode, Submission, SubmissionStatus

FORMATS = {
    "pdf": "application/pdf",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
}


def _act(
    action: Callable[[], Any], back: str, done: str | None = None, then: Callable[[Any], str] | None = None
) -> Any:
    """A form's action through `webutil.run`: refusals come back as a message on the page the person came
    from (`back`); on success `done` is flashed and `then` (given what the action returned) says where to go,
    else back. A form sent twice (same idempotency key) acts once and gets the first answer again."""

    def answer(result: Any) -> Any:
        if done:
            flash(done, "success")
        return redirect(then(result) if then else back, 303)

    return run(action, answer, page=back, once=str(request.endpoint))


def _version() -> int:
    return parse_int(request.form.get("version")) or 0


# --- a document's approval page (cards, SWOT, minutes, plans) ---------------------------------------


def _document_page(kind: DocKind, obj: Any, checklist: list[Any] | None = None) -> Any:
    content, fingerprint = services.current_content(kind, obj)
    history = queries.rounds(kind, obj.id)
    approved = next((s for s in history if s.status == SubmissionStatus.APPROVED), None)
    changes = queries.differences(services.content(approved), content) if approved else []
    source = sources.get(kind)
    return render_template(
        "approvals/document.html",
        kind=kind,
        obj=obj,
        content=content,
        fingerprint=fingerprint,
        history=history,
        approved=approved,
        changes=changes,
        source_url=source.url_of(obj),
        title=source.title(obj),
        can_submit=policy.can(current_user, "approval.submit", source.body_of(obj)),
        problem=source.ready(obj) if source.ready else None,
        chain=services.chain_for(kind),
        submit_url=request.path,
        checklist=checklist,
    )


def _submit(kind: DocKind, obj: Any, back: str | None = None) -> Any:
    return _act(
        lambda: services.submit(
            kind,
            obj,
            expected_fingerprint=request.form.get("fingerprint", ""),
            note=request.form.get("note", ""),
            asst_integration=request.form.get("asst_integration", ""),
            actor=current_user,
        ),
        back or request.path,
        _(
            "Inviato per l'approvazione: la versione inviata è congelata, le modifiche successive restano in bozza."
        ),
        then=lambda sub: url_for("approvals.submission", submission_id=sub.id),
    )


@bp.get("/schede/<int:card_id>/approvazione")
@guard("card.view", Card, "card_id", "card")
def card_document(card: Card) -> Any:
    page = card_queries.card_page(card.id)
    assert page is not None
    checklist = card_queries.checklist(page, page.value_map())
    return _document_page(DocKind.CARD, sources.get(DocKind.CARD).load(card.id), checklist)


@bp.post("/schede/<int:card_id>/approvazione")
@guard("card.submit", Card, "card_id", "card")
def card_submit(card: Card) -> Any:
    return _submit(DocKind.CARD, sources.get(DocKind.CARD).load(card.id))


@bp.get("/swot/<int:assessment_id>/approvazione")
@guard("swot.view", SwotAssessment, "assessment_id", "assessment")
def swot_document(assessment: SwotAssessment) -> Any:
    return _document_page(DocKind.SWOT, sources.get(DocKind.SWOT).load(assessment.id))


@bp.post("/swot/<int:assessment_id>/approvazione")
@guard("swot.submit", SwotAssessment, "assessment_id", "assessment")
def swot_submit(assessment: SwotAssessment) -> Any:
    return _submit(DocKind.SWOT, sources.get(DocKind.SWOT).load(assessment.id))


@bp.get("/incontri/<int:meeting_id>/verbale/approvazione")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def minutes_document(meeting: Meeting) -> Any:
    return _document_page(DocKind.MINUTES, sources.get(DocKind.MINUTES).load(meeting.id))


@bp.post("/incontri/<int:meeting_id>/verbale/approvazione")
@guard("minutes.submit", Meeting, "meeting_id", "meeting")
def minutes_submit(meeting: Meeting) -> Any:
    return _submit(DocKind.MINUTES, sources.get(DocKind.MINUTES).load(meeting.id))


# --- a submission: review, send back, schedule, vote ------------------------------------------------


@bp.get("/approvazioni/<int:submission_id>")
@guard("approval.view", Submission, "submission_id", "submission")
def submission(submission: Submission) -> Any:
    sub = queries.submission_page(submission.id)
    assert sub is not None
    source = sources.get(sub.document_kind)
    obj = source.load(sub.document_id)
    readable = obj is not None and policy.can(current_user, _READ[sub.document_kind], obj)
    current = services.current_content(sub.document_kind, obj)[0] if readable else None
    changes = queries.differences(services.content(sub), current) if current is not None else []
    ballots = queries.ballots_of(sub)
    may_schedule = policy.can(current_user, "approval.schedule", sub)
    return render_template(
        "approvals/submission.html",
        sub=sub,
        content=services.content(sub),
        intact=services.intact(sub),
        step_body=services.step_body(sub),
        changes=changes,
        ballots=ballots,
        document_url=source.url_of(obj) if obj else None,
        meetings=services.vote_meetings(sub) if may_schedule else [],
        pending_ballot=services.pending_ballot(sub),
        body_names=_body_names(sub),
        # The state as well as the permission: the administrator passes every permission, and offering them
        # "forward" at the vote step hid the form that puts the version on the Assemblea's agenda.
        can_review=sub.status == SubmissionStatus.IN_REVIEW
        and policy.can(current_user, "approval.review", sub),
        can_schedule=may_schedule and sub.status == SubmissionStatus.AWAITING_VOTE,
    )


# Reading the current draft (to compare it with the frozen version) needs the document's own permission.
_READ = {
    DocKind.CARD: "card.view",
    DocKind.SWOT: "swot.view",
    DocKind.MINUTES: "meeting.view",
    DocKind.PIANO_OPERATIVO: "plan.view",
    DocKind.REPORT_ANNUALE: "plan.view",
    DocKind.PIANO_DI_ZONA: "plan.view",
}


def _body_names(sub: Submission) -> dict[str, str]:
    return {step.body_kind.value: label(step.body_kind) for step in sub.steps}


@bp.post("/approvazioni/<int:submission_id>/inoltra")
@guard("approval.review", Submission, "submission_id", "submission")
def forward(submission: Submission) -> Any:
    return _act(
        lambda: services.forward(
            submission, version=_version(), note=request.form.get("note", ""), actor=current_user
        ),
        url_for("approvals.submission", submission_id=submission.id),
        _("Decisione registrata."),
    )


@bp.post("/approvazioni/<int:submission_id>/restituisci")
@guard("approval.review", Submission, "submission_id", "submission")
def send_back(submission: Submission) -> Any:
    return _act(
        lambda: services.send_back(
            submission, version=_version(), note=request.form.get("note", ""), actor=current_user
        ),
        url_for("approvals.submission", submission_id=submission.id),
        _("Documento restituito al tavolo con le richieste di modifica."),
    )


@bp.post("/approvazioni/<int:submission_id>/iscrivi")
@guard("approval.schedule", Submission, "submission_id", "submission")
def schedule(submission: Submission) -> Any:
    back = url_for("approvals.submission", submission_id=submission.id)
    meeting = db.session.get(Meeting, parse_int(request.form.get("meeting_id")) or 0)
    if meeting is None:
        flash(_("Scegli l'incontro in cui votare."), "error")
        return redirect(back), 303
    return _act(
        lambda: services.schedule_vote(submission, meeting, actor=current_user),
        back,
        _("Iscritto all'ordine del giorno dell'incontro."),
    )


def _export(sub: Submission, fmt: str) -> Response:
    if fmt not in FORMATS:
        abort(404)
    content = services.content(sub)
    verify_url = url_for("approvals.verify", _external=True)
    status = _status_line(sub)
    if fmt == "json":
        data = sub.content.encode("utf-8")
    else:  # the whole Piano di Zona has its own layout: table of contents, chapter headings, page numbers
        renderer: Any = pdz_export if pdz_export.handles(content) else export
        write = renderer.to_pdf if fmt == "pdf" else renderer.to_docx
        data = write(content, fingerprint=sub.fingerprint, status_line=status, verify_url=verify_url)
    name = f"pdz-{sub.document_kind.value}-{sub.document_id}-v{sub.round}-{sub.fingerprint[:8]}.{fmt}"
    response = Response(data, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    response.headers["X-Pdz-Fingerprint"] = sub.fingerprint
    return response


def _status_line(sub: Submission) -> str:
    when = format_local(sub.decided_at or sub.submitted_at, "day")
    if sub.status == SubmissionStatus.APPROVED:
        return f"Approvato il {when} (versione {sub.round})"
    return f"{label(sub.status)} – versione {sub.round} inviata il {format_local(sub.submitted_at, 'day')}"


@bp.get("/approvazioni/<int:submission_id>/documento.<fmt>")
@guard("approval.view", Submission, "submission_id", "submission")
def download(submission: Submission, fmt: str) -> Any:
    return _export(submission, fmt)


# --- ballots ---------------------------------------------------------------------------------------


@bp.get("/votazioni/<int:ballot_id>")
@guard("ballot.view", Ballot, "ballot_id", "ballot")
def ballot(ballot: Ballot) -> Any:
    row, my_vote = queries.my_seat_vote(ballot, current_user)
    return render_template(
        "approvals/ballot.html",
        ballot=ballot,
        sub=ballot.submission,
        meeting=ballot.meeting,
        votes=queries.votes_of(ballot),
        tally=services.tally(ballot),
        my_row=row,
        my_vote=my_vote,
        can_manage=policy.can(current_user, "ballot.manage", ballot),
    )


@bp.post("/votazioni/<int:ballot_id>/apri")
@guard("ballot.manage", Ballot, "ballot_id", "ballot")
def open_ballot(ballot: Ballot) -> Any:
    return _act(
        lambda: services.open_ballot(ballot, actor=current_user),
        url_for("approvals.ballot", ballot_id=ballot.id),
        _("Votazione aperta."),
    )


@bp.post("/votazioni/<int:ballot_id>/chiudi")
@guard("ballot.manage", Ballot, "ballot_id", "ballot")
def close_ballot(ballot: Ballot) -> Any:
    return _act(
        lambda: services.close_ballot(ballot, actor=current_user),
        url_for("approvals.ballot", ballot_id=ballot.id),
        _("Votazione chiusa: esito registrato nel verbale."),
    )


@bp.post("/votazioni/<int:ballot_id>/voto")
@guard("ballot.vote", Ballot, "ballot_id", "ballot")
def vote(ballot: Ballot) -> Any:
    return _act(
        lambda: services.cast_vote(ballot, request.form.get("choice", ""), actor=current_user),
        url_for("approvals.ballot", ballot_id=ballot.id),
        _("Voto registrato."),
    )


# --- overview, chains, plans -----------------------------------------------------------------------


def _running_cycle() -> PlanningCycle | None:
    return db.session.scalar(
        select(PlanningCycle).where(PlanningCycle.status == CycleStatus.RUNNING).limit(1)
    )


@bp.get("/approvazioni/")
@guard("approval.overview")
def overview() -> Any:
    cycle = _running_cycle()
    return render_template(
        "approvals/overview.html",
        open_subs=queries.visible(current_user, queries.open_submissions()),
        approved=queries.approved_latest(limit=30),
        deadlines=services.deadlines(date.today(), cycle) if cycle else [],
        todo=queries.todo(current_user, date.today()),
        cycle=cycle,
    )


@bp.route("/approvazioni/catene", methods=["GET", "POST"])
@guard("approval.configure")
def chains() -> Any:
    def page() -> Any:
        return render_template(
            "approvals/chains.html",
            kinds=list(services.CHAINED_KINDS),
            chain_for=services.chain_for,
            body_kinds=services.STEP_BODY_KINDS,
            BodyKind=BodyKind,
            modes=list(StepMode),
        )

    if request.method == "POST":
        try:
            kind = DocKind(request.form.get("document_kind", ""))
        except ValueError:
            abort(422)
        steps = []
        for n in range(4):
            body_kind = request.form.get(f"body_kind_{n}", "")
            if body_kind:
                steps.append(
                    {"body_kind": body_kind, "mode": request.form.get(f"mode_{n}", StepMode.REVIEW.value)}
                )

        def saved(_result: Any) -> Any:
            flash(_("Catena di approvazione salvata."), "success")
            return redirect(url_for("approvals.chains")), 303

        return run(lambda: services.configure_chain(kind, steps, actor=current_user), saved, page=page)
    return page()


@bp.get("/piani/")
@guard("plan.view")
def plans() -> Any:
    cycle = _running_cycle()
    items = queries.plans(cycle.id) if cycle else []
    latest = {p.id: services.latest(p.kind, p.id) for p in items}
    return render_template(
        "approvals/plans.html",
        cycle=cycle,
        plans=items,
        latest=latest,
        deadlines=services.deadlines(date.today(), cycle) if cycle else [],
        kinds=sorted(PLAN_KINDS),
        can_manage=policy.can(current_user, "plan.manage"),
    )


@bp.post("/piani/nuovo")
@guard("plan.manage")
def plan_create() -> Any:
    cycle = _running_cycle()
    if cycle is None:
        abort(404)
    try:
        kind = DocKind(request.form.get("kind", ""))
    except ValueError:
        flash(_("Tipo di documento sconosciuto."), "error")
        return redirect(url_for("approvals.plans")), 303
    return _act(
        lambda: assembly.create_plan(
            kind, cycle, parse_int(request.form.get("year")) or 0, actor=current_user
        ),
        url_for("approvals.plans"),
        then=lambda plan: url_for("approvals.plan", plan_id=plan.id),
    )


@bp.get("/piani/<int:plan_id>")
@guard("plan.view", PlanDocument, "plan_id", "plan")
def plan(plan: PlanDocument) -> Any:
    loaded = assembly.load_plan(plan.id)
    assert loaded is not None
    content, fingerprint = services.current_content(loaded.kind, loaded)
    history = queries.rounds(loaded.kind, loaded.id)
    approved = next((s for s in history if s.status == SubmissionStatus.APPROVED), None)
    cards = [c for c in assembly.approved_cards(loaded.cycle_id)[0]]
    operativo = loaded.kind == DocKind.PIANO_OPERATIVO
    return render_template(
        "approvals/plan.html",
        plan=loaded,
        content=content,
        fingerprint=fingerprint,
        history=history,
        approved=approved,
        changes=queries.differences(services.content(approved), content) if approved else [],
        cards=cards,
        entries={e.card_id: e for e in loaded.entries},
        title=assembly.plan_title(loaded),
        can_manage=policy.can(current_user, "plan.manage"),
        problem=assembly.ready(loaded),
        chain=services.chain_for(loaded.kind),
        submit_url=url_for("approvals.plan_submit", plan_id=loaded.id),
        action_forms=operativo_choices.forms(loaded, cards) if operativo else {},
        referent_options=[o[0] for o in operativo_choices.referent_options()] if operativo else [],
        **_pdz_page(loaded),
    )


@bp.post("/piani/<int:plan_id>/azioni")
@guard("plan.manage", PlanDocument, "plan_id", "plan")
def plan_action(plan: PlanDocument) -> Any:
    """The Ufficio di Piano chooses an action of an approved card for the Piano Operativo's year."""
    loaded = assembly.load_plan(plan.id)
    assert loaded is not None
    card_id = parse_int(request.form.get("card_id")) or 0
    card = next(
        (c for c in assembly.approved_cards(loaded.cycle_id)[0] if c["data"]["card_id"] == card_id), None
    )
    budget = {
        line_id: request.form.get(name, "")
        for name in request.form
        if name.startswith("budget-") and (line_id := parse_int(name.removeprefix("budget-"))) is not None
    }
    return _act(
        lambda: operativo_choices.save_action(
            loaded,
            card,
            parse_int(request.form.get("action_id")) or 0,
            selected=request.form.get("selected") == "1",
            referents=request.form.getlist("referent"),
            budget=budget,
            targets=request.form.get("targets", ""),
            timing=request.form.get("timing", ""),
            actor=current_user,
        ),
        url_for("approvals.plan", plan_id=plan.id)
        + f"#azione-{parse_int(request.form.get('action_id')) or 0}",
        _("Azione salvata."),
    )


def _pdz_page(plan: PlanDocument) -> dict[str, Any]:
    """What the Piano di Zona page adds: where each card stands, and the co-written chapters."""
    if plan.kind != DocKind.PIANO_DI_ZONA:
        return {}
    return {
        "card_states": pdz.card_states(plan, parse_int(request.args.get("schede_pagina")) or 1),
        "narrative_labels": pdz_chapters.NARRATIVES,
        "narratives": coedit.narratives(plan),
        "narrative_limit": coedit.NARRATIVE_MAX,
        "coedit_key": coedit.doc_key(plan),
    }


@bp.get("/piani/<int:plan_id>/bozza.<fmt>")
@guard("plan.view", PlanDocument, "plan_id", "plan")
def plan_draft(plan: PlanDocument, fmt: str) -> Any:
    """The current draft as PDF or DOCX, to check the layout before sending it (it verifies as no version)."""
    if fmt not in ("pdf", "docx"):
        abort(404)
    loaded = assembly.load_plan(plan.id)
    assert loaded is not None
    content, fingerprint = services.current_content(loaded.kind, loaded)
    renderer: Any = pdz_export if pdz_export.handles(content) else export
    write = renderer.to_pdf if fmt == "pdf" else renderer.to_docx
    status = f"Bozza non inviata – anteprima del {format_local(date.today(), 'day')}"
    data = write(
        content,
        fingerprint=fingerprint,
        status_line=status,
        verify_url=url_for("approvals.verify", _external=True),
    )
    response = Response(data, mimetype=FORMATS[fmt])
    response.headers["Content-Disposition"] = (
        f'attachment; filename="pdz-bozza-{loaded.kind.value}-{loaded.id}.{fmt}"'
    )
    return response


@bp.post("/piani/<int:plan_id>/esclusioni")
@guard("plan.manage", PlanDocument, "plan_id", "plan")
def plan_exclude(plan: PlanDocument) -> Any:
    return _act(
        lambda: pdz.exclude_card(
            plan,
            parse_int(request.form.get("card_id")) or 0,
            reason=request.form.get("reason", ""),
            actor=current_user,
        ),
        url_for("approvals.plan", plan_id=plan.id, _anchor="schede"),
        _("Scheda esclusa dal Piano: il motivo compare nel documento."),
    )


@bp.post("/piani/<int:plan_id>/esclusioni/annulla")
@guard("plan.manage", PlanDocument, "plan_id", "plan")
def plan_readmit(plan: PlanDocument) -> Any:
    return _act(
        lambda: pdz.readmit_card(plan, parse_int(request.form.get("card_id")) or 0, actor=current_user),
        url_for("approvals.plan", plan_id=plan.id, _anchor="schede"),
        _("Scheda riammessa nel Piano."),
    )


@bp.post("/piani/<int:plan_id>/voci")
@guard("plan.manage", PlanDocument, "plan_id", "plan")
def plan_entry(plan: PlanDocument) -> Any:
    return _act(
        lambda: assembly.save_entry(
            plan,
            parse_int(request.form.get("card_id")) or 0,
            timing=request.form.get("timing", ""),
            done=request.form.get("done", ""),
            committed=request.form.get("committed", ""),
            actor=current_user,
        ),
        url_for("approvals.plan", plan_id=plan.id),
        _("Voce salvata."),
    )


@bp.post("/piani/<int:plan_id>/invia")
@guard("plan.manage", PlanDocument, "plan_id", "plan")
def plan_submit(plan: PlanDocument) -> Any:
    loaded = assembly.load_plan(plan.id)
    if loaded is None:
        abort(404)
    # a refusal (cards missing, a stale fingerprint) is shown on the plan's page: this address has no GET
    return _submit(loaded.kind, loaded, url_for("approvals.plan", plan_id=loaded.id))


# --- public: approved documents and verification -------------------------------------------------


def _public_or_404(submission_id: int) -> Submission:
    sub = queries.submission_page(submission_id)
    if sub is None or sub.status != SubmissionStatus.APPROVED:
        abort(404)
    return sub


PUBLIC_PAGE_SIZE = 50


@bp.get("/pubblico/")
@public
def public_list() -> Any:
    total = queries.approved_count()
    pages = max(1, -(-total // PUBLIC_PAGE_SIZE))
    page = min(max(1, parse_int(request.args.get("pagina")) or 1), pages)
    subs = queries.approved_latest(limit=PUBLIC_PAGE_SIZE, offset=(page - 1) * PUBLIC_PAGE_SIZE)
    return render_template("approvals/public_list.html", subs=subs, page=page, pages=pages, total=total)


@bp.get("/pubblico/<int:submission_id>")
@public
def public_document(submission_id: int) -> Any:
    sub = _public_or_404(submission_id)
    return render_template(
        "approvals/public_document.html", sub=sub, content=services.content(sub), intact=services.intact(sub)
    )


@bp.get("/pubblico/<int:submission_id>/documento.<fmt>")
@public
def public_download(submission_id: int, fmt: str) -> Any:
    return _export(_public_or_404(submission_id), fmt)


@bp.route("/verifica", methods=["GET", "POST"])
@public
def verify() -> Any:
    """Anyone checks a copy: by the fingerprint printed on it, or by uploading the exported file."""
    result: dict[str, Any] | None = None
    status = 200
    if request.method == "POST":
        upload = request.files.get("file")
        typed = (request.form.get("fingerprint") or "").strip().lower()
        if upload and upload.filename:
            data = upload.read(20 * 1024 * 1024 + 1)
            embedded = export.embedded_content(data) if len(data) <= 20 * 1024 * 1024 else None
            if embedded is None:
                result, status = (
                    {
                        "ok": False,
                        "message": _(
                            "Il file non contiene un documento PdZ leggibile: "
                            "carica il PDF, il DOCX o il JSON scaricato dalla piattaforma."
                        ),
                    },
                    422,
                )
            else:
                found = doc.fingerprint_bytes(embedded)
                result = _match(found, _("Impronta ricalcolata dal file: %(f)s", f=found))
                if result.get("sub") is not None and not _same_visible_text(result["sub"], data):
                    result = {
                        "ok": False,
                        "how": result["how"],
                        "sub": result["sub"],
                        "message": _(
                            "Il file contiene i dati di una versione approvata, ma il testo che si legge nel file è stato "
                            "modificato: la copia NON corrisponde."
                        ),
                    }
                    status = 422
        elif typed:
            result = _match(typed, _("Impronta cercata: %(f)s", f=typed))
        else:
            result, status = (
                {
                    "ok": False,
                    "message": _("Inserisci l'impronta stampata sul documento oppure carica il file."),
                },
                422,
            )
    return render_template("approvals/verify.html", result=result), status


def _same_visible_text(sub: Submission, data: bytes) -> bool:
    """A PDF or DOCX must also read as the platform renders that version (JSON files are the content itself)."""
    seen = export.visible_text(data)
    if seen is None:
        return not (data.startswith(b"%PDF") or data.startswith(b"PK"))
    fmt = "pdf" if data.startswith(b"%PDF") else "docx"
    return export.visible_text(_export(sub, fmt).get_data()) == seen


def _match(fingerprint: str, how: str) -> dict[str, Any]:
    sub = db.session.scalar(
        select(Submission)
        .where(Submission.fingerprint == fingerprint, Submission.status == SubmissionStatus.APPROVED)
        .limit(1)
    )
    if sub is None:
        return {
            "ok": False,
            "how": how,
            "message": _(
                "Nessun documento approvato ha questa impronta: la copia non "
                "corrisponde a una versione approvata."
            ),
        }
    return {
        "ok": services.intact(sub),
        "how": how,
        "sub": sub,
        "message": _("La copia corrisponde alla versione approvata di «%(t)s».", t=sub.title),
    }


# --- template helpers ------------------------------------------------------------------------------


@bp.app_template_filter("step_label")
def step_label(step: Step) -> str:
    return f"{label(step.body_kind)} – {label(step.mode)}"


@bp.app_template_filter("status_label")
def status_label(value: str) -> str:
    return label(SubmissionStatus(value))


def _register_comment_target() -> None:
    targets.register(
        "submission",
        load=lambda ident: db.session.get(Submission, ident),
        body_of=lambda sub: sub.body,
        url_of=lambda sub: url_for("approvals.submission", submission_id=sub.id),
        label=lambda sub: f"{sub.title} (v{sub.round})",
    )


_register_comment_target()


@bp.app_template_global("meeting_ballots")
def meeting_ballots(meeting_id: int) -> dict[int, Ballot]:
    """Ballots of a meeting keyed by agenda item (one query), for the meeting page."""
    return queries.ballots_for_meeting(meeting_id)


@bp.app_template_global("approved_minutes")
def approved_minutes(meeting_id: int) -> Submission | None:
    """The frozen, approved version of a meeting's minutes (with its fingerprint), if any."""
    latest = services.latest(DocKind.MINUTES, meeting_id)
    return latest if latest is not None and latest.status == SubmissionStatus.APPROVED else None
