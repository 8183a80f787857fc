"""PostgreSQL's write of an ingest batch encoded in the reader (issue 18).

The reader process encodes each batch as a binary ``COPY`` body
(:func:`haechi.run.ingest_batch.prepare` given :func:`stage_oids`), with chats and accounts
given as their place in the batch. Here that body goes into a temporary staging table
and one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` moves it into ``messages``,
swapping places for ids by array subscript (the batch's ids, two parameters) and adding
the source. All of it inside the caller's transaction, beside the batch's custody events:
a rollback leaves nothing, and a rerun adds nothing, exactly as on the tuple path.

For chats stored before this run, the staged rows are first compared with the stored
ones in the database (the tuple path's ``_existing``): a different raw text becomes a
message version, and a rerun with a time zone fills empty UTC times.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from psycopg.errors import UniqueViolation
from sqlalchemy import Connection

from haechi.run.ingest_batch import MESSAGE_COLUMNS, STAGE_COLUMNS, Prepared
from haechi.store.models import Message
from haechi.store.pgcopy import column_oids, copy_body

STAGE = "haechi_stage_messages_coded"
_CODED = {"chat_id": "chats", "sender_account_id": "accounts", "via_bot_account_id": "accounts"}
_checked: set[int] = set()  # connections (by id of the driver connection) whose stage is checked


@cache
def stage_oids() -> tuple[int, ...]:
    return tuple(column_oids(Message.__table__, STAGE_COLUMNS))  # type: ignore[arg-type]


def _select_list() -> str:
    out = []
    for col in MESSAGE_COLUMNS:
        if col == "source_id":
            out.append("%(source)s")
        elif col in _CODED:  # a place in the batch -> its id (NULL stays NULL)
            out.append(f"(%({_CODED[col]})s::int4[])[s.{col}]")
        else:
            out.append(f"s.{col}")
    return ", ".join(out)


_INSERT = (
    f"INSERT INTO messages ({', '.join(MESSAGE_COLUMNS)}) "  # noqa: S608 - our identifiers
    f"SELECT {_select_list()} FROM {STAGE} s ON CONFLICT DO NOTHING"
)
_PLAIN = _INSERT.removesuffix(" ON CONFLICT DO NOTHING")
# Stored rows of chats seen before that this batch shows again: changed raw text (a
# version) or, for a rerun of the same source with a time zone, UTC times to fill. In the
# staging order, so the first of two copies decides, as on the tuple path.
_STORED = (
    "SELECT m.id, s.raw, s.raw_offset, m.raw <> s.raw, m.source_id, m.date_unix, "  # noqa: S608
    "m.edited_unix, s.date_unix, s.edited_unix "
    f"FROM {STAGE} s JOIN messages m ON m.chat_id = (%(chats)s::int4[])[s.chat_id] "
    "AND m.message_id = s.message_id "
    "WHERE s.chat_id = ANY(%(older)s::int4[]) AND (m.raw <> s.raw OR (%(fill)s AND "
    "m.source_id = %(source)s AND ((m.date_unix IS NULL AND s.date_unix IS NOT NULL) OR "
    "(m.edited_unix IS NULL AND s.edited_unix IS NOT NULL)))) ORDER BY s.ctid"
)


def _stage(cur: Any, key: int) -> None:
    # Same types as messages (chat and account places are int4 like the ids), no
    # constraints: the INSERT into messages checks them. Per transaction, for poolers.
    cur.execute(
        f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} ON COMMIT DELETE ROWS AS "  # noqa: S608
        f"SELECT {', '.join(STAGE_COLUMNS)} FROM messages WITH NO DATA"
    )
    if key in _checked:
        return
    if cur.connection.info.encoding != "utf-8":
        raise RuntimeError(
            "the PostgreSQL connection's encoding is "
            f"{cur.connection.info.encoding}, not UTF-8: create the database with "
            "ENCODING 'UTF8' (docs/deployment.md)"
        )
    cur.execute(f"SELECT * FROM {STAGE} LIMIT 0")  # noqa: S608 - ours
    found = tuple(d.type_code for d in cur.description or ())
    if found != stage_oids():  # the reader encoded for the model: the schema must agree
        raise RuntimeError(f"messages has types {found}, the model {stage_oids()}")
    _checked.add(key)


def _insert(cur: Any, params: dict[str, Any], plain: bool) -> int:
    """Move the staged rows into messages; returns how many were added.

    ``plain``: every chat of the batch was first stored by this run, so its rows can only
    collide with a copy shown twice in the export or a second ingest of the same chat at
    the same time. A plain INSERT is tried first (ON CONFLICT's check before each row
    cost the server a sixth of its time), and only if it meets a stored row is the batch
    moved again with ON CONFLICT DO NOTHING, from a savepoint, so the outcome is the same."""
    if not plain:
        cur.execute(_INSERT, params)
        return int(cur.rowcount)
    cur.execute("SAVEPOINT haechi_plain_insert")
    try:
        cur.execute(_PLAIN, params)
    except UniqueViolation:
        cur.execute("ROLLBACK TO SAVEPOINT haechi_plain_insert")
        cur.execute(_INSERT, params)
    added = int(cur.rowcount)
    cur.execute("RELEASE SAVEPOINT haechi_plain_insert")
    return added


def write_encoded(
    conn: Connection,
    prepared: Prepared,
    source_id: int,
    chat_ids: list[int],
    account_ids: list[int],
    older: list[int],
    fill_utc: bool,
) -> tuple[int, list[tuple[Any, ...]]]:
    """Stage and insert an encoded batch; ``chat_ids`` / ``account_ids`` are the ids of
    the batch's chats and accounts in their order, ``older`` the places of chats stored
    before this run. Returns (rows added, stored rows shown again that differ: (pk, raw,
    raw_offset, raw changed, source id, date_unix, edited_unix, new date_unix, new
    edited_unix))."""
    assert prepared.encoded is not None
    raw = conn.connection.driver_connection
    assert raw is not None
    params = {"source": source_id, "chats": chat_ids, "accounts": account_ids}
    stored: list[tuple[Any, ...]] = []
    with raw.cursor() as cur:
        _stage(cur, id(raw))
        copy_body(cur, STAGE, STAGE_COLUMNS, prepared.encoded)
        if older:
            cur.execute(_STORED, {**params, "older": older, "fill": fill_utc})
            stored = list(cur.fetchall())
        added = _insert(cur, params, plain=not older)
        # Emptied now, not only at commit: the next batch in this transaction (none
        # today) must not see these rows.
        cur.execute(f"TRUNCATE {STAGE}")
    return int(added), stored
