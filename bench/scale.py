"""Scale benchmark: is every main page as cheap with 10x and 50x the demo as with the demo itself (issue #17)?

For each factor it builds a fresh database holding the Ambito Cremasco demo multiplied by that factor
(`build_demo`, importable by other benchmarks), then measures in-process (Flask test client, no network)
every main page as the demo role that uses it: each role's home, the tavolo, its members, card list, card,
card history, meeting, minutes, participation (district and tavolo), evaluation synthesis, approvals, a
submission, the public list and document, a plan, and search once it exists. Per page it records the SQL
statements per request and the median server time over `--repeat` requests (after one warm-up request),
wall-clock (`ms`) and CPU time of this process (`cpu_ms`, far less disturbed by other processes on a shared
machine; the first request to the participation dashboard after the build recomputes its rollups and is
the warm-up).

    /work/main/.venv/bin/python bench/scale.py --factors 1,10,50
    /work/main/.venv/bin/python bench/scale.py --factors 1,10,50 --postgres

The last line of output is one JSON object: `pages` maps each page to {factor: {"queries", "ms", "cpu_ms"}},
`max_queries` is the largest query count of any page at any factor, `worst_ratio` the largest
(median at the largest factor / median at the smallest factor) over all pages and `participation_ms` the
district participation dashboard's median at the largest factor; `worst_cpu_ratio` and
`participation_cpu_ms` are the same on CPU time.

How the demo grows (factor N adds N-1 "units" to the demo; each unit, with seeded randomness):
  * 150 people, each affiliated to an existing organisation (organisations drawn with Zipf-like weights)
    and sitting in one thematic tavolo (tavoli drawn with Zipf-like weights, the Tavolo Povertà heaviest);
    three memberships in four have ended since (turnover), one stays current;
  * 13 cards (copies of the demo's, values included) and 2,600 card revisions: 200 on the demo card the
    benchmark opens (older than the demo's own edits, so the history page has a long tail), the rest on
    cards drawn with Zipf-like weights;
  * 252 concluded meetings spread over 2021-2026, each with 8-20 people of the body on the attendance
    sheet (present, absent, excused or represented, each person with their own attendance propensity);
  * 1,000 comments on tavolo and card threads, on bodies drawn with Zipf-like weights.
So at x50: ~7,500 people, ~650 cards with ~130,000 revisions, ~50,000 comments, ~12,600 meetings with
~170,000 attendances. Rows are written with bulk INSERTs through the models' tables, then ANALYZEd.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "platform") not in sys.path:
    sys.path[:0] = [str(ROOT / "platform"), str(ROOT)]

PG_ADMIN_URL = os.environ.get("PDZ_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
UNIT_PEOPLE = 150
UNIT_CARDS = 13
UNIT_REVISIONS = 2600
UNIT_HOT_REVISIONS = 200  # of UNIT_REVISIONS, on the card the benchmark opens
UNIT_MEETINGS = 252
UNIT_COMMENTS = 1000
HOT_TAVOLO = "Tavolo Povertà"

WORDS = [
    "il",
    "tavolo",
    "propone",
    "di",
    "rafforzare",
    "la",
    "rete",
    "dei",
    "servizi",
    "territoriali",
    "per",
    "le",
    "famiglie",
    "in",
    "condizione",
    "di",
    "fragilità",
    "economica",
    "abitativa",
    "e",
    "sociale",
    "con",
    "particolare",
    "attenzione",
    "ai",
    "minori",
    "agli",
    "anziani",
    "soli",
    "e",
    "alle",
    "persone",
    "con",
    "disabilità",
    "coinvolgendo",
    "enti",
    "del",
    "terzo",
    "settore",
    "comuni",
    "ASST",
    "e",
    "scuole",
    "del",
    "cremasco",
]


# --- building the demo at a factor ------------------------------------------------------------------


def make_app(database_url: str, instance: Path, **overrides: Any) -> Any:
    """A PdZ app on `database_url` configured like the tests (fast password hashing, no CSRF)."""
    os.environ["PDZ_INSTANCE_DIR"] = str(instance)
    from pdz import create_app

    config = {
        "TESTING": True,
        "SQLALCHEMY_DATABASE_URI": database_url,
        "SECRET_KEY": "bench-secret",
        "WTF_CSRF_ENABLED": False,
        "PDZ_LOGIN_RATE_LIMIT": "100000 per minute",
        "RATELIMIT_ENABLED": False,
        "PDZ_BASE_URL": "http://localhost",
        "PDZ_ARGON2_TIME_COST": 1,
        "PDZ_ARGON2_MEMORY_COST": 1024,
        **overrides,
    }
    return create_app(config)


def build_demo(factor: int, database_url: str, instance: Path, seed: int = 17) -> Any:
    """Migrate an empty database at `database_url`, load the demo and grow it to `factor` times its size.

    Returns the app (its engine bound to that database). Used by bench/scale.py and other benchmarks."""
    from flask_migrate import upgrade

    from pdz.db import unit_of_work
    from pdz.demo import load_demo

    app = make_app(database_url, instance)
    with app.app_context():
        upgrade()
        with unit_of_work():
            load_demo()
        grow(factor, seed)
    return app


def _zipf_weights(n: int, s: float = 1.1) -> list[float]:
    return [1 / (i + 1) ** s for i in range(n)]


def _text(rng: random.Random, low: int, high: int) -> str:
    return " ".join(rng.choice(WORDS) for _ in range(rng.randint(low, high))).capitalize() + "."


def _when(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + timedelta(seconds=rng.randint(0, int((end - start).total_seconds())))


def grow(factor: int, seed: int = 17) -> None:
    """Add factor-1 units of people, cards, revisions, meetings, attendances and comments (see the module doc).

    Runs inside an app context on a database holding the plain demo; commits."""
    if factor <= 1:
        return
    from sqlalchemy import func, insert, select, text, update

    from pdz.accounts.models import Affiliation, Function, User
    from pdz.cards import fields
    from pdz.cards.models import Card, CardRevision, CardValue
    from pdz.comments.models import Comment, CommentThread
    from pdz.extensions import db
    from pdz.meetings.models import Attendance, AttendanceStatus, Meeting, MeetingStatus
    from pdz.orgs.models import Organisation, OrgKind
    from pdz.tavoli.models import THEMATIC_KINDS, Body, Membership, MembershipRole

    rng = random.Random(seed)  # noqa: S311 - deterministic benchmark data
    session = db.session
    units = factor - 1
    password_hash = session.scalar(select(User.password_hash).where(User.email == "membro@example.org"))
    bodies = list(session.scalars(select(Body).where(Body.kind.in_(THEMATIC_KINDS)).order_by(Body.name)))
    bodies.sort(key=lambda b: (b.name != HOT_TAVOLO, b.name))
    body_weights = _zipf_weights(len(bodies))
    orgs = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.kind.in_([OrgKind.ETS, OrgKind.COMUNE, OrgKind.ASST]))
            .order_by(Organisation.id)
        )
    )
    rng.shuffle(orgs)
    org_weights = _zipf_weights(len(orgs), 0.8)
    created_by = session.scalar(select(User.id).where(User.email == "udp@example.org"))
    epoch = datetime(2021, 1, 1, tzinfo=UTC)
    now = datetime(2026, 10, 1, tzinfo=UTC)

    # People, affiliations, memberships (one in four current).
    first_id = (session.scalar(select(func.max(User.id))) or 0) + 1
    people = []
    affiliations = []
    memberships = []
    members_of: dict[int, list[tuple[int, int]]] = {
        b.id: [(m.user_id, m.organisation_id) for m in b.memberships] for b in bodies
    }
    for n in range(units * UNIT_PEOPLE):
        user_id = first_id + n
        org = rng.choices(orgs, org_weights)[0]
        body = rng.choices(bodies, body_weights)[0]
        people.append(
            {
                "id": user_id,
                "email": f"persona.{n}@scala.example.org",
                "full_name": f"{rng.choice(WORDS).capitalize()} Persona{n:05d}",
                "password_hash": password_hash,
            }
        )
        affiliations.append(
            {"user_id": user_id, "organisation_id": org.id, "function": Function.REFERENTE_ETS}
        )
        started = _when(rng, epoch, now - timedelta(days=60))
        ended = None if rng.random() < 0.25 else _when(rng, started + timedelta(days=30), now)
        memberships.append(
            {
                "body_id": body.id,
                "user_id": user_id,
                "organisation_id": org.id,
                "role": MembershipRole.MEMBER,
                "started_at": started,
                "ended_at": ended,
            }
        )
        members_of[body.id].append((user_id, org.id))
    session.execute(insert(User), people)
    session.execute(insert(Affiliation), affiliations)
    session.execute(insert(Membership), memberships)

    # Cards: copies of the demo's, with their values.
    demo_cards = list(session.scalars(select(Card).order_by(Card.id)))
    hot_card = next(c for c in demo_cards if c.body.name == HOT_TAVOLO)
    values = list(session.scalars(select(CardValue).order_by(CardValue.id)))
    next_card = (session.scalar(select(func.max(Card.id))) or 0) + 1
    card_rows = []
    value_rows = []
    for unit in range(units):
        for card in demo_cards[:UNIT_CARDS]:
            card_rows.append(
                {
                    "id": next_card,
                    "cycle_id": card.cycle_id,
                    "area_id": card.area_id,
                    "body_id": card.body_id,
                    "key": None,
                    "title": f"{card.title} ({unit + 2})",
                    "status": card.status,
                    "revision_no": 0,
                    "created_by_id": created_by,
                    "last_change_at": card.last_change_at,
                }
            )
            value_rows += [
                {
                    "card_id": next_card,
                    "key": v.key,
                    "value_source": v.value_source,
                    "value_html": v.value_html,
                }
                for v in values
                if v.card_id == card.id
            ]
            next_card += 1
    session.execute(insert(Card), card_rows)
    session.execute(insert(CardValue), value_rows)
    cards = [(c.id, c.body_id) for c in demo_cards] + [(r["id"], r["body_id"]) for r in card_rows]
    rng.shuffle(cards)
    card_weights = _zipf_weights(len(cards), 0.9)

    # Card revisions: the hot card's new ones come before the demo's own edits (renumbered after them).
    text_fields = [k for k, spec in fields.SPECS.items() if spec.kind in {"markdown", "line"}]
    per_card: dict[int, int] = {}
    hot_count = units * UNIT_HOT_REVISIONS
    for _ in range(units * (UNIT_REVISIONS - UNIT_HOT_REVISIONS)):
        card_id = rng.choices(cards, card_weights)[0][0]
        if card_id != hot_card.id:
            per_card[card_id] = per_card.get(card_id, 0) + 1
        else:
            hot_count += 1
    session.execute(
        update(CardRevision)
        .where(CardRevision.card_id == hot_card.id)
        .values(number=CardRevision.number + hot_count)
    )
    per_card[hot_card.id] = hot_count
    body_of_card = dict(cards)
    revisions = []
    authors_cache: dict[int, list[int]] = {b: [u for u, _o in ms] for b, ms in members_of.items()}
    fallback_authors = [u for ms in members_of.values() for u, _o in ms]
    for card_id, count in per_card.items():
        authors = authors_cache.get(body_of_card[card_id]) or fallback_authors
        start = _when(rng, epoch, datetime(2025, 1, 1, tzinfo=UTC))
        end = datetime(2025, 9, 1, tzinfo=UTC) if card_id == hot_card.id else now
        stamps = sorted(_when(rng, start, end) for _ in range(count))
        last: dict[str, str] = {}
        for number, at in enumerate(stamps, start=1):
            field = rng.choice(text_fields)
            after = _text(rng, 8, 60)
            revisions.append(
                {
                    "card_id": card_id,
                    "number": number,
                    "field": field,
                    "before": last.get(field, ""),
                    "after": after,
                    "kind": "modifica",
                    "author_id": rng.choice(authors),
                    "at": at,
                    "client_op_id": uuid.UUID(int=rng.getrandbits(128)).hex,
                }
            )
            last[field] = after
        if card_id != hot_card.id:
            session.execute(
                update(Card)
                .where(Card.id == card_id)
                .values(revision_no=Card.revision_no + count, last_change_at=stamps[-1])
            )
    session.execute(
        update(Card).where(Card.id == hot_card.id).values(revision_no=Card.revision_no + hot_count)
    )
    for start in range(0, len(revisions), 5000):
        session.execute(insert(CardRevision), revisions[start : start + 5000])

    # Meetings and attendance sheets.
    propensity: dict[int, float] = {}
    next_meeting = (session.scalar(select(func.max(Meeting.id))) or 0) + 1
    meeting_rows = []
    attendance_rows = []
    statuses = [AttendanceStatus.PRESENT, AttendanceStatus.ABSENT, AttendanceStatus.EXCUSED]
    for _ in range(units * UNIT_MEETINGS):
        body = rng.choices(bodies, body_weights)[0]
        starts = _when(rng, epoch, now)
        meeting_rows.append(
            {
                "id": next_meeting,
                "body_id": body.id,
                "title": f"Incontro del {starts:%d/%m/%Y}",
                "starts_at": starts,
                "ends_at": starts + timedelta(hours=2),
                "place": "Sala riunioni",
                "status": MeetingStatus.CONCLUDED,
                "published_at": starts - timedelta(days=10),
                "started_at": starts,
                "concluded_at": starts + timedelta(hours=2),
                "created_by_id": created_by,
            }
        )
        pool = members_of[body.id]
        for user_id, org_id in rng.sample(pool, min(len(pool), rng.randint(8, 20))):
            p = propensity.setdefault(user_id, rng.betavariate(4, 2))
            if rng.random() < p:
                status = AttendanceStatus.REPRESENTED if rng.random() < 0.05 else AttendanceStatus.PRESENT
            else:
                status = rng.choice(statuses[1:])
            attendance_rows.append(
                {
                    "meeting_id": next_meeting,
                    "user_id": user_id,
                    "organisation_id": org_id,
                    "status": status,
                    "arrived_at": starts if status == AttendanceStatus.PRESENT else None,
                    "updated_at": starts + timedelta(hours=2),
                }
            )
        next_meeting += 1
    for start in range(0, len(meeting_rows), 5000):
        session.execute(insert(Meeting), meeting_rows[start : start + 5000])
    for start in range(0, len(attendance_rows), 5000):
        session.execute(insert(Attendance), attendance_rows[start : start + 5000])

    # Comments on tavolo threads and card threads.
    threads: dict[tuple[str, int, str], int] = {
        (t.target_kind, t.target_id, t.field_key): t.id for t in session.scalars(select(CommentThread))
    }
    cards_of_body: dict[int, list[int]] = {}
    for card_id, body_id in cards:
        cards_of_body.setdefault(body_id, []).append(card_id)

    def thread_for(body_id: int) -> int:
        if rng.random() < 0.5 or not cards_of_body.get(body_id):
            key = ("tavolo", body_id, "")
        else:
            key = ("card", rng.choice(cards_of_body[body_id]), rng.choice(text_fields[:8]))
        if key not in threads:
            thread = CommentThread(target_kind=key[0], target_id=key[1], field_key=key[2], body_id=body_id)
            session.add(thread)
            session.flush()
            threads[key] = thread.id
        return threads[key]

    comment_rows = []
    for n in range(units * UNIT_COMMENTS):
        body = rng.choices(bodies, body_weights)[0]
        source = _text(rng, 5, 40)
        comment_rows.append(
            {
                "thread_id": thread_for(body.id),
                "body_id": body.id,
                "author_id": rng.choice(authors_cache.get(body.id) or fallback_authors),
                "client_op_id": f"scala-{n}",
                "body_source": source,
                "body_html": f"<p>{source}</p>",
                "status": "visibile",
                "created_at": _when(rng, epoch, now),
            }
        )
    for start in range(0, len(comment_rows), 5000):
        session.execute(insert(Comment), comment_rows[start : start + 5000])
    from pdz.participation.rollups import mark_all

    mark_all(session)  # the rows above bypassed the ORM hook that marks participation rollups stale
    session.commit()
    if db.engine.dialect.name == "postgresql":
        with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("ANALYZE"))
    else:
        session.execute(text("ANALYZE"))
        session.commit()


# --- databases --------------------------------------------------------------------------------------


@contextmanager
def database(backend: str, name: str, workdir: Path) -> Iterator[str]:
    """A fresh empty database: a SQLite file, or a PostgreSQL database dropped afterwards."""
    if backend == "sqlite":
        yield f"sqlite:///{workdir / name}.sqlite3"
        return
    from sqlalchemy import create_engine, text

    admin = create_engine(PG_ADMIN_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


# --- measuring ----------------------------------------------------------------------------------------

ROLES = {
    "admin": "admin@example.org",
    "udp": "udp@example.org",
    "coord_pubblico": "coord.pubblico@example.org",
    "coord_ets": "coord.ets@example.org",
    "membro": "membro@example.org",
    "osservatore": "osservatore@example.org",
    "disabilita": "disabilita@example.org",
    "sindaco": "sindaco@example.org",
    "delegato": "delegato@example.org",
}


def sign_in(app: Any, email: str) -> Any:
    """A test client signed in as `email` (demo password; the demo's second factor for staff)."""
    import pyotp

    from pdz.accounts.demo import DEMO_TOTP_SECRET

    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": "demo"})
    if response.status_code == 302 and response.location.startswith("/login/codice"):
        response = client.post("/login/codice", data={"code": pyotp.TOTP(DEMO_TOTP_SECRET).now()})
    if response.status_code != 302:
        raise RuntimeError(f"sign-in failed for {email}: {response.status_code}")
    return client


def pages(app: Any) -> list[tuple[str, str, str]]:
    """(page, role, path) for every main page, on the demo's fixed objects (ids read from the database)."""
    from sqlalchemy import func, select

    from pdz.approvals.models import PlanDocument, Submission
    from pdz.cards.models import Card, CardRevision
    from pdz.extensions import db
    from pdz.meetings.models import Attendance, Meeting, MeetingStatus
    from pdz.tavoli.models import Body

    with app.app_context():
        body = db.session.scalar(select(Body).where(Body.name == HOT_TAVOLO))
        assert body is not None
        card = db.session.scalar(
            select(Card.id).where(Card.body_id == body.id, Card.key.is_not(None)).order_by(Card.id)
        )
        card_revisions = db.session.scalar(select(func.count()).where(CardRevision.card_id == card))
        # The demo's last concluded meeting of the tavolo with an attendance sheet (created by the demo,
        # so the same meeting at every factor).
        meeting = db.session.scalar(
            select(Meeting.id)
            .where(
                Meeting.body_id == body.id,
                Meeting.status == MeetingStatus.CONCLUDED,
                Meeting.id.in_(select(Attendance.meeting_id)),
                Meeting.place != "Sala riunioni",
            )
            .order_by(Meeting.starts_at.desc())
        )
        submission = db.session.scalar(select(Submission.id).order_by(Submission.id))
        plan = db.session.scalar(select(PlanDocument.id).order_by(PlanDocument.id))
        has_search = any(rule.rule.startswith("/cerca") for rule in app.url_map.iter_rules())
    print(f"  card {card} has {card_revisions} revisions", file=sys.stderr)
    result = [(f"home:{role}", role, "/") for role in ROLES]
    result += [
        ("tavolo", "coord_pubblico", f"/tavoli/{body.id}"),
        ("tavolo_members", "coord_pubblico", f"/tavoli/{body.id}/componenti"),
        ("tavoli", "udp", "/tavoli/"),
        ("card_list", "coord_pubblico", f"/tavoli/{body.id}/schede"),
        ("card", "coord_pubblico", f"/schede/{card}"),
        ("history", "coord_pubblico", f"/schede/{card}/storia"),
        ("meetings", "coord_pubblico", f"/tavoli/{body.id}/incontri"),
        ("meeting", "coord_pubblico", f"/incontri/{meeting}"),
        ("minutes", "coord_pubblico", f"/incontri/{meeting}/verbale"),
        ("participation", "udp", "/partecipazione/"),
        ("participation_tavolo", "coord_pubblico", f"/tavoli/{body.id}/partecipazione"),
        ("evaluation", "udp", "/valutazione/"),
        ("approvals", "udp", "/approvazioni/"),
        ("submission", "udp", f"/approvazioni/{submission}"),
        ("public", "membro", "/pubblico/"),
        ("public_document", "membro", f"/pubblico/{submission}"),
        ("plan", "udp", f"/piani/{plan}"),
    ]
    if has_search:
        result.append(("search", "membro", "/cerca?q=povert%C3%A0"))
    return result


def measure(app: Any, repeat: int) -> dict[str, dict[str, float]]:
    """{page: {"queries", "ms", "kb"}}: statements per request and median server time of `repeat` requests."""
    from sqlalchemy import event

    from pdz.extensions import db

    with app.app_context():
        engine = db.engine
    statements: list[str] = []

    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK|PRAGMA)", statement, re.I):
            statements.append(statement)

    clients: dict[str, Any] = {}
    results: dict[str, dict[str, float]] = {}
    event.listen(engine, "before_cursor_execute", count)
    try:
        for page, role, path in pages(app):
            if role not in clients:
                clients[role] = sign_in(app, ROLES[role])
            client = clients[role]
            response = client.get(path)  # warm-up
            if response.status_code != 200:
                print(f"  {page} {path}: {response.status_code}", file=sys.stderr)
                continue
            times = []
            cpu = []
            queries = 0
            for _ in range(repeat):
                statements.clear()
                started, started_cpu = time.perf_counter(), time.process_time()
                response = client.get(path)
                times.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - started_cpu) * 1000)
                queries = len(statements)
            results[page] = {
                "queries": queries,
                "ms": round(statistics.median(times), 1),
                "cpu_ms": round(statistics.median(cpu), 1),
                "kb": round(len(response.data) / 1024, 1),
            }
    finally:
        event.remove(engine, "before_cursor_execute", count)
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--factors", default="1,10,50", help="comma-separated multipliers of the demo")
    parser.add_argument(
        "--postgres", action="store_true", help="PostgreSQL (PDZ_TEST_POSTGRES_URL) instead of SQLite"
    )
    parser.add_argument("--repeat", type=int, default=7, help="requests per page (the median is reported)")
    parser.add_argument("--only", default="", help="comma-separated page names to measure (default: all)")
    args = parser.parse_args(argv)
    factors = sorted({int(f) for f in args.factors.split(",") if f.strip()})
    backend = "postgres" if args.postgres else "sqlite"
    by_page: dict[str, dict[str, dict[str, float]]] = {}
    with tempfile.TemporaryDirectory(prefix="pdz-scale-") as tmp:
        workdir = Path(tmp)
        for factor in factors:
            with database(backend, f"pdz_scale_x{factor}", workdir) as url:
                started = time.perf_counter()
                app = build_demo(factor, url, workdir)
                built = time.perf_counter() - started
                print(f"x{factor} ({backend}): demo built in {built:.1f} s", file=sys.stderr)
                results = measure(app, args.repeat)
                if args.only:
                    wanted = set(args.only.split(","))
                    results = {k: v for k, v in results.items() if k in wanted}
                for page, figures in results.items():
                    by_page.setdefault(page, {})[str(factor)] = figures
                    print(
                        f"  x{factor:<3} {page:24} {figures['queries']:4.0f} queries "
                        f"{figures['ms']:8.1f} ms {figures['cpu_ms']:8.1f} ms CPU {figures['kb']:7.1f} KB",
                        file=sys.stderr,
                    )
                with app.app_context():
                    from pdz.extensions import db

                    db.session.remove()
                    db.engine.dispose()
    low, high = str(factors[0]), str(factors[-1])
    ratios = {
        page: round(f[high]["ms"] / f[low]["ms"], 2)
        for page, f in by_page.items()
        if low in f and high in f and f[low]["ms"]
    }
    cpu_ratios = {
        page: round(f[high]["cpu_ms"] / f[low]["cpu_ms"], 2)
        for page, f in by_page.items()
        if low in f and high in f and f[low]["cpu_ms"]
    }
    worst = max(ratios, key=lambda p: ratios[p]) if ratios else None
    worst_cpu = max(cpu_ratios, key=lambda p: cpu_ratios[p]) if cpu_ratios else None

    summary = {
        "backend": backend,
        "factors": factors,
        "pages": {
            page: {k: {"queries": v["queries"], "ms": v["ms"], "cpu_ms": v["cpu_ms"]} for k, v in f.items()}
            for page, f in by_page.items()
        },
        "max_queries": max((v["queries"] for f in by_page.values() for v in f.values()), default=0),
        "worst_ratio": ratios[worst] if worst else None,
        "worst_page": worst,
        "participation_ms": by_page.get("participation", {}).get(high, {}).get("ms"),
        "worst_cpu_ratio": cpu_ratios[worst_cpu] if worst_cpu else None,
        "worst_cpu_page": worst_cpu,
        "participation_cpu_ms": by_page.get("participation", {}).get(high, {}).get("cpu_ms"),
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }
    print(json.dumps(summary, ensure_ascii=False))


if __name__ == "__main__":
    main()
