"""Database access: engine set-up for SQLite and PostgreSQL, migrations, bulk writes.

The same code runs on both back ends. SQLite is tuned for a single-writer evidence store
(WAL, foreign keys on); PostgreSQL is reached through psycopg 3. Bulk inserts bypass the
ORM: an ingest writes millions of rows and the ORM's per-object bookkeeping would cost
more than the parse itself.
"""

from __future__ import annotations

import copy
import os
import sqlite3
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from importlib import resources
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, Table, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from haechi.domain import DataDirError
from haechi.i18n import t_
from haechi.store import writer_turn
from haechi.store.pgcopy import COPY_MIN_ROWS, copy_ignore, dict_rows


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # WAL lets readers (web UI, verify) run while an ingest writes; NORMAL sync in WAL mode
    # never corrupts the file, and a crash only loses whole uncommitted batches, which a
    # rerun restores because ingest is idempotent.
    cur = dbapi_conn.cursor()
    # 16 KiB pages: a message row with its raw JSON is ~0.5 KB, and bulk inserts ran ~10 %
    # faster than with 4 KiB (bench/bench_ingest.py). Only a new, empty database takes it
    # (an existing one keeps its page size), so it must come before WAL is switched on.
    cur.execute("PRAGMA page_size=16384")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA cache_size=-65536")  # 64 MB page cache
    # Checkpoint every 4,096 pages (64 MB of 16 KiB pages) rather than SQLite's 1,000: an
    # ingest's batches are several MB each, and fewer, larger checkpoints cost less.
    cur.execute("PRAGMA wal_autocheckpoint=4096")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # Writers take the lock at BEGIN (IMMEDIATE) so two writers never deadlock half-way;
    # readers use a deferred BEGIN and never block an ingest.
    write = conn.get_execution_options().get("haechi_write", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        # A web server answers many requests at once from its thread pool: connections
        # beyond the pool would each be opened (pragmas, ATTACH) and closed per request.
        memory = url in ("sqlite://", "sqlite:///:memory:") or "mode=memory" in url
        sizes = {} if memory else {"pool_size": 16, "max_overflow": 32}
        engine = create_engine(url, future=True, **sizes)
        event.listen(engine, "connect", _sqlite_pragmas)
        # pysqlite's own transaction handling defers BEGIN; let SQLAlchemy emit it so
        # a write transaction holds the lock from its first statement.
        event.listen(engine, "connect", lambda c, _r: setattr(c, "isolation_level", None))
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return create_engine(url, future=True, pool_pre_ping=True, **pg_pool_sizes())


def pg_pool_sizes() -> dict[str, int]:
    """The connection pool of one process on PostgreSQL (docs/deployment.md).

    A web worker answers up to ~40 requests at once from its thread pool; beyond
    ``pool_size + max_overflow`` connections a request waits for one (``pool_timeout``).
    Every process has its own pool, so ``workers * (pool_size + max_overflow)`` plus the
    job, analysis and watch processes must stay under the server's ``max_connections``."""
    sizes = {"pool_size": 10, "max_overflow": 10, "pool_timeout": 30}
    for key, name in (
        ("pool_size", "HAECHI_DB_POOL_SIZE"),
        ("max_overflow", "HAECHI_DB_MAX_OVERFLOW"),
        ("pool_timeout", "HAECHI_DB_POOL_TIMEOUT"),
    ):
        value = os.environ.get(name, "").strip()
        if value:
            if not value.isdigit() or int(value) > 10_000:
                raise DataDirError(
                    t_(
                        "{name} must be a whole number from 0 to 10000, not {value!r}.",
                        name=name,
                        value=value,
                    )
                )
            sizes[key] = int(value)
    return sizes


def _alembic_config(conn: Connection) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("haechi.store") / "migrations"))
    cfg.attributes["connection"] = conn
    return cfg


SCOPE_OPTION = "haechi_scope"  # execution option: whose view of the data (cases.visibility)


def lock_chain(conn: Connection) -> None:
    """PostgreSQL: wait for the custody chain's lock, held to the end of the transaction.

    One writer at a time appends to the custody chain; an advisory lock taken per
    transaction serialises writers across processes and hosts (taken twice in one
    transaction, it is simply held). Keyed by schema too: two haechi stores may share one
    database. SQLite: nothing (its write transactions are serialised already)."""
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(7420001, hashtext(current_schema()))"))


