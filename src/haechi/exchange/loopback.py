"""An instance's web application served on a free loopback port in a thread: what the demo
and the exchange benchmark run a partner with (and the tests their two instances)."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

from haechi.app import App


@contextmanager
def serve_locally(app: App, *, timeout: float = 30.0) -> Iterator[str]:
    """``app``'s web application on 127.0.0.1 until the block ends; yields its base URL."""
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
    deadline = time.monotonic() + timeout
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            sock.close()
            raise RuntimeError("the local server did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout)
        sock.close()
