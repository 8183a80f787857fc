#!/usr/bin/env python3
"""Benchmark: face detection + embedding per core, and face search at 100k and 1M faces.

1. **Detection + embedding**, one process (one core): haechi's pipeline (decode, colour
   and EXIF handling, upsampling policy, 5-point alignment, ResNet embedding, sharpness)
   against the bare dlib calls on an already decoded array (HOG at upsample 1, landmarks,
   descriptor) on the same pictures. Pictures: scikit-image's astronaut (NASA portrait) at
   512 px, and a 1280x960 scene holding four copies of it at different scales.
2. **Search**, queries on one thread: synthetic 128-d vectors shaped like face embeddings
   (people ~0.9 apart, pictures of one person ~0.35 apart), queries are new pictures of
   known people. The baseline is brute-force numpy (``||x||^2 - 2 q.x`` with precomputed
   norms), which also gives the true answers. Against it, in the same run: FAISS's exact
   ``IndexFlatL2``, and the index haechi builds (:meth:`FaceIndex.build`, the code the
   product runs): at these sizes an inverted file for range queries (``nprobe`` swept, and
   every cell) and a 4-bit PQ sketch with exact re-ranking for top-k (``k_factor`` swept),
   then the product's own paths: ``FaceIndex.within`` with 1 and 3 templates (a subject
   search), ``within(exhaustive=True)`` and ``FaceIndex.nearest(k=10)``.

   Three recalls, all against brute force: **recall@10** (the true 10 nearest faces),
   **recall@10 <= 0.55** (those of the true 10 nearest within the search threshold, i.e.
   the pictures of the same person, which is what a search shows) and **range recall**
   (every face within 0.55: what a subject search asks). For "mixed" people (1-20
   pictures, mean ~5) the rest of the true top 10 are strangers 0.7-0.9 away, a noise tail
   no partitioned index finds cheaply; for "recurring" people (10-30 pictures) the top 10
   are the person's own pictures.

Target (issue 4): recall@10 >= 0.99 and under 10 ms per query at 1M; the ``target`` column
says yes when a row's recall (recall@10 for top-k rows, range recall for range rows) is
>= 0.99 and its median is under 10 ms. The exit status is non-zero only on errors, never
because a target was missed.

    .venv/bin/python bench/bench_faces.py            # both parts, 100k and 1M
    .venv/bin/python bench/bench_faces.py --sizes 100000 --skip-detection
    .venv/bin/python bench/bench_faces.py --sizes 20000 --queries 20 --exact-limit 5000 \\
        --skip-detection --people mixed               # a smoke run in seconds

On a machine shared with other work, set ``OMP_WAIT_POLICY=PASSIVE`` (done here): FAISS's
OpenMP threads otherwise spin while waiting and a two-thread build ran 2-5x slower than a
one-thread one.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")  # one core for the numpy baseline too
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import argparse
import io
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

THRESHOLD = 0.55
TARGET_MS, TARGET_RECALL = 10.0, 0.99
Row = dict[str, object]


def pictures() -> dict[str, bytes]:
    from PIL import Image
    from skimage import data

    portrait = Image.fromarray(data.astronaut())
    scene = Image.new("RGB", (1280, 960), (70, 90, 110))
    for size, (x, y) in zip(
        (420, 300, 220, 160), ((20, 20), (520, 60), (900, 420), (300, 620)), strict=True
    ):
        scene.paste(portrait.resize((size, size)), (x, y))
    out = {}
    for name, im in (("portrait 512", portrait), ("scene 1280 (4 faces)", scene)):
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=90)
        out[name] = buf.getvalue()
    return out


def bench_detection(repeat: int) -> list[dict[str, object]]:
    import dlib
    from PIL import Image

    from haechi.analyze.faces import models
    from haechi.analyze.faces.image import load_picture
    from haechi.analyze.faces.pipeline import FacePipeline

    pipe = FacePipeline()
    m = models.load()
    rows = []
    for name, blob in pictures().items():
        ours, bare, n_ours, n_bare = [], [], 0, 0
        arr = np.asarray(Image.open(io.BytesIO(blob)).convert("RGB"))
        for _ in range(repeat):
            t = time.perf_counter()
            faces = pipe.faces(load_picture(io.BytesIO(blob), 2560))
            ours.append(time.perf_counter() - t)
            n_ours = len(faces)
            t = time.perf_counter()
            with m.hog.borrow() as hog:
                rects = hog(arr, 1)
            for r in rects:
                shape = m.landmarks(arr, r)
                m.resnet.compute_face_descriptor(dlib.get_face_chip(arr, shape, 150, 0.25))
            bare.append(time.perf_counter() - t)
            n_bare = len(rects)
        mo, mb = statistics.median(ours), statistics.median(bare)
        rows.append(
            {
                "picture": name,
                "faces (ours / bare)": f"{n_ours} / {n_bare}",
                "ours s/picture": round(mo, 3),
                "bare dlib s/picture": round(mb, 3),
                "ours faces/s/core": round(n_ours / mo, 2),
                "ratio ours/bare": round(mo / mb, 2),
            }
        )
    return rows


def synthetic(n: int, seed: int, people: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``n`` face-like vectors, their identities, and identity centres. ``people``:
    "mixed" (1-20 pictures a person, mean ~5: past a person's own pictures the top 10 is
    noise) or "recurring" (10-30 pictures a person: the top 10 are all real matches)."""
    rng = np.random.default_rng(seed)
    ident, centres = _people(rng, n, people)
    # The noise is drawn a million rows at a time (the same values as one draw: the generator
    # fills in order), so 10M vectors need their own 5 GB and not 20.
    vecs = np.empty((n, 128), np.float32)
    for start in range(0, n, 1_000_000):
        end = min(n, start + 1_000_000)
        noise = rng.normal(0, 0.022, (end - start, 128)).astype(np.float32)
        vecs[start:end] = centres[ident[start:end]] + noise
    return vecs, ident, centres


