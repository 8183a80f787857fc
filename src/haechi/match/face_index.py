"""The face vector index: every active face embedding, searchable in milliseconds.

FAISS, with the ``faces.id`` of each face as its id. It answers *range* queries ("every face
within 0.55 of these templates": subject and probe searches, the re-upload watch) and *top-k*
queries (clustering's neighbour graph). Up to :data:`EXACT_LIMIT` faces one exact
``IndexFlatL2`` answers both. Beyond that:

* an inverted file (``IndexIVFFlat``, about 4*sqrt(n) cells) holds the exact vectors and
  answers exhaustive range queries (every cell: exact);
* *range codes* (:mod:`haechi.match.face_codes`: the same cells, 32 bytes a face, SIMD fast
  scan) answer range queries reading 1/:data:`RANGE_PROBE_DIVISOR` of the cells (a face's
  own pictures lie in the few cells around it), every face they may hold within the radius
  checked by its exact distance: the inverted file's answer, reading 16 times less;
* a *sketch* answers top-k: every face product-quantised to 32 bytes (``PQ64x4fs``, FAISS's
  SIMD fast scan), scanned whole, its best ``k *`` :data:`K_FACTOR` candidates re-ranked by
  exact distance read from the inverted file. A face's nearest *strangers* lie in any
  direction, so no partition finds them; the sketch makes the full scan 16 times smaller.

``bench/bench_faces.py`` measures both against brute force. The index is a cache of the
database under ``app.settings.index_dir/faces`` (written atomically) that records which
database it mirrors, up to which face id, and how it is searched (``nlist``, ``nprobe``).
:meth:`FaceIndex.sync` adds new faces, removes retired ones, and rebuilds when it does not
mirror the database (another database or :data:`FORMAT`, a deleted file, counts that still
disagree, twice the faces it was trained for). Writers take a file lock. A loaded index is
kept per process until its files change and is never changed in place (a sync changes a
copy), so threads may search it at once, each passing its ``nprobe`` per call.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.match import face_codes
from haechi.match.face_faiss import (
    EXACT_LIMIT,
    K_FACTOR,
    build_index,
    build_sketch,
    index_kind,
    ivf_meta,
    load_faiss,
    range_nprobe,
    sketch_training_rows,
)
from haechi.store.models import CustodyEvent
from haechi.store.tables.faces import FaceRow

# 1: IVF with sqrt(n) cells and no sketch; 2: no range codes. Other formats are rebuilt.
FORMAT = 3
SKETCH_BATCH, RERANK_BATCH = 1024, 32  # queries a sketch scan / an exact re-rank holds
PAGE = 20_000
_CACHED = 4  # loaded indexes kept per process (one per HOME; tests use many)


@dataclass
class SyncReport:
    added: int = 0
    removed: int = 0
    rebuilt: bool = False
    total: int = 0
    kind: str = "flat"
    deferred: bool = False  # saved too recently: left for the next sync


@dataclass(frozen=True)
class Hit:
    face_id: int
    distance: float  # Euclidean, the unit dlib's 0.6 rule of thumb is in


# folder -> (stamp, index, sketch, codes, meta). Entries are never changed in place.
_cache: dict[Path, tuple[tuple[Any, ...], Any, Any, Any, dict[str, Any]]] = {}
_cache_lock = threading.Lock()


class FaceIndex:
    """See the module docstring. Cheap to create: a loaded index is shared per process."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self._index_path = self.folder / "faces.faiss"
        self._sketch_path = self.folder / "faces.sketch.faiss"
        self._codes_path = self.folder / "faces.codes.faiss"
        self._meta_path = self.folder / "faces.json"
        self.index: Any = None
        self.sketch: Any = None
        self.codes: Any = None  # the range codes (face_codes), beside an inverted file
        self.meta: dict[str, Any] = {}
        self._shared = False  # the objects are the cached ones: copy before changing them

    @classmethod
    def for_app(cls, app: App) -> FaceIndex:
        return cls(app.settings.index_dir / "faces")

    @property
    def total(self) -> int:
        return int(self.index.ntotal) if self.index is not None else 0

    @property
    def kind(self) -> str:
        return index_kind(self.index) if self.index is not None else "flat"

    # -- building and persistence -----------------------------------------------------------
    def build(
        self, vectors: np.ndarray, ids: np.ndarray, *, exact_limit: int = EXACT_LIMIT
    ) -> None:
        """Replace the in-memory index by one over ``vectors``/``ids`` (nothing is saved)."""
        index = build_index(vectors, ids, exact_limit=exact_limit)
        ivf = index_kind(index) == "ivf"
        self.index, self.sketch, self.codes, self._shared = index, None, None, False
        self.meta = {"format": FORMAT, "model": codec.MODEL, "kind": index_kind(index)}
        self.meta["trained_for"] = len(ids)
        if ivf:
            self.sketch = build_sketch(vectors, ids)
            sample = np.ascontiguousarray(vectors, dtype=np.float32)[sketch_training_rows(len(ids))]
            self.codes, error = face_codes.build_codes(index, sample)
            self.meta.update(ivf_meta(int(index.nlist), error))

    @contextlib.contextmanager
    def _locked(self, *, shared: bool = False) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self) -> bool:
        """Read the index (from this process's cache when the files did not change); False
        (and an empty index) when absent, unreadable or of another format."""
        with self._locked(shared=True):
            return self._read()

    def _stamp(self, meta: dict[str, Any]) -> tuple[Any, ...]:
        st = self._index_path.stat()  # a replaced or deleted file is not the cached one
        return (meta.get("version"), st.st_ino, st.st_mtime_ns, st.st_size)

    def _read(self) -> bool:
        faiss = load_faiss()
        key = self.folder.resolve()
        try:
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("model") != codec.MODEL:
                raise ValueError("another format")
            stamp = self._stamp(meta)
            with _cache_lock:
                cached = _cache.get(key)
            if cached is not None and cached[0] == stamp:
                _, self.index, self.sketch, self.codes, self.meta = cached
                self._shared = True
                return True
            index = faiss.read_index(str(self._index_path))
            sketch = codes = None
            if meta.get("kind") == "ivf":
                sketch = faiss.read_index(str(self._sketch_path))
                codes = faiss.read_index(str(self._codes_path))
                if {int(sketch.ntotal), int(codes.ntotal)} != {int(meta["total"])}:
                    raise ValueError("the sketch or codes and their description disagree")
            if int(index.ntotal) != int(meta["total"]) or index_kind(index) != meta.get("kind"):
                raise ValueError("index and its description disagree")
        except (OSError, ValueError, KeyError, RuntimeError):
            self.index, self.sketch, self.codes, self.meta = None, None, None, {}
            self._shared = False
            return False
        self.index, self.sketch, self.codes, self.meta = index, sketch, codes, meta
        self._publish(stamp)
        return True

    def _publish(self, stamp: tuple[Any, ...]) -> None:
        with _cache_lock:
            _cache.pop(self.folder.resolve(), None)
            while len(_cache) >= _CACHED:
                _cache.pop(next(iter(_cache)))
            entry = (stamp, self.index, self.sketch, self.codes, self.meta)
            _cache[self.folder.resolve()] = entry
        self._shared = True

    def _own(self) -> None:
        """Copy the cached index before changing it: other threads may be searching it."""
        if self._shared:
            faiss = load_faiss()
            self.index = faiss.clone_index(self.index)
            if self.sketch is not None:
                self.sketch = faiss.clone_index(self.sketch)
            if self.codes is not None:
                self.codes = faiss.clone_index(self.codes)
            self.meta = dict(self.meta)
            self._shared = False

    def _write(self, index: Any, path: Path) -> None:
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".faces-", suffix=".faiss")
        os.close(fd)
        try:
            load_faiss().write_index(index, tmp)
            os.replace(tmp, path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    def _save(self) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        self._write(self.index, self._index_path)
        if self.sketch is not None:
            self._write(self.sketch, self._sketch_path)
        else:
            self._sketch_path.unlink(missing_ok=True)
        if self.codes is not None:
            self._write(self.codes, self._codes_path)
        else:
            self._codes_path.unlink(missing_ok=True)
        self.meta["total"] = self.total
        self.meta["saved_at"] = time.time()
        self.meta["version"] = secrets.token_hex(8)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".faces-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.meta, fh, sort_keys=True)
        os.replace(tmp, self._meta_path)
        self._publish(self._stamp(self.meta))

    # -- keeping up with the database -------------------------------------------------------
    @staticmethod
    def _database_id(app: App) -> str:
        with app.db.connect() as conn:
            first = conn.execute(select(CustodyEvent.hash).where(CustodyEvent.seq == 1)).scalar()
        return str(first or "")

    @staticmethod
    def _active(app: App, after_id: int = 0) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        last = after_id
        while True:
            with app.db.connect() as conn:
                rows = conn.execute(
                    select(FaceRow.id, FaceRow.embedding)
                    .where(FaceRow.active.is_(True), FaceRow.id > last)
                    .order_by(FaceRow.id)
                    .limit(PAGE)
                ).all()
            if not rows:
                return
            ids = np.fromiter((r[0] for r in rows), dtype=np.int64, count=len(rows))
            yield ids, codec.stack([bytes(r[1]) for r in rows])
            last = int(ids[-1])

    def _add(self, ids: np.ndarray, vectors: np.ndarray) -> None:
        self.index.add_with_ids(vectors, ids)
        if self.sketch is not None:
            self.sketch.add_with_ids(vectors, ids)
        if self.codes is not None:  # assigned again: FastScan lists take no other way in
            self.codes.add_with_ids(vectors, ids)
            error = face_codes.reconstruction_error(self.codes.pq, vectors)
            self.meta["code_error"] = max(float(self.meta["code_error"]), error)

    def _remove_retired(self, app: App, up_to: int) -> int:
        """Remove faces retired since they were indexed (a newer analyzer version re-read
        their file): far cheaper than a rebuild, about a minute at a million faces."""
        with app.db.connect() as conn:
            retired = np.fromiter(
                conn.execute(
                    select(FaceRow.id).where(FaceRow.active.is_(False), FaceRow.id <= up_to)
                ).scalars(),
                dtype=np.int64,
            )
        if not len(retired):
            return 0
        removed = int(self.index.remove_ids(retired))
        if self.sketch is not None:
            self.sketch.remove_ids(retired)
        if self.codes is not None:
            self.codes.remove_ids(retired)
        return removed

    def sync(
        self,
        app: App,
        *,
        rebuild: bool = False,
        exact_limit: int = EXACT_LIMIT,
        min_interval: float = 0.0,
    ) -> SyncReport:
        """Bring the index up to date with the ``faces`` table and save it. With
        ``min_interval``, an index saved less than that many seconds ago is left as it is
        (the analysis hook's batches; a search never passes it)."""
        with self._locked():
            self._read()
            if (
                min_interval
                and self.index is not None
                and time.time() - float(self.meta.get("saved_at", 0)) < min_interval
            ):
                return SyncReport(total=self.total, kind=self.kind, deferred=True)
            with app.db.connect() as conn:
                max_id = int(conn.execute(select(func.max(FaceRow.id))).scalar() or 0)
                active = int(
                    conn.execute(
                        select(func.count()).select_from(FaceRow).where(FaceRow.active.is_(True))
                    ).scalar_one()
                )
            db_id = self._database_id(app)
            report = SyncReport()
            indexed_to = int(self.meta.get("max_face_id", 0))
            stale = (
                rebuild
                or self.index is None
                or self.meta.get("database") != db_id
                or indexed_to > max_id
            )
            if not stale and indexed_to < max_id:
                self._own()
                for ids, vectors in self._active(app, indexed_to):
                    self._add(ids, vectors)
                    report.added += len(ids)
                self.meta["max_face_id"] = max_id
            if not stale and self.total != active:
                self._own()
                report.removed = self._remove_retired(app, indexed_to)
            # Hysteresis: an inverted file becomes exact again only at half the limit, so a
            # collection near the limit is not rebuilt back and forth.
            kind = self.kind if self.index is not None else None
            wanted = "ivf" if active > exact_limit else "flat"
            if kind == "ivf" and active > exact_limit // 2:
                wanted = "ivf"
            # nlist follows sqrt(n): at twice the faces it was trained for, cells are 1.4x
            # too full and a query reads 1.4x what it should.
            grown = kind == "ivf" and active > 2 * int(self.meta.get("trained_for", active))
            if stale or self.total != active or kind != wanted or grown:
                self._rebuild(app, db_id, max_id, exact_limit)
                report.rebuilt = True
            elif report.added or report.removed:
                self._save()
            report.total, report.kind = self.total, self.kind
            return report

    def _rebuild(self, app: App, db_id: str, max_id: int, exact_limit: int) -> None:
        with app.db.connect() as conn:
            ids = np.fromiter(
                conn.execute(
                    select(FaceRow.id).where(FaceRow.active.is_(True)).order_by(FaceRow.id)
                ).scalars(),
                dtype=np.int64,
            )
        if len(ids) > exact_limit:
            from haechi.match.face_build import stream_build

            self.index, self.sketch, self.codes, self.meta = stream_build(app, ids)
            self._shared = False
            self.meta.update(database=db_id, max_face_id=max_id)
            self._save()
            return
        id_parts, vec_parts = [], []
        for ids, vectors in self._active(app):
            id_parts.append(ids)
            vec_parts.append(vectors)
        ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int64)
        vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, codec.DIM), np.float32)
        del id_parts, vec_parts
        self.build(vectors, ids, exact_limit=exact_limit)
        self.meta.update(database=db_id, max_face_id=max_id)
        self._save()

    # -- queries ----------------------------------------------------------------------------
    def _ivf_params(self, exhaustive: bool) -> Any:
        if self.kind != "ivf":
            return None
        nlist = int(self.index.nlist)
        nprobe = nlist if exhaustive else int(self.meta.get("nprobe") or range_nprobe(nlist))
        # Per call, never ``index.nprobe = ...``: the index is shared between threads.
        return load_faiss().SearchParametersIVF(nprobe=nprobe)

    def mode(self, *, exhaustive: bool = False) -> dict[str, Any]:
        """How :meth:`within` answers, recorded with each search."""
        mode = {"kind": self.kind, "faces": self.total, "exhaustive": exhaustive}
        if self.kind != "ivf":
            return {**mode, "nlist": None, "nprobe": None, "exact": True}
        nprobe = int(self._ivf_params(exhaustive).nprobe)
        mode.update(nlist=int(self.index.nlist), nprobe=nprobe, exact=exhaustive)
        return {**mode, "codes": None if exhaustive else self.meta.get("codes")}

    @staticmethod
    def _queries(queries: np.ndarray) -> np.ndarray:
        return np.ascontiguousarray(np.asarray(queries, dtype=np.float32).reshape(-1, codec.DIM))

    def within(
        self, queries: np.ndarray, radius: float, *, exhaustive: bool = False
    ) -> list[list[Hit]]:
        """For each query, every indexed face closer than ``radius``, nearest first.

        Past the exact limit, the range codes' ``nprobe`` cells give the candidates and the
        inverted file their exact distances (range recall >= 0.99 against brute force,
        measured by ``bench/bench_faces.py``); ``exhaustive`` reads every cell of the
        inverted file, so nothing within the radius can be missed, at 10-20 times the cost
        at a million faces."""
        if self.index is None or self.total == 0:
            return [[] for _ in range(len(queries))]
        q = self._queries(queries)
        params = self._ivf_params(exhaustive)
        if params is not None and not exhaustive and self.codes is not None:
            return self._within_codes(q, float(radius), int(params.nprobe))
        lims, dist2, ids = self.index.range_search(q, float(radius) ** 2, params=params)
        out: list[list[Hit]] = []
        for i in range(len(q)):
            lo, hi = int(lims[i]), int(lims[i + 1])
            order = np.argsort(dist2[lo:hi], kind="stable")
            out.append([_hit(ids[lo + j], dist2[lo + j]) for j in order])
        return out

    def _within_codes(self, q: np.ndarray, radius: float, nprobe: int) -> list[list[Hit]]:
        error = float(self.meta["code_error"])
        out: list[list[Hit]] = []
        cands = face_codes.candidates(self.codes, q, radius, error, nprobe)
        for row, cand in zip(q, cands, strict=True):
            if not len(cand):
                out.append([])
                continue
            dist2 = ((self.index.reconstruct_batch(cand) - row) ** 2).sum(axis=1)
            inside = np.nonzero(dist2 < radius * radius)[0]  # as range_search: strictly
            order = inside[np.argsort(dist2[inside], kind="stable")]
            out.append([_hit(cand[j], dist2[j]) for j in order])
        return out

    def nearest(self, queries: np.ndarray, k: int, *, k_factor: int = K_FACTOR) -> list[list[Hit]]:
        """The ``k`` nearest indexed faces of each query, nearest first (beyond the exact
        limit: the sketch's best ``k * k_factor``, re-ranked exactly)."""
        if self.index is None or self.total == 0 or k < 1:
            return [[] for _ in range(len(queries))]
        q = self._queries(queries)
        k = min(k, self.total)
        if self.sketch is None:
            dist2, ids = self.index.search(q, k, params=self._ivf_params(False))
            return [_hits(ids[i], dist2[i]) for i in range(len(q))]
        width = min(self.total, k * max(1, k_factor))
        out: list[list[Hit]] = []
        for start in range(0, len(q), SKETCH_BATCH):
            part = q[start : start + SKETCH_BATCH]
            _, cand = self.sketch.search(part, width)
            for sub in range(0, len(part), RERANK_BATCH):
                out += self._rerank(
                    part[sub : sub + RERANK_BATCH], cand[sub : sub + RERANK_BATCH], k
                )
        return out

    def _rerank(self, q: np.ndarray, cand: np.ndarray, k: int) -> list[list[Hit]]:
        """Exact distances of the sketch's candidates, read from the inverted file."""
        missing = cand < 0  # none unless the sketch holds fewer faces than were asked for
        safe = np.where(missing, cand.max(initial=0, where=~missing), cand)
        vecs = self.index.reconstruct_batch(safe.ravel()).reshape(*cand.shape, codec.DIM)
        dist2 = ((vecs - q[:, None, :]) ** 2).sum(axis=2)
        dist2[missing] = np.inf
        top = np.argpartition(dist2, k - 1, axis=1)[:, :k] if k < cand.shape[1] else None
        out = []
        for i in range(len(q)):
            pick = top[i] if top is not None else np.arange(cand.shape[1])
            pick = pick[np.argsort(dist2[i, pick], kind="stable")]
            out.append(_hits(cand[i, pick], dist2[i, pick]))
        return out


def _hit(face_id: Any, dist2: Any) -> Hit:
    return Hit(int(face_id), float(math.sqrt(max(0.0, float(dist2)))))


def _hits(ids: np.ndarray, dist2: np.ndarray) -> list[Hit]:
    return [_hit(i, d) for i, d in zip(ids, dist2, strict=True) if i >= 0 and np.isfinite(d)]
