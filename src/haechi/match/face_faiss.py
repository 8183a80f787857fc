"""Building the FAISS structures of the face index (:mod:`haechi.match.face_index`): how
many cells, which faces train them, the inverted file, the top-k sketch and the description
stored beside them. Kept apart from the index's cache and sync, which use them."""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np

from haechi.analyze.faces import codec
from haechi.match import face_codes

# An exact scan of 50k faces takes a few ms even on a busy core; past that the inverted
# file is faster and (bench_faces.py) still finds >= 0.99 of the faces within range.
EXACT_LIMIT = 50_000
MAX_NLIST = 16_384
TRAIN_PER_CELL = 20  # k-means points a cell: enough for stable cells, keeps a 1M build ~1-2 min
KMEANS_ITERATIONS = 10
# Cells a range query reads: nlist / 24 (167 of 4,000 at 1M). At nlist / 32 the range
# recall of the hardest synthetic set was 0.993 at 100k and 1M; / 24 leaves a margin.
RANGE_PROBE_DIVISOR = 24
MIN_NPROBE = 16
SKETCH_M = 64  # sub-quantizers of 4 bits: 32 bytes a face
SKETCH_TRAIN = 65_536
# Sketch candidates re-ranked per neighbour asked for: at 1M, 64 gave recall@10 0.989-0.993
# on the hardest synthetic set, 128 gave 0.998 (bench_faces.py).
K_FACTOR = 100


def load_faiss() -> Any:
    # FAISS's OpenMP threads (its BLAS's too) spin while they wait for work. On a small
    # server shared with an analysis pool that made index builds 2-7x slower (measured on
    # 2 busy cores); passive threads sleep instead. Read when FAISS loads its OpenMP
    # runtime; a deployment's own setting wins.
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import faiss

    return faiss


def nlist_for(n: int) -> int:
    # About 4*sqrt(n) cells (~250 faces a cell at a million): finer cells cost more k-means
    # but a face's own pictures span a smaller share of them. At a million, sqrt(n) cells
    # gave range recall 0.992 reading 6.4% of the faces, 4*sqrt(n) 0.997 reading 4.2%.
    return int(min(MAX_NLIST, max(64, round(4 * math.sqrt(max(n, 1))))))


def range_nprobe(nlist: int) -> int:
    return min(nlist, max(MIN_NPROBE, math.ceil(nlist / RANGE_PROBE_DIVISOR)))


def _sample(n: int, size: int) -> np.ndarray:
    # A fixed seed: the same faces give the same index.
    return np.sort(np.random.default_rng(0).choice(n, size=min(n, size), replace=False))


def ivf_training_rows(n: int) -> np.ndarray:
    """Positions (in face-id order) of the faces an inverted file over ``n`` is trained on."""
    return _sample(n, TRAIN_PER_CELL * nlist_for(n))


def sketch_training_rows(n: int) -> np.ndarray:
    return _sample(n, SKETCH_TRAIN)


def empty_ivf(sample: np.ndarray, n: int) -> Any:
    """An inverted file for ``n`` faces, trained on ``sample`` (``ivf_training_rows``), empty."""
    faiss = load_faiss()
    nlist = nlist_for(n)
    index = faiss.IndexIVFFlat(faiss.IndexFlatL2(codec.DIM), codec.DIM, nlist, faiss.METRIC_L2)
    index.cp.niter = KMEANS_ITERATIONS  # the centroids barely move after ~10 rounds
    index.cp.min_points_per_centroid = min(TRAIN_PER_CELL, n // nlist)  # no warning
    index.train(np.ascontiguousarray(sample, dtype=np.float32))
    index.nprobe = range_nprobe(nlist)  # for callers using FAISS directly (eval)
    # Face id -> vector: the sketch's candidates are re-ranked by exact distance, and
    # retired faces are removed without scanning every list.
    index.set_direct_map_type(faiss.DirectMap.Hashtable)
    return index


def empty_sketch(sample: np.ndarray) -> Any:
    """32 bytes a face (4-bit PQ, fast scan) for top-k over an inverted file, trained on
    ``sample`` (``sketch_training_rows``), empty."""
    faiss = load_faiss()
    pq = faiss.IndexPQFastScan(codec.DIM, SKETCH_M, 4)
    pq.train(np.ascontiguousarray(sample, dtype=np.float32))
    # The blocked implementation that batches of clustering queries need; for one query it
    # was also 1.5x faster than the automatic choice (measured at 1M).
    pq.implem = 12
    return faiss.IndexIDMap(pq)


def build_index(vectors: np.ndarray, ids: np.ndarray, *, exact_limit: int = EXACT_LIMIT) -> Any:
    """The main FAISS index over ``vectors`` (n, 128) with ``ids``: exact up to
    ``exact_limit``, else an inverted file whose default ``nprobe`` is the range one."""
    faiss = load_faiss()
    n = len(vectors)
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    if n <= exact_limit:
        index = faiss.IndexIDMap(faiss.IndexFlatL2(codec.DIM))
    else:
        index = empty_ivf(x[ivf_training_rows(n)], n)
    if n:
        index.add_with_ids(x, ids.astype(np.int64))
    return index


def build_sketch(vectors: np.ndarray, ids: np.ndarray) -> Any:
    """32 bytes a face (4-bit PQ, fast scan) for top-k over an inverted file."""
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    sketch = empty_sketch(x[sketch_training_rows(len(x))])
    sketch.add_with_ids(x, ids.astype(np.int64))
    return sketch


def ivf_meta(nlist: int, code_error: float) -> dict[str, Any]:
    """How an inverted file with ``nlist`` cells is searched (part of its description)."""
    return {
        "nlist": nlist,
        "nprobe": range_nprobe(nlist),
        "sketch": f"PQ{SKETCH_M}x4fs",
        "k_factor": K_FACTOR,
        "codes": f"IVF{nlist},PQ{face_codes.CODES_M}x4fs",
        "code_error": code_error,
    }


def index_kind(index: Any) -> str:
    return "ivf" if hasattr(index, "nprobe") else "flat"
