"""The face vector index: every active face embedding, searchable in milliseconds.

FAISS, with the ``faces.id`` of each face as its id. Exact (``IndexFlatL2``) up to
:data:`EXACT_LIMIT` faces: a victim's search is rare and must not miss anything, and at
200k faces an exhaustive scan still takes a few milliseconds. Beyond that an inverted file
(``IndexIVFFlat``, ``nlist`` about 4*sqrt(n) cells, ``nprobe`` cells read per query), whose
recall against the exact answer ``bench/bench_faces.py`` measures.

The index is a cache of the database: it lives under ``app.settings.index_dir/faces``
(written atomically), records which database it mirrors (the hash of the first custody
event) and up to which face id it holds, and :meth:`FaceIndex.sync` brings it up to date:
new faces are added, and a rebuild from the ``faces`` table happens whenever the counts
disagree (faces superseded by a newer analyzer version, a restored database, a deleted
index file). Writers take a file lock; readers load a consistent file.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import math
import os
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.store.models import CustodyEvent
from haechi.store.tables.faces import FaceRow

FORMAT = 1
EXACT_LIMIT = 200_000
DEFAULT_NPROBE = 64  # bench_faces.py: recall@10 0.9975, range recall 0.996 at 1M
PAGE = 20_000


@dataclass
class SyncReport:
    added: int = 0
    rebuilt: bool = False
    total: int = 0
    kind: str = "flat"
    deferred: bool = False  # saved too recently: left for the next sync


def _faiss() -> Any:
    import faiss

    return faiss


def nlist_for(n: int) -> int:
    # sqrt(n) cells: k-means training stays under a minute at a million faces on two
    # cores (4*sqrt(n) took minutes for little gain, bench/bench_faces.py).
    return int(min(16384, max(64, math.sqrt(max(n, 1)))))


def build_index(vectors: np.ndarray, ids: np.ndarray, *, exact_limit: int = EXACT_LIMIT) -> Any:
    """A FAISS index over ``vectors`` (n, 128) with ``ids``: exact up to ``exact_limit``."""
    faiss = _faiss()
    n = len(vectors)
    if n <= exact_limit:
        index = faiss.IndexIDMap2(faiss.IndexFlatL2(codec.DIM))
    else:
        nlist = nlist_for(n)
        quantizer = faiss.IndexFlatL2(codec.DIM)
        index = faiss.IndexIVFFlat(quantizer, codec.DIM, nlist, faiss.METRIC_L2)
        rng = np.random.default_rng(0)  # the same data give the same index
        sample = vectors[rng.choice(n, size=min(n, 40 * nlist), replace=False)]
        index.train(np.ascontiguousarray(sample))
        index.nprobe = DEFAULT_NPROBE
    if n:
        index.add_with_ids(np.ascontiguousarray(vectors, dtype=np.float32), ids.astype(np.int64))
    return index


def index_kind(index: Any) -> str:
    return "ivf" if hasattr(index, "nprobe") else "flat"


@dataclass(frozen=True)
class Hit:
    face_id: int
    distance: float  # Euclidean, the unit dlib's 0.6 rule of thumb is in


class FaceIndex:
    """See the module docstring. One instance per process; cheap to reload."""

    def __init__(self, folder: Path) -> None:
        self.folder = Path(folder)
        self.index: Any = None
        self.meta: dict[str, Any] = {}

    @classmethod
    def for_app(cls, app: App) -> FaceIndex:
        return cls(app.settings.index_dir / "faces")

    @property
    def _index_path(self) -> Path:
        return self.folder / "faces.faiss"

    @property
    def _meta_path(self) -> Path:
        return self.folder / "faces.json"

    @property
    def total(self) -> int:
        return int(self.index.ntotal) if self.index is not None else 0

    # -- persistence ------------------------------------------------------------------------
    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self.folder.mkdir(parents=True, exist_ok=True)
        with open(self.folder / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def load(self) -> bool:
        """Read the index from disk; False (and an empty index) when absent or unreadable."""
        faiss = _faiss()
        try:
            meta = json.loads(self._meta_path.read_text(encoding="utf-8"))
            if meta.get("format") != FORMAT or meta.get("model") != codec.MODEL:
                raise ValueError("another format")
            index = faiss.read_index(str(self._index_path))
            if int(index.ntotal) != int(meta["total"]):
                raise ValueError("index and its description disagree")
        except (OSError, ValueError, KeyError, RuntimeError):
            self.index, self.meta = None, {}
            return False
        self.index, self.meta = index, meta
        return True

    def _save(self) -> None:
        faiss = _faiss()
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".faces-", suffix=".faiss")
        os.close(fd)
        try:
            faiss.write_index(self.index, tmp)
            os.replace(tmp, self._index_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
        self.meta["total"] = self.total
        self.meta["saved_at"] = time.time()
        fd, tmp = tempfile.mkstemp(dir=self.folder, prefix=".faces-", suffix=".json")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            json.dump(self.meta, fh, sort_keys=True)
        os.replace(tmp, self._meta_path)

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
            self.load()
            if (
                min_interval
                and self.index is not None
                and time.time() - float(self.meta.get("saved_at", 0)) < min_interval
            ):
                return SyncReport(total=self.total, kind=index_kind(self.index), deferred=True)
            with app.db.connect() as conn:
                max_id = int(conn.execute(select(func.max(FaceRow.id))).scalar() or 0)
                active = int(
                    conn.execute(
                        select(func.count()).select_from(FaceRow).where(FaceRow.active.is_(True))
                    ).scalar_one()
                )
            db_id = self._database_id(app)
            report = SyncReport()
            stale = (
                rebuild
                or self.index is None
                or self.meta.get("database") != db_id
                or int(self.meta.get("max_face_id", 0)) > max_id
            )
            if not stale and int(self.meta.get("max_face_id", 0)) < max_id:
                for ids, vectors in self._active(app, int(self.meta["max_face_id"])):
                    self.index.add_with_ids(vectors, ids)
                    report.added += len(ids)
                self.meta["max_face_id"] = max_id
            kind = index_kind(self.index) if self.index is not None else None
            wanted = "flat" if active <= exact_limit else "ivf"
            grown = kind == "ivf" and active > 4 * int(self.meta.get("trained_for", active))
            if stale or self.total != active or kind != wanted or grown:
                self._rebuild(app, db_id, max_id, exact_limit)
                report.rebuilt = True
            elif report.added:
                self._save()
            report.total, report.kind = self.total, index_kind(self.index)
            return report

    def _rebuild(self, app: App, db_id: str, max_id: int, exact_limit: int) -> None:
        id_parts, vec_parts = [], []
        for ids, vectors in self._active(app):
            id_parts.append(ids)
            vec_parts.append(vectors)
        ids = np.concatenate(id_parts) if id_parts else np.zeros(0, dtype=np.int64)
        vectors = np.concatenate(vec_parts) if vec_parts else np.zeros((0, codec.DIM), np.float32)
        self.index = build_index(vectors, ids, exact_limit=exact_limit)
        self.meta = {
            "format": FORMAT,
            "model": codec.MODEL,
            "database": db_id,
            "max_face_id": max_id,
            "kind": index_kind(self.index),
            "trained_for": len(ids),
        }
        self._save()

    # -- queries ----------------------------------------------------------------------------
    def within(
        self, queries: np.ndarray, radius: float, *, exhaustive: bool = True
    ) -> list[list[Hit]]:
        """For each query, every indexed face closer than ``radius``, nearest first.

        ``exhaustive`` (the default, used by subject and probe searches) reads every cell
        of an inverted file, so nothing within the radius is ever missed: a victim's
        search is rare, and a missed image is a picture that stays online. Pass False
        for the approximate, much faster answer (``nprobe`` cells)."""
        if self.index is None or self.total == 0:
            return [[] for _ in range(len(queries))]
        q = np.ascontiguousarray(np.asarray(queries, dtype=np.float32).reshape(-1, codec.DIM))
        saved = getattr(self.index, "nprobe", None)
        if exhaustive and saved is not None:
            self.index.nprobe = self.index.nlist
        try:
            lims, dist2, ids = self.index.range_search(q, float(radius) ** 2)
        finally:
            if saved is not None:
                self.index.nprobe = saved
        out: list[list[Hit]] = []
        for i in range(len(q)):
            lo, hi = int(lims[i]), int(lims[i + 1])
            order = np.argsort(dist2[lo:hi], kind="stable")
            out.append(
                [
                    Hit(int(ids[lo + j]), float(math.sqrt(max(0.0, float(dist2[lo + j])))))
                    for j in order
                ]
            )
        return out

    def nearest(self, queries: np.ndarray, k: int) -> list[list[Hit]]:
        """The ``k`` nearest indexed faces of each query."""
        if self.index is None or self.total == 0:
            return [[] for _ in range(len(queries))]
        q = np.ascontiguousarray(np.asarray(queries, dtype=np.float32).reshape(-1, codec.DIM))
        dist2, ids = self.index.search(q, min(k, self.total))
        return [
            [
                Hit(int(i), float(math.sqrt(max(0.0, float(d)))))
                for d, i in zip(drow, irow, strict=True)
                if i >= 0
            ]
            for drow, irow in zip(dist2, ids, strict=True)
        ]
