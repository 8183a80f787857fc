"""A short run of every fuzz target under atheris, as in `make fuzz` but 200 cases each
(two targets at a time) (issue 17, point 8): no crash, no hang, bounded memory. `make fuzz`
runs 10,000 cases or more each and keeps its corpus."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("atheris")

RUNNER = Path(__file__).with_name("run_fuzz.py")
CASES = 200


def test_every_target_survives_a_short_run(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, str(RUNNER), "--runs", str(CASES), "--out", str(tmp_path), "--jobs", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    summary = json.loads((tmp_path / "summary.json").read_text())
    bad = [r for r in summary if r["exit_code"] != 0 or r["artifacts"]]
    assert not bad, proc.stdout + proc.stderr[-4000:]
    assert {r["target"] for r in summary} == {
        "export_json", "media_path", "picture", "video", "metadata", "bank_formats", "package",
    }  # fmt: skip
    assert all(r["cases"] >= CASES for r in summary), summary
