"""A consistent copy of the database taken while others write, and its way back.

* SQLite: the online backup API (one step, under one read snapshot), into a file.
* PostgreSQL: one ``REPEATABLE READ`` transaction holds the snapshot. Where ``pg_dump`` is
  installed (and the store is in the ``public`` schema, which a dump can be restored
  into), it dumps *that* snapshot (``pg_export_snapshot`` + ``--snapshot``); otherwise
  every table is copied out with ``COPY ... TO STDOUT`` inside the transaction. Either
  way the caller reads, in the same snapshot, the blob list and the custody head.
"""

from __future__ import annotations

import glob
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, create_engine, text
from sqlalchemy.engine import Connection, make_url

from haechi.domain import DataDirError
from haechi.i18n import t_

COPY_DIR = "database.copy"
DUMP_FILE = "database.pgdump"
SQLITE_FILE = "haechi.db"


@dataclass
class Snapshot:
    kind: str  # sqlite / pg_dump / copy
    files: list[str] = field(default_factory=list)  # written, relative to the backup root
    tables: list[dict[str, Any]] = field(default_factory=list)  # copy: name, columns, rows
    revisions: list[str] = field(default_factory=list)
    schema: str | None = None


# -- PostgreSQL helpers -------------------------------------------------------------------
def pg_tool(name: str) -> str | None:
    """``pg_dump``/``pg_restore`` on PATH, else the newest under /usr/lib/postgresql."""
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def libpq(url: str) -> tuple[str, dict[str, str]]:
    """A libpq URI for the tools (password in the environment, never the command line)."""
    u = make_url(url)
    env = dict(os.environ)
    if u.password:
        env["PGPASSWORD"] = str(u.password)
    host = u.host or "localhost"
    port = f":{u.port}" if u.port else ""
    user = f"{u.username}@" if u.username else ""
    return f"postgresql://{user}{host}{port}/{u.database or ''}", env


def _run(cmd: list[str], env: dict[str, str], what: str) -> None:
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=24 * 3600)
    if proc.returncode != 0:
        last = (proc.stderr.strip().splitlines() or ["no message"])[-1]
        raise DataDirError(t_("{what} failed: {last}", what=what, last=last))


def _tables(conn: Connection) -> list[Any]:
    meta = MetaData()
    meta.reflect(conn)
    return list(meta.sorted_tables)  # parents before children


