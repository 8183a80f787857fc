"""Full-text search over messages with filters (chat, date, author, has media, forwarded
from, lexicon hit). Every search is written to the audit trail.

Query language, the same on SQLite and PostgreSQL: words match word prefixes (``사진``
finds 사진을), a Korean word of two or more syllables is found inside words too (``영상``
finds 딥페이크영상, through the index's syllable bigrams: :mod:`haechi.services.search_terms`),
``"two words"`` is a phrase, ``-word`` excludes. Filters are facet terms of
the same index query (see :mod:`haechi.services.search_index`), so no filter scans the
messages table; only "forwarded from <name>" and "lexicon hit" check the matching rows.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy import Connection, text

from haechi.app import App
from haechi.auth import audit
from haechi.auth.types import Actor
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.services import integrations, search_index
from haechi.services.search_index import SCHEMA
from haechi.services.search_terms import bigrams, is_korean_word

MAX_QUERY = 500
MAX_TERMS = 16
MAX_LIMIT = 200
SNIPPET = 400
_TOKEN = re.compile(r"[^\W_]+")
_PART = re.compile(r'(-?)"([^"]*)"|(-?)(\S+)')


@dataclass(frozen=True)
class Filters:
    q: str = ""
    chat_id: int | None = None
    date_from: int | None = None  # epoch seconds, inclusive
    date_to: int | None = None
    author: str | None = None
    has_media: bool = False
    forwarded: bool = False
    forwarded_from: str | None = None
    lexicon: bool = False
    cursor: str | None = None
    limit: int = 50

    def describe(self) -> dict[str, Any]:
        """What the audit trail keeps of a search (everything but the page cursor)."""
        out = {k: v for k, v in self.__dict__.items() if v not in (None, "", False)}
        out.pop("cursor", None)
        out.pop("limit", None)
        return out


@dataclass(frozen=True)
class Parsed:
    include: list[list[str]] = field(default_factory=list)  # each: tokens of one word/phrase
    exclude: list[list[str]] = field(default_factory=list)

    @property
    def terms(self) -> list[str]:
        return [t for group in self.include for t in group]


@dataclass(frozen=True)
class Hit:
    message_pk: int
    chat_id: int
    chat_title: str | None
    message_id: int
    date_unix: int | None
    sender_name: str | None
    text: str
    forwarded_from: str | None
    has_media: bool


@dataclass(frozen=True)
class Page:
    hits: list[Hit]
    next_cursor: str | None
    terms: list[str]
    seconds: float
    note: str | None = None


def parse_query(q: str) -> Parsed:
    if len(q) > MAX_QUERY:
        raise UsageError(
            t_("A search is at most {max_query} characters long.", max_query=MAX_QUERY)
        )
    include: list[list[str]] = []
    exclude: list[list[str]] = []
    for m in _PART.finditer(q):
        negative = bool(m.group(1) or m.group(3))
        chunk = m.group(2) if m.group(2) is not None else m.group(4)
        tokens = [t.lower() for t in _TOKEN.findall(chunk)][:8]
        if not tokens:
            continue
        # An unquoted word like "e-mail" is a phrase of its tokens, as the index saw it.
        (exclude if negative else include).append(tokens)
    if len(include) + len(exclude) > MAX_TERMS:
        raise UsageError(
            t_("A search has at most {max_terms} words or phrases.", max_terms=MAX_TERMS)
        )
    return Parsed(include, exclude)


def _fts5_group(column: str, tokens: list[str]) -> str:
    # Tokens hold only letters and digits, so quoting them cannot break the syntax.
    if column == "body" and len(tokens) == 1 and is_korean_word(tokens[0]):
        return f'grams:"{" ".join(bigrams(tokens[0]))}"'
    return f'{column}:"{" ".join(tokens)}"*'


def _fts5_match(p: Parsed, facet_terms: list[str], author_ids: list[int] | None) -> str:
    parts = [_fts5_group("body", g) for g in p.include]
    parts += [f'facets:"{f}"' for f in facet_terms]
    if author_ids:
        parts.append("(" + " OR ".join(f'facets:"s{a}"' for a in author_ids) + ")")
    if not p.include:
        parts.append('facets:"all"')
    expr = " AND ".join(parts)
    if p.exclude:
        expr = f"({expr}) NOT (" + " OR ".join(_fts5_group("body", g) for g in p.exclude) + ")"
    return expr


def _pg_group(tokens: list[str]) -> str:
    if len(tokens) == 1 and is_korean_word(tokens[0]):
        grams = " <-> ".join(f"{g}:B" for g in bigrams(tokens[0]))
        return f"({grams})" if " " in grams else grams
    body = " <-> ".join(f"{t}:A" for t in tokens[:-1])
    last = f"{tokens[-1]}:*A"
    return f"({body} <-> {last})" if body else last


def _pg_query(p: Parsed, facet_terms: list[str], author_ids: list[int] | None) -> str:
    parts = [_pg_group(g) for g in p.include]
    parts += [f"{f}:D" for f in facet_terms]
    if author_ids:
        parts.append("(" + " | ".join(f"s{a}:D" for a in author_ids) + ")")
    if not p.include:
        parts.append("all:D")
    parts += [f"!{_pg_group(g)}" for g in p.exclude]
    return " & ".join(parts)


def _authors(conn: Connection, author: str) -> list[int]:
    """Accounts whose user name, key or any display name ever seen matches."""
    name = author.strip().lstrip("@")
    if not name:
        return []
    pat = "%" + name.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    rows = conn.execute(
        text(
            "SELECT id FROM accounts WHERE lower(username) = lower(:n) OR key = :n "
            "OR lower(display_name) LIKE lower(:p) ESCAPE '\\' "
            "UNION SELECT account_id FROM account_names WHERE lower(name) LIKE lower(:p) "
            "ESCAPE '\\' LIMIT 50"
        ),
        {"n": name, "p": pat},
    ).all()
    return sorted(int(r[0]) for r in rows)


def _cursor_value(cursor: str | None, prefix: str) -> str | None:
    if not cursor:
        return None
    if not cursor.startswith(prefix) or len(cursor) > 64:
        raise UsageError(t_("That page link is not valid any more: run the search again."))
    return cursor[len(prefix) :]


_SELECT = (
    "m.id, m.chat_id, c.title AS chat_title, m.message_id, m.date_unix, m.sender_name, "  # noqa: S608 - placeholders and our own names only
    f"substr(m.text, 1, {SNIPPET}) AS text, m.forwarded_from, "
    "(m.media_type IS NOT NULL OR EXISTS (SELECT 1 FROM media d WHERE d.message_pk = m.id)) "
    "AS has_media"
)


def _extra_where(app: App, conn: Connection, f: Filters, params: dict[str, Any]) -> str:
    where = ""
    if f.forwarded_from:
        params["ff"] = "%" + f.forwarded_from.strip()[:100].lower() + "%"
        where += " AND lower(m.forwarded_from) LIKE :ff"
    if f.lexicon:
        clause = integrations.lexicon_clause(app, params)
        if clause is None:
            raise UsageError(
                t_("The lexicon filter needs the text analysis, which is not installed.")
            )
        where += f" AND {clause}"
    return where


def _doc_bounds(f: Filters, column: str, params: dict[str, Any]) -> str:
    """The date range and the cursor as bounds on the date-ordered document id (FTS5's
    rowid, PostgreSQL's ``doc``): both back ends page the same way."""
    lo, hi = search_index.docid_bounds(f.date_from, f.date_to)
    where = ""
    if lo is not None:
        where += f" AND {column} >= :lo"
        params["lo"] = lo
    if hi is not None:
        where += f" AND {column} <= :hi"
        params["hi"] = hi
    before = _cursor_value(f.cursor, "d")
    if before is not None:
        where += f" AND {column} < :before"
        params["before"] = int(before) if before.isdigit() else 0
    return where


def _run_sqlite(app: App, conn: Connection, f: Filters, match: str) -> tuple[list[Any], str | None]:
    params: dict[str, Any] = {"match": match, "limit": f.limit + 1}
    where = _doc_bounds(f, "x.rowid", params)
    where += _extra_where(app, conn, f, params)
    sql = (
        f"SELECT x.rowid AS doc, {_SELECT} FROM {SCHEMA}.messages_fts x "  # noqa: S608 - placeholders and our own names only
        "JOIN messages m ON m.id = (x.rowid & 4294967295) JOIN chats c ON c.id = m.chat_id "
        f"WHERE x.messages_fts MATCH :match{where} ORDER BY x.rowid DESC LIMIT :limit"
    )
    rows = list(conn.execute(text(sql), params).all())
    nxt = f"d{rows[f.limit - 1].doc}" if len(rows) > f.limit else None
    return rows[: f.limit], nxt


# Newest first on PostgreSQL: the newest WINDOWS[0] documents are checked first (a common
# word fills its page there), then the next WINDOWS[1], and only then does the GIN index
# find the rest (a rare word: few postings). Left to itself the planner misjudged Korean
# phrases: it multiplies the selectivities of a word's bigrams, which always occur
# together, expected 88 of 10M documents for 감사합니다 where 262,824 matched, and read and
# sorted all of them (3.3 s); checking a window costs ~0.3 us a document.
WINDOWS = (20_000, 200_000)


def _run_pg(app: App, conn: Connection, f: Filters, tsq: str) -> tuple[list[Any], str | None]:
    """Newest first by the date-ordered document id (as FTS5's rowid), in windows of the
    newest documents before the GIN index (see WINDOWS)."""
    params: dict[str, Any] = {"tsq": tsq}
    bounds = _doc_bounds(f, "doc", params)
    extra = _extra_where(app, conn, f, params)
    found: list[Any] = []
    floor_cond = ""
    for window in (*WINDOWS, None):
        params["need"] = f.limit + 1 - len(found)
        if window is None:  # the rest: whatever the planner finds best
            source = (
                f"(SELECT message_pk, doc, tsv FROM message_search WHERE true{bounds}{floor_cond})"  # noqa: S608 - placeholders and our own names only
            )
        else:
            params["window"] = window
            source = (
                f"(SELECT message_pk, doc, tsv FROM message_search WHERE true{bounds}{floor_cond} "  # noqa: S608 - placeholders and our own names only
                "ORDER BY doc DESC LIMIT :window)"
            )
        sql = (
            f"SELECT s.doc, {_SELECT} FROM {source} s JOIN messages m ON m.id = s.message_pk "  # noqa: S608 - placeholders and our own names only
            "JOIN chats c ON c.id = m.chat_id "
            f"WHERE s.tsv @@ to_tsquery('simple', :tsq){extra} ORDER BY s.doc DESC LIMIT :need"
        )
        found += list(conn.execute(text(sql), params).all())
        if len(found) > f.limit or window is None:
            break
        floor = conn.execute(
            text(
                f"SELECT min(doc), count(*) FROM (SELECT doc FROM message_search WHERE true"  # noqa: S608 - placeholders and our own names only
                f"{bounds}{floor_cond} ORDER BY doc DESC LIMIT :window) w"
            ),
            params,
        ).one()
        if floor[1] < window:  # the window held every document left: nothing below
            break
        floor_cond = " AND doc < :floor"
        params["floor"] = int(floor[0])
    nxt = f"d{found[f.limit - 1].doc}" if len(found) > f.limit else None
    return found[: f.limit], nxt


def search(app: App, actor: Actor, f: Filters, *, audited: bool = True) -> Page:
    """Run one search page; audited unless the caller audits it itself."""
    started = time.monotonic()
    f = replace(f, limit=max(1, min(f.limit, MAX_LIMIT)))
    parsed = parse_query(f.q)
    facet_terms = []
    if f.chat_id is not None:
        facet_terms.append(f"c{int(f.chat_id)}")
    if f.has_media:
        facet_terms.append("media")
    if f.forwarded or f.forwarded_from:
        facet_terms.append("fwd")
    search_index.install(app)
    note = None
    with app.db.connect() as conn:
        author_ids = None
        rows: list[Any]
        if f.author and f.author.strip():
            author_ids = _authors(conn, f.author)
            if not author_ids:
                note = "no_author"
        if note:
            rows, nxt = [], None
        elif app.db.is_sqlite:
            rows, nxt = _run_sqlite(app, conn, f, _fts5_match(parsed, facet_terms, author_ids))
        else:
            rows, nxt = _run_pg(app, conn, f, _pg_query(parsed, facet_terms, author_ids))
    hits = [
        Hit(
            message_pk=r.id,
            chat_id=r.chat_id,
            chat_title=r.chat_title,
            message_id=r.message_id,
            date_unix=r.date_unix,
            sender_name=r.sender_name,
            text=r.text or "",
            forwarded_from=r.forwarded_from,
            has_media=bool(r.has_media),
        )
        for r in rows
    ]
    if audited:
        detail = {**f.describe(), "results": len(hits), "page": bool(f.cursor)}
        audit.record(app, actor, audit.SEARCH, None, detail)
    return Page(hits, nxt, parsed.terms, time.monotonic() - started, note)


def highlight(value: str, terms: list[str]) -> list[tuple[str, bool]]:
    """Split ``value`` into (segment, is_match) for display; the template escapes each
    segment, so no HTML from a message ever reaches the page."""
    if not terms or not value:
        return [(value, False)]
    pattern = re.compile(
        "|".join(re.escape(t) for t in sorted(set(terms), key=len, reverse=True)), re.IGNORECASE
    )
    out: list[tuple[str, bool]] = []
    pos = 0
    for m in pattern.finditer(value):
        if m.start() > pos:
            out.append((value[pos : m.start()], False))
        out.append((m.group(0), True))
        pos = m.end()
    if pos < len(value):
        out.append((value[pos:], False))
    return out
