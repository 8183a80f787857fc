"""bench/bench_capture.py runs end to end at a small size and measures what it claims."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_capture.py"


def test_the_capture_benchmark_runs_small(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    args = ["--pages", "20", "--media", "4", "--media-kb", "64", "--repeat", "1"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--json", str(out)],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "| write | warcio alone (baseline) |" in done.stdout
    result = json.loads(out.read_text())
    assert result["pages"] == 20 and result["warc_bytes"] > 4 * 64 * 1024  # media do not compress
    methods = {r["method"]: r for r in result["rows"]}
    assert {
        "haechi WACZ (hashes, index, signed)",
        "py-wacz validate",
        "haechi verify (all checks)",
    } <= set(methods)
    for row in result["rows"]:
        assert row["seconds"] > 0 and row["mb_per_s"] > 0
