"""The Ray engine (a local Ray cluster started by the test) stores the same results as the
local pool, and pins timeouts and errors to the analyzer that caused them."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest
from tests.analyzers_for_tests import EXTRA
from tests.helpers import ROOT, haechi, haechi_here, make_export

pytest.importorskip("ray", reason="the ray extra is not installed")

ENV = {"HAECHI_EXTRA_ANALYZERS": EXTRA, "PYTHONPATH": str(ROOT), "HAECHI_WORKERS": "2"}
QUERY = (
    "SELECT a.blob_sha256, a.analyzer, a.status, s.kind, s.value, s.data_json "
    "FROM analyses a LEFT JOIN signals s ON s.analysis_id = a.id ORDER BY 1, 2, 4, 5"
)


def _home(tmp_path: Path, name: str, export: Path) -> Path:
    """A data directory holding ``export``, not analysed (in this process: the engines are
    what the test is about, and each runs in a ``haechi analyze`` process of its own)."""
    home = tmp_path / name
    for args in (("init", str(home)), ("ingest", str(export), "--no-analyze")):
        done = haechi_here(*args, home=home)
        assert done.returncode == 0, done.stderr
    return home


@pytest.mark.slow
def test_ray_and_local_engines_agree(tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=100, media=5)
    rows = []
    reports = []
    for engine in ("local", "ray"):
        home = _home(tmp_path, engine, export)
        proc = haechi(
            "analyze", "--engine", engine, "--json", "-a", "mediainfo", "-a", "t_raisy",
            "-a", "t_sleepy", home=home, env=ENV,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr[-3000:]
        reports.append(json.loads(proc.stdout))
        with sqlite3.connect(home / "haechi.db") as conn:
            rows.append(conn.execute(QUERY).fetchall())
        assert haechi_here("verify", home=home).returncode == 0
    assert rows[0] == rows[1]
    assert reports[0]["errors"] == reports[1]["errors"]
    assert any(k.startswith("t_sleepy:timeout") for k in reports[1]["errors"])
