"""PostgreSQL's bulk path: ``COPY`` into a staging table, then INSERT ... ON CONFLICT.

``COPY FROM STDIN`` is PostgreSQL's fastest way in (one message stream, no statement per
row), but it has no ``ON CONFLICT``: a rerun after a crash, or an export ingested twice,
would fail on the first row already stored. So rows are copied into a temporary table of
the same column types (private to the session, never WAL-logged, emptied at every commit)
and moved with one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING``, inside the caller's
transaction: the rows commit or roll back with the custody events written beside them,
and the idempotence of the SQLite path is kept exactly.

A connection pooler in transaction mode (PgBouncer ``pool_mode = transaction``) is fine:
the staging table is created with ``IF NOT EXISTS`` in each transaction that needs it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from sqlalchemy import BigInteger, Boolean, Connection, Integer, SmallInteger, String, Table, Text
from sqlalchemy.sql.schema import ColumnDefault

# Below this many rows a plain multi-row INSERT is as fast and needs no staging table.
COPY_MIN_ROWS = 200
# bool, bytea, int8, int2, int4, text, float4, float8, varchar, char: types whose Python
# values psycopg writes in binary exactly as PostgreSQL reads them.
_BINARY = frozenset({16, 17, 20, 21, 23, 25, 700, 701, 1043, 1042})
_types: dict[str, list[int]] = {}  # staging table -> its columns' type oids (built-in types)


def _staging_name(table: str, columns: Sequence[str]) -> str:
    digest = hashlib.sha256(",".join(columns).encode()).hexdigest()[:10]
    return f"haechi_stage_{table}_{digest}"[:63]


def copy_ignore(
    conn: Connection, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> int:
    """Insert ``rows`` (tuples in ``columns`` order) into ``table``, skipping those that
    conflict with a unique constraint; returns how many were new. ``table`` and
    ``columns`` are our own identifiers, never user input."""
    if not rows:
        return 0
    stage = _staging_name(table, columns)
    cols = ", ".join(columns)
    raw = conn.connection.driver_connection
    assert raw is not None
    with raw.cursor() as cur:
        # Same types as the target, no constraints or defaults: the target checks them.
        cur.execute(
            f"CREATE TEMP TABLE IF NOT EXISTS {stage} ON COMMIT DELETE ROWS AS "  # noqa: S608 - our identifiers
            f"SELECT {cols} FROM {table} WITH NO DATA"
        )
        types = _types.get(stage)
        if types is None:
            cur.execute(f"SELECT {cols} FROM {stage} LIMIT 0")  # noqa: S608 - ours
            types = _types[stage] = [d.type_code for d in cur.description or ()]
        # Binary where psycopg has a binary form for every column: no escaping of the raw
        # JSON (most of a row's bytes) on either side. Text otherwise (e.g. a tsvector
        # given as its literal), with each value in PostgreSQL's own text form.
        binary = all(t in _BINARY for t in types)
        form = " (FORMAT BINARY)" if binary else ""
        with cur.copy(f"COPY {stage} ({cols}) FROM STDIN{form}") as copy:
            if binary:
                copy.set_types(types)
            for row in rows:
                copy.write_row(row)
        cur.execute(
            f"INSERT INTO {table} ({cols}) SELECT {cols} FROM {stage} "  # noqa: S608 - ours
            "ON CONFLICT DO NOTHING"
        )
        added = cur.rowcount
        # Emptied now, not only at commit: a second call in the same transaction must not
        # insert these rows again (harmless, but it would count them twice).
        cur.execute(f"TRUNCATE {stage}")
    return int(added)


def dict_rows(table: Table, rows: Sequence[dict[str, Any]]) -> tuple[list[str], list[tuple]] | None:
    """``rows`` (dicts, as SQLAlchemy's ``insert`` takes them) as one column list and tuples,
    with SQLAlchemy's scalar column defaults filled in for columns a row leaves out; None
    when that cannot be done faithfully (a callable or SQL default, rows with different
    keys), and the caller keeps SQLAlchemy's own INSERT."""
    keys = list(rows[0])
    if any(len(r) != len(keys) or any(k not in r for k in keys) for r in rows):
        return None
    extra: dict[str, Any] = {}
    for column in table.columns:
        if column.key in rows[0]:
            continue
        default = column.default
        if default is None:
            continue  # NULL or the server's default: the staging INSERT names no such column
        if not isinstance(default, ColumnDefault) or not default.is_scalar:
            return None
        extra[column.name] = default.arg
    names = [table.columns[k].name for k in keys] + list(extra)
    tail = tuple(extra.values())
    return names, [tuple(r[k] for k in keys) + tail for r in rows]


# Model types and their oids, subclasses first (BigInteger and SmallInteger are Integers,
# Text is a String).
_OIDS: tuple[tuple[type, int], ...] = (
    (BigInteger, 20), (SmallInteger, 21), (Integer, 23), (Boolean, 16), (Text, 25), (String, 1043)
)  # fmt: skip


def column_oids(table: Table, columns: Sequence[str]) -> list[int]:
    """PostgreSQL type oids of ``columns`` as the model declares them (bool, int2/4/8,
    varchar, text): what a binary COPY body for them must hold."""
    oids = []
    for name in columns:
        kind = table.columns[name].type
        oid = next((oid for cls, oid in _OIDS if isinstance(kind, cls)), None)
        if oid is None:
            raise TypeError(f"{table.name}.{name}: no binary COPY form for {kind!r}")
        oids.append(oid)
    return oids


def copy_body(cur: Any, stage: str, columns: Sequence[str], body: bytes) -> None:
    """Send a complete binary COPY body (``haechi.store.pgbinary.BinaryRows``) into
    ``stage``."""
    with cur.copy(f"COPY {stage} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
        copy.write(body)