def people_of(n: int, seed: int, people: str) -> tuple[np.ndarray, np.ndarray]:
    """The identities and centres ``synthetic`` gives for the same arguments, without the
    vectors (for a process that reads them from disk)."""
    return _people(np.random.default_rng(seed), n, people)


def _people(rng: np.random.Generator, n: int, people: str) -> tuple[np.ndarray, np.ndarray]:
    if people == "mixed":
        sizes = np.minimum(rng.geometric(0.2, size=n), 20)
    else:
        sizes = rng.integers(10, 31, size=n)
    ident = np.repeat(np.arange(len(sizes)), sizes)[:n]
    centres = rng.normal(0, 1, (int(ident.max()) + 1, 128)).astype(np.float32)
    centres *= 0.65 / np.linalg.norm(centres, axis=1, keepdims=True)
    return ident, centres


def new_pictures(ident: np.ndarray, centres: np.ndarray, count: int, each: int) -> np.ndarray:
    """(count, each, 128): ``each`` new pictures of ``count`` known people (templates)."""
    rng = np.random.default_rng(1)
    who = rng.choice(np.unique(ident), count)
    noise = rng.normal(0, 0.022, (count, each, 128))
    return (centres[who][:, None, :] + noise).astype(np.float32)


@dataclass
class Truth:
    top: list[set[int]]  # the 10 nearest
    near_top: list[set[int]]  # of those, the ones within the threshold
    within: list[set[int]]  # every face within the threshold of template 0
    within_all: list[set[int]]  # ... of any template
    seconds: list[float]  # brute force, template 0: top 10 and range in one scan


def brute_force(vecs: np.ndarray, templates: np.ndarray) -> Truth:
    norms = np.einsum("ij,ij->i", vecs, vecs)  # not vecs**2: 5 GB more at 10M
    truth = Truth([], [], [], [], [])
    for group in templates:
        every: set[int] = set()
        for j, q in enumerate(group):
            t = time.perf_counter()
            d2 = norms - 2.0 * (vecs @ q) + float(q @ q)
            top = np.argpartition(d2, 10)[:10]
            inside = np.nonzero(d2 < THRESHOLD**2)[0]
            if j == 0:
                truth.seconds.append(time.perf_counter() - t)
                truth.top.append(set(top.tolist()))
                truth.near_top.append({int(i) for i in top if d2[i] < THRESHOLD**2})
                truth.within.append(set(inside.tolist()))
            every |= set(inside.tolist())
        truth.within_all.append(every)
    return truth


