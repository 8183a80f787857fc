"""`make bench`: every ``bench/bench_*.py``, each printing medians and ratios against the
baseline it names, measured in the same run.

    python bench/run_all.py              # all of them
    python bench/run_all.py ingest pdq   # bench_ingest.py and bench_pdq.py only
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent

if __name__ == "__main__":
    wanted = sys.argv[1:]
    benches = sorted(HERE.glob("bench_*.py"))
    if wanted:
        benches = [b for b in benches if b.stem.removeprefix("bench_") in wanted]
    failed = 0
    for bench in benches:
        print(f"== {bench.name}", flush=True)
        failed |= subprocess.call([sys.executable, str(bench)])
    sys.exit(1 if failed else 0)
