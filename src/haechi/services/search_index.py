"""The full-text index of messages, kept current after every ingest (``after_ingest``).

**SQLite**: an FTS5 table in its own file, ``HOME/indexes/search.sqlite``, attached to every
connection of the application's engine as the schema ``search``. It is rebuildable at any
time from the messages (delete the file), is not evidence, and stays out of the Alembic
schema (FTS5 virtual tables and their shadow tables cannot be described by SQLAlchemy).

**PostgreSQL**: the ``message_search`` table, a ``tsvector`` with a GIN index and the
same date-ordered document id as FTS5's (``doc``, a B-tree).

Both index three things per message: its words (unicode61 tokens, case-folded; queries
match word prefixes: 사진 finds 사진을), the syllable bigrams of its Korean words (so 영상
is found inside 딥페이크영상: :mod:`haechi.services.search_terms`) and *facet* tokens:
``all``, ``c<chat id>``, ``s<sender account id>``, ``media``, ``fwd``. A filter is then a
term of the same query, so a filter never scans the messages table.

The document id orders documents by date: ``(date - 2000-01-01) << 32 | message id``, so
"newest first" is index order on both back ends (``ORDER BY rowid/doc DESC LIMIT n`` stops
early: for a common word PostgreSQL walks ``doc`` backwards and checks each document, for
a rare one it reads the GIN postings and sorts the few it finds) and a date range is a
document-id range.
"""

from __future__ import annotations

import time
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, event, text

from haechi.app import App
from haechi.services.search_terms import grams_text, pg_document, words
from haechi.store.pgcopy import copy_ignore

INDEX_FILE = "search.sqlite"
SCHEMA = "search"
FORMAT = 2  # bump to rebuild every index built by an older haechi (2: Korean bigrams)
BATCH = 20_000
EPOCH = 946_684_800  # 2000-01-01T00:00:00Z: Telegram's dates are all later
LOW32 = 0xFFFFFFFF
MAX_TEXT = 100_000  # characters of a message indexed (PostgreSQL's tsvector holds 1 MB)
MMAP_BYTES = 1 << 30  # address space, not memory: the OS page cache holds what is read
_installed: weakref.WeakSet[Engine] = weakref.WeakSet()

# Facets: cheap to read in the same pass as the text.
_ROWS = """
SELECT m.id, m.chat_id, m.date_unix, m.sender_account_id, m.text,
       (m.forwarded_from IS NOT NULL) AS fwd,
       (m.media_type IS NOT NULL OR EXISTS (SELECT 1 FROM media d WHERE d.message_pk = m.id))
         AS has_media
FROM messages m WHERE m.id > :last ORDER BY m.id LIMIT :batch
"""


def docid(date_unix: int | None, message_pk: int) -> int:
    offset = max(0, (date_unix or EPOCH) - EPOCH)
    return (offset << 32) | (message_pk & LOW32)


def docid_bounds(date_from: int | None, date_to: int | None) -> tuple[int | None, int | None]:
    """Rowid range for [date_from, date_to] (epoch seconds, inclusive)."""
    lo = docid(date_from, 0) if date_from is not None else None
    hi = docid(date_to, LOW32) if date_to is not None else None
    return lo, hi


def message_pk_of(doc: int) -> int:
    return doc & LOW32


def facets(chat_id: int, sender: int | None, has_media: bool, forwarded: bool) -> str:
    parts = ["all", f"c{chat_id}"]
    if sender is not None:
        parts.append(f"s{sender}")
    if has_media:
        parts.append("media")
    if forwarded:
        parts.append("fwd")
    return " ".join(parts)


def index_path(app: App) -> Path:
    return app.settings.index_dir / INDEX_FILE


def install(app: App) -> None:
    """Attach the SQLite index file to every connection of ``app``'s engine (idempotent)."""
    engine = app.db.engine
    if not app.db.is_sqlite or engine in _installed:
        return
    path = index_path(app)
    path.parent.mkdir(parents=True, exist_ok=True)

    def attach(dbapi_conn: Any, _record: Any) -> None:
        cur = dbapi_conn.cursor()
        cur.execute(f"ATTACH DATABASE ? AS {SCHEMA}", (str(path),))
        cur.execute(f"PRAGMA {SCHEMA}.journal_mode=WAL")
        cur.execute(f"PRAGMA {SCHEMA}.synchronous=NORMAL")
        # Reads through memory-mapped pages skip a copy into SQLite's page cache per page
        # (list and search pages read many); writes still go through the usual path.
        cur.execute(f"PRAGMA main.mmap_size={MMAP_BYTES}")
        cur.execute(f"PRAGMA {SCHEMA}.mmap_size={MMAP_BYTES}")
        cur.close()

    event.listen(engine, "connect", attach)
    _installed.add(engine)
    # Connections opened before now lack the attachment: start the pool afresh.
    engine.dispose()
    with app.db.begin() as conn:
        _sqlite_schema(conn)


