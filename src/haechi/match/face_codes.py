"""Compressed range codes: the inverted file's cells, read at 32 bytes a face.

A range query on the inverted file (``IndexIVFFlat``) reads about 1/24 of the faces at
512 bytes each; at 10M faces that is 200 MB a query and 17 ms (``docs/benchmarks.md``). The
*range codes* hold the same faces in the same cells (the same centroids: the codes are
derived list by list from the inverted file, so no face is assigned twice), each as a
4-bit product-quantised code of 32 bytes read by FAISS's SIMD fast scan
(``IVF…,PQ64x4fs``, not by residual). A range query reads the same cells in codes, takes
every face whose *estimated* distance could still be within the radius, and keeps those
whose *exact* distance (read from the inverted file) is: the answer is the inverted
file's, at a fraction of the memory read.

How wide "could still be within" must be: the code's estimate is the distance to the
face's reconstruction ``x'``, and with ``e = ||x - x'||``,
``d'^2 = d^2 + e^2 + 2 d e cos(t)`` where ``t`` is the angle between ``q - x`` and
``x - x'``. So every face with ``d < r`` has
``d'^2 < r^2 + E^2 + 2 r E c`` for ``E`` the largest reconstruction error of any indexed
face (kept in the description, updated as faces are added) and ``c`` a bound on
``cos(t)``: :data:`COS_BOUND`, four standard deviations of the cosine of two unrelated
directions in 128 dimensions (1/sqrt(128) = 0.088). FAISS's fast-scan *range* search is not
used: below the smallest distance a lookup table can hold it returns every face of every
cell read (faiss 1.15), so the codes are asked for their nearest faces instead, more
until the farthest returned is beyond the bound.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from haechi.analyze.faces import codec

CODES_M = 64  # sub-quantizers of 4 bits: 32 bytes a face (PQ32x4 erred by up to 0.51)
COS_BOUND = 0.35
FIRST_K = 32  # neighbours first asked for: more than most people have pictures
BATCH = 65_536  # faces encoded at once while deriving the codes


def _faiss() -> Any:
    from haechi.match.face_faiss import load_faiss as load

    return load()


def limit2(radius: float, error: float) -> float:
    """The squared estimated distance below which a face may be within ``radius``."""
    return radius * radius + error * error + 2.0 * COS_BOUND * radius * error


def reconstruction_error(pq: Any, vectors: np.ndarray) -> float:
    """The largest ``||x - x'||`` of ``vectors`` under the product quantizer ``pq``."""
    if not len(vectors):
        return 0.0
    x = np.ascontiguousarray(vectors, dtype=np.float32)
    err = 0.0
    for start in range(0, len(x), BATCH):
        part = x[start : start + BATCH]
        back = pq.decode(pq.compute_codes(part))
        err = max(err, float(np.sqrt(((part - back) ** 2).sum(axis=1)).max()))
    return err


def build_codes(ivf: Any, sample: np.ndarray) -> tuple[Any, float]:
    """(codes, largest reconstruction error) for every face of the inverted file ``ivf``,
    in its cells; the quantizer trained on ``sample``."""
    faiss = _faiss()
    nlist = int(ivf.nlist)
    quantizer = faiss.IndexFlatL2(codec.DIM)
    quantizer.add(ivf.quantizer.reconstruct_n(0, nlist))  # the same cells
    staged = faiss.IndexIVFPQ(quantizer, codec.DIM, nlist, CODES_M, 4)
    # Not by residual: one lookup table a query, not one a cell (1.3-1.4x faster at 2M).
    staged.by_residual = False
    staged.train(np.ascontiguousarray(sample, dtype=np.float32))  # the PQ only: cells exist
    lists = faiss.extract_index_ivf(ivf).invlists
    error = 0.0
    batch: list[tuple[int, np.ndarray, np.ndarray]] = []
    held = 0

    def flush() -> None:
        nonlocal error, held
        if not batch:
            return
        x = np.concatenate([b[2] for b in batch])
        ids = np.concatenate([b[1] for b in batch])
        listnos = np.concatenate([np.full(len(b[1]), b[0], dtype=np.int64) for b in batch])
        staged.add_core(len(x), faiss.swig_ptr(x), faiss.swig_ptr(ids), faiss.swig_ptr(listnos))
        error = max(error, reconstruction_error(staged.pq, x))
        batch.clear()
        held = 0

    for no in range(nlist):
        size = int(lists.list_size(no))
        if not size:
            continue
        ids = faiss.rev_swig_ptr(lists.get_ids(no), size).copy()
        raw = faiss.rev_swig_ptr(lists.get_codes(no), size * codec.DIM * 4)
        batch.append((no, ids, raw.view(np.float32).reshape(size, codec.DIM).copy()))
        held += size
        if held >= BATCH:
            flush()
    flush()
    # FastScan packs the lists in blocks of 32 for SIMD; FAISS adds to such lists only by
    # assigning again, which at 10M faces would cost as much as the inverted file's add.
    codes = faiss.IndexIVFPQFastScan(staged)
    quantizer.this.disown()  # now the codes' (the staged index never owned it)
    codes.own_fields = True
    return codes, error


def candidates(
    codes: Any, queries: np.ndarray, radius: float, error: float, nprobe: int
) -> list[np.ndarray]:
    """For each query, the ids of every face in the ``nprobe`` cells read whose estimated
    distance is within :func:`limit2` (a superset of the faces within ``radius`` there)."""
    faiss = _faiss()
    bound = limit2(radius, error)
    total = int(codes.ntotal)
    params = faiss.SearchParametersIVF(nprobe=nprobe)
    out: list[np.ndarray] = [np.zeros(0, np.int64)] * len(queries)
    todo = np.arange(len(queries))
    k = min(FIRST_K, total)
    while len(todo) and k:
        dist2, ids = codes.search(queries[todo], k, params=params)
        done = (dist2[:, -1] > bound) | (ids[:, -1] < 0) | (k >= total)
        for row in np.nonzero(done)[0]:
            keep = (ids[row] >= 0) & (dist2[row] <= bound)
            out[int(todo[row])] = ids[row][keep]
        todo = todo[~done]
        k = min(total, k * 4)
    return out
