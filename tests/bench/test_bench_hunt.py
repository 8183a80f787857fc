"""bench/bench_hunt.py runs end to end at a small size: both hunts record the same matches,
the planted ones among them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_hunt.py"


def test_the_hunt_benchmark_runs_small(tmp_path: Path) -> None:
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        from bench_hunt import BASELINE
    finally:
        sys.path.remove(str(SCRIPT.parent))
    known = subprocess.run(["git", "-C", str(ROOT), "cat-file", "-e", f"{BASELINE}^{{commit}}"],
                           capture_output=True, check=False)  # fmt: skip
    if known.returncode:
        pytest.skip(f"revision {BASELINE} is not in this clone")
    out = tmp_path / "hunt.json"
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--items", "800", "--media", "5000", "--json", str(out)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads(out.read_text())
    assert result["held"]["bank_items"] == 800 and result["held"]["extra_media_pdq"] == 5000
    old, new = result["baseline"], result["vectorised"]
    assert old["new_matches"] == new["new_matches"] >= result["held"]["stored_pdq"] // 2
    assert old["seconds"] > 0 and new["seconds"] > 0 and new["rss_mb"] > 0
