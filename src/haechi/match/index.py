"""The persisted PDQ indexes: stored media and banks, each for pictures, video frames and
the anchored regions of pictures (the second matching stage, ``haechi.match.regions``).

Six indexes live under ``HOME/indexes/pdq/<name>/``:

================  ============================================  ======================
name              rows                                          id / aux
================  ============================================  ======================
``media-pdq``     PDQ signals of stored pictures (quality>=50)  signal id / frame
``media-vpdq``    distinct good frames of vPDQ signals          signal id / frame
``media-region``  indexed regions of PDQ signals (``regions``)  signal id / region
``bank-pdq``      PDQ hashes of bank items                      bank signal id / 0
``bank-vpdq``     frames of vPDQ hashes of bank items           bank signal id / frame
``bank-region``   indexed regions of bank PDQ hashes            bank signal id / region
================  ============================================  ======================

They are derived data: the database is the truth. Each index records a checkpoint (the
highest source row id it holds) and grows incrementally (``sync``: rows with a higher
id go into an append-only delta, merged into a new immutable segment when it grows);
``rebuild`` recreates it from the database, reading it in pages. Deleting bank items
marks the bank indexes stale and the next ``sync`` tombstones the deleted rows instead
of rebuilding (:mod:`haechi.match.index_upkeep`); a data directory pointed at another database
is noticed (the first custody event differs) and rebuilt too.

Writers hold ``indexes/pdq/.lock``; readers load the manifest and the ``.npy`` files it
names (immutable, replaced atomically), memory-mapped, without a lock.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import select

from haechi.analyze.hashes.pdq import QUALITY_THRESHOLD
from haechi.analyze.hashes.regions import RegionHashes
from haechi.app import App
from haechi.match.index_upkeep import (
    EMPTY_IDS,
    Arrays,
    keep_mask,
    missing_ids,
    read_after,
    source_ids,
)
from haechi.match.mih import FORMAT, Segment, hex_to_words, write_json
from haechi.store.custody import utc_now
from haechi.store.models import Analysis, CustodyEvent, SignalRow
from haechi.store.tables.match import BankSignal

MEDIA_PDQ, MEDIA_VPDQ, BANK_PDQ, BANK_VPDQ = "media-pdq", "media-vpdq", "bank-pdq", "bank-vpdq"
MEDIA_REGION, BANK_REGION = "media-region", "bank-region"
NAMES = (MEDIA_PDQ, MEDIA_VPDQ, MEDIA_REGION, BANK_PDQ, BANK_VPDQ, BANK_REGION)
PAGE = 20_000
DELTA_MIN = 50_000  # merge the delta once it exceeds this or an eighth of the segment


@dataclass(frozen=True, slots=True)
class IndexHit:
    id: int  # signal id (media) or bank signal id (banks)
    aux: int  # frame index for vPDQ rows, else 0
    distance: int


@dataclass
class _Rows:
    hexes: list[str]
    ids: list[int]
    aux: list[int]

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        codes = hex_to_words(self.hexes) if self.hexes else np.empty((0, 4), np.uint64)
        return codes, np.array(self.ids, np.int64), np.array(self.aux, np.int32)


class HashIndex:
    """One named index: a segment plus a delta, and its manifest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest: dict[str, Any] = {}
        self.segment = Segment.build(np.empty((0, 4), np.uint64), np.empty(0), np.empty(0))
        self.delta = self.segment
        self.removed = EMPTY_IDS  # tombstones: held ids no search returns (index_upkeep)
        self._removed_set: frozenset[int] = frozenset()
        self._loaded_key: tuple[int, int] | None = None

    @property
    def manifest_path(self) -> Path:
        return self.folder / "manifest.json"

    @property
    def checkpoint(self) -> int:
        return int(self.manifest.get("checkpoint", 0))

    def __len__(self) -> int:
        """Rows a search can return (tombstoned rows left out)."""
        return len(self.segment) + len(self.delta) - int(self.manifest.get("removed_rows", 0))

    def load(self) -> None:
        """Read the manifest and its arrays if they changed since the last load."""
        try:
            stat = self.manifest_path.stat()
        except FileNotFoundError:
            self.manifest = {}
            return
        key = (stat.st_mtime_ns, stat.st_size)
        if key == self._loaded_key:
            return
        for attempt in range(3):  # a writer may replace files between our two reads
            try:
                manifest = json.loads(self.manifest_path.read_text(encoding="utf-8"))
                segment = Segment.load(self.folder, manifest["segment"])
                delta = Segment.load(self.folder, manifest["delta"], mmap=False)
                removed = (
                    np.load(self.folder / manifest["removed"])
                    if manifest.get("removed")
                    else EMPTY_IDS
                )
                break
            except (FileNotFoundError, json.JSONDecodeError, KeyError):
                if attempt == 2:
                    raise
                time.sleep(0.05)
        self.manifest, self.segment, self.delta = manifest, segment, delta
        self.removed, self._removed_set = removed, frozenset(removed.tolist())
        self._loaded_key = key

    def _alive(self, hits: list[IndexHit]) -> list[IndexHit]:
        if not self._removed_set:
            return hits
        return [h for h in hits if h.id not in self._removed_set]

    def search(self, hexes: Sequence[str], radius: int) -> list[list[IndexHit]]:
        """For each query hash, every indexed row within ``radius`` bits."""
        out: list[list[IndexHit]] = []
        if not hexes:
            return out
        queries = hex_to_words(hexes)
        for q in queries:
            hits: list[IndexHit] = []
            for seg in (self.segment, self.delta):
                rows, dist = seg.search(q, radius)
                hits.extend(
                    IndexHit(int(seg.ids[r]), int(seg.aux[r]), int(d))
                    for r, d in zip(rows, dist, strict=True)
                )
            out.append(self._alive(hits))
        return out

    def search_many(
        self, hexes: Sequence[str], radius: int, flips: int | None = None
    ) -> list[list[IndexHit]]:
        """``search`` in one vectorised pass per segment (``Segment.search_many``; with
        ``flips`` the segment probes fewer buckets and recall is measured, not exact)."""
        out: list[list[IndexHit]] = [[] for _ in hexes]
        if not hexes:
            return out
        queries = hex_to_words(hexes)
        for seg in (self.segment, self.delta):
            qi, rows, dist = seg.search_many(queries, radius, flips)
            for q, r, d in zip(qi.tolist(), rows.tolist(), dist.tolist(), strict=True):
                out[q].append(IndexHit(int(seg.ids[r]), int(seg.aux[r]), int(d)))
        return [self._alive(hits) for hits in out]

    # -- writing (callers hold the lock) ---------------------------------------------------
    def _write(
        self,
        segment: Segment,
        delta: Segment,
        generation: int,
        extra: dict[str, Any],
        removed: np.ndarray = EMPTY_IDS,
        removed_rows: int = 0,
    ) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        seg_meta = (
            self.manifest["segment"]
            if generation == self.manifest.get("generation") and "segment" in self.manifest
            else segment.save(self.folder, f"seg-{generation}")
        )
        delta_meta = delta.save(self.folder, f"delta-{generation}-{len(delta)}")
        manifest = {
            "format": FORMAT,
            "name": self.folder.name,
            "generation": generation,
            "segment": seg_meta,
            "delta": delta_meta,
            "count": len(segment) + len(delta) - removed_rows,
            "updated_at": utc_now(),
            **extra,
        }
        for key in ("removed", "removed_rows"):
            manifest.pop(key, None)
        if len(removed):
            name = f"removed-{generation}-{len(delta)}-{len(removed)}.npy"
            np.save(self.folder / name, np.asarray(removed, np.int64))
            manifest["removed"], manifest["removed_rows"] = name, removed_rows
        write_json(self.manifest_path, manifest)
        self._cleanup(manifest)
        self._loaded_key = None
        self.load()

    def _cleanup(self, manifest: dict[str, Any]) -> None:
        keep = {"manifest.json", *manifest["segment"]["files"].values()}
        keep |= set(manifest["delta"]["files"].values())
        if manifest.get("removed"):
            keep.add(manifest["removed"])
        for path in self.folder.glob("*.npy"):
            if path.name not in keep:
                with contextlib.suppress(OSError):
                    path.unlink()

    def replace(self, rows: _Rows | Arrays, extra: dict[str, Any]) -> None:
        codes, ids, aux = rows.arrays()
        empty = Segment.build(np.empty((0, 4), np.uint64), np.empty(0), np.empty(0))
        generation = int(self.manifest.get("generation", 0)) + 1
        self._write(Segment.build(codes, ids, aux), empty, generation, extra)

    def append(self, rows: _Rows | Arrays, extra: dict[str, Any]) -> None:
        codes, ids, aux = rows.arrays()
        d = self.delta
        merged = (
            np.concatenate([np.asarray(d.codes), codes]),
            np.concatenate([np.asarray(d.ids), ids]),
            np.concatenate([np.asarray(d.aux), aux]),
        )
        if len(merged[0]) > max(DELTA_MIN, len(self.segment) // 8):
            self._merge(merged, extra)
            return
        delta = Segment(merged[0], merged[1], merged[2])
        generation = int(self.manifest.get("generation", 0))
        dead = int(self.manifest.get("removed_rows", 0))
        self._write(self.segment, delta, generation, extra, self.removed, dead)

    def _merge(self, delta: tuple[np.ndarray, ...], extra: dict[str, Any]) -> None:
        """A new segment of the segment and ``delta``, without the tombstoned rows."""
        s = self.segment
        codes = np.concatenate([np.asarray(s.codes), delta[0]])
        ids = np.concatenate([np.asarray(s.ids), delta[1]])
        aux = np.concatenate([np.asarray(s.aux), delta[2]])
        keep = keep_mask(ids, self.removed)
        combined = Segment.build(codes[keep], ids[keep], aux[keep])
        empty = Segment.build(np.empty((0, 4), np.uint64), np.empty(0), np.empty(0))
        generation = int(self.manifest.get("generation", 0)) + 1
        self._write(combined, empty, generation, extra)

    def remove(self, ids: np.ndarray, extra: dict[str, Any]) -> int:
        """Tombstone ``ids`` (rows deleted from the database); past ``DELTA_MIN`` or an
        eighth of the index, rebuild the segment without them. Returns how many."""
        held = np.concatenate([np.asarray(self.segment.ids), np.asarray(self.delta.ids)])
        held = held.astype(np.int64)
        new = np.setdiff1d(np.intersect1d(np.asarray(ids, np.int64), held), self.removed)
        if not len(new):
            return 0
        removed = np.union1d(self.removed, new)
        rows = int(np.isin(held, removed).sum())
        if rows > max(DELTA_MIN, len(held) // 8):
            self.removed = removed
            d = self.delta
            self._merge((np.asarray(d.codes), np.asarray(d.ids), np.asarray(d.aux)), extra)
            return len(new)
        generation = int(self.manifest.get("generation", 0))
        self._write(self.segment, self.delta, generation, extra, removed, rows)
        return len(new)


# -- the four indexes and the database ---------------------------------------------------------


def _media_pdq_rows(app: App, after: int, limit: int | None) -> tuple[_Rows, int]:
    rows, last = _Rows([], [], []), after
    with app.db.connect() as conn:
        q = (
            select(SignalRow.id, SignalRow.value, SignalRow.score, SignalRow.data_json)
            .join(Analysis, Analysis.id == SignalRow.analysis_id)
            .where(SignalRow.kind == "pdq", Analysis.status == "ok", SignalRow.id > after)
            .order_by(SignalRow.id)
        )
        for sid, value, score, data in conn.execute(q.limit(limit) if limit else q):
            last = sid
            if value and (score or 0) >= QUALITY_THRESHOLD:
                frame = int(orjson.loads(data).get("frame", 0)) if data else 0
                rows.hexes.append(value)
                rows.ids.append(sid)
                rows.aux.append(frame)
    return rows, last


def good_frames(frames: Sequence[Sequence[Any]]) -> Iterator[tuple[int, str]]:
    """(position, hex) of the distinct frames with quality >= 50, as python-threatexchange
    filters them before matching (``dedupe`` + ``quality_filter``)."""
    seen: set[str] = set()
    for position, frame in enumerate(frames):
        quality, hex_ = int(frame[1]), str(frame[2])
        if quality >= QUALITY_THRESHOLD and hex_ not in seen:
            seen.add(hex_)
            yield position, hex_


def _signal_data(kind: str, after: int) -> Any:
    """(id, data_json) of the ok signals of ``kind`` after row ``after``, in order."""
    return (
        select(SignalRow.id, SignalRow.data_json)
        .join(Analysis, Analysis.id == SignalRow.analysis_id)
        .where(SignalRow.kind == kind, Analysis.status == "ok", SignalRow.id > after)
        .order_by(SignalRow.id)
    )


def _media_vpdq_rows(app: App, after: int, limit: int | None) -> tuple[_Rows, int]:
    rows, last = _Rows([], [], []), after
    with app.db.connect() as conn:
        q = _signal_data("vpdq", after)
        for sid, data in conn.execute(q.limit(limit) if limit else q):
            last = sid
            for position, hex_ in good_frames(orjson.loads(data).get("frames", []) if data else []):
                rows.hexes.append(hex_)
                rows.ids.append(sid)
                rows.aux.append(position)
    return rows, last


def _bank_rows(app: App, kind: str, after: int, limit: int | None) -> tuple[_Rows, int]:
    rows, last = _Rows([], [], []), after
    with app.db.connect() as conn:
        q = (
            select(BankSignal.id, BankSignal.value, BankSignal.quality, BankSignal.data_json)
            .where(BankSignal.kind == kind, BankSignal.id > after)
            .order_by(BankSignal.id)
        )
        for bid, value, quality, data in conn.execute(q.limit(limit) if limit else q):
            last = bid
            if kind == "pdq":
                if quality is None or quality >= QUALITY_THRESHOLD:
                    rows.hexes.append(value)
                    rows.ids.append(bid)
                    rows.aux.append(0)
                continue
            frames = orjson.loads(data).get("frames", []) if data else []
            for position, hex_ in good_frames(frames):
                rows.hexes.append(hex_)
                rows.ids.append(bid)
                rows.aux.append(position)
    return rows, last


def region_rows(rows: _Rows, row_id: int, data: str | None) -> None:
    """Add the indexed regions of a PDQ hash's ``data`` (JSON) to ``rows``."""
    if not data or '"regions"' not in data:
        return
    found = RegionHashes.from_data(orjson.loads(data).get("regions"))
    if found is None:
        return
    for position in found.index_positions:
        rows.hexes.append(found.regions[position].hex)
        rows.ids.append(row_id)
        rows.aux.append(position)


def _region_rows(app: App, bank: bool, after: int, limit: int | None) -> tuple[_Rows, int]:
    rows, last = _Rows([], [], []), after
    with app.db.connect() as conn:
        if bank:
            q = (
                select(BankSignal.id, BankSignal.data_json)
                .where(BankSignal.kind == "pdq", BankSignal.id > after)
                .order_by(BankSignal.id)
            )
        else:
            q = _signal_data("pdq", after)
        for row_id, data in conn.execute(q.limit(limit) if limit else q):
            last = row_id
            region_rows(rows, row_id, data)
    return rows, last


def _source_rows(app: App, name: str, after: int, limit: int | None) -> tuple[_Rows, int]:
    if name == MEDIA_PDQ:
        return _media_pdq_rows(app, after, limit)
    if name == MEDIA_VPDQ:
        return _media_vpdq_rows(app, after, limit)
    if name in (MEDIA_REGION, BANK_REGION):
        return _region_rows(app, name == BANK_REGION, after, limit)
    return _bank_rows(app, "pdq" if name == BANK_PDQ else "vpdq", after, limit)


def _database_identity(app: App) -> str:
    with app.db.connect() as conn:
        first = conn.execute(select(CustodyEvent.hash).where(CustodyEvent.seq == 1)).scalar()
    return str(first or "")


class IndexSet:
    """The six indexes of one data directory."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.root = app.settings.index_dir / "pdq"
        self.indexes = {name: HashIndex(self.root / name) for name in NAMES}

    def __getitem__(self, name: str) -> HashIndex:
        index = self.indexes[name]
        index.load()
        return index

    @contextlib.contextmanager
    def lock(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+b") as fh:
            fcntl.flock(fh, fcntl.LOCK_EX)  # waits: index writes are short
            try:
                yield
            finally:
                fcntl.flock(fh, fcntl.LOCK_UN)

    def mark_stale(self, *names: str) -> None:
        """Ask the next ``sync`` to drop the rows the database no longer holds (bank items
        were deleted): they are tombstoned, not rebuilt (:mod:`haechi.match.index_upkeep`)."""
        with self.lock():
            for name in names:
                index = self.indexes[name]
                index.load()
                if index.manifest:
                    write_json(index.manifest_path, {**index.manifest, "stale": True})

    def sync(self, names: Sequence[str] = NAMES) -> dict[str, int]:
        """Add every database row newer than each index's checkpoint; rebuild an index
        that is stale, missing, or was made from another database. Returns rows added."""
        identity = _database_identity(self.app)
        added: dict[str, int] = {}
        with self.lock():
            for name in names:
                index = self.indexes[name]
                index.load()
                m = index.manifest
                if not m or m.get("database") != identity:
                    added[name] = self._rebuild_one(name, identity)
                    continue
                if m.get("stale"):  # rows were deleted: drop them, no rebuild
                    gone = missing_ids(index, source_ids(self.app, name))
                    if gone is None:  # an id was reused: only a rebuild sees it
                        added[name] = self._rebuild_one(name, identity)
                        continue
                    extra = {"checkpoint": index.checkpoint, "database": identity}
                    index.remove(gone, {**extra, "stale": False})
                    index.load()
                rows, last = read_after(self.app, name, index.checkpoint)
                if last != index.checkpoint:
                    extra = {"checkpoint": last, "database": identity, "stale": False}
                    index.append(rows, extra)
                added[name] = len(rows.ids)
        return added

    def rebuild(self, names: Sequence[str] = NAMES) -> dict[str, int]:
        identity = _database_identity(self.app)
        with self.lock():
            return {name: self._rebuild_one(name, identity) for name in names}

    def _rebuild_one(self, name: str, identity: str) -> int:
        index = self.indexes[name]
        index.load()
        rows, last = read_after(self.app, name, 0)
        index.replace(rows, {"checkpoint": last, "database": identity, "stale": False})
        return len(rows.ids)

    def status(self) -> dict[str, dict[str, Any]]:
        out = {}
        for name in NAMES:
            index = self[name]
            m = index.manifest
            out[name] = {
                "rows": len(index),
                "checkpoint": index.checkpoint,
                "generation": m.get("generation"),
                "stale": bool(m.get("stale")),
                "updated_at": m.get("updated_at"),
            }
        return out
