"""The analysis runner on a real data directory, through the real `haechi` command.

Misbehaving analyzers (tests/analyzers_for_tests.py) hang, crash the worker process or
raise on some files: each such file gets its own recorded error and the batch completes.
"""

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
from tests.analyzers_for_tests import EXTRA
from tests.helpers import ROOT, haechi, haechi_here, haechi_json, make_export

ENV = {"HAECHI_EXTRA_ANALYZERS": EXTRA, "PYTHONPATH": str(ROOT)}


@pytest.fixture
def home(tmp_path: Path) -> Path:
    """A data directory holding an export, not analysed (made through the command line's
    entry point in this process; what the tests check runs in a process of its own)."""
    h = tmp_path / "home"
    haechi_here("init", str(h), check=True)
    export = make_export(tmp_path / "ex", messages=200, media=8)
    haechi_here("ingest", str(export), "--no-analyze", home=h, check=True)
    return h


def _rows(home: Path, sql: str) -> list[tuple]:
    with sqlite3.connect(home / "haechi.db") as conn:
        return conn.execute(sql).fetchall()


def test_mediainfo_runs_once_per_version(home: Path) -> None:
    first = haechi_json("analyze", "-a", "mediainfo", home=home)
    assert first["files"] == 8 and first["ok"] == 8 and first["errors"] == {}
    rows = _rows(
        home,
        "SELECT s.value, s.data_json FROM signals s JOIN analyses a ON a.id = s.analysis_id "
        "WHERE a.analyzer = 'mediainfo'",
    )
    assert len(rows) == 8
    for value, data in rows:
        info = json.loads(data)
        assert value == "JPEG" and info["width"] > 0 and info["frames"] == 1
    again = haechi_json("analyze", "-a", "mediainfo", home=home)
    assert again["files"] == 0 and again["steps"] == 0
    events = _rows(home, "SELECT count(*) FROM custody_events WHERE event_type = 'analysis'")
    assert events == [(8,)]
    assert haechi("verify", home=home).returncode == 0


def test_kinds_are_sniffed_from_content(home: Path) -> None:
    haechi_json("analyze", "-a", "mediainfo", home=home)
    kinds = dict(_rows(home, "SELECT mime, count(*) FROM blobs GROUP BY mime"))
    assert kinds == {"image/jpeg": 8, "application/json": 1}


def test_hangs_crashes_and_errors_are_recorded_per_file(home: Path) -> None:
    shas = [
        r[0]
        for r in _rows(home, "SELECT DISTINCT blob_sha256 FROM media WHERE blob_sha256 IS NOT NULL")
    ]
    marked = sum(1 for s in shas if s[0].isdigit())
    assert 0 < marked < len(shas), "the generated export must have both kinds of file"
    proc = haechi(
        "analyze", "--json", "-a", "t_sleepy", "-a", "t_crashy", "-a", "t_raisy",
        "-a", "mediainfo", home=home, env=ENV,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["errors"] == {
        "t_sleepy:timeout": marked,
        "t_crashy:crashed": marked,
        "t_raisy:error": marked,
    }
    assert report["ok"] == 4 * len(shas) - 3 * marked
    status = dict(
        ((a, s), n)
        for a, s, n in _rows(
            home, "SELECT analyzer, status, count(*) FROM analyses GROUP BY analyzer, status"
        )
    )
    assert status[("mediainfo", "ok")] == len(shas)  # the bad neighbours cost nothing
    errors = _rows(home, "SELECT analyzer, error FROM analyses WHERE status != 'ok'")
    assert ("t_raisy", "ValueError: this file is damaged") in errors
    assert any(a == "t_sleepy" and e.startswith("timed out after") for a, e in errors)
    assert any(a == "t_crashy" and "exit code 139" in e for a, e in errors)
    assert haechi("verify", home=home).returncode == 0
    # errors are not retried unless asked
    again = json.loads(haechi("analyze", "--json", "-a", "t_raisy", home=home, env=ENV).stdout)
    assert again["steps"] == 0
    rows_before = _rows(home, "SELECT count(*) FROM analyses")[0][0]
    retry = haechi("analyze", "--json", "-a", "t_raisy", "--retry-errors", home=home, env=ENV)
    assert json.loads(retry.stdout)["steps"] == marked
    # the retried rows take the new outcome in place; the log keeps both, and still verifies
    assert _rows(home, "SELECT count(*) FROM analyses")[0][0] == rows_before
    bodies = [b for (b,) in _rows(home, "SELECT body FROM custody_events")]
    retries = [json.loads(b)["data"] for b in bodies if '"retry_of"' in b]
    assert len(retries) == marked and all(d["retry_of"] == "error" for d in retries)
    assert haechi("verify", home=home).returncode == 0


def test_sigkill_then_rerun_is_complete(home: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env.update(ENV, HAECHI_HOME=str(home), HAECHI_WORKERS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "haechi.cli.main", "analyze", "-a", "t_slow", "--json"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        done = _rows(home, "SELECT count(*) FROM analyses WHERE analyzer = 't_slow'")[0][0]
        if done >= 2:
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)  # the runner and its workers, mid-batch
    proc.wait()
    partial = _rows(home, "SELECT count(*) FROM analyses WHERE analyzer = 't_slow'")[0][0]
    assert 2 <= partial < 8
    rerun = haechi("analyze", "-a", "t_slow", "--json", home=home, env=ENV, check=True)
    assert json.loads(rerun.stdout)["steps"] == 8 - partial
    rows = _rows(home, "SELECT blob_sha256, count(*) FROM analyses GROUP BY blob_sha256")
    assert len(rows) == 8 and all(n == 1 for _, n in rows)
    assert haechi("verify", home=home).returncode == 0


def test_an_edited_signal_is_caught_by_verify(home: Path) -> None:
    haechi_json("analyze", "-a", "mediainfo", home=home)
    with sqlite3.connect(home / "haechi.db") as conn:
        conn.execute("UPDATE signals SET value = 'PNG' WHERE id = 1")
    proc = haechi("verify", "--json", home=home)
    assert proc.returncode == 1
    problems = json.loads(proc.stdout)["problems"]
    assert len(problems) == 1 and problems[0].startswith("altered: analysis 1 (mediainfo on ")


def test_unknown_analyzer_and_bad_settings_are_one_sentence(home: Path) -> None:
    proc = haechi("analyze", "-a", "nope", home=home)
    assert proc.returncode == 2 and "no analyzer called 'nope'" in proc.stderr
    config = home / "haechi.toml"
    config.write_text(config.read_text() + "\n[analyzers.mediainfo]\ncolour = 'red'\n")
    proc = haechi("analyze", "-a", "mediainfo", home=home)
    assert proc.returncode == 2 and "Unknown setting analyzers.mediainfo.colour" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_analysis_runs_after_ingest_by_default(tmp_path: Path) -> None:
    h = tmp_path / "h"
    haechi_here("init", str(h), check=True)
    export = make_export(tmp_path / "ex", messages=50, media=2)
    config = h / "haechi.toml"  # only the analyzer under test (others have their own tests)
    config.write_text(config.read_text() + _only("mediainfo"))
    data = haechi_json("ingest", str(export), home=h)
    assert data["analysis"]["analyzers"] == ["mediainfo"] and data["analysis"]["ok"] == 2
    assert _rows(h, "SELECT count(*) FROM analyses WHERE status = 'ok'") == [(2,)]


def _only(name: str) -> str:
    from haechi.analyze.registry import discover

    return "".join(
        f"\n[analyzers.{other}]\nenabled = false\n" for other in discover() if other != name
    )
