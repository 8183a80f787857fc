"""Several server processes against one PostgreSQL (issue 18): ``haechi serve --workers 2``
shares sessions, the login rate limit and the background-job queue through the database,
whichever process answers; /metrics sums what both processes served."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from haechi.auth.accounts import IP_LIMIT, add_user
from haechi.auth.types import cli_actor
from haechi.jobs.once import new_key

PASSWORD = "two workers share one database 7"
pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(params=["jobs in the servers", "jobs apart"])
def server(
    pg_url: str, tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[str, Path]]:
    """Two server processes; their job runners, or ``--no-jobs`` and ``haechi jobs run``."""
    from haechi.app import init_home

    home = tmp_path / "home"
    app = init_home(home, database_url=pg_url)
    for name in ("kim", "lee"):
        add_user(app, name, PASSWORD, "investigator", actor=cli_actor("test"), reason="test")
    app.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    log = (tmp_path / "serve.log").open("w")
    apart = request.param == "jobs apart"
    proc = subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "serve", "--home", str(home), "--port",
         str(port), "--workers", "2", *(["--no-jobs"] if apart else [])],
        env=env, stdout=log, stderr=log,
    )  # fmt: skip
    runner = (
        subprocess.Popen(
            [sys.executable, "-m", "haechi.cli.main", "jobs", "run", "--home", str(home)],
            env=env,
            stdout=log,
            stderr=log,
        )
        if apart
        else None
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(600):
            try:
                if httpx.get(f"{url}/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(
                "haechi serve did not start: " + (tmp_path / "serve.log").read_text()
            )
        yield url, home
    finally:
        for p in (proc, runner):
            if p is not None:
                p.terminate()
                p.wait(timeout=60)
        log.close()


def _fresh(url: str, cookies: httpx.Cookies | None = None) -> httpx.Client:
    """A client that opens a new connection for every request (any worker may answer)."""
    limits = httpx.Limits(max_keepalive_connections=0)
    return httpx.Client(base_url=url, cookies=cookies, limits=limits, timeout=60)


def _login(client: httpx.Client, user: str, password: str = PASSWORD) -> httpx.Response:
    page = client.get("/login")
    token = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert token, page.text[:300]
    form = {"username": user, "password": password, "login_token": token.group(1)}
    return client.post("/login", data=form)


def _workers_seen(home: Path) -> set[str]:
    return {p.name.split("_")[-1] for p in (home / "run" / "metrics").glob("histogram_*.db")}


def test_sessions_limits_and_jobs_are_shared(server: tuple[str, Path]) -> None:
    url, home = server
    with _fresh(url) as client:
        assert _login(client, "kim").status_code == 303
        me = client.get("/me")
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', me.text)
        assert csrf
        # The session made by one process is known to the other: requests, each on a
        # connection of its own, all logged in, until both processes have answered. Which
        # process accepts a connection is the kernel's choice; on a busy machine one may
        # take 40 in a row, so ask up to 400 times (a single-process server still fails).
        for i in range(400):
            r = client.get("/cases")
            assert r.status_code == 200, r.status_code
            if i >= 39 and i % 20 == 19 and len(_workers_seen(home)) == 2:
                break
        assert len(_workers_seen(home)) == 2, "both server processes answered"
        # The background-job queue: jobs queued through either process run once each.
        headers = {"x-csrf-token": csrf.group(1)}
        ids = []
        for _ in range(3):
            r = client.post("/api/jobs", json={"kind": "reupload_scan"},
                            headers={**headers, "idempotency-key": new_key()})  # fmt: skip
            assert r.status_code == 201, r.text
            ids.append(r.json()["id"])
        deadline = time.monotonic() + 300
        states: dict[int, str] = {}
        while time.monotonic() < deadline:
            states = {i: client.get(f"/api/jobs/{i}").json()["state"] for i in ids}
            if all(s in ("done", "failed") for s in states.values()):
                break
            time.sleep(1)
        assert set(states.values()) == {"done"}, states
        metrics = client.get("/metrics").text  # loopback: allowed; both processes summed
        served = sum(
            float(v)
            for v in re.findall(
                r'^haechi_http_request_duration_seconds_count\{method="GET",route="/cases",'
                r'status="2xx"\} ([0-9.]+)$', metrics, re.M,
            )
        )  # fmt: skip
        assert served == 40
    # The login rate limit counts failures from every process: after IP_LIMIT failures
    # on fresh connections, even the right password is refused for a while.
    with _fresh(url) as other:
        for _ in range(IP_LIMIT):
            assert _login(other, "lee", "wrong password").status_code != 303
        refused = _login(other, "lee")
        assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
