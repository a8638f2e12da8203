"""Comment pages and JSON endpoints (called by static/js/comments.js with the X-CSRFToken header).

Every route is guarded on the tavolo (Body) in its URL; services then check that the thread, the target
and the comment belong to that tavolo.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import g, jsonify, render_template, request
from flask_login import current_user

from .. import policy
from ..accounts.models import User
from ..errors import NotFound
from ..extensions import db
from ..inputs import payload, positive_id
from ..policy import guard
from ..tavoli import queries as tavoli_queries
from ..tavoli.models import MANDATE_PARTS, Body
from ..webutil import run
from . import bp, queries, services
from .models import CommentStatus, CommentThread


def _ok(result: dict[str, Any], status: int = 200) -> Any:
    return jsonify(ok=True, **result), status


@bp.get("/tavoli/<int:body_id>/discussione")
@guard("tavolo.view", Body, "body_id", "body")
def discussion(body: Body) -> Any:
    body = tavoli_queries.workspace(body.id) or body
    mandate = tavoli_queries.mandate_in_force(body)
    return render_template("comments/discussion.html", body=body, mandate=mandate, parts=MANDATE_PARTS)


@bp.get("/tavoli/<int:body_id>/commenti")
@guard("tavolo.view", Body, "body_id", "body")
def thread(body: Body) -> Any:
    target, obj, field_key = services.resolve_target(
        body, request.args.get("kind", ""), request.args.get("id", ""), request.args.get("field", "")
    )
    return jsonify(ok=True, **queries.thread_view(body, target.kind, obj.id, field_key, current_user))


@bp.post("/tavoli/<int:body_id>/commenti")
@guard("comment.create", Body, "body_id", "body")
def create(body: Body) -> Any:
    data = payload()

    def call() -> dict[str, Any]:
        comment, created = services.create_comment(
            body,
            data.get("target_kind", ""),
            data.get("target_id"),
            data.get("field_key", ""),
            data.get("text", ""),
            client_op_id=data.get("client_op_id"),
            parent_id=data.get("parent_id"),
            mention_ids=data.get("mention_ids") or [],
            actor=current_user,
        )
        thread = db.session.get(CommentThread, comment.thread_id)
        assert thread is not None
        return {"created": created, "comment": services.as_json(comment, thread, _name(comment.author_id))}

    return run(call, lambda result: _ok(result, 201), json=True)  # refusals: JSON, nothing stored


def _name(user_id: int) -> str:
    user = db.session.get(User, user_id)
    return user.full_name if user is not None else ""


def _on_comment(body: Body, comment_id: int, change: Callable[..., Any]) -> Any:
    def call() -> dict[str, Any]:
        comment, thread = services.comment_in(body, comment_id)
        change(comment, thread)
        return {"comment": services.as_json(comment, thread, _name(comment.author_id))}

    return run(call, _ok, json=True)


@bp.post("/tavoli/<int:body_id>/commenti/<int:comment_id>/modifica")
@guard("tavolo.view", Body, "body_id", "body")
def edit(body: Body, comment_id: int) -> Any:
    text = payload().get("text", "")
    return _on_comment(body, comment_id, lambda c, t: services.edit_comment(c, t, text, actor=current_user))


@bp.post("/tavoli/<int:body_id>/commenti/<int:comment_id>/rimuovi")
@guard("tavolo.view", Body, "body_id", "body")
def remove(body: Body, comment_id: int) -> Any:
    return _on_comment(body, comment_id, lambda c, t: services.remove_comment(c, t, actor=current_user))


@bp.post("/tavoli/<int:body_id>/commenti/<int:comment_id>/risolvi")
@guard("comment.resolve", Body, "body_id", "body")
def resolve(body: Body, comment_id: int) -> Any:
    return _on_comment(body, comment_id, lambda c, t: services.set_resolved(c, t, True, actor=current_user))


@bp.post("/tavoli/<int:body_id>/commenti/<int:comment_id>/riapri")
@guard("comment.resolve", Body, "body_id", "body")
def reopen(body: Body, comment_id: int) -> Any:
    return _on_comment(body, comment_id, lambda c, t: services.set_resolved(c, t, False, actor=current_user))


@bp.get("/tavoli/<int:body_id>/commenti/<int:comment_id>/modifiche")
@guard("tavolo.view", Body, "body_id", "body")
def history(body: Body, comment_id: int) -> Any:
    comment, _thread = services.comment_in(body, comment_id)
    if comment.status == CommentStatus.REMOVED:
        return jsonify(ok=True, edits=[])
    return jsonify(ok=True, edits=queries.edits(comment))


@bp.post("/tavoli/<int:body_id>/commenti/letti")
@guard("tavolo.view", Body, "body_id", "body")
def mark_read(body: Body) -> Any:
    data = payload()

    def call() -> dict[str, Any]:
        thread_id = positive_id(data.get("thread_id"))
        found = db.session.get(CommentThread, thread_id) if thread_id is not None else None
        if found is None or found.body_id != body.id:
            raise NotFound("Discussione sconosciuta in questo tavolo.")
        return {"read_marker": services.mark_read(found, data.get("last_comment_id", 0), actor=current_user)}

    return run(call, _ok, json=True)


@bp.post("/tavoli/<int:body_id>/commenti/segui")
@guard("tavolo.view", Body, "body_id", "body")
def follow(body: Body) -> Any:
    data = payload()
    wanted = bool(data.get("follow", True))

    def call() -> dict[str, Any]:
        following = services.set_follow(
            body,
            data.get("target_kind", ""),
            data.get("target_id"),
            data.get("field_key", ""),
            wanted,
            actor=current_user,
        )
        return {"following": following}

    return run(call, _ok, json=True)


@bp.get("/tavoli/<int:body_id>/commenti/persone")
@guard("tavolo.view", Body, "body_id", "body")
def people(body: Body) -> Any:
    return jsonify(ok=True, people=queries.mention_candidates(body, request.args.get("q", "")))


@bp.app_context_processor
def comment_helpers() -> dict[str, Any]:
    def unread_for(body: Body) -> str:
        """The tavolo tab's count of unread comments: "" for none, "99+" past 99."""
        if not current_user.is_authenticated:
            return ""
        n = queries.unread_in_body(current_user, body.id)
        return "" if not n else f"{queries.UNREAD_CAP - 1}+" if n >= queries.UNREAD_CAP else str(n)

    return {"comment_unread": unread_for}


@bp.before_app_request
def _fresh_request_state() -> None:
    """`g` lives as long as the app context: when one stays open across requests (the test fixtures),
    a previous request's signed-in user and memberships must not leak into the next one."""
    g.pop("_login_user", None)
    policy.forget_memberships()
