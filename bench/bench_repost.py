#!/usr/bin/env python3
"""Benchmark: the second matching stage (anchored regions) against whole-picture PDQ alone,
at 1M and 10M stored pictures, in the same run.

A query is one picture as haechi looks it up: **PDQ alone** = its eight dihedral hashes,
each looked up within 31 bits in the ``media-pdq`` index (stage 1 as shipped); **with the
second stage** = the same, plus its region hashes (``MAX_REGIONS`` of them, and
``EXTRA_LOOKUPS`` more found as if it were a crop of a larger picture,
``haechi.match.uncropped``; ``--extra`` sets how many) looked up in
the ``media-region`` index, which holds ``INDEXED`` regions of every stored picture, in
one pass probing exact chunks only (``SEED_FLIPS = 0``), and the seeds grouped by
picture. Hashes are uniform random 256-bit codes (distinct pictures' hashes sit ~128 bits
apart). Each index is built in a fresh process, saved to ``.npy`` files and searched
memory-mapped, as haechi runs it; one query at a time on one thread.

Queries: ``--planted`` pictures that are stored, queried as a re-post would be (their
PDQ hashes 0-31 bits off; three of their indexed regions among the query's regions,
each 0-24 bits off, the distances the evaluation saw for true region pairs) — the share
whose picture the region lookup seeds is the lookup's recall; ``--random`` unrelated
pictures, whose seeds are false candidates (each would cost a check on the pixels).

End to end, in the same indexes: ``--pictures`` real pictures of ../shared/data (pdq/,
synthetic/real/) are planted among the stored ones (their PDQ and indexed regions
replace random rows) and looked up as re-posts (a crop, borders, a caption bar and a
sticker of each, made by ``haechi.match.variants``), and as many other real pictures
as unrelated queries. A query is then what a scan does with a picture whose hashes are
known: PDQ alone = the eight dihedral lookups; with the second stage = those, the region
lookup and every candidate confirmed on the query's pixels (decoded when a candidate
needs them, as ``Lazy`` does; the candidate's regions are read from memory here, from
one indexed SELECT in haechi). Hashing the picture (PDQ alone, or PDQ + regions) is
timed separately: it is analysis, paid once at ingest; so are the regions found as if
the picture were a crop of a larger one (``hash_crop_``), although haechi makes them from
the query's pixels when it matches the picture (once a picture, they are not stored).
Recall per re-post variant and false matches on all of ../shared/data come from
``eval/eval_repost.py`` (``--recall N`` runs it on N pictures).

    .venv/bin/python bench/bench_repost.py                     # 1M and 10M
    .venv/bin/python bench/bench_repost.py --sizes 100000 --real
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

from bench_match import _percentiles, _rss_mb  # noqa: E402

SEED = 20261206
PDQ_RADIUS = 31


def _flip(codes: np.ndarray, rng: np.random.Generator, most: int) -> np.ndarray:
    out = codes.copy()
    for i in range(len(out)):
        for bit in rng.choice(256, int(rng.integers(0, most + 1)), replace=False):
            out[i, bit // 64] ^= np.uint64(1) << np.uint64(63 - bit % 64)
    return out


def _build(folder: Path, name: str, codes: np.ndarray, ids: np.ndarray, aux: np.ndarray) -> Any:
    from haechi.match.mih import Segment

    t = time.perf_counter()
    seg = Segment.build(codes, ids, aux)
    build = time.perf_counter() - t
    meta = seg.save(folder, name)
    size = sum((folder / f).stat().st_size for f in meta["files"].values()) / 2**20
    del seg
    return Segment.load(folder, meta, mmap=True), build, size


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


REAL_FOLDERS = ("pdq", "synthetic/real")
REAL_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp"}


def _real_pictures(count: int) -> list[Any]:
    """Up to ``count`` distinct real pictures (at most 1280 px, JPEG 90 bytes), none
    within 31 bits of another (any rotation or mirror image), in path order."""
    import io

    from PIL import Image

    from haechi.analyze.hashes.decode import FAST
    from haechi.analyze.hashes.pdq import QUALITY_THRESHOLD, hash_picture
    from haechi.analyze.hashes.pdqcore import hamming
    from haechi.match import variants

    data = ROOT.parent / "shared" / "data"
    out: list[Any] = []
    for folder in REAL_FOLDERS:
        for path in sorted((data / folder).rglob("*")) if (data / folder).is_dir() else []:
            if len(out) == count:
                return out
            if path.suffix.lower() not in REAL_SUFFIXES:
                continue
            try:
                with Image.open(path) as im:
                    im = im.convert("RGB")
                    f = min(1.0, 1280 / max(im.size))
                    im = im.resize((round(im.width * f), round(im.height * f)))
            except Exception:  # damaged fixtures are part of the data set: skipped
                continue
            if min(im.size) < 200:
                continue
            raw = variants.jpeg_bytes(im, 90)
            h = hash_picture(io.BytesIO(raw), decode=FAST, regions=True)[0]
            if h.pdq.quality < QUALITY_THRESHOLD or h.regions is None or not h.regions.indexed:
                continue
            mine = [h.pdq.hex, *h.pdq.dihedral.values()]
            if any(min(hamming(m, o[1].pdq.hex) for m in mine) <= PDQ_RADIUS for o in out):
                continue
            out.append((im, h))
    return out


def _real_queries(pictures: list[Any]) -> list[tuple[int, str, bytes]]:
    """(picture number, variant, JPEG bytes): four re-posts of each picture."""
    from haechi.match import variants

    out = []
    for k, (im, _) in enumerate(pictures):
        for v in (
            variants.crop(im, 0.12, 0.05, 0.08, 0.15),
            variants.pad(im, 0.1, 0.1, 0.1, 0.1, (255, 255, 255)),
            variants.caption_bar(im, 0.18, "t.me/reposts", top=True),
            variants.sticker(im, 0.15, kind="disc", x=0.8, y=0.2, color=(230, 40, 90)),
        ):
            out.append((k, v.name, variants.jpeg_bytes(v.image, 85)))
    return out


def worker(
    n: int, planted: int, random: int, pictures: int, per: int = 0, extra: int = -1
) -> dict[str, Any]:
    """``per``: region rows a stored picture (0: ``INDEXED``, a picture of 256 px and
    more; a store of small pictures holds ``SMALL_INDEXED + SMALL_GRID_INDEXED``);
    ``extra``: regions a query looks up besides its own ``MAX_REGIONS`` (-1:
    ``uncropped.EXTRA_LOOKUPS``)."""
    from haechi.analyze.hashes.regions import INDEXED as LARGE
    from haechi.analyze.hashes.regions import MAX_REGIONS
    from haechi.match.features import LOOSE_SEED_RADIUS
    from haechi.match.mih import hex_to_words
    from haechi.match.regions import SEED_FLIPS, SEED_RADIUS
    from haechi.match.uncropped import EXTRA_LOOKUPS

    each = per or LARGE  # region rows a stored picture
    looked_up = MAX_REGIONS + (EXTRA_LOOKUPS if extra < 0 else extra)  # a query's regions
    rng = np.random.default_rng(SEED)
    pdq = rng.integers(0, 2**64, size=(n, 4), dtype=np.uint64)
    regions = rng.integers(0, 2**64, size=(n * each, 4), dtype=np.uint64)
    real = _real_pictures(2 * pictures)
    stored_real, other_real = real[: len(real) // 2], real[len(real) // 2 :]
    rows = rng.choice(n, len(stored_real), replace=False)  # where the real ones are stored
    templates = {}
    region_aux = np.tile(np.arange(each, dtype=np.int32), n)
    for row, (_, h) in zip(rows.tolist(), stored_real, strict=True):
        pdq[row] = hex_to_words([h.pdq.hex])[0]
        # the bench keeps `each` rows a picture; a picture that indexes more (a small one:
        # grid squares too) has its first `each` planted, with their region numbers
        mine = h.regions.index_positions[:each]
        at = slice(row * each, row * each + len(mine))
        regions[at] = hex_to_words([h.regions.regions[j].hex for j in mine])
        region_aux[at] = mine
        templates[row] = h.regions
    before = _rss_mb()
    with tempfile.TemporaryDirectory(prefix="haechi-bench-repost-") as tmp:
        folder = Path(tmp)
        whole, build_pdq, mb_pdq = _build(folder, "pdq", pdq, np.arange(n), np.zeros(n, np.int32))
        region_ids = np.repeat(np.arange(n, dtype=np.int64), each)
        parts, build_reg, mb_reg = _build(folder, "region", regions, region_ids, region_aux)
        grown = _rss_mb() - before
        del pdq, region_ids, region_aux
        queries = []  # (picture or -1, 8 PDQ codes, region codes)
        q_rng = np.random.default_rng(SEED + 1)
        for k in range(planted + random):
            if k < planted:
                pic = int(q_rng.integers(0, n))  # rows are stored in id order
                full = _flip(np.asarray(whole.codes[pic : pic + 1]), q_rng, 31)
                mine = np.asarray(parts.codes[pic * each : pic * each + 3])
                other = q_rng.integers(0, 2**64, (looked_up - 3, 4), dtype=np.uint64)
                region_q = np.concatenate([_flip(mine, q_rng, 24), other])
            else:
                pic = -1
                full = q_rng.integers(0, 2**64, (1, 4), dtype=np.uint64)
                region_q = q_rng.integers(0, 2**64, (looked_up, 4), dtype=np.uint64)
            dihedral = np.concatenate([full, q_rng.integers(0, 2**64, (7, 4), dtype=np.uint64)])
            queries.append((pic, dihedral, region_q))

        def stage1(q: Any) -> set[int]:
            found: set[int] = set()
            for code in q[1]:
                rows, _ = whole.search(code, PDQ_RADIUS)
                found.update(int(whole.ids[r]) for r in rows)
            return found

        def stage2(q: Any) -> set[int]:
            # the local-feature check's looser seeds: on exact chunks (SEED_FLIPS = 0) the
            # radius only filters the hits of the same probes
            radius = max(SEED_RADIUS, LOOSE_SEED_RADIUS)
            _, rows, _ = parts.search_many(q[2], radius, SEED_FLIPS)
            return {int(parts.ids[r]) for r in rows}

        for q in queries[:30]:  # warm-up: page in the tables
            stage1(q)
            stage2(q)
        lat1, lat2, cpu1, cpu2 = [], [], [], []
        found1 = seeded = false_seeds = 0
        for q in queries:
            t, c = time.perf_counter(), time.thread_time()
            a = stage1(q)
            lat1.append(time.perf_counter() - t)
            cpu1.append(time.thread_time() - c)
            t, c = time.perf_counter(), time.thread_time()
            a = stage1(q)
            b = stage2(q)
            lat2.append(time.perf_counter() - t)
            cpu2.append(time.thread_time() - c)
            if q[0] >= 0:
                found1 += q[0] in a
                seeded += q[0] in b
            else:
                false_seeds += len(b)
        real_result = _end_to_end(whole, parts, templates, rows.tolist(), stored_real,
                                  other_real)  # fmt: skip
        return {
            "n": n, "indexed": each, "query_regions": looked_up,
            "peak_rss_mb": round(_peak_mb()), **real_result,
            "region_rows": n * each, "m_pdq": whole.m, "m_region": parts.m,
            "build_pdq_s": round(build_pdq, 1), "build_region_s": round(build_reg, 1),
            "files_pdq_mb": round(mb_pdq), "files_region_mb": round(mb_reg),
            "rss_growth_mb": round(grown),
            **_percentiles(lat1, "pdq_"), **_percentiles(lat2, "both_"),
            **_percentiles(cpu1, "pdq_cpu_"), **_percentiles(cpu2, "both_cpu_"),
            "pdq_recall": round(found1 / max(1, planted), 4),
            "region_seed_recall": round(seeded / max(1, planted), 4),
            "false_seeds_per_random_query": round(false_seeds / max(1, random), 4),
            "queries": len(queries),
        }  # fmt: skip


def _end_to_end(
    whole: Any, parts: Any, templates: dict[int, Any], rows: list[int], stored: list[Any],
    others: list[Any],
) -> dict[str, Any]:  # fmt: skip
    """Real re-posts of the planted pictures and real unrelated pictures, looked up as a
    scan does (hashes known): PDQ alone vs both stages, interleaved query by query."""
    import io

    from haechi.analyze.hashes.decode import FAST
    from haechi.analyze.hashes.pdq import hash_picture
    from haechi.match import variants
    from haechi.match.features import LOOSE_SEED_RADIUS, MAX_CHECKS, confirm_features
    from haechi.match.mih import hex_to_words
    from haechi.match.region_search import Lazy, canvas_of
    from haechi.match.regions import SEED_FLIPS, SEED_RADIUS, confirm
    from haechi.match.uncropped import with_crop_regions

    queries = [(rows[k], name, raw) for k, name, raw in _real_queries(stored)]
    queries += [(-1, f"unrelated-{name}", raw) for _, name, raw in _real_queries(others)]
    hashed, hash1, hash2, hash3, lookups = [], [], [], [], []
    for _, _, raw in queries:
        t = time.perf_counter()
        hash_picture(io.BytesIO(raw), decode=FAST)
        hash1.append(time.perf_counter() - t)
        t = time.perf_counter()
        h = hash_picture(io.BytesIO(raw), decode=FAST, regions=True)[0]
        hash2.append(time.perf_counter() - t)
        t = time.perf_counter()  # decode + the regions found as if it were a crop
        lookups.append(with_crop_regions(h.regions, canvas_of(raw)))
        hash3.append(time.perf_counter() - t)
        hashed.append(h)

    def stage1(h: Any) -> set[int]:
        found: set[int] = set()
        for code in hex_to_words([h.pdq.hex, *h.pdq.dihedral.values()]):
            rows_, _ = whole.search(code, PDQ_RADIUS)
            found.update(int(whole.ids[r]) for r in rows_)
        return found

    pixels = {row: im for row, (im, _) in zip(rows, stored, strict=True)}

    def stage2(h: Any, mine: Any, raw: bytes, first: set[int]) -> tuple[set[int], int]:
        seeds: dict[int, list[tuple[int, int, int]]] = {}
        codes = hex_to_words([r.hex for r in mine.lookups])  # as region_search does
        radius = max(SEED_RADIUS, LOOSE_SEED_RADIUS)
        qis, found_rows, dists = parts.search_many(codes, radius, SEED_FLIPS)
        for qi, r, d in zip(qis.tolist(), found_rows.tolist(), dists.tolist(), strict=True):
            seeds.setdefault(int(parts.ids[r]), []).append((qi, int(parts.aux[r]), d))
        canvas = Lazy(lambda: canvas_of(raw))
        found, checked, missed = set(), 0, []
        for target, got in seeds.items():
            if target in first or target not in templates or (c := canvas()) is None:
                continue  # a random stored row has no pictures behind it: never seeded
            close = [s for s in got if s[2] <= SEED_RADIUS]
            checked += 1 if close else 0
            if close and confirm(mine, templates[target], close, c, canvas_is_query=True):
                found.add(target)
            else:
                missed.append(target)
        missed.sort(key=lambda t: (-len(seeds[t]), min(s[2] for s in seeds[t]), t))
        for target in missed[:MAX_CHECKS]:  # the stored file read and decoded, as from the vault
            checked += 1
            theirs = canvas_of(variants.jpeg_bytes(pixels[target], 90))
            c = canvas()
            if (
                theirs is not None
                and c is not None
                and confirm_features(mine, templates[target], seeds[target], c, theirs)
            ):
                found.add(target)
        return found, checked

    lat1: list[float] = []
    lat2: list[float] = []
    checks: list[int] = []
    group: list[bool] = []  # a re-post of a stored picture (else unrelated)
    by_variant: dict[str, list[int]] = {}
    false = 0
    for (want, name, raw), h, mine in zip(queries, hashed, lookups, strict=True):
        t = time.perf_counter()
        stage1(h)
        lat1.append(time.perf_counter() - t)
        t = time.perf_counter()
        first = stage1(h)
        second, checked = stage2(h, mine, raw, first)
        lat2.append(time.perf_counter() - t)
        checks.append(checked)
        group.append(want >= 0)
        hit = want in first or want in second
        by_variant.setdefault(name, [0, 0])
        by_variant[name][0] += hit if want >= 0 else 0
        by_variant[name][1] += 1
        false += len((first | second) - {want})

    def part(lat: list[float], repost: bool) -> list[float]:
        return [x for x, g in zip(lat, group, strict=True) if g == repost]

    return {
        "real_stored": len(stored), "real_queries": len(queries),
        **_percentiles(part(lat1, False), "unrelated_pdq_"),
        **_percentiles(part(lat2, False), "unrelated_both_"),
        **_percentiles(part(lat1, True), "repost_pdq_"),
        **_percentiles(part(lat2, True), "repost_both_"),
        **_percentiles(hash1, "hash_pdq_"), **_percentiles(hash2, "hash_both_"),
        **_percentiles(hash3, "hash_crop_"),
        "query_lookups_mean": round(statistics.fmean(len(m.lookups) for m in lookups), 1),
        "real_found": {k: f"{v[0]}/{v[1]}" for k, v in by_variant.items()
                       if not k.startswith("unrelated")},
        "real_false_matches": false, "real_checked_mean": round(statistics.fmean(checks), 2),
    }  # fmt: skip


def real_costs() -> dict[str, Any]:
    """Hashing a picture with and without its regions, and checking a true candidate on
    the pixels, on real pictures (median over them, one thread)."""
    import io

    from PIL import Image
    from skimage import data as samples

    from haechi.analyze.hashes.pdq import hash_picture
    from haechi.match import variants
    from haechi.match.region_search import canvas_of
    from haechi.match.regions import confirm

    names = ("astronaut", "coffee", "chelsea", "rocket", "hubble_deep_field")
    pictures = [Image.fromarray(getattr(samples, n)()).convert("RGB") for n in names]
    shared = ROOT.parent / "shared" / "data" / "pdq" / "threatexchange" / "data"
    for path in sorted(shared.glob("*/*.jpg"))[:10] if shared.is_dir() else []:
        with Image.open(path) as im:
            pictures.append(im.convert("RGB"))
    plain, regions, checks = [], [], []
    for im in pictures:
        data = variants.jpeg_bytes(im, 90)
        t = time.perf_counter()
        hash_picture(io.BytesIO(data))
        plain.append(time.perf_counter() - t)
        t = time.perf_counter()
        original = hash_picture(io.BytesIO(data), regions=True)[0].regions
        regions.append(time.perf_counter() - t)
        crop = variants.jpeg_bytes(variants.crop(im, 0.1, 0.05, 0.15, 0.1).image, 85)
        copy = hash_picture(io.BytesIO(crop), regions=True)[0].regions
        if original is None or copy is None:
            continue
        t = time.perf_counter()
        canvas = canvas_of(crop)
        if canvas is not None:
            confirm(copy, original, [], canvas, canvas_is_query=True)
        checks.append(time.perf_counter() - t)
    ms = lambda xs: round(statistics.median(xs) * 1000, 1)  # noqa: E731
    return {"pictures": len(pictures), "hash_pdq_ms": ms(plain), "hash_pdq_regions_ms": ms(regions),
            "check_candidate_ms": ms(checks)}  # fmt: skip


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[1_000_000, 10_000_000])
    ap.add_argument("--planted", type=int, default=1000)
    ap.add_argument("--random", type=int, default=300)
    ap.add_argument("--pictures", type=int, default=30, help="real pictures planted")
    ap.add_argument("--real", action="store_true", help="hashing and checking real pictures")
    ap.add_argument("--recall", type=int, default=0, help="run eval_repost on N pictures")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--rows", type=int, default=0,
                    help="region rows a stored picture (default INDEXED; a store of small "
                         "pictures: SMALL_INDEXED + SMALL_GRID_INDEXED)")  # fmt: skip
    ap.add_argument("--extra", type=int, default=-1,
                    help="regions a query looks up besides its own 48 (default "
                         "uncropped.EXTRA_LOOKUPS; 0: as before it)")  # fmt: skip
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.planted, args.random, args.pictures,
                                args.rows, args.extra)))  # fmt: skip
        return 0
    load = " ".join(f"{x:.2f}" for x in os.getloadavg())
    print(f"{os.cpu_count()} CPUs; load {load}; {args.planted} planted + {args.random} random "
          "queries, 1 thread")  # fmt: skip
    results: list[dict[str, Any]] = []
    for n in args.sizes:
        proc = subprocess.run(
            [sys.executable, __file__, "--worker", str(n), "--planted", str(args.planted),
             "--random", str(args.random), "--pictures", str(args.pictures),
             "--rows", str(args.rows), "--extra", str(args.extra)],
            capture_output=True, text=True,
        )  # fmt: skip
        if proc.returncode != 0:
            print(f"ERROR at {n:,}: {proc.stderr.strip()[-800:]}", file=sys.stderr)
            continue
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        results.append(r)
        ratio = r["both_p50_ms"] / r["pdq_p50_ms"]
        print(f"  n={n:>11,} pictures ({r['region_rows']:,} region rows): PDQ alone p50 "
              f"{r['pdq_p50_ms']:.3f} ms p99 {r['pdq_p99_ms']:.3f} | with regions p50 "
              f"{r['both_p50_ms']:.3f} ms p99 {r['both_p99_ms']:.3f} (CPU p50 "
              f"{r['pdq_cpu_p50_ms']:.3f} / {r['both_cpu_p50_ms']:.3f}) = {ratio:.2f}x | "
              f"seeds {r['region_seed_recall']:.4f}, false seeds/query "
              f"{r['false_seeds_per_random_query']} | files {r['files_pdq_mb']:,} + "
              f"{r['files_region_mb']:,} MB, build {r['build_pdq_s']} + {r['build_region_s']} s",
              flush=True)  # fmt: skip
        print(
            f"    real pictures ({r['real_stored']} stored among them, {r['real_queries']} "
            "queries, half re-posts of them, half unrelated):",
            flush=True,
        )
        for g in ("unrelated", "repost"):
            print(f"      {g}: PDQ alone p50 {r[g + '_pdq_p50_ms']:.3f} ms p99 "
                  f"{r[g + '_pdq_p99_ms']:.3f} | both stages p50 {r[g + '_both_p50_ms']:.3f} ms "
                  f"p99 {r[g + '_both_p99_ms']:.3f} = "
                  f"{r[g + '_both_p50_ms'] / r[g + '_pdq_p50_ms']:.2f}x")  # fmt: skip
        print(f"      found {r['real_found']}, false "
              f"matches {r['real_false_matches']}, candidates checked per query "
              f"{r['real_checked_mean']} | hashing p50 {r['hash_pdq_p50_ms']:.1f} ms (PDQ) / "
              f"{r['hash_both_p50_ms']:.1f} ms (PDQ + regions), "
              f"{r['hash_crop_p50_ms']:.1f} ms (decode + crop regions; "
              f"{r['query_lookups_mean']} regions looked up a query) | peak RSS "
              f"{r['peak_rss_mb']:,} MB", flush=True)  # fmt: skip
        target = ratio <= 3.0
        print(f"TARGET n={n:,}: second stage p50 {ratio:.2f}x PDQ alone "
              f"[{'PASS' if target else 'MISS'}: at most 3x]")  # fmt: skip
    if args.real:
        r = real_costs()
        results.append(r)
        print(f"  real pictures ({r['pictures']}): hash PDQ {r['hash_pdq_ms']} ms, PDQ + regions "
              f"{r['hash_pdq_regions_ms']} ms; checking a true candidate on the pixels "
              f"{r['check_candidate_ms']} ms (median)")  # fmt: skip
    if args.recall:
        sys.path.insert(0, str(ROOT / "eval"))
        from eval_repost import evaluate

        data = ROOT.parent / "shared" / "data"
        print(evaluate(data, {"dev", "held-out"}, args.recall).markdown())
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