class Database:
    """An engine plus the few operations every service needs."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self.dialect = self.engine.dialect.name
        self.scope: Any = None  # None: everything; see scoped()
        self._held: Connection | None = None  # see joined()
        # SQLite writers of a file take turns before BEGIN (haechi.store.writer_turn).
        database = self.engine.url.database if self.is_sqlite else None
        in_memory = not database or database == ":memory:" or "mode=memory" in url
        self._turn = None if in_memory else writer_turn.turn(str(database))

    def scoped(self, scope: Any) -> Database:
        """The same engine, every connection carrying ``scope`` as an execution option
        (``SCOPE_OPTION``) that services read to limit what a person sees (the unit rule
        of :mod:`haechi.cases.visibility`). Never dispose a scoped copy: it shares the
        engine."""
        clone = copy.copy(self)
        clone.scope = scope
        return clone

    def joined(self, conn: Connection) -> Database:
        """The same engine, every ``begin()`` and ``connect()`` being ``conn``, a write
        transaction already open (its writer's turn, its custody-chain lock, its scope):
        services called with it run as steps of that one transaction, which commits or
        rolls back as a whole. Never dispose a joined copy: it shares the engine."""
        clone = copy.copy(self)
        clone._held = conn
        return clone

    @property
    def is_sqlite(self) -> bool:
        return self.dialect == "sqlite"

    def migrate(self) -> None:
        """Bring the schema to the newest revision (idempotent)."""
        try:
            if self.is_sqlite:
                self._migrate_sqlite()
                return
            with self.engine.begin() as conn:
                # "heads": each capability keeps its migrations on a branch of its own.
                command.upgrade(_alembic_config(conn), "heads")
        except OperationalError as exc:
            raise _friendly(exc, self.url) from exc

    def _migrate_sqlite(self) -> None:
        """SQLite alters most columns by rebuilding the table (copy, drop, rename): with
        foreign keys on, dropping ``web_users`` while sessions and tokens refer to it
        fails. As SQLite's documentation prescribes for such changes, the checks are
        switched off for the migration (only possible outside a transaction) and every
        reference is checked before it commits; a dangling one rolls it all back."""
        with self.engine.connect() as conn:
            dbapi = conn.connection.driver_connection
            assert dbapi is not None
            dbapi.execute("PRAGMA foreign_keys=OFF")
            try:
                with conn.begin():
                    command.upgrade(_alembic_config(conn), "heads")
                    dangling = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if dangling:
                        table, rowid, parent, _ = dangling[0]
                        raise DataDirError(
                            t_(
                                "The schema update would leave {n_dangling} row(s) referring "
                                "to missing rows (first: {table} row {rowid} -> {parent}); "
                                "nothing was changed.",
                                n_dangling=len(dangling),
                                table=table,
                                rowid=rowid,
                                parent=parent,
                            )
                        )
            finally:
                dbapi.execute("PRAGMA foreign_keys=ON")

    def current_revisions(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(MigrationContext.configure(conn).get_current_heads())

    def head_revisions(self) -> set[str]:
        with self.engine.connect() as conn:
            return set(ScriptDirectory.from_config(_alembic_config(conn)).get_heads())

    def check_schema(self) -> None:
        """Refuse to run against a database that was never initialised or is outdated."""
        try:
            current = self.current_revisions()
        except OperationalError as exc:
            raise _friendly(exc, self.url) from exc
        if not current:
            raise DataDirError(t_("The database has no haechi schema: run `haechi init` first."))
        if current != self.head_revisions():
            raise DataDirError(
                t_(
                    "The database schema is older than this haechi: run `haechi "
                    "init` to migrate it."
                )
            )

    @contextmanager
    def begin(self, chain: bool = True) -> Iterator[Connection]:
        """A write transaction. On PostgreSQL it takes the custody chain's lock at once
        unless ``chain`` is False: then transactions run side by side until one appends
        to the chain (:meth:`CustodyLog.append_many` takes the lock itself), as the
        ingest's batch writers do. SQLite has one writer at a time whatever ``chain`` says."""
        if self._held is not None:  # a step of a transaction already open (joined())
            yield self._held
            return
        turn = self._turn.held() if self._turn is not None else nullcontext()
        try:
            with turn, self.engine.connect() as conn, self._options(conn, True).begin():
                if chain:
                    lock_chain(conn)
                yield conn
        except OperationalError as exc:
            raise _friendly(exc, self.url) from exc

    def _options(self, conn: Connection, write: bool) -> Connection:
        options: dict[str, Any] = {"haechi_write": True} if write else {}
        if self.scope is not None:
            options[SCOPE_OPTION] = self.scope
        return conn.execution_options(**options) if options else conn

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        if self._held is not None:
            yield self._held
            return
        try:
            with self.engine.connect() as conn:
                yield self._options(conn, False)
        except OperationalError as exc:
            raise _friendly(exc, self.url) from exc

    def insert_ignore(
        self, conn: Connection, table: Table | type[Any], rows: Sequence[dict[str, Any]]
    ) -> None:
        """INSERT ... ON CONFLICT DO NOTHING for many rows in one round trip (``table`` is a
        Table or a mapped class); on PostgreSQL, many rows go through ``COPY``."""
        if not rows:
            return
        target: Table = table if isinstance(table, Table) else table.__table__
        if not self.is_sqlite and len(rows) >= COPY_MIN_ROWS:
            as_tuples = dict_rows(target, rows)
            if as_tuples is not None:
                copy_ignore(conn, target.name, *as_tuples)
                return
        insert = sqlite.insert if self.is_sqlite else postgresql.insert
        conn.execute(insert(target).on_conflict_do_nothing(), list(rows))

    def insert_tuples_ignore(
        self, conn: Connection, table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
    ) -> None:
        """The bulk path for millions of rows. SQLite: one driver-level ``executemany`` of
        tuples, with no SQL compilation or per-row parameter processing (which cost
        SQLAlchemy more than SQLite's own insert). PostgreSQL: ``COPY`` into a staging
        table, then one ``INSERT ... SELECT ... ON CONFLICT DO NOTHING`` (:func:`copy_ignore`).
        ``table`` and ``columns`` are our own identifiers, never user input; the values
        are bound parameters or COPY data, never SQL text."""
        if not rows:
            return
        if not self.is_sqlite:
            copy_ignore(conn, table, columns, rows)
            return
        sql = (
            f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 - identifiers are ours
            f"VALUES ({', '.join(['?'] * len(columns))}) ON CONFLICT DO NOTHING"
        )
        conn.exec_driver_sql(sql, list(rows))

    def dispose(self) -> None:
        self.engine.dispose()


def _friendly(exc: OperationalError, url: str) -> DataDirError:
    """Turn driver errors about the storage into one sentence."""
    orig = exc.orig
    msg = str(orig).lower() if orig is not None else str(exc).lower()
    where = _describe(url)
    if isinstance(orig, sqlite3.OperationalError):
        if "readonly" in msg or "read-only" in msg:
            return DataDirError(f"The database {where} is read-only: check the data directory.")
        if "disk is full" in msg or "database or disk is full" in msg:
            return DataDirError(
                f"The disk holding {where} is full: free space and run the command again."
            )
        if "unable to open" in msg:
            # In WAL mode SQLite must create the -wal/-shm files beside the database, so a
            # read-only directory shows up as "unable to open", not as "readonly".
            if _read_only_dir(url):
                return DataDirError(
                    f"The database {where} is on a read-only file system or directory: "
                    "check the data directory."
                )
            return DataDirError(f"The database {where} cannot be opened: run `haechi init` first.")
        if "locked" in msg:
            return DataDirError(f"The database {where} is busy: another haechi is writing to it.")
    if "connection" in msg and ("refused" in msg or "failed" in msg):
        return DataDirError(f"Cannot connect to the database {where}: is the server running?")
    return DataDirError(f"Database error on {where}: {str(orig or exc).splitlines()[0]}")


def _read_only_dir(url: str) -> bool:
    if not url.startswith("sqlite:///"):
        return False
    path = Path(url[len("sqlite:///") :])
    if not path.exists():
        return False
    folder = path.parent
    try:
        if os.statvfs(folder).f_flag & os.ST_RDONLY:
            return True
    except OSError:
        return False
    return not os.access(folder, os.W_OK)


def _describe(url: str) -> str:
    if url.startswith("sqlite:///"):
        return str(Path(url[len("sqlite:///") :]))
    # Never print a password that might be in the URL.
    head, _, tail = url.partition("@")
    return tail if tail else head