def share(found: Sequence[set[int]], wanted: Sequence[set[int]]) -> float:
    """Mean over queries of the share of ``wanted`` found (queries wanting nothing skipped)."""
    parts = [len(f & w) / len(w) for f, w in zip(found, wanted, strict=True) if w]
    return round(float(np.mean(parts)), 4) if parts else 1.0


def timed(
    fn: Callable[[Any], set[int]], items: Sequence[Any]
) -> tuple[list[set[int]], list[float]]:
    found, seconds = [], []
    for item in items:
        t = time.perf_counter()
        found.append(fn(item))
        seconds.append(time.perf_counter() - t)
    return found, seconds


def row(n: int, people: str, method: str, query: str, seconds: list[float], **extra: object) -> Row:
    med, p95 = statistics.median(seconds) * 1e3, float(np.percentile(seconds, 95)) * 1e3
    out: Row = {"n": n, "people": people, "method": method, "query": query}
    out.update({"build s": "", "MB": "", "load s": ""})
    out.update({"median ms": round(med, 2), "p95 ms": round(p95, 2)})
    out.update({"recall@10": "", "recall@10 <=0.55": "", "range recall": ""})
    out.update(extra)
    recall = str(out["recall@10"] if query.startswith("top") else out["range recall"])
    met = bool(recall) and float(recall) >= TARGET_RECALL and med < TARGET_MS
    out["target"] = "yes" if met else "no"
    return out


def file_size_and_load(index: Any) -> tuple[int, float]:
    """The saved index's size in MB (about its memory) and the seconds a process takes to
    read it back (what the per-process cache saves each search)."""
    import faiss

    with tempfile.TemporaryDirectory(prefix="bench-faces-") as tmp:
        paths = []
        parts = (index.index, index.sketch, index.codes)
        for i, part in enumerate(p for p in parts if p is not None):
            paths.append(Path(tmp) / f"{i}.faiss")
            faiss.write_index(part, str(paths[-1]))
        size = sum(p.stat().st_size for p in paths)
        t = time.perf_counter()
        for p in paths:
            faiss.read_index(str(p))
        return round(size / 2**20), round(time.perf_counter() - t, 2)


