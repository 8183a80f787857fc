"""Real haechi instances for the exchange tests: a data directory each (SQLite or a
PostgreSQL schema of its own), served by uvicorn on a free loopback port in a thread."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from tests.conftest import PG_URL

from haechi.app import App, init_home
from haechi.exchange.loopback import serve_locally


@contextmanager
def instance(root: Path, name: str, backend: str) -> Iterator[App]:
    """An initialised data directory on ``backend`` (sqlite / postgresql)."""
    url = None
    schema = None
    if backend == "postgresql":
        schema = "haechi_x_" + uuid.uuid4().hex[:10]
        admin = create_engine(PG_URL)
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        sep = "&" if "?" in PG_URL else "?"
        url = f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    app = init_home(root / name, database_url=url)
    try:
        yield app
    finally:
        app.close()
        if schema:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()


served = serve_locally  # the same helper the demo and the benchmark use