@contextmanager
def pg_snapshot(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.execute(text("SET TRANSACTION READ ONLY"))
                yield conn
    finally:
        engine.dispose()


def pg_take(
    conn: Connection, url: str, dest: Path, method: str, read: Callable[[Connection], None]
) -> Snapshot:
    """Inside the snapshot ``conn`` holds: dump or copy the database into ``dest``, and let
    ``read`` read what the caller needs from the very same snapshot."""
    schema = str(conn.execute(text("SELECT current_schema()")).scalar())
    dump = pg_tool("pg_dump")
    if method == "auto":
        method = "pg_dump" if dump and schema == "public" else "copy"
    snap = Snapshot(kind=method, schema=schema)
    snap.revisions = sorted(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    read(conn)
    if method == "pg_dump":
        if not dump:
            raise DataDirError(t_("pg_dump is not installed: use the copy method."))
        snapshot_id = conn.execute(text("SELECT pg_export_snapshot()")).scalar()
        uri, env = libpq(url)
        target = dest / DUMP_FILE
        _run(
            # the whole database: only haechi's (public) schema is in it, and a dump of
            # it by name would re-create "public" in the target, which has one already
            [dump, "--format=custom", "--no-owner", "--no-privileges",
             f"--snapshot={snapshot_id}", f"--file={target}", f"--dbname={uri}"],
            env,
            "pg_dump",
        )  # fmt: skip
        snap.files.append(DUMP_FILE)
        return snap
    folder = dest / COPY_DIR
    folder.mkdir(mode=0o700)
    raw: Any = conn.connection.dbapi_connection
    assert raw is not None
    for table in _tables(conn):
        cols = [c.name for c in table.columns]
        quoted = ", ".join(f'"{c}"' for c in cols)
        name = f"{table.name}.copy"
        sql = f'COPY "{table.name}" ({quoted}) TO STDOUT'
        with open(folder / name, "wb") as out, raw.cursor() as cur, cur.copy(sql) as copy:
            for chunk in copy:
                out.write(chunk)
        snap.tables.append({"name": table.name, "columns": cols, "file": f"{COPY_DIR}/{name}"})
        snap.files.append(f"{COPY_DIR}/{name}")
    return snap


def pg_put(snapshot: dict[str, Any], src: Path, url: str) -> None:
    """Load a PostgreSQL snapshot into the (empty) database at ``url``."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if _tables(conn):
                raise DataDirError(
                    t_("The database to restore into is not empty: give an empty database.")
                )
    finally:
        engine.dispose()
    if snapshot["kind"] == "pg_dump":
        restore = pg_tool("pg_restore")
        if not restore:
            raise DataDirError(t_("pg_restore is not installed: it is needed for this backup."))
        uri, env = libpq(url)
        _run(
            [restore, "--no-owner", "--no-privileges", "--exit-on-error", f"--dbname={uri}",
             str(src / DUMP_FILE)],
            env,
            "pg_restore",
        )  # fmt: skip
        return
    _copy_in(snapshot, src, url)


def _copy_in(snapshot: dict[str, Any], src: Path, url: str) -> None:
    from haechi.store.db import Database

    db = Database(url)
    try:
        db.migrate()  # the schema of this haechi; the snapshot's must be the same
        with db.engine.begin() as conn:
            current = sorted(
                conn.execute(text("SELECT version_num FROM alembic_version")).scalars()
            )
            if current != sorted(snapshot["revisions"]):
                raise DataDirError(
                    t_(
                        "The backup was made by another version of haechi (schema "
                        "{snapshot}); restore it with that version.",
                        snapshot=", ".join(snapshot["revisions"]),
                    )
                )
            tables = {t.name: t for t in _tables(conn)}
            for table in reversed(list(tables.values())):  # rows a migration seeded
                conn.execute(table.delete())
            raw: Any = conn.connection.dbapi_connection
            assert raw is not None
            for entry in snapshot["tables"]:
                quoted = ", ".join(f'"{c}"' for c in entry["columns"])
                sql = f'COPY "{entry["name"]}" ({quoted}) FROM STDIN'
                with (
                    open(src / entry["file"], "rb") as fh,
                    raw.cursor() as cur,
                    cur.copy(sql) as copy,
                ):
                    while block := fh.read(1 << 20):
                        copy.write(block)
            for table in tables.values():  # serial columns continue after the copied rows
                for col in table.primary_key.columns:
                    seq = conn.execute(
                        text("SELECT pg_get_serial_sequence(:t, :c)"),
                        {"t": f'"{table.name}"', "c": col.name},
                    ).scalar()
                    if seq:
                        conn.execute(
                            text(
                                f'SELECT setval(:s, coalesce(max("{col.name}"), 0) + 1, false) '  # noqa: S608 - reflected names
                                f'FROM "{table.name}"'
                            ),
                            {"s": seq},
                        )
    finally:
        db.dispose()


# -- SQLite -------------------------------------------------------------------------------
def sqlite_copy(source: Path, target: Path) -> None:
    """Copy a live SQLite database (WAL readers and writers welcome) into a new file."""
    fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.close(fd)
    src = sqlite3.connect(source, timeout=60)
    dst = sqlite3.connect(target)
    try:
        src.execute("PRAGMA busy_timeout=60000")
        src.backup(dst)  # one step: one consistent read snapshot
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    finally:
        dst.close()
        src.close()