def bench_search(n: int, people: str, args: argparse.Namespace) -> list[Row]:
    import faiss

    from haechi.match.face_index import EXACT_LIMIT, K_FACTOR, FaceIndex, build_index

    vecs, ident, centres = synthetic(n, seed=n, people=people)
    ids = np.arange(n, dtype=np.int64)
    templates = new_pictures(ident, centres, args.queries, 3)
    one = templates[:, :1, :]
    truth = brute_force(vecs, templates)
    rows: list[Row] = []

    def add(method: str, query: str, seconds: list[float], **extra: object) -> None:
        rows.append(row(n, people, method, query, seconds, **extra))
        # Against the baseline measured in this run, so other work on the machine cancels.
        base = float(str(rows[0]["median ms"]))
        rows[-1]["ratio"] = round(float(str(rows[-1]["median ms"])) / base, 3)
        print(json.dumps(rows[-1]), flush=True)

    def topk(found: list[set[int]]) -> dict[str, object]:
        near = share(found, truth.near_top)
        return {"recall@10": share(found, truth.top), "recall@10 <=0.55": near}

    def ranged(found: list[set[int]], wanted: list[set[int]] | None = None) -> dict[str, object]:
        return {"range recall": share(found, truth.within if wanted is None else wanted)}

    add("numpy brute force (baseline)", "top-10 + range", truth.seconds, **topk(truth.top))
    rows[-1]["range recall"] = 1.0
    faiss.omp_set_num_threads(1)  # every query on one thread, as a search runs
    if not args.skip_flat:
        t = time.perf_counter()
        flat = build_index(vecs, ids, exact_limit=n)
        built = {"build s": round(time.perf_counter() - t, 1), "MB": round(n * 512 / 2**20)}
        found, sec = timed(lambda q: set(flat.search(q, 10)[1][0].tolist()), one)
        add("faiss IndexFlatL2 (exact)", "top-10", sec, **topk(found), **built)
        del flat

    faiss.omp_set_num_threads(os.cpu_count() or 1)  # a build may use every core
    index = FaceIndex(Path(tempfile.gettempdir()) / "bench-faces-unsaved")
    t = time.perf_counter()
    index.build(
        vecs, ids, exact_limit=EXACT_LIMIT if args.exact_limit is None else args.exact_limit
    )
    build_s = round(time.perf_counter() - t, 1)
    faiss.omp_set_num_threads(1)
    size_mb, load_s = file_size_and_load(index)
    built = {"build s": build_s, "MB": size_mb, "load s": load_s}
    ivf = index.kind == "ivf"
    label = f"haechi IVF{index.index.nlist},Flat" if ivf else "haechi IndexFlatL2"
    rlabel = label  # range queries: through the range codes past the exact limit

    def within(q: np.ndarray, exhaustive: bool = False) -> set[int]:
        found = index.within(q, THRESHOLD, exhaustive=exhaustive)
        return {h.face_id for hits in found for h in hits}

    if ivf:  # the sweeps: range queries by nprobe, top-k by k_factor
        default = int(index.meta["nprobe"])
        # The previous method (until format 2): the inverted file's own range search.
        params = faiss.SearchParametersIVF(nprobe=default)
        found, sec = timed(
            lambda q: set(index.index.range_search(q, THRESHOLD**2, params=params)[2].tolist()),
            one,
        )
        add(f"{label} range_search nprobe {default} (no codes)", "range 0.55", sec, **ranged(found))
        rlabel = f"{label} + {index.meta['codes']}"
        for nprobe in sorted({*args.nprobe, default}):
            index.meta["nprobe"] = nprobe  # this process's own copy: nothing else reads it
            found, sec = timed(within, one)
            add(f"{rlabel} nprobe {nprobe}", "range 0.55", sec, **ranged(found))
        index.meta["nprobe"] = default
        params = faiss.SearchParametersIVF(nprobe=default)
        found, sec = timed(lambda q: set(index.index.search(q, 10, params=params)[1][0]), one)
        add(f"{label} nprobe {default} (no sketch)", "top-10", sec, **topk(found))
        for kf in sorted({*args.k_factor, K_FACTOR}):
            found, sec = timed(
                lambda q, f=kf: {h.face_id for h in index.nearest(q, 10, k_factor=f)[0]}, one
            )
            add(f"haechi sketch {index.meta['sketch']} k_factor {kf}", "top-10", sec, **topk(found))
    # The product's own calls, as a search makes them.
    what = f"nprobe {index.mode()['nprobe']}" if ivf else "exact"
    found, sec = timed(within, one)
    add(f"{rlabel} within() default ({what})", "range 0.55", sec, **ranged(found), **built)
    found, sec = timed(within, templates)
    add(
        f"{rlabel} within() default, 3 templates",
        "range 0.55 x3",
        sec,
        **ranged(found, truth.within_all),
        **built,
    )
    found, sec = timed(lambda q: within(q, True), one)
    add(f"{label} within(exhaustive=True)", "range 0.55", sec, **ranged(found), **built)
    found, sec = timed(lambda q: {h.face_id for h in index.nearest(q, 10)[0]}, one)
    add(f"{label} nearest(k=10) default", "top-10", sec, **topk(found), **built)
    return rows


def table(rows: list[Row]) -> str:
    keys = list(dict.fromkeys(k for r in rows for k in r))
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    lines += ["| " + " | ".join(str(r.get(k, "")) for k in keys) + " |" for r in rows]
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--nprobe", type=int, nargs="*", default=[32, 64, 125, 250])
    ap.add_argument("--k-factor", type=int, nargs="*", default=[16, 32, 64, 128])
    ap.add_argument("--people", nargs="*", default=["mixed", "recurring"])
    ap.add_argument("--exact-limit", type=int, help="haechi's exact limit (default: its own)")
    ap.add_argument("--skip-flat", action="store_true", help="no faiss IndexFlatL2 reference")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--skip-detection", action="store_true")
    ap.add_argument("--json", type=Path, help="also write every row here")
    args = ap.parse_args(argv)
    every: list[Row] = []
    if not args.skip_detection:
        print("## detection + embedding, one core\n")
        print(table(bench_detection(args.repeat)) + "\n", flush=True)
    for people in args.people:
        for n in args.sizes:
            print(f"## search, {n:,} faces ({people} people), queries on one thread\n", flush=True)
            rows = bench_search(n, people, args)
            every += rows
            print(table(rows) + "\n", flush=True)
    if args.json:
        args.json.write_text(json.dumps(every, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
