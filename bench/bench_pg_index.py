"""PDQ and face indexes built from PostgreSQL-backed data, kept current incrementally
(issue 18).

    python bench/bench_pg_index.py --items 1000000             # PDQ and faces at 1M
    python bench/bench_pg_index.py --items 10000000 --what pdq # make bench-scale

A data directory on PostgreSQL (``HAECHI_TEST_PG_URL``, schema ``bench_index_<n>``) gets
``--items`` PDQ signals (uniform random 256-bit hashes, each with its ``analyses`` row) and
``--items`` face embeddings (``bench_faces.synthetic``: people 0.9 apart, pictures 0.35),
loaded with ``COPY`` (foreign-key triggers off for the load only, as bench_pg_web.py). In a
child process each (peak RSS = its ``ru_maxrss``): the product's own build from the
database (``IndexSet.rebuild``: pages of 200k rows; ``FaceIndex.sync``: trained on samples
read by id, filled page by page), queries (PDQ: 1,000 planted near-duplicates and 200
unrelated hashes, radius 31; faces: 200 new pictures of known people, ``within(0.55)``
against numpy brute force), then the incremental paths: 1% more rows added (``sync``: the
delta) and 1,000 rows removed (PDQ: tombstones; faces: retired, ``active = false``, then
``sync``; the face part in a third child process), each timed against the full rebuild.
Baselines in the same run: the full rebuild (for the updates) and brute force (faces).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PG = os.environ.get("HAECHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
CHUNK = 200_000


def _url(schema: str) -> str:
    sep = "&" if "?" in PG else "?"
    return f"{PG}{sep}options=-csearch_path%3D{schema}"


def _copy(cur: Any, table: str, cols: tuple[str, ...], rows: list[tuple[Any, ...]]) -> None:
    with cur.copy(f"COPY {table} ({', '.join(cols)}) FROM STDIN") as copy:
        for row in rows:
            copy.write_row(row)


def load(home: Path, schema: str, n: int, what: list[str]) -> dict[str, float]:
    import numpy as np
    from sqlalchemy import create_engine, text

    from haechi.app import init_home
    from haechi.match.mih import words_to_hex

    admin = create_engine(PG)
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    app = init_home(home, database_url=_url(schema))
    raw = app.db.engine.raw_connection()
    t = time.perf_counter()
    rng = np.random.default_rng(11)
    try:
        cur = raw.cursor()
        cur.execute("SET session_replication_role = replica")
        now = "2026-01-01T00:00:00Z"
        cur.execute("INSERT INTO blobs (sha256, md5, size, encrypted, stored_at, kind) VALUES "
                    "(%s, %s, 1, false, %s, 'image')", ("0" * 64, "0" * 32, now))  # fmt: skip
        if "pdq" in what:
            for start in range(0, n, CHUNK):
                m = min(CHUNK, n - start)
                codes = rng.integers(0, 2**63, size=(m, 4), dtype=np.uint64)
                hexes = words_to_hex(codes)
                ids = range(start + 1, start + m + 1)
                _copy(cur, "analyses", ("id", "blob_sha256", "analyzer", "version", "status",
                                        "created_at"),
                      [(i, "0" * 64, "pdq", f"b{i}", "ok", now) for i in ids])  # fmt: skip
                _copy(cur, "signals", ("id", "analysis_id", "blob_sha256", "kind", "value",
                                       "score"),
                      [(i, i, "0" * 64, "pdq", h, 100.0)
                       for i, h in zip(ids, hexes, strict=True)])  # fmt: skip
                raw.commit()
        if "faces" in what:
            import bench_faces

            vecs, _ident, _centres = bench_faces.synthetic(n, 3, "mixed")
            np.save(home / "faces.npy", vecs)
            for start in range(0, n, CHUNK):
                part = vecs[start : start + CHUNK]
                _copy(cur, "faces", ("id", "signal_id", "analysis_id", "blob_sha256",
                                     "analyzer_version", "face_no", "x", "y", "w", "h", "score",
                                     "size", "sharpness", "embedding", "active"),
                      [(start + k + 1, start + k + 1, 1, "0" * 64, "bench", k, 0, 0, 1, 1,
                        1.0, 100, 1.0, v.astype("<f4").tobytes(), True)
                       for k, v in enumerate(part)])  # fmt: skip
                raw.commit()
        for seq in ("analyses_id_seq", "signals_id_seq", "faces_id_seq"):
            cur.execute(f"SELECT setval('{seq}', greatest(1, (SELECT coalesce(max(id), 1) "
                        f"FROM {seq.removesuffix('_id_seq')})))")  # fmt: skip
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
        app.close()
    return {"load_s": round(time.perf_counter() - t, 1)}


def child(home: str, what: str, n: int) -> None:
    """One measurement in its own process (ru_maxrss is its peak)."""
    import numpy as np

    from haechi.app import open_app

    app = open_app(Path(home))
    out: dict[str, Any] = {}
    if what == "pdq":
        from haechi.match.index import MEDIA_PDQ, IndexSet
        from haechi.match.mih import words_to_hex

        indexes = IndexSet(app)
        t = time.perf_counter()
        indexes.rebuild([MEDIA_PDQ])
        out["build_s"] = round(time.perf_counter() - t, 1)
        index = indexes[MEDIA_PDQ]
        codes = np.asarray(index.segment.codes[:1000]).copy()
        rng = np.random.default_rng(2)
        for row in codes:
            for bit in rng.choice(256, int(rng.integers(0, 32)), replace=False):
                row[bit // 64] ^= np.uint64(1) << np.uint64(bit % 64)
        planted = words_to_hex(codes)
        unrelated = words_to_hex(rng.integers(0, 2**63, size=(200, 4), dtype=np.uint64))
        times, found = [], 0
        want = [int(i) for i in np.asarray(index.segment.ids[:1000])]
        for q, w in zip(planted, want, strict=True):
            s = time.perf_counter()
            hits = index.search([q], 31)[0]
            times.append(time.perf_counter() - s)
            found += any(h.id == w for h in hits)
        false_hits = sum(len(index.search([q], 31)[0]) for q in unrelated)
        out.update(p50_ms=round(1000 * float(np.median(times)), 3),
                   p99_ms=round(1000 * float(np.percentile(times, 99)), 3),
                   recall=round(found / len(want), 4), false_hits=false_hits)  # fmt: skip
        # incremental: 1% more rows, then 1,000 removed
        from sqlalchemy import text

        extra = max(1000, n // 100)
        with app.db.begin() as conn:
            conn.execute(text(
                "INSERT INTO analyses (blob_sha256, analyzer, version, status, created_at) "
                "SELECT '" + "0" * 64 + "', 'pdq', 'bench2-' || g, 'ok', 'now' FROM "
                "generate_series(1, :n) g"), {"n": extra})  # fmt: skip
            conn.execute(text(
                "INSERT INTO signals (analysis_id, blob_sha256, kind, value, score) "
                "SELECT a.id, a.blob_sha256, 'pdq', md5(a.id::text) || md5((a.id * 7)::text), "
                "100 FROM analyses a WHERE a.version LIKE 'bench2-%%'"))  # fmt: skip
        t = time.perf_counter()
        added = indexes.sync([MEDIA_PDQ])[MEDIA_PDQ]
        out.update(add_rows=added, add_s=round(time.perf_counter() - t, 2))
        t = time.perf_counter()
        with indexes.lock():
            index = indexes[MEDIA_PDQ]
            keep = {k: index.manifest[k] for k in ("checkpoint", "database", "stale")}
            gone = index.remove(np.arange(1, 1001), keep)
        out.update(remove_rows=gone, remove_s=round(time.perf_counter() - t, 2))
        index = IndexSet(app)[MEDIA_PDQ]
        out["removed_found"] = sum(
            any(h.id <= 1000 for h in hits) for hits in index.search(planted[:200], 31)
        )
    elif what == "faces":
        from haechi.match.face_index import FaceIndex

        t = time.perf_counter()
        report = FaceIndex.for_app(app).sync(app, rebuild=True)
        out.update(build_s=round(time.perf_counter() - t, 1), kind=report.kind)
        out["build_peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
        faces = FaceIndex.for_app(app)
        faces.load()
        import bench_faces

        vecs = np.load(Path(home) / "faces.npy", mmap_mode="r")
        ident, centres = bench_faces.people_of(n, 3, "mixed")
        queries = bench_faces.new_pictures(ident, centres, 200, 1)[:, 0, :]
        truth = bench_faces.brute_force(np.asarray(vecs), queries[:, None, :])
        import faiss

        faiss.omp_set_num_threads(1)  # a query on one thread, as a search runs
        face_times: list[float] = []
        seen: list[set[int]] = []
        for q in queries:
            s = time.perf_counter()
            near = faces.within(q[None, :], 0.55)[0]
            face_times.append(time.perf_counter() - s)
            seen.append({h.face_id - 1 for h in near})
        out.update(p50_ms=round(1000 * float(np.median(face_times)), 2),
                   p95_ms=round(1000 * float(np.percentile(face_times, 95)), 2),
                   range_recall=bench_faces.share(seen, truth.within),
                   brute_force_p50_ms=round(1000 * float(np.median(truth.seconds)), 2),
                   nprobe=faces.mode()["nprobe"], nlist=faces.mode()["nlist"],
                   codes=faces.mode().get("codes"))  # fmt: skip
        if faces.kind == "ivf":  # the previous method in the same run: no range codes
            params = faiss.SearchParametersIVF(nprobe=int(out["nprobe"]))
            flat_times, flat_seen = [], []
            for q in queries:
                s = time.perf_counter()
                got = faces.index.range_search(q[None, :], 0.55**2, params=params)[2]
                flat_times.append(time.perf_counter() - s)
                flat_seen.append({int(i) - 1 for i in got})
            out.update(flat_p50_ms=round(1000 * float(np.median(flat_times)), 2),
                       flat_p95_ms=round(1000 * float(np.percentile(flat_times, 95)), 2),
                       flat_range_recall=bench_faces.share(flat_seen, truth.within))  # fmt: skip
    elif what == "faces-update":
        out.update(face_updates(app, Path(home), n))
    out["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    app.close()
    print(json.dumps(out))


def _timed_sync(app: Any, out: dict[str, Any], name: str) -> Any:
    """``FaceIndex.sync`` timed into ``out`` (rows added or removed, seconds, whether it
    rebuilt); returns the index as saved, loaded."""
    from haechi.match.face_index import FaceIndex

    t = time.perf_counter()
    report = FaceIndex.for_app(app).sync(app)
    rows = report.added if name == "add" else report.removed
    out[f"{name}_rows"], out[f"{name}_s"] = rows, round(time.perf_counter() - t, 2)
    out[f"{name}_rebuilt"], out[f"total_after_{name}"] = report.rebuilt, report.total
    faces = FaceIndex.for_app(app)
    faces.load()
    return faces


def face_updates(app: Any, home: Path, n: int) -> dict[str, Any]:
    """The face index kept current without a rebuild, in its own process (after the build
    child: the index as saved, not the brute-force vectors, in its peak RSS). 1 % more
    faces (at least 1,000) inserted, then ``FaceIndex.sync`` (the delta); 1,000 faces
    retired (``active = false``, as a newer analyzer's re-read retires them: the index's
    way to drop faces), then ``sync`` (``remove_ids``). Each new face must be found by its
    own vector, no retired one by its own. Below 1M, also what deleting rows does: the
    index cannot tell which rows went, so ``sync`` rebuilds (timed)."""
    import numpy as np
    from sqlalchemy import text

    from haechi.match.face_index import FaceIndex

    out: dict[str, Any] = {}
    # Not loaded before the sync: the sync reads it and works on a copy (the loaded index is
    # shared with searches), so one more copy here would be a third index in memory.
    meta = json.loads((app.settings.index_dir / "faces" / "faces.json").read_text())
    out["total_before"] = int(meta["total"])
    extra = max(1000, n // 100)
    rng = np.random.default_rng(5)
    vecs = np.load(home / "faces.npy", mmap_mode="r")
    near = np.sort(rng.choice(n, extra, replace=False))  # new pictures near known faces
    new = (np.asarray(vecs[near]) + rng.normal(0, 0.022, (extra, 128))).astype(np.float32)
    old = np.asarray(vecs[:1000], dtype=np.float32)  # the faces retired below
    del vecs
    with app.db.connect() as conn:
        first = int(conn.execute(text("SELECT max(id) FROM faces")).scalar_one()) + 1
    raw = app.db.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("SET session_replication_role = replica")  # no signal rows, as load()
        for start in range(0, extra, CHUNK):
            part = new[start : start + CHUNK]
            _copy(cur, "faces", ("id", "signal_id", "analysis_id", "blob_sha256",
                                 "analyzer_version", "face_no", "x", "y", "w", "h", "score",
                                 "size", "sharpness", "embedding", "active"),
                  [(first + start + k, first + start + k, 1, "0" * 64, "bench2", k, 0, 0, 1,
                    1, 1.0, 100, 1.0, v.astype("<f4").tobytes(), True)
                   for k, v in enumerate(part)])  # fmt: skip
        cur.execute("SELECT setval('faces_id_seq', (SELECT max(id) FROM faces))")
        raw.commit()
    finally:
        raw.close()
    faces = _timed_sync(app, out, "add")
    probe = np.arange(0, extra, max(1, extra // 50))[:50]  # 50 new faces, spread
    hits = faces.within(new[probe], 0.05)
    found = sum(
        any(h.face_id == first + int(i) for h in hs) for i, hs in zip(probe, hits, strict=True)
    )
    out["new_found"] = f"{found}/{len(probe)}"
    # retire 1,000 faces, then sync
    before = faces.within(old[:200], 0.05)
    out["retired_found_before"] = sum(
        any(h.face_id == i + 1 for h in hs) for i, hs in enumerate(before)
    )
    with app.db.begin() as conn:
        t = time.perf_counter()
        conn.execute(text("UPDATE faces SET active = false WHERE id <= 1000"))
    out["retire_update_s"] = round(time.perf_counter() - t, 2)
    faces = _timed_sync(app, out, "remove")
    after = faces.within(old, 0.05)
    out["retired_found_after"] = sum(
        any(h.face_id == i + 1 for h in hs) for i, hs in enumerate(after)
    )
    if n <= 1_000_000:  # deleting rows instead: the index cannot tell which, so it rebuilds
        with app.db.begin() as conn:
            conn.execute(text("DELETE FROM faces WHERE id > 1000 AND id <= 2000"))
        t = time.perf_counter()
        report = FaceIndex.for_app(app).sync(app)
        out.update(delete_rows_sync_s=round(time.perf_counter() - t, 2),
                   delete_rows_rebuilt=report.rebuilt,
                   delete_rows_removed=report.removed)  # fmt: skip
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--items", type=int, default=1_000_000)
    ap.add_argument("--what", nargs="*", default=["pdq", "faces"])
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child[0], args.child[1], int(args.child[2]))
        return
    import tempfile

    schema = f"bench_index_{args.items}"
    home = Path(tempfile.mkdtemp(prefix="haechi-pg-index-"))
    print(
        json.dumps({"items": args.items, **load(home, schema, args.items, args.what)}), flush=True
    )
    try:
        whats = list(args.what) + (["faces-update"] if "faces" in args.what else [])
        for what in whats:
            proc = subprocess.run(
                [sys.executable, __file__, "--child", str(home), what, str(args.items)],
                capture_output=True, text=True,
            )  # fmt: skip
            if proc.returncode:
                print(proc.stderr[-3000:], flush=True)
                continue
            print(json.dumps({"what": what, "items": args.items, **json.loads(proc.stdout)}),
                  flush=True)  # fmt: skip
    finally:
        from sqlalchemy import create_engine, text

        engine = create_engine(PG)
        with engine.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()


if __name__ == "__main__":
    main()