def _sqlite_schema(conn: Connection) -> None:
    conn.exec_driver_sql(
        f"CREATE TABLE IF NOT EXISTS {SCHEMA}.state (name TEXT PRIMARY KEY, value TEXT NOT NULL)"
    )
    # Contentless: the text stays in the messages table; the index holds only postings.
    conn.exec_driver_sql(
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {SCHEMA}.messages_fts USING fts5("
        "body, facets, grams, content='', tokenize='unicode61 remove_diacritics 2', "
        "prefix='1 2 3')"
    )


def _state(conn: Connection, name: str) -> str | None:
    row = conn.exec_driver_sql(f"SELECT value FROM {SCHEMA}.state WHERE name = ?", (name,)).first()  # noqa: S608 - placeholders and our own names only
    return None if row is None else str(row[0])


def _set_state(conn: Connection, name: str, value: str) -> None:
    conn.exec_driver_sql(
        f"INSERT INTO {SCHEMA}.state (name, value) VALUES (?, ?) "  # noqa: S608 - placeholders and our own names only
        "ON CONFLICT(name) DO UPDATE SET value = excluded.value",
        (name, value),
    )


def _identity(conn: Connection) -> str:
    """The first custody event's hash names this database: an index built for another
    database (a restored backup, a copied home) is rebuilt, never trusted."""
    row = conn.exec_driver_sql("SELECT hash FROM custody_events ORDER BY seq LIMIT 1").first()
    return str(row[0]) if row else "empty"


def _sqlite_reset_if_foreign(app: App) -> None:
    with app.db.begin() as conn:
        want = f"{FORMAT}:{_identity(conn)}"
        if _state(conn, "identity") == want:
            return
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {SCHEMA}.messages_fts")
        conn.exec_driver_sql(f"DELETE FROM {SCHEMA}.state")  # noqa: S608 - placeholders and our own names only
        _sqlite_schema(conn)
        _set_state(conn, "identity", want)
        _set_state(conn, "last", "0")


def _pg_last(conn: Connection) -> int:
    row = conn.exec_driver_sql(
        "SELECT last_message_pk FROM web_search_state WHERE name = 'messages'"
    ).first()
    return int(row[0]) if row else 0


def _pg_batch(conn: Connection, last: int, batch: int) -> tuple[int, int]:
    """Index the next ``batch`` messages after ``last``; returns (new high mark, count).

    The document is built here (:func:`haechi.services.search_terms.pg_document`), from
    the same tokens as the query and as SQLite's index: PostgreSQL's own parser would keep
    URLs, e-mail addresses and paths as single tokens, and both back ends must find the
    same. Its rows go in through ``COPY`` (:mod:`haechi.store.pgcopy`)."""
    rows = conn.execute(text(_ROWS), {"last": last, "batch": batch}).all()
    if not rows:
        return last, 0
    docs = [
        (
            r.id,
            docid(r.date_unix, r.id),
            pg_document(
                (r.text or "")[:MAX_TEXT],
                facets(r.chat_id, r.sender_account_id, bool(r.has_media), bool(r.fwd)),
            ),
        )
        for r in rows
    ]
    copy_ignore(conn, "message_search", ("message_pk", "doc", "tsv"), docs)
    high = int(rows[-1].id)
    conn.execute(
        text(
            "INSERT INTO web_search_state (name, last_message_pk, updated_at) "
            "VALUES ('messages', :high, :t) ON CONFLICT (name) DO UPDATE "
            "SET last_message_pk = excluded.last_message_pk, updated_at = excluded.updated_at"
        ),
        {"high": high, "t": int(time.time())},
    )
    return high, len(rows)


def _sqlite_batch(conn: Connection, last: int, batch: int) -> tuple[int, int]:
    rows = conn.execute(text(_ROWS), {"last": last, "batch": batch}).all()
    if not rows:
        return last, 0
    docs = [
        (
            docid(r.date_unix, r.id),
            " ".join(words((r.text or "")[:MAX_TEXT])),
            facets(r.chat_id, r.sender_account_id, bool(r.has_media), bool(r.fwd)),
            grams_text((r.text or "")[:MAX_TEXT]),
        )
        for r in rows
    ]
    conn.exec_driver_sql(
        f"INSERT INTO {SCHEMA}.messages_fts (rowid, body, facets, grams) "  # noqa: S608
        "VALUES (?, ?, ?, ?)",
        docs,
    )
    high = int(rows[-1].id)
    _set_state(conn, "last", str(high))
    return high, len(rows)


def catch_up(app: App, *, batch: int = BATCH) -> int:
    """Index every message not indexed yet; returns how many were added. Incremental and
    idempotent: the high-water mark moves in the same transaction as each batch."""
    install(app)
    if app.db.is_sqlite:
        _sqlite_reset_if_foreign(app)
    added = 0
    while True:
        with app.db.begin() as conn:
            if app.db.is_sqlite:
                last = int(_state(conn, "last") or 0)
                high, count = _sqlite_batch(conn, last, batch)
            else:
                last = _pg_last(conn)
                high, count = _pg_batch(conn, last, batch)
        if high == last:
            return added
        added += count


def refresh_chat_stats(app: App) -> int:
    """Recompute the per-chat counts the chat list shows; returns the number of chats."""
    with app.db.begin() as conn:
        conn.exec_driver_sql("DELETE FROM web_chat_stats")
        conn.exec_driver_sql(
            "INSERT INTO web_chat_stats (chat_id, messages, media, first_unix, last_unix, senders) "
            "SELECT m.chat_id, count(*), 0, min(m.date_unix), max(m.date_unix), "
            "count(DISTINCT m.sender_account_id) FROM messages m GROUP BY m.chat_id"
        )
        media = conn.exec_driver_sql(
            "SELECT m.chat_id, count(*) FROM media d JOIN messages m ON m.id = d.message_pk "
            "GROUP BY m.chat_id"
        ).all()
        if media:
            conn.execute(
                text("UPDATE web_chat_stats SET media = :n WHERE chat_id = :c"),
                [{"c": c, "n": n} for c, n in media],
            )
        return int(conn.exec_driver_sql("SELECT count(*) FROM web_chat_stats").scalar() or 0)


def after_ingest(app: App, report: Any) -> dict[str, Any]:
    """The ``search`` ingest hook: index new messages and refresh the chat counts."""
    started = time.monotonic()
    added = catch_up(app)
    chats = refresh_chat_stats(app)
    return {"indexed": added, "chats": chats, "seconds": round(time.monotonic() - started, 2)}
