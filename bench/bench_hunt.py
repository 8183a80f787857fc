#!/usr/bin/env python3
"""Benchmark: the bank hunt (each new bank hash looked up among the stored files, as
`haechi bank import`, `haechi exchange sync` and `haechi match` run it) before and after
it searched a whole page of hashes in one vectorised pass, on the same data, in the same run.

One data directory is built: the benign demo export ingested and hashed (real pictures,
their re-posts), ``--media`` extra random PDQ signals beside them so the media index has
the size of a real store, and a bank of ``--items`` PDQ hashes added without the hunt:
random ones, and planted ones that must match (each stored picture's hash with 0-30
bits flipped, and 20 stored files' md5). It is copied twice; the hunt of every bank
hash runs in its own process on each copy, given their ids as `haechi bank import` and
`haechi exchange sync` give them: with the code of ``--baseline`` (a git revision,
extracted with ``git archive`` and put first on the path) and with the working tree.
The two must record the same matches (file, kind, target, distance, transform), checked
here.

    nice -n 10 .venv/bin/python bench/bench_hunt.py --items 100000 --json out.json
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

SEED = 20261213
BASELINE = "db93c2e"  # the last revision whose hunt made database round trips per hash

HUNT = """
import json, time
from haechi.app import open_app
from haechi.match.matching import hunt_bank_signals
from haechi.store.tables.match import BankSignal
from sqlalchemy import select
app = open_app()
with app.db.connect() as conn:
    ids = conn.execute(select(BankSignal.id)).scalars().all()
start = time.perf_counter()
new = hunt_bank_signals(app, ids)
seconds = round(time.perf_counter() - start, 2)
# VmHWM: this process's own peak (ru_maxrss would include the parent's at the fork)
rss = next(round(int(line.split()[1]) / 1024, 1) for line in open("/proc/self/status")
           if line.startswith("VmHWM:"))
print(json.dumps({"seconds": seconds, "new_matches": new, "rss_mb": rss}))
"""


def _flip(value: str, bits: int, rng: random.Random) -> str:
    number = int(value, 16)
    for b in rng.sample(range(256), bits):
        number ^= 1 << b
    return f"{number:064x}"


def build(home: Path, workdir: Path, items: int, media: int) -> dict[str, int]:
    """The data directory every hunt starts from; what it holds."""
    from sqlalchemy import insert, select

    from haechi.analyze.hashes.pdq import PdqAnalyzer
    from haechi.analyze.hashes.vpdq import VpdqAnalyzer
    from haechi.app import init_home
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.demo.export_builder import build_demo_export
    from haechi.match.banks import add_items, create_bank
    from haechi.match.formats.base import ParsedItem, ParsedSignal
    from haechi.run.analyze import AnalysisRunner
    from haechi.run.ingest import Ingestor
    from haechi.store.models import Blob, SignalRow

    app = init_home(home)
    Ingestor(app, TelegramExportCollector(build_demo_export(workdir / "export"))).run()
    AnalysisRunner(app, [PdqAnalyzer(), VpdqAnalyzer()], workers=2).run()
    rng = random.Random(SEED)
    with app.db.connect() as conn:
        stored = conn.execute(
            select(SignalRow.analysis_id, SignalRow.blob_sha256, SignalRow.value)
            .where(SignalRow.kind == "pdq", SignalRow.score >= 50)
            .order_by(SignalRow.id)
        ).all()
        md5s = conn.execute(select(Blob.md5).order_by(Blob.sha256)).scalars().all()
    with app.db.begin() as conn:  # random hashes beside the real ones: an index of real size
        for start in range(0, media, 10_000):
            conn.execute(insert(SignalRow), [
                {"analysis_id": stored[i % len(stored)].analysis_id,
                 "blob_sha256": stored[i % len(stored)].blob_sha256, "kind": "pdq",
                 "value": f"{rng.getrandbits(256):064x}", "score": 100.0, "data_json": None}
                for i in range(start, min(media, start + 10_000))
            ])  # fmt: skip
    planted: list[ParsedItem] = []
    for _, _, value in stored:
        flipped = _flip(value, rng.randint(0, 30), rng)
        planted.append(ParsedItem(len(planted) + 1, [ParsedSignal("pdq", flipped)]))
    planted += [ParsedItem(len(planted) + 1, [ParsedSignal("md5", m)]) for m in md5s[:20] if m]
    randoms = (
        ParsedItem(i, [ParsedSignal("pdq", f"{rng.getrandbits(256):064x}")])
        for i in range(len(planted) + 1, items + 1)
    )
    create_bank(app, "hunt")
    import itertools

    report = add_items(app, "hunt", itertools.chain(planted, randoms),
                       source={"how": "benchmark"}, hunt=False)  # fmt: skip
    app.close()
    return {"stored_pdq": len(stored), "extra_media_pdq": media,
            "bank_items": report.items_added, "planted": len(planted)}  # fmt: skip


def hunt(home: Path, src: Path | None) -> dict[str, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env["HAECHI_HOME"] = str(home)
    if src is not None:
        env["PYTHONPATH"] = str(src)
    start = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-c", HUNT], env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip
    out, err = proc.communicate()
    wall = time.perf_counter() - start
    if proc.returncode:
        raise SystemExit(f"hunt failed ({proc.returncode}):\n{err[-3000:]}")
    got = json.loads(out.strip().splitlines()[-1])
    return {**got, "process_seconds": round(wall, 2)}


def matches(home: Path) -> set[tuple[Any, ...]]:
    from sqlalchemy import select

    from haechi.app import open_app
    from haechi.store.tables.match import MatchRow

    app = open_app(home)
    with app.db.connect() as conn:
        rows = conn.execute(select(MatchRow.blob_sha256, MatchRow.kind, MatchRow.target,
                                   MatchRow.distance, MatchRow.transform)).all()  # fmt: skip
    app.close()
    return {tuple(r) for r in rows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--items", type=int, default=100_000)
    ap.add_argument("--media", type=int, default=100_000)
    ap.add_argument("--baseline", default=BASELINE, help="git revision of the old hunt")
    ap.add_argument("--json", type=Path, help="also write the results here")
    args = ap.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="bench-hunt-"))
    try:
        result = run(args, workdir)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    base = workdir / "base"
    held = build(base, workdir, args.items, args.media)
    old_src = workdir / "baseline"
    old_src.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "src"],
                             check=True, capture_output=True).stdout  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(old_src)], input=archive, check=True)
    homes = {"baseline": workdir / "old", "vectorised": workdir / "new"}
    for home in homes.values():
        shutil.copytree(base, home)
    runs = {
        "baseline": hunt(homes["baseline"], old_src / "src"),
        "vectorised": hunt(homes["vectorised"], None),
    }
    old, new = matches(homes["baseline"]), matches(homes["vectorised"])
    if old != new:
        raise SystemExit(f"the two hunts differ: {len(old - new)} only before, "
                         f"{len(new - old)} only after")  # fmt: skip
    n = held["bank_items"]
    return {
        "held": held, "baseline_revision": args.baseline, "matches": len(new),
        **{name: {**r, "ms_per_hash": round(1000 * r["seconds"] / n, 3)}
           for name, r in runs.items()},
        "speed-up": round(runs["baseline"]["seconds"] / max(runs["vectorised"]["seconds"],
                                                            0.01), 1),
    }  # fmt: skip


if __name__ == "__main__":
    main()
