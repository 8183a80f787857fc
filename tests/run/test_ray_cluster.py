"""Analysis on a real two-node Ray cluster (issue 18): a head and a worker started with
``ray start`` as separate nodes on this machine, the vault read by both from the same path
(shared storage here is the same disk). Both nodes do work; a worker killed with SIGKILL
mid-run loses no result and repeats no custody event, on SQLite and on PostgreSQL (the
deployment's store: the runner's advisory lock, its custody appends); a file that crashes
its worker on every attempt is still recorded as crashed, once."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from tests.helpers import ROOT, make_export

pytest.importorskip("ray", reason="the ray extra is not installed")

from haechi.run.ray_local import ClusterError, LocalCluster

EXTRA = ",".join(
    f"{name}=tests.analyzers_for_tests:{cls}"
    for name, cls in (("t_where", "Where"), ("t_crashy", "Crashy"))
)
# Ray 2.60 turns token authentication on for a new local ray.init() and leaves its token in
# ~/.ray/auth_token (test_ray_engine does that); a `ray start` that then finds the file
# enables tokens on some nodes and not on others, and the nodes refuse each other. The
# mode is stated for every process of this cluster and its driver instead.
ENV = {
    "HAECHI_EXTRA_ANALYZERS": EXTRA,
    "PYTHONPATH": str(ROOT),
    "HAECHI_TEST_WHERE_SECONDS": "1",
    "RAY_AUTH_MODE": "disabled",
}
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1500)]


@pytest.fixture(scope="module")
def cluster() -> Iterator[LocalCluster]:
    # The head schedules and runs one worker process, the second node two.
    nodes = LocalCluster([1, 2], env=ENV)
    try:
        nodes.start()
    except ClusterError as exc:
        pytest.skip(f"`ray start` cannot run here: {exc}")
    try:
        yield nodes
    finally:
        nodes.stop()


def _analyze(home: Path, cluster: LocalCluster, *analyzers: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env.update(ENV, HAECHI_HOME=str(home), HAECHI_RAY_ADDRESS=cluster.address)
    picks = [arg for a in analyzers for arg in ("-a", a)]
    return subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "analyze", "--engine", "ray", "--json", *picks],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
    )  # fmt: skip


def _home(tmp_path: Path, media: int, database_url: str | None = None) -> Path:
    home = tmp_path / "home"
    export = make_export(tmp_path / "export", messages=60, media=media)
    init = ["init", str(home)] + (["--database-url", database_url] if database_url else [])
    for args in (init, ["ingest", str(export), "--no-analyze"]):
        subprocess.run(
            [sys.executable, "-m", "haechi.cli.main", *args], check=True, capture_output=True,
            env={**os.environ, "HAECHI_HOME": str(home)}, timeout=600,
        )  # fmt: skip
    return home


def _rows(home: Path, sql: str) -> list[tuple[Any, ...]]:
    url = URLS.get(home)
    if url is None:
        with sqlite3.connect(home / "haechi.db") as conn:
            return conn.execute(sql).fetchall()
    from sqlalchemy import create_engine, text

    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return [tuple(r) for r in conn.execute(text(sql))]
    finally:
        engine.dispose()


URLS: dict[Path, str] = {}  # a data directory on PostgreSQL -> its database URL


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_a_killed_worker_loses_nothing_and_repeats_nothing(
    cluster: LocalCluster, tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = str(request.getfixturevalue("pg_url")) if backend == "postgresql" else None
    home = _home(tmp_path, media=12, database_url=url)
    if url is not None:
        URLS[home] = url
    run = _analyze(home, cluster, "t_where")
    killed = 0
    deadline = time.monotonic() + 600
    while not killed and run.poll() is None and time.monotonic() < deadline:
        busy = cluster.worker_pids()
        if busy and _rows(home, "SELECT count(*) FROM analyses"):  # mid-run: some written
            os.kill(busy[0], signal.SIGKILL)
            killed = busy[0]
        time.sleep(0.2)
    out, err = run.communicate(timeout=900)
    assert run.returncode == 0, err[-3000:]
    assert killed, "no Ray worker was seen running a step"
    report = json.loads(out)
    images = _rows(home, "SELECT count(*) FROM blobs WHERE kind = 'image'")[0][0]
    assert images >= 10
    assert report["steps"] == images and report["ok"] == images and not report["errors"]
    per_file = _rows(
        home,
        "SELECT blob_sha256, count(*), min(status) FROM analyses WHERE analyzer = 't_where' "
        "GROUP BY blob_sha256",
    )
    assert len(per_file) == images and all(n == 1 and s == "ok" for _, n, s in per_file)
    events = _rows(
        home,
        "SELECT subject, count(*) FROM custody_events WHERE event_type = 'analysis' "
        "GROUP BY subject",
    )
    assert len(events) == images and all(n == 1 for _, n in events)
    nodes = {v for (v,) in _rows(home, "SELECT value FROM signals WHERE kind = 't_where'")}
    assert len(nodes) == 2, nodes  # both nodes did work
    verify = subprocess.run(
        [sys.executable, "-m", "haechi.cli.main", "verify"], capture_output=True, text=True,
        env={**os.environ, "HAECHI_HOME": str(home)}, timeout=600,
    )  # fmt: skip
    assert verify.returncode == 0, verify.stdout + verify.stderr


def test_a_file_that_kills_its_worker_twice_is_crashed(
    cluster: LocalCluster, tmp_path: Path
) -> None:
    home = _home(tmp_path, media=6)
    run = _analyze(home, cluster, "t_crashy")
    _out, err = run.communicate(timeout=900)
    assert run.returncode == 0, err[-3000:]
    rows = _rows(
        home, "SELECT blob_sha256, status, error FROM analyses WHERE analyzer = 't_crashy'"
    )
    marked = [r for r in rows if r[0][0].isdigit()]
    assert marked and all(r[1] == "crashed" and "died 2 times" in r[2] for r in marked)
    assert all(r[1] == "ok" for r in rows if not r[0][0].isdigit())
    assert len({r[0] for r in rows}) == len(rows)  # one result per file
    events = _rows(home, "SELECT count(*) FROM custody_events WHERE event_type = 'analysis'")
    assert events[0][0] == len(rows)
