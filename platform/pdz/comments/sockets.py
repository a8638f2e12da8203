"""Socket events of comments: `comment.create` goes through the same service as the HTTP endpoint.

Comment events are published to `tavolo:<body_id>` (joined with `room.join`, checked by `tavolo.view`),
so only people who may read the tavolo receive them; replay after a reconnect uses `events.since`.
"""

from __future__ import annotations

from typing import Any

from flask_login import current_user

from ..db import unit_of_work
from ..errors import NotFound, PdzError
from ..extensions import db, socketio
from ..inputs import positive_id
from ..sockets import socket_login_required, socket_payload
from ..tavoli.models import Body
from . import services
from .models import CommentThread


@socketio.on("comment.create")
@socket_login_required
@socket_payload
def on_create(data: dict[str, Any]) -> dict[str, Any]:
    body_id = positive_id(data.get("body_id"))
    try:
        with unit_of_work():
            body = db.session.get(Body, body_id) if body_id is not None else None
            if body is None:
                raise NotFound("Discussione sconosciuta in questo tavolo.")
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
            answer = {
                "ok": True,
                "created": created,
                "comment": services.as_json(comment, thread, current_user.full_name),
            }
    except PdzError as error:
        return {
            "ok": False,
            "status": error.status,
            "error": error.message,
            "errors": getattr(error, "errors", {}),
        }
    return answer
