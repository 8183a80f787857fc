"""bench/bench_live.py runs end to end at a small size: back-fill against the export ingest
of the same messages, and following in both modes (as shipped, as before), each in its own
process."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_live.py"


def test_the_live_benchmark_runs_small() -> None:
    args = [
        "--messages",
        "300",
        "--photos",
        "6",
        "--repeat",
        "1",
        "--targets",
        "4",
        "--rounds",
        "4",
    ]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "back-fill: 300 messages, 6 photos, median of 1" in out
    assert re.search(r"ratio live/export time: \d+\.\d\dx", out)
    assert "following 4 targets (before): 16 new messages" in out
    assert "following 4 targets (shipped): 16 new messages" in out
    assert re.search(r"VmRSS at the end: before [\d.]+ MB, shipped [\d.]+ MB", out)
