from __future__ import annotations

from typing import Any

import segno
from flask import Response, abort, current_app, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy import or_, select

from .. import policy, webutil
from ..accounts.models import Affiliation, User
from ..comments import queries as comment_queries
from ..db import unit_of_work, utcnow
from ..errors import EditConflict, Invalid
from ..extensions import db, limiter
from ..formatting import format_local, local
from ..inputs import EmptyForm, payload
from ..labels import options
from ..policy import can, guard, public
from ..tavoli.models import Body, Membership
from ..webutil import attach_errors
from . import (
    agenda,
    answers,
    attendance,
    bp,
    comment_targets,  # noqa: F401 - registers the threads on agenda items
    common,
    ics,
    lifecycle,
    pdf,
    proposals,
    queries,
)
from . import calendar as calendar_services
from . import labels as _labels  # noqa: F401 - registers the Italian labels of the meeting enums
from . import minutes as minutes_services
from .forms import (
    ActionForm,
    AgendaItemForm,
    ApproveForm,
    CheckinForm,
    DecisionForm,
    MarkForm,
    MeetingForm,
    ProposalForm,
    QuorumForm,
    RegisterForm,
    RsvpForm,
    parse_date,
    parse_int,
    parse_time,
)
from .models import ActionStatus, CalendarFeed, MajorityKind, Meeting, MeetingStatus, QuorumKind, RsvpAnswer


def _page(meeting: Meeting) -> Meeting:
    loaded = queries.meeting_page(meeting.id)
    assert loaded is not None
    return loaded


# --- lists -----------------------------------------------------------------------------------------


@bp.get("/incontri/")
@guard("meeting.calendar")
def calendar() -> Any:
    upcoming = queries.my_meetings(current_user, upcoming_only=True)
    past = [m for m in queries.my_meetings(current_user, limit=40) if m not in upcoming]
    return render_template(
        "meetings/calendar.html",
        upcoming=upcoming,
        past=past,
        answers=queries.my_answers(current_user, upcoming),
        actions=queries.open_actions(owner=current_user),
        feed=calendar_services.calendar_feed(current_user),
        empty_form=EmptyForm(),
    )


@bp.get("/incontri/mese")
@guard("meeting.calendar")
def month() -> Any:
    first = calendar_services.parse_month(request.args.get("mese"), local(utcnow()).date())
    start, end = calendar_services.month_bounds(first)
    meetings = queries.month_meetings(current_user, start, end)
    return render_template(
        "meetings/month.html",
        first=first,
        weeks=calendar_services.month_weeks(first, meetings),
        has_meetings=bool(meetings),
        previous=calendar_services.shift_month(first, -1),
        following=calendar_services.shift_month(first, 1),
        today=local(utcnow()).date(),
    )


@bp.post("/incontri/calendario/nuovo-indirizzo")
@guard("meeting.calendar")
def reset_feed() -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    with unit_of_work():
        calendar_services.reset_calendar_feed(actor=current_user)
    flash(_("Nuovo indirizzo del calendario creato: quello precedente non funziona più."), "success")
    return redirect(url_for("meetings.calendar"))


@bp.post("/incontri/calendario/revoca")
@guard("meeting.calendar")
def revoke_feed() -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    with unit_of_work():
        calendar_services.revoke_calendar_feed(actor=current_user)
    flash(_("Indirizzo del calendario disattivato."), "success")
    return redirect(url_for("meetings.calendar"))


@bp.get("/calendario/<token>.ics")
@public
def feed(token: str) -> Any:
    found = (
        db.session.scalar(select(CalendarFeed).where(CalendarFeed.token == token))
        if len(token) >= 32
        else None
    )
    if found is None or not found.user.active:
        abort(404)
    body = ics.calendar(
        queries.feed_meetings(found.user), name=_("Incontri PdZ – %(n)s", n=found.user.full_name)
    )
    return Response(body, mimetype="text/calendar", headers={"Cache-Control": "private, no-store"})


@bp.get("/tavoli/<int:body_id>/incontri")
@guard("meeting.list", Body, "body_id", "body")
def body_list(body: Body) -> Any:
    upcoming, past = queries.body_meetings(body)
    return render_template(
        "meetings/body.html",
        body=body,
        upcoming=upcoming,
        past=past,
        actions=queries.open_actions(body=body),
        rule=attendance.rule_for(body),
        participation_link=can(current_user, "participation.view_tavolo", body),
    )


