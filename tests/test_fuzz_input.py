"""Hostile input never breaks the server: every URL rule and every Socket.IO event, fuzzed with hypothesis.

Rule (issue #13, point 1): whatever arrives (ids beyond 32 or 64 bits, negative or zero ids, NUL, lone
surrogates, control characters, lists where objects belong, malformed JSON, events with no data or two
arguments), the answer is a 4xx or an `{"ok": false}` acknowledgement: never a 5xx, never a silent socket,
never an ERROR record (traceback) in the log.

Each URL rule (each method) and each socket event gets its own few hypothesis examples, drawn with a fixed
seed (derandomize); shrinking is off and every failure is collected, so one run lists them all.
PDZ_FUZZ_EXAMPLES raises the number of examples for a deeper local run (the default keeps the suite quick).
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import re
import threading
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlencode

import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select

from conftest import login

EXAMPLES = int(os.environ.get("PDZ_FUZZ_EXAMPLES", "4"))  # per URL rule and per socket event
PER_RULE = settings(  # per URL rule and per socket event
    max_examples=EXAMPLES,
    database=None,
    deadline=None,
    derandomize=True,
    phases=[Phase.generate],
    suppress_health_check=list(HealthCheck),
)

# --- hostile values ---------------------------------------------------------------------------------

BIG = ["2147483648", "9223372036854775808", "99999999999999999999999", "1" + "0" * 5000]
HOSTILE_PATH_INTS = [
    *BIG,
    "2147483647",
    "9223372036854775807",
    "0",
    "00",
    "-1",
    "1.5",
    "١٢",
    "%00",
    "%ED%A0%80",
    "x",
]
HOSTILE_PATH_STRINGS = ["%00", "%ED%A0%80", "%0D%0ABcc:x", "x" * 3000, "..%2F..", "citt%C3%A0", "%FF", *BIG]
HOSTILE_TEXTS = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfff",
    "Titolo\r\nBcc: x@example.org",
    "\u202e\u200b",
    "x" * 20_000,
    *BIG,
    "-1",
    "0",
    "1e999",
    "NaN",
    "true",
    "[]",
    "{}",
    "card:99999999999999999999",
    "tavolo:99999999999999999999",
    "tavolo:-1",
]
HOSTILE_NUMBERS = [0, -1, 2**63, 2**64, -(2**63) - 1, 10**30, 1.5, float("inf"), float("nan"), True, False]

# Names the views and socket handlers read (forms, JSON bodies, query strings, socket payloads).
KEYS = [
    "title", "place", "day", "start", "end", "text", "status", "kind", "year", "note", "choice", "version",
    "fingerprint", "meeting_id", "card_id", "body_id", "email", "name", "full_name", "short_name", "password",
    "current", "confirm", "role", "description", "links", "planned_minutes", "presenter", "video_url",
    "value", "values", "field", "field_key", "base_value", "client_op_id", "target_kind", "target_id",
    "parent_id", "mention_ids", "thread_id", "last_comment_id", "follow", "number", "base_revision",
    "direction", "timing", "done", "committed", "document_kind", "start_year", "end_year", "population",
    "sub_ambito_id", "staff_role", "tags", "quadrant", "period", "room", "rooms", "after", "doc", "msg",
    "area_id", "organisation_id", "user_id", "item_id", "decision", "answer", "mark", "q", "ciclo", "anno",
    "pagina", "dal", "al", "tipo", "forma", "sub_ambito", "id", "da", "a", "next", "locale", "code",
]  # fmt: skip

scalar = st.one_of(
    st.sampled_from(HOSTILE_TEXTS),
    st.sampled_from(HOSTILE_NUMBERS),
    st.none(),
    st.text(max_size=12),
    st.integers(min_value=-(2**70), max_value=2**70),
)
garbage = st.recursive(
    scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=3),
    max_leaves=6,
)
hostile_string = st.sampled_from(HOSTILE_TEXTS) | st.text(max_size=12)


def hostile_object(keys: list[str]) -> Any:
    """An object whose keys are mostly the names the receiver reads, with hostile values."""
    names = st.sampled_from(keys) | st.sampled_from(KEYS) if keys else st.sampled_from(KEYS)
    return st.dictionaries(names, garbage, min_size=1, max_size=8)


def hostile_form(keys: list[str]) -> Any:
    names = st.sampled_from(keys) | st.sampled_from(KEYS) if keys else st.sampled_from(KEYS)
    return st.dictionaries(names, hostile_string, min_size=1, max_size=8)


raw_bodies = st.sampled_from(
    [b"{", b"[1,", b'{"text": "x"', b"\xff\xfe\x00", b"null", b'"x"', b"[]", b"[1, 2]", b"1e999", b""]
)


def form_bytes(values: dict[str, str]) -> bytes:
    """urlencoded as a browser would, except that lone surrogates are sent as their raw (invalid) bytes."""
    return urlencode(values, encoding="utf-8", errors="surrogatepass").encode("ascii")


def query_string(values: dict[str, Any]) -> str:
    return urlencode({k: str(v) for k, v in values.items()}, encoding="utf-8", errors="surrogatepass")


# --- error log capture ------------------------------------------------------------------------------


class ErrorLog(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []
        self.guard = threading.Lock()

    def emit(self, record: logging.LogRecord) -> None:
        with self.guard:
            self.records.append(record)

    def take(self) -> list[str]:
        with self.guard:
            taken, self.records = self.records, []
        return [describe(r) for r in taken]


def describe(record: logging.LogRecord) -> str:
    """The logged message with the exception and the innermost frame of PdZ that raised it."""
    import traceback

    text = f"{record.name}: {record.getMessage()}"
    if record.exc_info and record.exc_info[1] is not None:
        frames = [f for f in traceback.extract_tb(record.exc_info[2]) if "/pdz/" in f.filename]
        where = f" at {frames[-1].filename.split('/pdz/')[-1]}:{frames[-1].lineno}" if frames else ""
        text += f" {record.exc_info[1]!r}"[:200] + where
    return text


@pytest.fixture
def error_log() -> Iterator[ErrorLog]:
    handler = ErrorLog()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


# --- real ids for the URL converters ----------------------------------------------------------------


def real_values(db: Any) -> dict[str, list[str]]:
    """Existing ids (and names) for each converter argument, so that views run past their 404s."""
    from pdz import models  # noqa: F401
    from pdz.accounts.models import Invitation, User
    from pdz.approvals.models import Ballot, PlanDocument, Submission
    from pdz.cards.models import Card, CardIndicator, CardObjective
    from pdz.cards.rows import ROW_KINDS
    from pdz.comments.models import Comment
    from pdz.cycles.models import PlanningCycle
    from pdz.evaluation.models import ObjectiveEvaluation, SwotAssessment, SwotEntry
    from pdz.meetings.models import ActionItem, AgendaItem, Attendance, Meeting
    from pdz.notifications.models import Notification
    from pdz.orgs.models import Organisation
    from pdz.tavoli.models import Body, Mandate, Membership
    from pdz.territory.models import Comune

    models_by_arg = {
        "body_id": Body, "meeting_id": Meeting, "item_id": AgendaItem, "action_id": ActionItem,
        "attendance_id": Attendance, "card_id": Card, "row_id": CardObjective, "indicator_id": CardIndicator,
        "comment_id": Comment, "submission_id": Submission, "ballot_id": Ballot, "plan_id": PlanDocument,
        "assessment_id": SwotAssessment, "entry_id": SwotEntry, "evaluation_id": ObjectiveEvaluation,
        "cycle_id": PlanningCycle, "comune_id": Comune, "org_id": Organisation, "notification_id": Notification,
        "membership_id": Membership, "invitation_id": Invitation, "mandate_id": Mandate,
    }  # fmt: skip
    values: dict[str, list[str]] = {}
    for arg, model in models_by_arg.items():
        ids = list(db.session.scalars(select(model.id).order_by(model.id).limit(3)))
        values[arg] = [str(i) for i in ids] or ["1"]
    tavolo = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
    values["body_id"].insert(0, str(tavolo))
    for arg, model in [("meeting_id", Meeting), ("card_id", Card), ("assessment_id", SwotAssessment)]:
        ids = db.session.scalars(select(model.id).where(model.body_id == tavolo).limit(2))
        values[arg] = [str(i) for i in ids] + values[arg]
    # Someone who is none of the people signed in here (admin routes would disable them).
    values["user_id"] = [
        str(db.session.scalar(select(User.id).where(User.email == "osservatore@example.org")))
    ]
    values["kind"] = list(ROW_KINDS)
    values["fmt"] = ["pdf", "json", "docx", "txt"]
    values["name"] = ["tavoli", "enti", "registro"]
    values["token"] = ["x" * 40]
    values["filename"] = ["css/pdz.css"]
    return values


def routes(app: Any) -> list[tuple[Any, str]]:
    skipped = {"static"}
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in skipped:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append((rule, method))
    # Signing out ends the session the sweep uses: last.
    out.sort(key=lambda pair: pair[0].endpoint in {"accounts.logout", "accounts.sign_out_everywhere"})
    return out


def build_path(rule: Any, values: dict[str, str]) -> str:
    path = re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", lambda match: values[match.group(1)], rule.rule)
    assert "<" not in path, (rule.rule, path)
    return path


# --- HTTP ---------------------------------------------------------------------------------------------

PEOPLE = ["udp@example.org", "membro@example.org", "coord.pubblico@example.org"]


def names_read_by(app: Any, endpoint: str) -> list[str]:
    """The field names a view reads: quoted names in its source, and the fields of the forms it builds."""
    from wtforms.fields.core import UnboundField

    view = inspect.unwrap(app.view_functions[endpoint])
    source = inspect.getsource(view)
    names = set(re.findall(r"[\"']([a-z][a-z_]{0,30})[\"']", source))
    module = inspect.getmodule(view)
    for form_name in re.findall(r"\b([A-Z]\w*Form)\(", source):
        form = getattr(module, form_name, None)
        for klass in getattr(form, "__mro__", []):
            names |= {name for name, value in vars(klass).items() if isinstance(value, UnboundField)}
    return sorted(names)


def _is_int_arg(rule: Any, name: str) -> bool:
    from werkzeug.routing import IntegerConverter

    return isinstance(rule._converters[name], IntegerConverter)


@st.composite
def hostile_requests(
    draw: Any, rule: Any, method: str, reals: dict[str, list[str]], people: list[str], keys: list[str]
) -> Any:
    """Two requests for one rule: hostile values in the URL; then real ids with a hostile query and body."""
    who = draw(st.sampled_from(people), label="who")
    out = []
    if rule.arguments:
        hostile = {
            name: draw(
                st.sampled_from(HOSTILE_PATH_INTS if _is_int_arg(rule, name) else HOSTILE_PATH_STRINGS)
                | st.sampled_from(reals.get(name, ["1"])),
                label=name,
            )
            for name in rule.arguments
        }
        out.append((who, build_path(rule, hostile), {}))
    real = {name: draw(st.sampled_from(reals.get(name, ["1"])), label=name) for name in rule.arguments}
    path = build_path(rule, real)
    if method == "GET":
        return [*out, (who, f"{path}?{query_string(draw(hostile_form(keys), label='query'))}", {})]
    shape = draw(st.sampled_from(["form", "json", "raw"]), label="shape")
    if shape == "form":
        kwargs: dict[str, Any] = {
            "data": form_bytes(draw(hostile_form(keys), label="form")),
            "content_type": "application/x-www-form-urlencoded",
        }
    elif shape == "json":
        kwargs = {
            "data": json.dumps(draw(hostile_object(keys) | garbage)),
            "content_type": "application/json",
        }
    else:
        kwargs = {"data": draw(raw_bodies, label="raw"), "content_type": "application/json"}
    return [*out, (who, path, kwargs)]


def test_every_url_rule_answers_hostile_values_without_a_server_error(
    app: Any, db: Any, error_log: ErrorLog
) -> None:
    reals = real_values(db)
    clients = {email: login(app.test_client(), email) for email in PEOPLE}
    clients["anonymous"] = app.test_client()
    failures: list[str] = []

    def check(who: str, method: str, path: str, kwargs: dict[str, Any]) -> None:
        try:
            status: Any = clients[who].open(path, method=method, **kwargs).status_code
        except Exception as error:  # noqa: BLE001 - reported below with the request
            status = f"raised {error!r}"
        logged = error_log.take()
        if not isinstance(status, int) or status >= 500 or logged:
            failures.append(f"{who} {method} {path[:100]} {repr(kwargs)[:160]} -> {status} {logged[:1]}")

    def fuzz(method: str, attempts: Any) -> None:
        @PER_RULE
        @given(attempt=attempts)
        def hit(attempt: list[tuple[str, str, dict[str, Any]]]) -> None:
            for who, path, kwargs in attempt:
                check(who, method, path, kwargs)

        hit()

    for rule, method in routes(app):
        fuzz(method, hostile_requests(rule, method, reals, list(clients), names_read_by(app, rule.endpoint)))
    assert not failures, f"{len(failures)} server errors:\n" + "\n".join(failures[:60])


def test_account_forms_refuse_json_lists(app: Any, client_as: Any, user: Any) -> None:
    client = client_as("membro@example.org")
    response = client.post("/profilo", json={"full_name": ["x"], "locale": "it"})
    assert response.status_code == 422
    for path, body in [
        ("/profilo", {"full_name": {"a": 1}, "locale": "it"}),
        ("/profilo/verifica-in-due-passaggi/conferma", {"code": [123456]}),
        ("/profilo/verifica-in-due-passaggi/codici", {"code": {"x": 1}}),
        ("/profilo/verifica-in-due-passaggi/disattiva", {"password": ["demo"]}),
    ]:
        assert client.post(path, json=body).status_code == 422, path
    anonymous = app.test_client()
    for body in [{"email": 12}, {"email": ["membro@example.org"]}, {"email": None}]:
        assert anonymous.post("/password/dimenticata", json=body).status_code == 422, body
    assert user("membro@example.org").full_name != "x"


def test_a_name_with_a_line_break_is_refused(client_as: Any, user: Any) -> None:
    client = client_as("membro@example.org")
    before = user("membro@example.org").full_name
    for name in ["Mario\nRossi", "Mario\rBcc: x@example.org", "Mario\u2028Rossi", "Mario\x1bRossi"]:
        response = client.post("/profilo", data={"full_name": name, "locale": "it"})
        assert response.status_code == 422, name
        assert "una sola riga" in response.get_data(as_text=True)
    assert user("membro@example.org").full_name == before


@pytest.mark.parametrize("value", [*BIG, "0", "-1"])
def test_out_of_range_ids_in_urls_are_not_found(client_as: Any, tavolo: Any, value: str) -> None:
    client = client_as("udp@example.org")
    for path in [
        f"/tavoli/{value}/discussione",
        f"/incontri/{value}",
        f"/schede/{value}",
        f"/tavoli/{tavolo.id}/commenti/{value}/modifiche",
    ]:
        assert client.get(path).status_code == 404, path
    assert client.post(f"/schede/{value}/campi", data={"field": "x", "value": "y"}).status_code == 404


def test_nul_in_a_name_in_the_url_is_not_found(client_as: Any) -> None:
    client = client_as("membro@example.org")
    for path in [
        "/invito/" + "x" * 40 + "%00",
        "/calendario/" + "x" * 40 + "%00.ics",
        "/partecipazione/enti%00.csv",
    ]:
        assert client.get(path).status_code == 404, path


@pytest.mark.parametrize("value", [*BIG, "-99999999999999999999", "١٢", "1e3"])
def test_numbers_beyond_range_in_query_strings_are_harmless(client_as: Any, tavolo: Any, value: str) -> None:
    client = client_as("udp@example.org")
    for path in [
        f"/valutazione/?ciclo={value}",
        f"/valutazione/?anno={value}",
        f"/partecipazione/?ciclo={value}",
        f"/tavoli/{tavolo.id}/partecipazione?ciclo={value}",
        f"/enti/?sub_ambito={value}",
        f"/pubblico/?pagina={value}",
    ]:
        assert client.get(path).status_code < 500, path


# --- Socket.IO ---------------------------------------------------------------------------------------


def socket_events() -> dict[str, list[str]]:
    """Every event the server registers (connect and disconnect aside), with the names its handler reads."""
    from pdz.extensions import socketio

    events: dict[str, list[str]] = {}
    for name, handler, _namespace in socketio.handlers:
        if name in {"connect", "disconnect"}:
            continue
        original = handler.__closure__[0].cell_contents if handler.__closure__ else handler
        source = inspect.getsource(inspect.unwrap(original))
        events[name] = sorted(set(re.findall(r"[\"']([a-z][a-z_]{0,30})[\"']", source)))
    # Handlers registered straight on the Socket.IO server (the co-writing hot path), with the source of
    # the module functions they call.
    for name, handler in (socketio.server.handlers.get("/", {}) if socketio.server else {}).items():
        if name in events or name in {"connect", "disconnect"}:
            continue
        module = inspect.getmodule(handler)
        called = [
            getattr(module, n)
            for n in handler.__code__.co_names
            if inspect.isfunction(getattr(module, n, None))
        ]
        source = "".join(inspect.getsource(f) for f in [handler, *called])
        events[name] = sorted(set(re.findall(r"[\"']([a-z][a-z_]{0,30})[\"']", source)))
    return events


def realistic(live_server: Any) -> dict[str, Any]:
    """Well-formed values for the names socket handlers read, so that hostile payloads get past the first
    checks (rooms and documents that exist, base64 messages)."""
    import base64

    from pdz.cards.models import Card
    from pdz.extensions import db
    from pdz.tavoli.models import Body

    with live_server.app.app_context():
        tavolo = db.session.scalar(select(Body.id).where(Body.name == "Tavolo Povertà"))
        card = db.session.scalar(select(Card.id).where(Card.body_id == tavolo).limit(1))
    message = st.binary(max_size=24).map(lambda raw: base64.b64encode(raw).decode())
    rooms = st.sampled_from([f"tavolo:{tavolo}", f"card:{card}", "user:1", "meeting:1", "swot:1"])
    return {
        "room": rooms,
        "rooms": st.lists(rooms | hostile_string, max_size=3),
        "doc": st.sampled_from([f"card:{card}", f"tavolo:{tavolo}", "meeting:1", "swot:1"]),
        "msg": message | st.sampled_from(["AAE=", "AgA=", "AQA="]),
        "body_id": st.just(tavolo),
        "target_kind": st.sampled_from(["card", "body", "mandate"]),
        "target_id": st.just(card),
        "after": st.integers(min_value=-5, max_value=10**6),
    }


def test_every_socket_event_answers_hostile_payloads(
    live_server: Any, socket_client: Any, error_log: ErrorLog
) -> None:
    events = socket_events()
    assert {"room.join", "events.since", "comment.create", "coedit.join", "coedit.update"} <= set(events)
    clients = [socket_client("membro@example.org"), socket_client("udp@example.org")]
    good = realistic(live_server)
    failures: list[str] = []

    def payloads(keys: list[str]) -> Any:
        value = {name: good.get(name, garbage) | garbage for name in keys}
        shaped = st.fixed_dictionaries({}, optional=value) if value else hostile_object(keys)
        return st.one_of(
            st.just(None),  # no data at all
            garbage.map(lambda one: (one,)),  # one argument of any shape
            shaped.map(lambda one: (one,)),  # an object with the handler's names, good and bad values
            hostile_object(keys).map(lambda one: (one,)),
            st.tuples(garbage, garbage),  # two arguments
        )

    def fuzz(event: str, keys: list[str]) -> None:
        @PER_RULE
        @given(who=st.sampled_from([0, 1]), sent=payloads(keys))
        def hit(who: int, sent: Any) -> None:
            try:
                answer = clients[who].call(event, sent, timeout=10)
            except Exception as error:  # noqa: BLE001 - reported below with the payload
                answer = f"raised {error!r}"
            logged = error_log.take()
            if not (isinstance(answer, dict) and "ok" in answer) or logged:
                failures.append(f"{event} {repr(sent)[:200]} -> {repr(answer)[:200]} {logged[:1]}")

        hit()

    for event, keys in sorted(events.items()):
        fuzz(event, keys)
    assert not failures, f"{len(failures)} unanswered or failed events:\n" + "\n".join(failures[:60])


def test_no_data_and_wrong_shapes_get_an_invalid_answer(live_server: Any, socket_client: Any) -> None:
    member = socket_client("membro@example.org")
    for event, payload in [
        ("room.join", ("x",)),
        ("room.join", ([1, 2],)),
        ("room.join", None),
        ("room.join", ({"room": ["tavolo:1"]},)),
        ("room.join", ({"room": "tavolo:1"}, "extra")),
        ("events.since", ("x",)),
        ("events.since", None),
        ("events.since", ({"rooms": "tavolo:1", "after": 0},)),
        ("events.since", ({"rooms": [], "after": 2**64},)),
        ("comment.create", ([],)),
        ("comment.create", None),
        ("room.leave", (None,)),
        ("coedit.join", None),
        ("coedit.leave", None),
        ("coedit.update", None),
    ]:
        answer = member.call(event, payload, timeout=10)
        assert answer["ok"] is False and answer["error"] == "invalid", (event, payload, answer)


def test_coedit_join_with_a_superscript_digit_is_refused_without_a_traceback(
    live_server: Any, socket_client: Any, error_log: ErrorLog
) -> None:
    answer = socket_client("membro@example.org").call(
        "coedit.join", {"doc": "card:²", "msg": "AAE="}, timeout=10
    )
    assert answer["ok"] is False and answer["error"] != "server"
    assert error_log.take() == []
