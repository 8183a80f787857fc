"""A SIGKILL during back-fill loses nothing and duplicates nothing: the restart reads on
from the newest stored message, and the flush skips what is stored."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from tests.helpers import haechi_here, haechi_json

SCRIPT = Path(__file__).with_name("run_fake_watch.py")
MESSAGES, PHOTOS = 4000, 40


def _count(db: Path, sql: str) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return int(conn.execute(sql).fetchone()[0])
    except sqlite3.Error:
        return 0


def _run(home: Path) -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    return subprocess.Popen(
        [sys.executable, str(SCRIPT), str(home), str(MESSAGES), str(PHOTOS)],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip


@pytest.mark.slow
def test_sigkill_during_backfill_then_restart_is_complete(tmp_path: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    db = home / "haechi.db"
    proc = _run(home)
    deadline = time.monotonic() + 300
    while _count(db, "SELECT count(*) FROM messages") < 1000:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline
        time.sleep(0.02)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    partial = _count(db, "SELECT count(*) FROM messages")
    assert 0 < partial < MESSAGES
    again = _run(home)
    assert again.wait(300) == 0, again.stderr.read().decode() if again.stderr else ""
    with sqlite3.connect(db) as conn:
        total, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT chat_id || ':' || message_id) FROM messages"
        ).fetchone()
        versions = conn.execute("SELECT count(*) FROM message_versions").fetchone()[0]
        media = conn.execute(
            "SELECT count(*), count(DISTINCT message_pk), count(blob_sha256) FROM media"
        ).fetchone()
        interrupted = conn.execute(
            "SELECT count(*) FROM sources WHERE kind = 'telegram_live' AND status = 'started'"
        ).fetchone()[0]
        target = conn.execute(
            "SELECT state, backfill_done, last_message_id, messages_captured FROM live_targets"
        ).fetchone()
    assert total == distinct == MESSAGES  # nothing lost, nothing twice
    assert versions == 0  # a message read twice is not an "edit"
    assert media == (PHOTOS, PHOTOS, PHOTOS)
    assert interrupted == 0  # a half-stored segment is recorded as failed, with the reason
    assert target[0] == "following" and target[1] and target[2] == MESSAGES
    result = haechi_json("verify", home=home)
    assert result["ok"], result
