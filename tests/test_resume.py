"""Crash safety: an ingest killed with SIGKILL mid-way completes on rerun, no duplicates.

The export is as small as keeps the kill where it always was: after the first two
transactions (Ingestor.BATCH = 10,000 messages each) have committed, with more than as many
again still to read, and photos copied both before and after the kill (every file is
captured once and analysed on the rerun: fewer photos, the same path)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import haechi_here, haechi_json, make_export


def _messages(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM messages").fetchone()[0])
    except sqlite3.Error:
        return 0


@pytest.mark.slow
def test_sigkill_then_rerun_is_complete(tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=45_000, media=60, seed=11)
    expected = len(json.loads((export / "result.json").read_bytes())["messages"])
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    proc = subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "ingest", str(export), "--json"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 300
    while _messages(home / "haechi.db") < 20_000:
        assert proc.poll() is None, "ingest finished before it could be killed"
        assert time.monotonic() < deadline
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _messages(home / "haechi.db")
    assert 0 < partial < expected
    with sqlite3.connect(home / "haechi.db") as conn:
        kept = conn.execute("SELECT count(*) FROM source_files").fetchone()[0]
    assert 1 < kept < 61, kept  # photos stored before the kill, and photos still to store
    report = haechi_json("ingest", str(export), home=home)
    assert report["resumed"] and report["messages"] == expected
    assert report["messages_new"] == expected - partial
    with sqlite3.connect(home / "haechi.db") as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT chat_id || ':' || message_id) FROM messages"
        ).fetchone()
        files = conn.execute("SELECT count(*) FROM source_files").fetchone()[0]
        captures = conn.execute(
            "SELECT count(*) FROM custody_events WHERE event_type='capture'"
        ).fetchone()[0]
    assert total == distinct == expected
    assert files == captures == 61  # 60 photos + result.json, each captured exactly once
    result = haechi_json("verify", home=home)
    assert result["ok"], result
