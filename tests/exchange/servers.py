"""Real haechi instances for the exchange tests: a data directory each (SQLite or a
PostgreSQL schema of its own), served by uvicorn on a free loopback port in a thread."""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from tests.conftest import PG_URL

from haechi.app import App, init_home


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


@contextmanager
def served(app: App) -> Iterator[str]:
    """``app``'s web application on a free loopback port; yields its base URL."""
    import uvicorn

    from haechi.web.app import create_app
    from haechi.web.settings import WebSettings

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        create_app(app, WebSettings(run_jobs=False)), log_level="warning", access_log=False,
        lifespan="on",
    )  # fmt: skip
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