@bp.route("/tavoli/<int:body_id>/incontri/nuovo", methods=["GET", "POST"])
@guard("meeting.schedule", Body, "body_id", "body")
def create(body: Body) -> Any:
    form = MeetingForm(title=_("Incontro del %(b)s", b=body.display_name))
    if form.validate_on_submit():

        def created(meeting: Meeting) -> Any:
            flash(_("Incontro creato in bozza: prepara l'ordine del giorno, poi convoca."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))

        return webutil.run(
            lambda: lifecycle.schedule_meeting(body, **form.values(), actor=current_user),  # type: ignore[arg-type]
            created,
            page=lambda: render_template("meetings/edit.html", form=form, body=body, meeting=None),
            form=form,
            once="meeting.create",
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("meetings/edit.html", form=form, body=body, meeting=None), status


@bp.route("/tavoli/<int:body_id>/incontri/numero-legale", methods=["GET", "POST"])
@guard("meeting.quorum.configure", Body, "body_id", "body")
def quorum_rule(body: Body) -> Any:
    rule = attendance.rule_for(body)
    form = QuorumForm(
        kind=rule.kind.value,
        numerator=str(rule.numerator),
        denominator=str(rule.denominator),
        weighted=rule.weighted,
        majority=rule.majority.value,
    )
    if form.validate_on_submit():

        def saved(_rule: Any) -> Any:
            flash(_("Regola del numero legale salvata."), "success")
            return redirect(url_for("meetings.body_list", body_id=body.id))

        return webutil.run(
            lambda: attendance.configure_quorum(
                body,
                QuorumKind(form.kind.data),
                parse_int(form.numerator.data) or 0,
                parse_int(form.denominator.data) or 0,
                bool(form.weighted.data),
                majority=MajorityKind(form.majority.data),
                actor=current_user,
            ),
            saved,
            page=lambda: render_template("meetings/quorum.html", form=form, body=body),
            form=form,
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("meetings/quorum.html", form=form, body=body), status


# --- one meeting -----------------------------------------------------------------------------------


def _with_cards(form: AgendaItemForm, meeting: Meeting) -> AgendaItemForm:
    """Offer the cards this agenda may link (only where the agenda form is shown)."""
    if meeting.status in (MeetingStatus.DRAFT, MeetingStatus.CONVENED) and can(
        current_user, "meeting.manage", meeting
    ):
        form.cards.choices = [
            (str(card.id), f"{card.key or '—'} · {card.title} ({card.body.display_name})")
            for card in agenda.linkable_cards(meeting, actor=current_user)
        ]
    return form


def _with_proposal_cards(form: ProposalForm, meeting: Meeting) -> ProposalForm:
    """Offer the cards a proposal may name (only where the proposal form is shown: a draft, to members)."""
    if meeting.status == MeetingStatus.DRAFT and can(current_user, "meeting.agenda.propose", meeting):
        form.cards.choices = [
            (str(card.id), f"{card.key or '—'} · {card.title} ({card.body.display_name})")
            for card in agenda.linkable_cards(meeting, actor=current_user)
        ]
    return form


def _detail(meeting: Meeting, status: int = 200, **forms: Any) -> Any:
    meeting = _page(meeting)
    rsvp = next((r for r in meeting.rsvps if r.user_id == current_user.id), None)
    rsvp_form = forms.get("rsvp_form") or RsvpForm(
        answer=rsvp.answer.value if rsvp else None, delegate_id=str(rsvp.delegate_id or "") if rsvp else ""
    )
    rsvp_form.delegate_id.choices = options(
        [("", "—")] + [(str(u.id), u.full_name) for u in answers.delegates_for(current_user, meeting)]
    )
    mine = next((a for a in meeting.attendances if a.user_id == current_user.id), None)
    # Agenda item threads are read by the body's readers (a named delegate sees the meeting, not them).
    threads = policy.can(current_user, "tavolo.view", meeting.body)
    item_ids = [i.id for i in meeting.items]
    item_unread = (
        comment_queries.unread_by_target(current_user, "meeting_item", item_ids)
        if threads and item_ids
        else {}
    )
    return render_template(
        "meetings/detail.html",
        threads=threads,
        item_unread=item_unread,
        meeting=meeting,
        body=meeting.body,
        rsvp=rsvp,
        rsvp_form=rsvp_form,
        checkin_form=forms.get("checkin_form") or CheckinForm(),
        item_form=_with_cards(forms.get("item_form") or AgendaItemForm(), meeting),
        proposals=proposals.proposals(meeting),
        proposal_form=_with_proposal_cards(forms.get("proposal_form") or ProposalForm(), meeting),
        decline_errors=forms.get("decline_errors") or {},
        my_attendance=mine,
        quorum=attendance.quorum(meeting) if meeting.status != MeetingStatus.DRAFT else None,
        empty_form=EmptyForm(),
        current_item=next((i for i in meeting.items if i.id == meeting.current_item_id), None),
    ), status


@bp.get("/incontri/<int:meeting_id>")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def detail(meeting: Meeting) -> Any:
    return _detail(meeting)


@bp.get("/incontri/<int:meeting_id>/evento.ics")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def event_ics(meeting: Meeting) -> Any:
    if meeting.status == MeetingStatus.DRAFT:
        abort(404)
    return Response(
        ics.calendar([_page(meeting)], method="PUBLISH"),
        mimetype="text/calendar",
        headers={"Content-Disposition": f'attachment; filename="incontro-{meeting.id}.ics"'},
    )


@bp.route("/incontri/<int:meeting_id>/modifica", methods=["GET", "POST"])
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def edit(meeting: Meeting) -> Any:
    when, until = local(meeting.starts_at), local(meeting.ends_at)
    form = MeetingForm(
        title=meeting.title,
        day=when.date().isoformat(),
        start=when.strftime("%H:%M"),
        end=until.strftime("%H:%M"),
        place=meeting.place,
        video_url=meeting.video_url,
    )
    if form.validate_on_submit():

        def saved(_result: Any) -> Any:
            flash(_("Incontro aggiornato."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))

        return webutil.run(
            lambda: lifecycle.update_meeting(meeting, **form.values(), actor=current_user),  # type: ignore[arg-type]
            saved,
            page=lambda: render_template("meetings/edit.html", form=form, body=meeting.body, meeting=meeting),
            form=form,
        )
    status = 422 if form.errors or form.form_errors else 200
    return render_template("meetings/edit.html", form=form, body=meeting.body, meeting=meeting), status


def _simple(meeting: Meeting, action: Any, message: str, target: str = "meetings.detail") -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def done(_result: Any) -> Any:
        if webutil.wants_json():
            return jsonify(ok=True)
        flash(message, "success")
        return redirect(url_for(target, meeting_id=meeting.id))

    return webutil.run(lambda: action(meeting, actor=current_user), done, page=lambda: _detail(meeting))


@bp.post("/incontri/<int:meeting_id>/convoca")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def publish(meeting: Meeting) -> Any:
    return _simple(
        meeting, lifecycle.publish_meeting, _("Incontro convocato: i componenti hanno ricevuto l'invito.")
    )


@bp.post("/incontri/<int:meeting_id>/annulla")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def cancel(meeting: Meeting) -> Any:
    return _simple(meeting, lifecycle.cancel_meeting, _("Incontro annullato."))


@bp.post("/incontri/<int:meeting_id>/avvia")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def start(meeting: Meeting) -> Any:
    return _simple(
        meeting,
        lifecycle.start_meeting,
        _("Incontro avviato: mostra il codice per registrare le presenze."),
        "meetings.run",
    )


@bp.post("/incontri/<int:meeting_id>/chiudi")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def conclude(meeting: Meeting) -> Any:
    return _simple(meeting, lifecycle.conclude_meeting, _("Incontro concluso."), "meetings.minutes")


# --- agenda ----------------------------------------------------------------------------------------


@bp.post("/incontri/<int:meeting_id>/ordine-del-giorno")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def add_item(meeting: Meeting) -> Any:
    form = AgendaItemForm()
    if form.validate_on_submit():

        def added(_item: Any) -> Any:
            flash(_("Punto aggiunto all'ordine del giorno."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#agenda")

        return webutil.run(
            lambda: agenda.add_agenda_item(meeting, **form.values(), actor=current_user),  # type: ignore[arg-type]
            added,
            page=lambda: _detail(meeting, item_form=form),
            form=form,
            once="meeting.agenda_item.create",
            flash_general=True,
        )
    return _detail(meeting, 422, item_form=form)


@bp.route("/incontri/<int:meeting_id>/ordine-del-giorno/<int:item_id>", methods=["GET", "POST"])
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def edit_item(meeting: Meeting, item_id: int) -> Any:
    item = common.find_item(meeting, item_id)
    links = "\n".join(f"{link['title']} | {link['url']}" for link in item.links)
    cards = [str(card.id) for card in agenda.load_item_cards(item)]
    form = _with_cards(
        AgendaItemForm(
            version=str(item.version),
            title=item.title,
            description=item.description,
            presenter=item.presenter,
            planned_minutes=str(item.planned_minutes or ""),
            links=links,
            cards=cards,
        ),
        meeting,
    )
    status = 200
    if form.validate_on_submit():
        # by hand, not webutil.run: a conflict reloads the item and shows its current version beside the form
        try:
            with unit_of_work():
                agenda.update_agenda_item(
                    meeting,
                    item_id,
                    version=parse_int(form.version.data) or 0,
                    **form.values(),  # type: ignore[arg-type]
                    actor=current_user,
                )
        except EditConflict as conflict:
            db.session.refresh(item)
            form.version.data = str(item.version)
            form.form_errors.append(conflict.message)
            return render_template(
                "meetings/item.html", form=form, meeting=meeting, item=item, conflict=conflict
            ), 409
        except Invalid as error:
            attach_errors(form, error)
        else:
            flash(_("Punto aggiornato."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#agenda")
        status = 422
    return render_template("meetings/item.html", form=form, meeting=meeting, item=item, conflict=None), status


@bp.post("/incontri/<int:meeting_id>/ordine-del-giorno/<int:item_id>/elimina")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def delete_item(meeting: Meeting, item_id: int) -> Any:
    return _simple(
        meeting, lambda m, actor: agenda.delete_agenda_item(m, item_id, actor=actor), _("Punto eliminato.")
    )


@bp.post("/incontri/<int:meeting_id>/ordine-del-giorno/<int:item_id>/sposta")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def move_item(meeting: Meeting, item_id: int) -> Any:
    direction = -1 if request.form.get("direction") == "up" else 1
    return _simple(
        meeting,
        lambda m, actor: agenda.move_agenda_item(m, item_id, direction, actor=actor),
        _("Ordine aggiornato."),
    )


# --- agenda proposals (the agenda drafted together) -------------------------------------------------------


@bp.post("/incontri/<int:meeting_id>/proposte")
@guard("meeting.agenda.propose", Meeting, "meeting_id", "meeting")
def propose(meeting: Meeting) -> Any:
    form = ProposalForm()
    if form.validate_on_submit():

        def proposed(_proposal: Any) -> Any:
            flash(_("Proposta inviata ai co-coordinatori: la vedi qui sotto con il suo stato."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#proposte")

        return webutil.run(
            lambda: proposals.propose_item(meeting, **form.values(), actor=current_user),  # type: ignore[arg-type]
            proposed,
            page=lambda: _detail(meeting, proposal_form=form),
            form=form,
            once="meeting.proposal.create",
            flash_general=True,
        )
    return _detail(meeting, 422, proposal_form=form)


@bp.post("/incontri/<int:meeting_id>/proposte/accetta")
@guard("meeting.agenda.review", Meeting, "meeting_id", "meeting")
def accept_proposal(meeting: Meeting) -> Any:
    proposal_id = parse_int(request.form.get("proposal_id"))
    return _simple(
        meeting,
        lambda m, actor: proposals.accept_proposal(m, proposal_id, actor=actor),
        _("Proposta accettata: è l'ultimo punto dell'ordine del giorno. Spostalo dove serve."),
    )


@bp.post("/incontri/<int:meeting_id>/proposte/respingi")
@guard("meeting.agenda.review", Meeting, "meeting_id", "meeting")
def decline_proposal(meeting: Meeting) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    proposal_id = parse_int(request.form.get("proposal_id"))
    problems = webutil.Problems()

    def declined(_proposal: Any) -> Any:
        flash(_("Proposta respinta: chi l'ha fatta legge il motivo."), "success")
        return redirect(url_for("meetings.detail", meeting_id=meeting.id) + "#proposte")

    def again() -> Any:  # a missing reason goes under the proposal's reason box, anything else on top
        if "reason" not in problems.errors:
            flash(problems.message, "error")
        return _detail(meeting, decline_errors={proposal_id: problems.errors.get("reason")})

    return webutil.run(
        lambda: proposals.decline_proposal(
            meeting, proposal_id, request.form.get("reason", ""), actor=current_user
        ),
        declined,
        page=again,
        form=problems,
    )


# --- answers and check-in ----------------------------------------------------------------------------


@bp.post("/incontri/<int:meeting_id>/risposta")
@guard("meeting.respond", Meeting, "meeting_id", "meeting")
def answer(meeting: Meeting) -> Any:
    form = RsvpForm()
    form.delegate_id.choices = []
    if form.validate_on_submit():

        def answered(_rsvp: Any) -> Any:
            flash(_("Risposta registrata."), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))

        return webutil.run(
            lambda: answers.answer_invitation(
                meeting,
                RsvpAnswer(form.answer.data),
                parse_int(form.delegate_id.data),
                actor=current_user,
            ),
            answered,
            page=lambda: _detail(meeting, rsvp_form=form),
            form=form,
        )
    form.answer.errors = [_("Scegli una risposta.")]
    return _detail(meeting, 422, rsvp_form=form)


def _per_user() -> str:
    return f"checkin:{getattr(current_user, 'id', None) or request.remote_addr}"


@bp.post("/incontri/<int:meeting_id>/registrazione")
@limiter.limit("30 per minute", key_func=_per_user)  # short codes: no guessing by brute force
@guard("meeting.checkin", Meeting, "meeting_id", "meeting")
def checkin(meeting: Meeting) -> Any:
    form = CheckinForm()
    if form.validate_on_submit():

        def checked_in(_row: Any) -> Any:
            flash(_("Presenza registrata. Benvenuto!"), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))

        return webutil.run(
            lambda: attendance.check_in(meeting, form.code.data or "", actor=current_user),
            checked_in,
            page=lambda: _detail(meeting, checkin_form=form),
            form=form,
            once="meeting.checkin",
        )
    return _detail(meeting, 422, checkin_form=form)


@bp.app_template_global("checkin_link")
def checkin_link(meeting: Meeting) -> str:
    """The address the QR code shown in the room leads to (with the meeting's check-in code)."""
    path = url_for("meetings.qr_checkin", meeting_id=meeting.id, codice=meeting.checkin_code or "")
    return current_app.config["PDZ_BASE_URL"].rstrip("/") + path


@bp.app_template_global("checkin_qr")
def checkin_qr(meeting: Meeting) -> Markup:
    """The QR code of `checkin_link` as inline SVG (no script, no style: CSP-safe), drawn on the server."""
    qr = segno.make(checkin_link(meeting), error="m")
    return Markup(  # noqa: S704 - segno's own SVG (paths) and our constant title, escaped by segno
        qr.svg_inline(scale=4, border=2, dark="#000", light="#fff", svgclass="qr-code", title=_("Codice QR"))
    )


@bp.route("/incontri/<int:meeting_id>/presenza", methods=["GET", "POST"])
@limiter.limit("30 per minute", key_func=_per_user, methods=["POST"])
@guard("meeting.checkin", Meeting, "meeting_id", "meeting")
def qr_checkin(meeting: Meeting) -> Any:
    """Where the QR code leads: one button marks the signed-in member present (the code comes in the link)."""
    form = CheckinForm(code=request.args.get("codice", ""))

    def page() -> Any:
        return render_template("meetings/checkin.html", meeting=_page(meeting), body=meeting.body, form=form)

    if form.validate_on_submit():

        def checked_in(_row: Any) -> Any:
            flash(_("Presenza registrata. Benvenuto!"), "success")
            return redirect(url_for("meetings.detail", meeting_id=meeting.id))

        return webutil.run(
            lambda: attendance.check_in(meeting, form.code.data or "", actor=current_user),
            checked_in,
            page=page,
            form=form,
            once="meeting.checkin",
        )
    return page(), 422 if request.method == "POST" else 200


# --- live screen and attendance -----------------------------------------------------------------------


def _run_page(meeting: Meeting, status: int = 200, **forms: Any) -> Any:
    meeting = _page(meeting)
    register_form = forms.get("register_form") or RegisterForm()
    registered = {a.user_id for a in meeting.attendances}
    members = list(
        db.session.scalars(
            select(Membership).where(Membership.body_id == meeting.body_id, Membership.ended_at.is_(None))
        )
    )
    member_ids = [m.user_id for m in members]
    org_ids = {m.organisation_id for m in members}
    people = list(
        db.session.scalars(  # members, and whoever may stand in for them (same organisation)
            select(User)
            .where(
                User.active.is_(True),
                or_(
                    User.id.in_(member_ids),
                    User.id.in_(select(Affiliation.user_id).where(Affiliation.organisation_id.in_(org_ids))),
                ),
            )
            .order_by(User.full_name)
        )
    )
    names = {u.id: u.full_name for u in people}
    register_form.user_id.choices = options(
        [("", "—")] + [(str(u.id), u.full_name) for u in people if u.id not in registered]
    )
    register_form.stands_for_id.choices = options(
        [("", _("nessuna: è componente"))] + [(str(i), names.get(i, "?")) for i in member_ids if i in names]
    )
    return render_template(
        "meetings/run.html",
        meeting=meeting,
        body=meeting.body,
        quorum=attendance.quorum(meeting),
        # the minutes are written here too, while the meeting runs (the same co-written document)
        write=can(current_user, "meeting.minutes.write", meeting)
        and minutes_services.minutes_writable(meeting),
        limits={"item": minutes_services.MAX_MINUTES_CHARS, "decision": minutes_services.MAX_DECISION_CHARS},
        register_form=register_form,
        mark_form=MarkForm(),
        undo=attendance.last_undoable(meeting, current_user),
        marks=[
            ("presente", _("Presente")),
            ("assente", _("Assente")),
            ("giustificato", _("Assente giustificato")),
            ("ritardo", _("Arrivato in ritardo")),
            ("uscita", _("Uscito in anticipo")),
        ],
        empty_form=EmptyForm(),
    ), status


@bp.get("/incontri/<int:meeting_id>/regia")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def run(meeting: Meeting) -> Any:
    return _run_page(meeting)


@bp.post("/incontri/<int:meeting_id>/punto-corrente")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def current_item(meeting: Meeting) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    data = payload()
    with unit_of_work():
        item = lifecycle.set_current_item(meeting, parse_int(data.get("item_id")) or 0, actor=current_user)
        answer = {"ok": True, "item_id": item.id, "title": item.title}
    if webutil.wants_json():
        return jsonify(answer)
    return redirect(url_for("meetings.run", meeting_id=meeting.id))


@bp.post("/incontri/<int:meeting_id>/presenze")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def register(meeting: Meeting) -> Any:
    form = RegisterForm()
    if form.validate_on_submit():

        def registered(_row: Any) -> Any:
            flash(_("Presenza registrata."), "success")
            return redirect(url_for("meetings.run", meeting_id=meeting.id) + "#presenze")

        return webutil.run(
            lambda: attendance.register_attendance(
                meeting,
                parse_int(form.user_id.data) or 0,
                stands_for_id=parse_int(form.stands_for_id.data),
                actor=current_user,
            ),
            registered,
            page=lambda: _run_page(meeting, register_form=form),
            form=form,
            once="meeting.attendance.create",
            flash_general=True,
        )
    return _run_page(meeting, 422, register_form=form)


@bp.post("/incontri/<int:meeting_id>/presenze/<int:attendance_id>")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def mark(meeting: Meeting, attendance_id: int) -> Any:
    form = MarkForm()
    if not form.validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    return webutil.run(
        lambda: attendance.mark_attendance(
            meeting, attendance_id, form.mark.data or "", parse_time(form.at.data), actor=current_user
        ),
        lambda _row: redirect(url_for("meetings.run", meeting_id=meeting.id) + "#presenze"),
        page=lambda: _run_page(meeting),
    )


@bp.post("/incontri/<int:meeting_id>/presenze/tutti-presenti")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def mark_all(meeting: Meeting) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def marked(count: int) -> Any:
        flash(
            ngettext("%(num)d persona segnata presente.", "%(num)d persone segnate presenti.", count),
            "success",
        )
        return redirect(url_for("meetings.run", meeting_id=meeting.id) + "#presenze")

    return webutil.run(
        lambda: attendance.mark_all_present(meeting, actor=current_user),
        marked,
        page=lambda: _run_page(meeting),
    )


@bp.post("/incontri/<int:meeting_id>/presenze/annulla")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def undo_attendance(meeting: Meeting) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))

    def undone(_count: int) -> Any:
        flash(_("Modifica annullata: le presenze sono tornate com'erano."), "success")
        return redirect(url_for("meetings.run", meeting_id=meeting.id) + "#presenze")

    return webutil.run(
        lambda: attendance.undo_attendance(
            meeting, parse_int(request.form.get("entry_id")), actor=current_user
        ),
        undone,
        page=lambda: _run_page(meeting),
    )


@bp.get("/incontri/<int:meeting_id>/numero-legale")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def quorum(meeting: Meeting) -> Any:
    return jsonify(attendance.quorum(meeting).as_dict())


# --- minutes ---------------------------------------------------------------------------------------


def _minutes_page(meeting: Meeting, status: int = 200, **forms: Any) -> Any:
    meeting = _page(meeting)
    item_choices = [("", _("Incontro in generale"))] + [
        (str(i.id), f"{i.position}. {i.title}") for i in meeting.items
    ]
    decision_form = forms.get("decision_form") or DecisionForm()
    decision_form.item_id.choices = options(item_choices)
    action_form = forms.get("action_form") or ActionForm()
    action_form.item_id.choices = options(item_choices)
    people = sorted({a.user for a in meeting.attendances}, key=lambda u: u.full_name)
    action_form.owner_id.choices = options([("", "—")] + [(str(u.id), u.full_name) for u in people])
    orgs = sorted({a.organisation for a in meeting.attendances}, key=lambda o: o.name)
    action_form.organisation_id.choices = options(
        [("", _("l'ente che rappresenta"))] + [(str(o.id), o.name) for o in orgs]
    )
    approve_form = forms.get("approve_form") or ApproveForm()
    candidates = minutes_services.approving_candidates(meeting)
    approve_form.approving_meeting_id.choices = options(
        [(str(m.id), f"{format_local(m.starts_at, 'day')} – {m.title}") for m in candidates]
    )
    return render_template(
        "meetings/minutes.html",
        meeting=meeting,
        body=meeting.body,
        decision_form=decision_form,
        action_form=action_form,
        approve_form=approve_form,
        candidates=candidates,
        empty_form=EmptyForm(),
        items=queries.item_titles(meeting),
        write=can(current_user, "meeting.minutes.write", meeting)
        and minutes_services.minutes_writable(meeting),
        limits={"item": minutes_services.MAX_MINUTES_CHARS, "decision": minutes_services.MAX_DECISION_CHARS},
    ), status


@bp.get("/incontri/<int:meeting_id>/verbale")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def minutes(meeting: Meeting) -> Any:
    return _minutes_page(meeting)


@bp.post("/incontri/<int:meeting_id>/decisioni")
@guard("meeting.minutes.write", Meeting, "meeting_id", "meeting")
def add_decision(meeting: Meeting) -> Any:
    form = DecisionForm()
    form.item_id.choices = []
    if form.validate_on_submit():

        def added(_decision: Any) -> Any:
            flash(_("Decisione registrata."), "success")
            return redirect(url_for("meetings.minutes", meeting_id=meeting.id) + "#decisioni")

        return webutil.run(
            lambda: minutes_services.add_decision(
                meeting, parse_int(form.item_id.data), form.text.data or "", actor=current_user
            ),
            added,
            page=lambda: _minutes_page(meeting, decision_form=form),
            form=form,
            once="meeting.decision.create",
            flash_general=True,
        )
    return _minutes_page(meeting, 422, decision_form=form)


@bp.post("/incontri/<int:meeting_id>/azioni")
@guard("meeting.minutes.write", Meeting, "meeting_id", "meeting")
def add_action(meeting: Meeting) -> Any:
    form = ActionForm()
    if form.validate_on_submit():
        due = parse_date(form.due_on.data)

        def add() -> Any:
            if form.due_on.data and due is None:
                raise Invalid(errors={"due_on": _("Data di scadenza non valida.")})
            return minutes_services.add_action(
                meeting,
                parse_int(form.item_id.data),
                form.title.data or "",
                parse_int(form.owner_id.data),
                parse_int(form.organisation_id.data),
                due,
                actor=current_user,
            )

        def added(_action: Any) -> Any:
            flash(_("Azione registrata."), "success")
            return redirect(url_for("meetings.minutes", meeting_id=meeting.id) + "#azioni")

        return webutil.run(
            add,
            added,
            page=lambda: _minutes_page(meeting, action_form=form),
            form=form,
            once="meeting.action.create",
            flash_general=True,
        )
    return _minutes_page(meeting, 422, action_form=form)


@bp.post("/incontri/<int:meeting_id>/azioni/<int:action_id>/stato")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def action_status(meeting: Meeting, action_id: int) -> Any:
    if not EmptyForm().validate_on_submit():
        raise Invalid(_("Richiesta non valida."))
    status = ActionStatus.DONE if request.form.get("status") == ActionStatus.DONE.value else ActionStatus.OPEN
    with unit_of_work():
        minutes_services.set_action_status(meeting, action_id, status, actor=current_user)
    flash(_("Azione aggiornata."), "success")
    return redirect(url_for("meetings.minutes", meeting_id=meeting.id) + "#azioni")


@bp.post("/incontri/<int:meeting_id>/verbale/approva")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def approve(meeting: Meeting) -> Any:
    form = ApproveForm()
    if form.validate_on_submit():

        def approved(_result: Any) -> Any:
            flash(_("Verbale approvato: ora è definitivo."), "success")
            return redirect(url_for("meetings.minutes", meeting_id=meeting.id))

        return webutil.run(
            lambda: minutes_services.approve_minutes(
                meeting, parse_int(form.approving_meeting_id.data), actor=current_user
            ),
            approved,
            page=lambda: _minutes_page(meeting, approve_form=form),
            form=form,
            flash_general=True,
        )
    return _minutes_page(meeting, 422, approve_form=form)


@bp.get("/incontri/<int:meeting_id>/stampa")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def printable(meeting: Meeting) -> Any:
    return render_template("meetings/print.html", meeting=_page(meeting), quorum=attendance.quorum(meeting))


@bp.get("/incontri/<int:meeting_id>/verbale.pdf")
@guard("meeting.view", Meeting, "meeting_id", "meeting")
def minutes_pdf(meeting: Meeting) -> Any:
    data = pdf.minutes_pdf(_page(meeting), attendance.quorum(meeting))
    return Response(
        data,
        mimetype="application/pdf",
        headers={"Content-Disposition": f'inline; filename="verbale-incontro-{meeting.id}.pdf"'},
    )


# --- "Approvazione del verbale della seduta precedente" (issue #15 point 5) -----------------------------


@bp.app_template_global("previous_minutes")
def previous_minutes(meeting: Meeting) -> Meeting | None:
    """The earlier meeting whose minutes wait for this meeting's agenda item, if the item is not there yet."""
    return agenda.previous_minutes(meeting)


@bp.app_template_global("minutes_of")
def minutes_of(item: Any) -> Meeting | None:
    return db.session.get(Meeting, item.minutes_of_id) if item.minutes_of_id else None


@bp.post("/incontri/<int:meeting_id>/odg/approvazione-verbale")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def add_minutes_item(meeting: Meeting) -> Any:
    back = url_for("meetings.detail", meeting_id=meeting.id)

    def answer(_item: Any) -> Any:
        flash(_("Punto aggiunto in cima all'ordine del giorno."), "success")
        return redirect(back + "#agenda")

    return webutil.run(
        lambda: agenda.add_minutes_item(meeting, actor=current_user),
        answer,
        page=back,
        once="meeting.minutes_item",
    )


@bp.post("/incontri/<int:meeting_id>/punti/<int:item_id>/approvazione-verbale")
@guard("meeting.manage", Meeting, "meeting_id", "meeting")
def decide_minutes(meeting: Meeting, item_id: int) -> Any:
    back = url_for("meetings.detail", meeting_id=meeting.id)
    approve = request.form.get("decision") == "approva"

    def answer(_earlier: Any) -> Any:
        flash(
            _("Verbale approvato: ora è definitivo e ha la sua impronta.")
            if approve
            else _("Richiesta di modifiche registrata: il verbale resta in bozza."),
            "success",
        )
        return redirect(back + f"#item-{item_id}")

    return webutil.run(
        lambda: minutes_services.decide_minutes_item(
            meeting, item_id, approve=approve, note=request.form.get("note", ""), actor=current_user
        ),
        answer,
        page=back,
    )
