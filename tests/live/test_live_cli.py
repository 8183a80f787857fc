"""``haechi watch`` from the shell: targets, status, pause/resume, and one sentence (never
a traceback) for each thing a user can get wrong. Through the command line's entry point in
this process (the same exit codes and output), but for what needs its environment: the
status table's width and the service's settings."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from tests.helpers import haechi, haechi_here


@pytest.fixture
def home(tmp_path: Path) -> Path:
    path = tmp_path / "home"
    haechi_here("init", str(path), check=True)
    return path


def test_targets_status_pause_and_resume(home: Path) -> None:
    assert "target 1 added" in haechi_here("watch", "add", "https://t.me/s/evidence_room",
                                           home=home, check=True).stdout  # fmt: skip
    again = haechi_here("watch", "add", "@Evidence_Room", home=home, check=True)
    assert "already watched" in again.stdout
    added = haechi_here("watch", "add", "t.me/+AbCdEfGh12", "--join", home=home, check=True)
    assert "joining allowed" in added.stdout
    data = json.loads(haechi_here("watch", "status", "--json", home=home, check=True).stdout)
    assert [t["ref"] for t in data["targets"]] == ["@evidence_room", "+AbCdEfGh12"]
    assert [t["join"] for t in data["targets"]] == [False, True]
    assert data["service"]["running"] is False
    haechi_here("watch", "pause", "@evidence_room", home=home, check=True)
    data = json.loads(haechi_here("watch", "status", "--json", home=home, check=True).stdout)
    assert data["targets"][0]["state"] == "paused" and data["targets"][0]["paused"]
    haechi_here("watch", "resume", "1", home=home, check=True)
    table = haechi("watch", "status", home=home, env={"COLUMNS": "200"}, check=True).stdout
    assert "@evidence_room" in table and "pending" in table and "not running" in table


MISTAKES = [
    (("watch", "add", "https://example.org/room"), "not a t.me link"),
    (("watch", "add", "@ab"), "not a valid Telegram username"),
    (("watch", "pause", "@nobody_here"), "No watched target"),
    (("watch", "run"), "api_id and api_hash"),
    (("watch", "bot", "@some_bot", "--send", "/start"), "api_id and api_hash"),
]


def test_mistakes_are_one_sentence(home: Path) -> None:
    for args, sentence in MISTAKES:
        proc = haechi_here(*args, home=home)
        assert proc.returncode != 0, args
        assert sentence in proc.stderr and "Traceback" not in proc.stderr, (args, proc.stderr)


def test_run_without_a_session_says_to_log_in(home: Path) -> None:
    env = {"HAECHI_TELEGRAM_API_ID": "12345", "HAECHI_TELEGRAM_API_HASH": "ab" * 16}
    proc = haechi("watch", "run", home=home, env=env)
    assert proc.returncode != 0 and "haechi watch login" in proc.stderr
    assert "Traceback" not in proc.stderr
    bad = haechi("watch", "run", home=home, env={**env, "HAECHI_TELEGRAM_API_HASH": "nothex"})
    assert "32 hex digits" in bad.stderr
