"""bench/bench_faces.py runs end to end at a small size: brute force, the sweeps and the
product's own search paths, with recalls that are really measured against brute force."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("faiss")

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "bench" / "bench_faces.py"


def test_the_faces_benchmark_runs_small(tmp_path: Path) -> None:
    out = tmp_path / "rows.json"
    args = ["--sizes", "20000", "--queries", "16", "--people", "mixed", "--skip-detection"]
    args += ["--exact-limit", "5000", "--nprobe", "1", "--k-factor", "1", "64"]
    done = subprocess.run(
        [sys.executable, str(SCRIPT), *args, "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "| numpy brute force (baseline) |" in done.stdout  # the printed table
    rows = {r["method"]: r for r in json.loads(out.read_text())}
    found = re.match(r"haechi IVF(\d+),Flat", next(m for m in rows if m.startswith("haechi IVF")))
    assert found is not None
    label, nlist = found.group(0), int(found.group(1))
    assert nlist > 64  # 4 * sqrt(20,000): an inverted file, since the exact limit is 5,000
    # Range queries go through the range codes (label + " + IVF...,PQ64x4fs").
    rlabel = next(m for m in rows if m.startswith(f"{label} + ")).split(" nprobe")[0]

    exhaustive = rows[f"{label} within(exhaustive=True)"]
    assert exhaustive["range recall"] == 1.0  # every cell read: brute force's answer
    # A sweep point reading 1 of the cells misses faces that brute force finds: the
    # recall is computed, not copied.
    assert rows[f"{rlabel} nprobe 1"]["range recall"] < exhaustive["range recall"]
    default = next(r for m, r in rows.items() if m.startswith(f"{rlabel} within() default ("))
    assert default["range recall"] >= 0.9
    # The codes answer what the inverted file's own range search answers at the same nprobe.
    old = next(r for m, r in rows.items() if m.startswith(f"{label} range_search nprobe"))
    assert default["range recall"] == old["range recall"]
    assert rows[f"{rlabel} within() default, 3 templates"]["query"] == "range 0.55 x3"
    # The sketch with one candidate per neighbour is measurably worse than with 64.
    one = rows["haechi sketch PQ64x4fs k_factor 1"]["recall@10"]
    assert one < rows["haechi sketch PQ64x4fs k_factor 64"]["recall@10"]
    nearest = rows[f"{label} nearest(k=10) default"]
    assert nearest["recall@10 <=0.55"] == 1.0 and nearest["recall@10"] >= 0.9
    for row in rows.values():
        assert row["target"] in ("yes", "no")
        assert row["median ms"] <= row["p95 ms"]
        assert row["n"] == 20000 and row["people"] == "mixed"
    assert float(nearest["build s"]) >= 0 and int(nearest["MB"]) > 0
