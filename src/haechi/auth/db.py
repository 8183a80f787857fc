"""Write transactions for the web tables.

Rows that go with a custody event are written through ``app.db.begin()`` (the custody
chain's lock). Audit-only rows on PostgreSQL skip that advisory lock: a search must not
wait for an ingest batch to commit. SQLite has one writer anyway (BEGIN IMMEDIATE).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection

from haechi.app import App


def now() -> int:
    return int(time.time())


@contextmanager
def write(app: App, *, chain: bool = False) -> Iterator[Connection]:
    if chain or app.db.is_sqlite:
        with app.db.begin() as conn:
            yield conn
        return
    with app.db.engine.begin() as conn:
        yield conn
