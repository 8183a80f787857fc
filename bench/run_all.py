"""`make bench`: every benchmark, each printing medians and ratios against its baseline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    ["bench_ingest.py", "--messages", "1000000", "--media", "0", "10000", "--repeat", "3"],
    ["bench_verify.py"],
]

if __name__ == "__main__":
    failed = 0
    for bench in BENCHES:
        print(f"== {' '.join(bench)}", flush=True)
        failed |= subprocess.call([sys.executable, str(HERE / bench[0]), *bench[1:]])
    sys.exit(1 if failed else 0)
