"""The read side of search: parse the words, match them, keep what the person may read, highlight.

PostgreSQL: `to_tsquery('italian', 'word:* & ...')` on the `tsv` column (Snowball's Italian stemmer, then
a prefix match, so "servizi" finds "servizio"), ranked by `ts_rank`, highlighted by `ts_headline`.
SQLite: FTS5 (`unicode61 remove_diacritics 2`); FTS5 has no Italian stemmer, so each word loses its Italian
inflection ending here (`light_stem`) and is asked for as a prefix ("servizi" -> "serviz"*); ranked by
`bm25`, highlighted by `highlight()`/`snippet()`. Highlights come back wrapped in two marks that the index
never contains; the text is HTML-escaped first and only then the marks become <mark> (user text cannot
inject markup).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from flask import url_for
from markupsafe import Markup, escape
from sqlalchemy import (
    Integer,
    Select,
    String,
    bindparam,
    column,
    func,
    literal_column,
    or_,
    select,
    table,
    text,
    union_all,
)
from sqlalchemy.orm import selectinload

from .. import policy
from ..approvals.models import Submission
from ..cards.models import Card
from ..comments import targets
from ..extensions import db
from ..meetings.models import Meeting, Rsvp
from ..orgs.models import Organisation
from ..tavoli.models import Body, Membership
from .index import KINDS
from .models import SearchEntry

MARK_START, MARK_END = "\u27e6", "\u27e7"
MAX_WORDS = 8
PER_KIND = 5
PER_KIND_ALONE = 50  # when the person asks for one kind only
# Each kind ranks only its newest CANDIDATES matches (that the person may read) and counts up to one more:
# a common word matches tens of thousands of comments at x50, and ranking all of them costs more than the
# page may take (docs/search.md, Performance). Below CANDIDATES matches the results are exact.
CANDIDATES = 1000

_WORD = re.compile(r"[^\W_]+")
_FTS = table("search_fts", column("rowid"), column("title"), column("content"))
BODY_KINDS = ("card", "comment", "meeting", "agenda", "minutes", "decision", "swot")
MEETING_KINDS = ("meeting", "agenda", "minutes", "decision")
PUBLIC_KINDS = ("org", "document")


@dataclass
class Hit:
    kind: str
    object_id: int
    body_id: int | None
    meeting_id: int | None
    ref: str
    title: Markup = Markup("")
    snippet: Markup = Markup("")
    url: str | None = None
    context: str = ""


@dataclass
class Group:
    kind: str
    total: int  # matches the person may read, counted up to CANDIDATES + 1
    hits: list[Hit] = field(default_factory=list)

    @property
    def capped(self) -> bool:
        """More matches than CANDIDATES: the count shown is "più di 1.000"."""
        return self.total > CANDIDATES


def words_of(query: str) -> list[str]:
    found = [w.lower() for w in _WORD.findall(query or "") if len(w) >= 2 or w.isdigit()]
    return [w[:40] for w in found][:MAX_WORDS]


_VOWELS = "aeiouàèéìíòóù"


def light_stem(word: str) -> str:
    """A small Italian stemmer for the query side of SQLite: the inflection ending goes, the rest becomes a
    prefix. servizi/servizio -> serviz, politiche/politica -> politic, comunità -> comunit, famiglie -> famigl."""
    stem = word
    for ending in ("zioni", "zione"):
        if stem.endswith(ending) and len(stem) > len(ending) + 2:
            return stem[: -len(ending)] + "zion"
    if len(stem) >= 4 and stem[-1] in _VOWELS:
        stem = stem[:-1]
        gli = len(stem) >= 5 and stem.endswith("gli")  # famiglie -> famigl
        chi = len(stem) >= 4 and stem[-1] == "h" and stem[-2] in "cg"  # politiche -> politic
        if gli or chi:
            stem = stem[:-1]
    return stem


def _fold(word: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", word) if not unicodedata.combining(c))


def fts5_query(words: Sequence[str]) -> str:
    return " ".join(f'"{_fold(light_stem(w))}"*' for w in words)


def pg_query(words: Sequence[str]) -> str:
    return " & ".join(f"{w}:*" for w in words)


def _visible(kind: str) -> Any:
    """SQL twin of the policy for one kind's index rows, for the person `:user_id` who is not staff (staff
    read every row; each shown row is checked again with policy.can)."""
    if kind in PUBLIC_KINDS:
        return None
    e = SearchEntry
    me = bindparam("user_id", type_=Integer)
    mine = select(Membership.body_id).where(Membership.user_id == me, Membership.ended_at.is_(None))
    if kind == "person":
        colleagues = select(Membership.user_id).where(
            Membership.body_id.in_(mine), Membership.ended_at.is_(None)
        )
        return or_(e.object_id.in_(colleagues), e.object_id == me)
    if kind in MEETING_KINDS:
        delegated = select(Rsvp.meeting_id).where(Rsvp.delegate_id == me)
        return or_(e.body_id.in_(mine), e.meeting_id.in_(delegated))
    return e.body_id.in_(mine)


def _candidates(kind: str, staff: bool, postgres: bool) -> Select[Any]:
    """The newest CANDIDATES + 1 matches of one kind the person may read, each with its rank.

    The permission filter sits inside, before the limit: rows the person may not read never take a place.
    SQLite: the kind is a column of the FTS5 index (`kind : "comment" AND (...)`, parameter `:fts_<kind>`),
    so FTS5 walks only that kind's matches, newest first, and stops at the limit; bm25 is computed for those
    rows only. PostgreSQL: parameter `:tsquery`."""
    e = SearchEntry
    if postgres:
        query = func.to_tsquery("italian", bindparam("tsquery", type_=String))
        stmt = (
            select(e.id, e.kind, (-func.ts_rank(e.tsv, query)).label("rank"))
            # `kind >= k AND kind <= k`, ordered by (kind, id): equality would let the planner drop kind
            # from the order and walk the primary key backwards through every newer row of every kind
            # (testing tsv on each); this way it walks ix_search_entries_kind_id, this kind's rows only
            .where(e.kind >= kind, e.kind <= kind, e.tsv.op("@@")(query))
            .order_by(e.kind.desc(), e.id.desc())
        )
    else:
        stmt = (
            select(e.id, e.kind, func.bm25(literal_column("search_fts"), 4.0, 1.0, 0.0).label("rank"))
            .select_from(_FTS.join(e.__table__, e.id == _FTS.c.rowid))
            .where(text(f"search_fts MATCH :fts_{kind}"))
            .order_by(_FTS.c.rowid.desc())
        )
    visible = None if staff else _visible(kind)
    if visible is not None:
        stmt = stmt.where(visible)
    return stmt.limit(CANDIDATES + 1)


def _best(kind: str, limit: int, staff: bool, postgres: bool) -> Select[Any]:
    """One kind's best `limit` rows among its newest CANDIDATES matches, with the count of matches (up to
    CANDIDATES + 1: more than CANDIDATES is shown as such)."""
    found = _candidates(kind, staff, postgres).subquery(f"found_{kind}")
    aged = select(
        found.c.id,
        found.c.kind,
        found.c.rank,
        func.count().over().label("total"),
        func.row_number().over(order_by=found.c.id.desc()).label("age"),
    ).subquery(f"aged_{kind}")
    numbered = (
        select(
            aged.c.id,
            aged.c.kind,
            aged.c.rank,
            aged.c.total,
            func.row_number().over(order_by=(aged.c.rank, aged.c.id)).label("n"),
        )
        .where(aged.c.age <= CANDIDATES)
        .subquery(f"numbered_{kind}")
    )
    return select(numbered.c.id, numbered.c.kind, numbered.c.rank, numbered.c.total).where(
        numbered.c.n <= limit
    )


_STATEMENTS: dict[tuple[str | None, bool, bool], Select[Any]] = {}


def _statement(kind: str | None, staff: bool, postgres: bool) -> Select[Any]:
    """The ranking statement (every kind, or one), built once per shape: the words and the person are
    parameters (building it is a good part of a request's Python time otherwise)."""
    key = (kind, staff, postgres)
    if key not in _STATEMENTS:
        limit = PER_KIND_ALONE if kind else PER_KIND
        parts = [_best(k, limit, staff, postgres) for k in ([kind] if kind else KINDS)]
        every = union_all(*parts).subquery("best")
        _STATEMENTS[key] = select(every).order_by(every.c.kind, every.c.rank, every.c.id)
    return _STATEMENTS[key]


def search(user: Any, query: str, kind: str | None = None) -> tuple[list[str], list[Group]]:
    words = words_of(query)
    if not words:
        return words, []
    if kind not in KINDS:
        kind = None
    postgres = db.session.get_bind().dialect.name == "postgresql"
    staff = bool(user.is_admin or user.is_udp)
    params: dict[str, Any] = {} if staff else {"user_id": user.id}
    if postgres:
        params["tsquery"] = pg_query(words)
    else:
        match = fts5_query(words)
        params.update({f"fts_{k}": f'kind : "{k}" AND ({match})' for k in ([kind] if kind else KINDS)})
    rows = db.session.execute(_statement(kind, staff, postgres), params).all()
    if not rows:
        return words, []
    totals = {row.kind: row.total for row in rows}
    ids = [row.id for row in rows]
    marks = _highlights(ids, words, postgres)
    entries = {
        entry.id: entry for entry in db.session.scalars(select(SearchEntry).where(SearchEntry.id.in_(ids)))
    }
    groups: dict[str, Group] = {}
    for row in rows:
        entry = entries[row.id]
        title, snippet = marks.get(row.id, (entry.title, entry.content[:200]))
        hit = Hit(
            entry.kind,
            entry.object_id,
            entry.body_id,
            entry.meeting_id,
            entry.ref,
            title=marked(title),
            snippet=marked(snippet),
        )
        groups.setdefault(row.kind, Group(row.kind, totals[row.kind])).hits.append(hit)
    loaded = _prefetch(list(groups.values()))  # held: the session keeps only weak references
    for group in groups.values():
        _resolve(user, group)
    del loaded
    return words, [groups[k] for k in KINDS if k in groups and groups[k].hits]


def _highlights(ids: list[int], words: Sequence[str], postgres: bool) -> dict[int, tuple[str, str]]:
    """The marked title and snippet of the rows shown. SQLite runs the match again for each of these rows:
    cheap because the prefixes the query asks for are indexed (prefix='2,...,8', docs/search.md)."""
    if postgres:
        e = SearchEntry
        ts_query = func.to_tsquery("italian", pg_query(words))
        title_opts = f"StartSel={MARK_START}, StopSel={MARK_END}, HighlightAll=true"
        body_opts = (
            f"StartSel={MARK_START}, StopSel={MARK_END}, MaxFragments=2, MaxWords=24, MinWords=8, "
            'FragmentDelimiter=" … "'
        )
        rows = db.session.execute(
            select(
                e.id,
                func.ts_headline("italian", e.title, ts_query, title_opts),
                func.ts_headline("italian", e.content, ts_query, body_opts),
            ).where(e.id.in_(ids))
        )
    else:
        rows = db.session.execute(
            select(
                _FTS.c.rowid,
                func.highlight(literal_column("search_fts"), 0, MARK_START, MARK_END),
                func.snippet(literal_column("search_fts"), 1, MARK_START, MARK_END, "…", 24),
            )
            .where(text("search_fts MATCH :fts"))
            .where(_FTS.c.rowid.in_(ids)),
            {"fts": fts5_query(words)},
        )
    return {row[0]: (row[1] or "", row[2] or "") for row in rows}


def marked(value: str) -> Markup:
    """Escape every piece of text, and turn the highlighter's marks (never in indexed text) into <mark>."""
    out, open_mark = Markup(""), False
    for piece in re.split(f"([{MARK_START}{MARK_END}])", value):
        if piece == MARK_START and not open_mark:
            out, open_mark = out + Markup("<mark>"), True
        elif piece == MARK_END and open_mark:
            out, open_mark = out + Markup("</mark>"), False
        elif piece not in (MARK_START, MARK_END):
            out += escape(piece)
    return out + Markup("</mark>") if open_mark else out


# --- permission check and links of the rows shown --------------------------------------------------


def _prefetch(groups: list[Group]) -> list[Any]:
    """Load the shown rows' objects in one query per model, so the checks below find them in the session."""
    ids: dict[Any, set[int]] = {
        Card: set(),
        Meeting: set(),
        Body: set(),
        Organisation: set(),
        Submission: set(),
    }
    for group in groups:
        for hit in group.hits:
            if hit.kind == "card":
                ids[Card].add(hit.object_id)
            elif hit.kind in MEETING_KINDS and hit.meeting_id:
                ids[Meeting].add(hit.meeting_id)
            elif hit.kind in ("comment", "swot") and hit.body_id:
                ids[Body].add(hit.body_id)
            elif hit.kind == "org":
                ids[Organisation].add(hit.object_id)
            elif hit.kind == "document":
                ids[Submission].add(hit.object_id)
    loaded: list[Any] = []
    for model, wanted in ids.items():
        if not wanted:
            continue
        stmt = select(model).where(model.id.in_(wanted))
        if model in (Card, Meeting):
            stmt = stmt.options(selectinload(model.body))
        loaded += db.session.scalars(stmt)
    return loaded


def _resolve(user: Any, group: Group) -> None:
    """Check each shown row with policy.can on its object, and give it its link; drop what fails."""
    kept: list[Hit] = []
    for hit in group.hits:
        ok = False
        if hit.kind == "card":
            card = db.session.get(Card, hit.object_id)
            ok = policy.can(user, "card.view", card)
            hit.url = url_for("cards.detail", card_id=hit.object_id)
            hit.context = card.body.display_name if card is not None else ""
        elif hit.kind in MEETING_KINDS:
            meeting = db.session.get(Meeting, hit.meeting_id) if hit.meeting_id else None
            ok = policy.can(user, "meeting.view", meeting)
            if meeting is not None:
                hit.context = meeting.body.display_name
                if hit.kind == "minutes":
                    hit.url = url_for("meetings.minutes", meeting_id=meeting.id)
                else:
                    hit.url = url_for("meetings.detail", meeting_id=meeting.id)
                if hit.kind != "meeting":
                    hit.context = f"{meeting.title} · {hit.context}"
        elif hit.kind in ("comment", "swot"):
            body = db.session.get(Body, hit.body_id) if hit.body_id else None
            ok = policy.can(user, "swot.view" if hit.kind == "swot" else "tavolo.view", body)
            hit.context = body.display_name if body is not None else ""
            hit.url = _comment_url(hit) if hit.kind == "comment" else _swot_url(hit)
        elif hit.kind == "org":
            ok = policy.can(user, "org.view", db.session.get(Organisation, hit.object_id))
            hit.url = url_for("orgs.detail", org_id=hit.object_id)
        elif hit.kind == "document":
            ok = policy.can(user, "approval.view", db.session.get(Submission, hit.object_id))
            hit.url = url_for("approvals.public_document", submission_id=hit.object_id)
        elif hit.kind == "person":
            ok = True  # the SQL filter: oneself, people sharing a tavolo, everyone for the staff
            hit.url = url_for("admin.users") if policy.can(user, "user.list") else None
        if ok:
            kept.append(hit)
    group.total -= len(group.hits) - len(kept)
    group.hits = kept


def _comment_url(hit: Hit) -> str | None:
    kind, _, ident = hit.ref.partition(":")
    target = targets.get(kind)
    obj = target.load(int(ident)) if target is not None and ident.isdigit() else None
    if target is None or obj is None:
        return None
    return target.url_of(obj) + f"#commento-{hit.object_id}"


def _swot_url(hit: Hit) -> str | None:
    return url_for("evaluation.swot", assessment_id=int(hit.ref)) if hit.ref.isdigit() else None
