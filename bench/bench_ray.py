"""Analysis on a Ray cluster against the local process pool, 1, 2 and 4 workers, same run
(issue 18).

    python bench/bench_ray.py [--files 60] [--workers 1 2 4] [--analyzers faces pdq]

A data directory of ``--files`` benign pictures (scikit-image's sample photographs, cut and
resized to 640-1280 px, stored in a generated export and ingested) is copied afresh for
every run, then analysed by ``haechi analyze --json`` with:

* ``local``: the supervised process pool, ``--workers N`` (the baseline);
* ``ray``: a real cluster of two nodes started with ``ray start`` on this machine
  (``haechi.run.ray_local``: the head with N//2 worker slots, a second node with the rest,
  each its own raylet and object store), the runner joining it through
  ``HAECHI_RAY_ADDRESS``; the vault is read by both nodes from the same path.

Reported per run: files/s (the runner's own time, from its report), the ratio to the local
pool with the same number of workers, the speed-up over one worker of the same engine, and
peak RSS (the runner's process tree; for Ray also every process of the cluster). On a
2-core machine nothing can scale past 2: the 4-worker rows show the cost of
oversubscription.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import bench_ingest  # noqa: E402 - bench/ is on the path only now
import gen_export  # noqa: E402


def pictures(count: int) -> list[bytes]:
    """Benign photographs (scikit-image's samples: astronaut, coffee, cat, ...), cut and
    resized so each file differs."""
    import numpy as np
    from PIL import Image
    from skimage import data

    names = [
        "astronaut",
        "coffee",
        "chelsea",
        "rocket",
        "immunohistochemistry",
        "hubble_deep_field",
    ]
    sources = [Image.fromarray(np.asarray(getattr(data, n)())).convert("RGB") for n in names]
    out = []
    for k in range(count):
        src = sources[k % len(sources)]
        w, h = src.size
        left, top = (k * 7) % max(1, w // 5), (k * 11) % max(1, h // 5)
        crop = src.crop((left, top, w - (k * 3) % max(1, w // 6), h - (k * 5) % max(1, h // 6)))
        side = 640 + (k * 97) % 641
        crop = crop.resize((side, max(64, side * crop.height // crop.width)))
        buf = io.BytesIO()
        crop.save(buf, "JPEG", quality=88)
        out.append(buf.getvalue())
    return out


def make_home(work: Path, files: int) -> Path:
    export = work / "export"
    gen_export.generate_export(export, messages=max(200, files * 3), media=files, seed=3)
    photos = sorted((export / "photos").glob("*.jpg"))
    for path, data in zip(photos, pictures(len(photos)), strict=True):
        path.write_bytes(data)  # the message's declared size differs: a warning, no more
    home = work / "pristine"
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    haechi = str(Path(sys.executable).with_name("haechi"))
    subprocess.run([haechi, "init", str(home)], check=True, capture_output=True, env=env)
    subprocess.run([haechi, "ingest", str(export), "--no-analyze"], check=True,
                   capture_output=True, env={**env, "HAECHI_HOME": str(home)})  # fmt: skip
    return home


class ClusterRss:
    """Peak of the summed RSS of a cluster's processes, sampled every 0.2 s."""

    def __init__(self, cluster: object) -> None:
        self.cluster, self.peak = cluster, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            members = self.cluster._members()  # type: ignore[attr-defined]
            self.peak = max(self.peak, sum(bench_ingest._rss_bytes(pid) for pid, _ in members))
            self._stop.wait(0.2)

    def stop(self) -> int:
        self._stop.set()
        self._thread.join()
        return round(self.peak / 2**20)


def run(pristine: Path, work: Path, engine: str, workers: int, analyzers: list[str],
        address: str | None) -> dict[str, Any]:  # fmt: skip
    home = work / f"run-{engine}-{workers}"
    shutil.rmtree(home, ignore_errors=True)
    shutil.copytree(pristine, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    env.update(HAECHI_HOME=str(home), HAECHI_WORKERS=str(workers))
    if address:
        env["HAECHI_RAY_ADDRESS"] = address
    haechi = str(Path(sys.executable).with_name("haechi"))
    picks = [arg for a in analyzers for arg in ("-a", a)]
    _, rss, _, out = bench_ingest.run_child(
        [haechi, "analyze", "--engine", engine, "--json", *picks], env
    )
    report = json.loads(out)
    shutil.rmtree(home, ignore_errors=True)
    return {"files": report["files"], "steps": report["steps"], "ok": report["ok"],
            "seconds": report["seconds"], "rss_mb": rss}  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--files", type=int, default=60)
    ap.add_argument("--workers", type=int, nargs="*", default=[1, 2, 4])
    ap.add_argument("--analyzers", nargs="*", default=["faces", "pdq"])
    args = ap.parse_args()
    from haechi.run.ray_local import LocalCluster

    work = Path(tempfile.mkdtemp(prefix="haechi-ray-bench-"))
    rows = []
    try:
        pristine = make_home(work, args.files)
        for n in args.workers:
            local = run(pristine, work, "local", n, args.analyzers, None)
            cluster = LocalCluster([n // 2, n - n // 2])
            started = time.perf_counter()
            cluster.start()
            up = time.perf_counter() - started
            sampler = ClusterRss(cluster)
            try:
                ray = run(pristine, work, "ray", n, args.analyzers, cluster.address)
            finally:
                cluster_mb = sampler.stop()
                cluster.stop()
            ray["cluster_rss_mb"] = cluster_mb
            ray["cluster_start_s"] = round(up, 1)
            for engine, r in (("local", local), ("ray", ray)):
                r.update(engine=engine, workers=n, files_per_s=round(r["files"] / r["seconds"], 2))
                rows.append(r)
                print(json.dumps(r), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    one = {e: next(r for r in rows if r["engine"] == e and r["workers"] == min(args.workers))
           for e in ("local", "ray")}  # fmt: skip
    print(f"\n{args.files} pictures, analyzers {', '.join(args.analyzers)}")
    print("| engine | workers | files/s | vs local, same workers | vs 1 worker | "
          "peak RSS MB (runner tree / cluster) |")  # fmt: skip
    print("|---|---|---|---|---|---|")
    for r in rows:
        same = next(x for x in rows if x["engine"] == "local" and x["workers"] == r["workers"])
        nodes = f" / {r['cluster_rss_mb']}" if "cluster_rss_mb" in r else ""
        print(f"| {r['engine']} | {r['workers']} | {r['files_per_s']} | "
              f"{r['files_per_s'] / same['files_per_s']:.2f} | "
              f"{r['files_per_s'] / one[r['engine']]['files_per_s']:.2f} | "
              f"{r['rss_mb']}{nodes} |")  # fmt: skip


if __name__ == "__main__":
    main()
