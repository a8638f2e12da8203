"""One author posts two comments at the same moment in a thread they do not follow yet: both are stored,
and the author follows the thread once (the follow step was a check-then-insert that raised
UniqueViolation on PostgreSQL and refused one comment with a 500)."""

from __future__ import annotations

import threading
import uuid
from typing import Any

from tests.comments.test_comments_live import quick_websocket_close, scalar  # noqa: F401 - autouse fixture


def test_two_comments_at_once_in_a_new_thread_are_both_stored(
    live_server: Any, socket_client: Any, database_url: str
):
    body_id = int(scalar(database_url, "SELECT id FROM bodies WHERE name = 'Tavolo Povertà'"))
    card_id = int(scalar(database_url, "SELECT id FROM cards WHERE key = 'A'"))
    author = scalar(database_url, "SELECT id FROM users WHERE email = 'membro@example.org'")
    fields = ["context", "title", "subtitle", "general_objective"]
    clients = [socket_client("membro@example.org"), socket_client("membro@example.org")]
    for round_no, field in enumerate(fields):
        barrier = threading.Barrier(2)
        answers: list[Any] = [None, None]

        def post(
            i: int, field: str = field, barrier: threading.Barrier = barrier, answers: list[Any] = answers
        ) -> None:
            barrier.wait()
            answers[i] = clients[i].call(
                "comment.create",
                {
                    "body_id": body_id,
                    "target_kind": "card",
                    "target_id": card_id,
                    "field_key": field,
                    "text": f"Commento {i} sul campo {field}",
                    "client_op_id": uuid.uuid4().hex,
                },
                timeout=15,
            )

        threads = [threading.Thread(target=post, args=(i,)) for i in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=20)
        assert all(a and a.get("ok") for a in answers), (round_no, field, answers)
        follows = scalar(
            database_url,
            "SELECT count(*) FROM thread_follows f JOIN comment_threads t ON t.id = f.thread_id "
            "WHERE f.user_id = :u AND t.field_key = :f",
            u=author,
            f=field,
        )
        assert follows == 1, (field, follows)
