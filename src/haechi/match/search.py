"""Query the indexes and turn raw index rows into :class:`Hit` s with their context.

PDQ: every dihedral variant of the query hash is looked up (a mirrored or rotated
re-post is far from the original as stored, close once the variant matches); the best
variant per target is kept. vPDQ: each distinct good frame is looked up, and a video
matches when at least 80 % of one side's good frames have a counterpart within 31 bits
on the other (python-threatexchange requires it of the query only; haechi accepts
either side, so a long video that contains a known clip is found too).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, func, select

from haechi.analyze.hashes.pdq import MATCH_THRESHOLD
from haechi.analyze.hashes.pdqcore import DIHEDRAL
from haechi.analyze.hashes.vpdq import QUERY_MATCH_PERCENT
from haechi.match.index import (
    BANK_PDQ,
    BANK_VPDQ,
    MEDIA_PDQ,
    MEDIA_VPDQ,
    IndexHit,
    IndexSet,
    good_frames,
)
from haechi.store.models import Media, Message, SignalRow
from haechi.store.tables.match import Bank, BankItem, BankSignal

MAX_HITS = 200  # per query and index: the closest are kept, the rest counted
INVERSE = {"rotate90": "rotate270", "rotate270": "rotate90"}
CHUNK = 500


@dataclass(frozen=True)
class Raw:
    """An index row that matched, before its target is looked up."""

    index: str
    target_id: int
    distance: int
    transform: str | None = None
    score: float | None = None  # vPDQ: the share that decided the match
    details: dict[str, Any] = field(default_factory=dict)
    aux: int = 0  # the indexed row's frame (a vPDQ index row)


@dataclass(frozen=True)
class Hit:
    kind: str  # pdq / vpdq / md5 / sha256
    target: str  # "bank-signal:<id>" or "blob:<sha256>"
    distance: int | None
    transform: str | None = None
    score: float | None = None
    threshold: int | None = None
    query_value: str | None = None
    target_value: str | None = None
    target_blob_sha256: str | None = None
    target_signal_id: int | None = None  # media signal (captures only)
    bank_id: int | None = None
    bank_item_id: int | None = None
    bank_signal_id: int | None = None
    bank_name: str | None = None
    labels: tuple[str, ...] = ()
    external_id: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def is_bank(self) -> bool:
        return self.bank_signal_id is not None or self.target.startswith("bank-signal:")


def pdq_variants(value: str, data: dict[str, Any] | None) -> dict[str, str]:
    variants = {"original": value}
    for name in DIHEDRAL[1:]:
        other = (data or {}).get("dihedral", {}).get(name)
        if other and other != value:
            variants[name] = other
    return variants


def search_pdq(
    indexes: IndexSet, variants: dict[str, str], names: Sequence[str], radius: int
) -> list[Raw]:
    """Best variant per (index, target id) within ``radius``, closest first."""
    order = list(variants)
    best: dict[tuple[str, int], Raw] = {}
    for name in names:
        results = indexes[name].search([variants[v] for v in order], radius)
        for variant, hits in zip(order, results, strict=True):
            _keep_best(best, name, variant, hits)
    return _ranked(best)


def search_pdq_many(
    indexes: IndexSet, queries: Sequence[dict[str, str]], names: Sequence[str], radius: int
) -> list[list[Raw]]:
    """:func:`search_pdq` of each of ``queries`` (its variants), every index searched once
    for all of them in one vectorised pass (``HashIndex.search_many``: the same rows)."""
    flat = [(q, variant, value) for q, variants in enumerate(queries)
            for variant, value in variants.items()]  # fmt: skip
    best: list[dict[tuple[str, int], Raw]] = [{} for _ in queries]
    for name in names:
        results = indexes[name].search_many([value for _, _, value in flat], radius)
        for (q, variant, _), hits in zip(flat, results, strict=True):
            _keep_best(best[q], name, variant, hits)
    return [_ranked(b) for b in best]


def _keep_best(
    best: dict[tuple[str, int], Raw], name: str, variant: str, hits: Sequence[IndexHit]
) -> None:
    for h in hits:
        key = (name, h.id)
        if key not in best or h.distance < best[key].distance:
            best[key] = Raw(name, h.id, h.distance, variant, aux=h.aux)


def _ranked(best: dict[tuple[str, int], Raw]) -> list[Raw]:
    return _cap(sorted(best.values(), key=lambda r: (r.distance, r.target_id)))


def _cap(ranked: list[Raw]) -> list[Raw]:
    if len(ranked) <= MAX_HITS:
        return ranked
    kept = ranked[:MAX_HITS]
    last = kept[-1]
    note = {**last.details, "more_hits_not_recorded": len(ranked) - MAX_HITS}
    return [*kept[:-1], Raw(last.index, last.target_id, last.distance, last.transform,
                            last.score, note, last.aux)]  # fmt: skip


@dataclass
class _Overlap:
    query: set[int] = field(default_factory=set)
    target: set[int] = field(default_factory=set)
    distances: list[int] = field(default_factory=list)


def search_vpdq(
    indexes: IndexSet,
    frames: Sequence[Sequence[Any]],
    names: Sequence[str],
    radius: int,
    target_frames: Any,
) -> list[Raw]:
    """Videos sharing >= 80 % of one side's good frames with ``frames``.

    ``target_frames(index, ids)`` returns the number of good frames of each target.
    """
    good = list(good_frames(frames))
    if not good:
        return []
    out: list[Raw] = []
    for name in names:
        overlaps: dict[int, _Overlap] = {}
        results = indexes[name].search([h for _, h in good], radius)
        for (position, _), hits in zip(good, results, strict=True):
            for h in hits:
                o = overlaps.setdefault(h.id, _Overlap())
                o.query.add(position)
                o.target.add(h.aux)
                o.distances.append(h.distance)
        if not overlaps:
            continue
        sizes = target_frames(name, list(overlaps))
        for target_id, o in overlaps.items():
            total = sizes.get(target_id)
            if not total:
                continue
            query_pct = round(100.0 * len(o.query) / len(good), 2)
            target_pct = round(100.0 * len(o.target) / total, 2)
            if max(query_pct, target_pct) < QUERY_MATCH_PERCENT:
                continue
            details = {
                "query_match_percent": query_pct,
                "compared_match_percent": target_pct,
                "query_frames": len(good),
                "compared_frames": total,
            }
            distance = sorted(o.distances)[len(o.distances) // 2]  # median frame distance
            out.append(Raw(name, target_id, distance, None, query_pct, details))
    return _cap(sorted(out, key=lambda r: (-(r.score or 0), r.distance)))


def search_frames(
    indexes: IndexSet, frames: Sequence[Sequence[Any]], names: Sequence[str], radius: int
) -> list[Raw]:
    """Pictures that look like one of the video's good frames: the closest frame per
    picture (``details``: the frame's position and time in the video)."""
    good = list(good_frames(frames))
    best: dict[tuple[str, int], Raw] = {}
    for name in names:
        results = indexes[name].search([h for _, h in good], radius)
        for (position, _), hits in zip(good, results, strict=True):
            for h in hits:
                key = (name, h.id)
                if key not in best or h.distance < best[key].distance:
                    where = {"video_frame": position, "seconds": float(frames[position][3])}
                    best[key] = Raw(name, h.id, h.distance, "original", details=where)
    return _cap(sorted(best.values(), key=lambda r: (r.distance, r.target_id)))


# -- looking targets up ------------------------------------------------------------------------


@dataclass(frozen=True)
class MediaTarget:
    signal_id: int
    blob_sha256: str
    value: str | None
    good_frames: int


@dataclass(frozen=True)
class BankTarget:
    signal_id: int
    kind: str
    value: str
    bank_id: int
    bank_name: str
    item_id: int
    labels: tuple[str, ...]
    external_id: str | None
    good_frames: int


def _chunks(ids: Sequence[int]) -> Iterable[list[int]]:
    ids = sorted(set(ids))
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _good_count(data: str | None) -> int:
    if not data:
        return 0
    return sum(1 for _ in good_frames(orjson.loads(data).get("frames", [])))


def media_targets(conn: Connection, ids: Sequence[int]) -> dict[int, MediaTarget]:
    out = {}
    for part in _chunks(ids):
        for sid, sha, kind, value, data in conn.execute(
            select(SignalRow.id, SignalRow.blob_sha256, SignalRow.kind, SignalRow.value,
                   SignalRow.data_json).where(SignalRow.id.in_(part))
        ):  # fmt: skip
            frames = _good_count(data) if kind == "vpdq" else 0
            out[sid] = MediaTarget(sid, sha, value, frames)
    return out


def bank_targets(conn: Connection, ids: Sequence[int]) -> dict[int, BankTarget]:
    out = {}
    for part in _chunks(ids):
        for row in conn.execute(
            select(BankSignal.id, BankSignal.kind, BankSignal.value, BankSignal.data_json,
                   Bank.id.label("bank_id"), Bank.name, BankItem.id.label("item_id"),
                   BankItem.labels_json, BankItem.external_id)
            .join(BankItem, BankItem.id == BankSignal.item_id)
            .join(Bank, Bank.id == BankSignal.bank_id)
            .where(BankSignal.id.in_(part))
        ):  # fmt: skip
            labels = tuple(orjson.loads(row.labels_json)) if row.labels_json else ()
            frames = _good_count(row.data_json) if row.kind == "vpdq" else 0
            out[row.id] = BankTarget(
                row.id, row.kind, row.value, row.bank_id, row.name, row.item_id, labels,
                row.external_id, frames,
            )  # fmt: skip
    return out


def first_seen(conn: Connection, blobs: Iterable[str]) -> dict[str, tuple[bool, int, str]]:
    """An order of stored files by when they were first posted: the earliest message
    date that carried each (undated ones last), then the SHA-256, so that every pair of
    files has one fixed earlier and later side whatever order they were hashed in."""
    wanted = sorted(set(blobs))
    dates: dict[str, int] = {}
    for start in range(0, len(wanted), CHUNK):
        part = wanted[start : start + CHUNK]
        for sha, date in conn.execute(
            select(Media.blob_sha256, func.min(Message.date_unix))
            .join(Message, Message.id == Media.message_pk)
            .where(Media.blob_sha256.in_(part), Message.date_unix.is_not(None))
            .group_by(Media.blob_sha256)
        ):
            if sha is not None and date is not None:
                dates[sha] = int(date)
    return {sha: (sha not in dates, dates.get(sha, 0), sha) for sha in wanted}


def frame_counter(conn: Connection) -> Any:
    def count(index: str, ids: list[int]) -> dict[int, int]:
        if index == MEDIA_VPDQ:
            return {k: v.good_frames for k, v in media_targets(conn, ids).items()}
        return {k: v.good_frames for k, v in bank_targets(conn, ids).items()}

    return count


def _hit(
    kind: str, raw: Raw, target: str, query_value: str | None, radius: int, **more: Any
) -> Hit:
    return Hit(kind=kind, target=target, distance=raw.distance, transform=raw.transform,
               score=raw.score, threshold=radius, query_value=query_value,
               details=raw.details, **more)  # fmt: skip


def bank_hit(kind: str, raw: Raw, t: BankTarget, query_value: str | None, radius: int) -> Hit:
    return _hit(
        kind, raw, f"bank-signal:{t.signal_id}", query_value, radius,
        target_value=t.value, bank_id=t.bank_id, bank_item_id=t.item_id,
        bank_signal_id=t.signal_id, bank_name=t.bank_name, labels=t.labels,
        external_id=t.external_id,
    )  # fmt: skip


def capture_hit(kind: str, raw: Raw, t: MediaTarget, query_value: str | None, radius: int) -> Hit:
    return _hit(
        kind, raw, f"blob:{t.blob_sha256}", query_value, radius, target_value=t.value,
        target_blob_sha256=t.blob_sha256, target_signal_id=t.signal_id,
    )  # fmt: skip


MEDIA_NAMES = {"pdq": MEDIA_PDQ, "vpdq": MEDIA_VPDQ}
BANK_NAMES = {"pdq": BANK_PDQ, "vpdq": BANK_VPDQ}
FRAME = "frame"  # a picture that matches a frame of a video (a still, a screenshot)
INDEX_KIND = {MEDIA_PDQ: "pdq", BANK_PDQ: "pdq", MEDIA_VPDQ: "vpdq", BANK_VPDQ: "vpdq"}
DEFAULT_RADIUS = MATCH_THRESHOLD
