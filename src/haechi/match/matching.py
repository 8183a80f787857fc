"""Matching stored files: against the banks and against earlier captures, as evidence.

Three incremental passes, each idempotent (a match is unique per stored file, kind and
target, so running twice records nothing new):

* **scan** — every PDQ/vPDQ signal not yet matched is looked up in the bank indexes
  and in the media indexes (other captures): whole-picture hashes first (stage 1), then
  the anchored regions of a picture for what stage 1 did not find (stage 2, crops,
  borders, captions, stickers; ``haechi.match.region_search``). A pair of stored files is
  recorded once, on the file first posted later (the re-post), with the earlier one as
  its target; ties go by SHA-256. The direction never depends on which file happened to
  be hashed first (a pool finishes files in any order): when the scan of the earlier file
  finds the later one, the later file's signal is scanned again, and that scan records
  the pair (a region match is turned round and recorded on the later file at once);
* **exact** — the md5 and SHA-256 the vault recorded for every stored file not yet
  checked are looked up in the banks' md5/SHA-256 hashes;
* **hunt** — every bank hash not yet hunted is looked up among all stored files (a
  victim's report added today finds last month's captures).

Each new match is one ``match_hits`` row and one signed ``match`` custody event, in the
same transaction (``haechi.match.record``). ``run_matching`` runs all three after syncing
the indexes; the ``after_analysis`` hook calls it, so every ingest is matched as soon as it
is analysed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import orjson
from sqlalchemy import select

from haechi.analyze.hashes.pdq import QUALITY_THRESHOLD
from haechi.app import App
from haechi.match.index import MEDIA_PDQ, MEDIA_REGION, MEDIA_VPDQ, IndexSet
from haechi.match.record import PAGE, store_hits
from haechi.match.region_search import (
    CanvasSource,
    Lazy,
    hunt_regions,
    region_stage,
    regions_of,
    stored_canvas,
)
from haechi.match.search import (
    BANK_NAMES,
    DEFAULT_RADIUS,
    FRAME,
    INDEX_KIND,
    INVERSE,
    MEDIA_NAMES,
    Hit,
    Raw,
    bank_hit,
    bank_targets,
    capture_hit,
    first_seen,
    frame_counter,
    media_targets,
    pdq_variants,
    search_frames,
    search_pdq,
    search_pdq_many,
    search_vpdq,
)
from haechi.store.models import Analysis, Blob, SignalRow
from haechi.store.tables.match import BankSignal, BlobScan, SignalScan


@dataclass
class RunReport:
    indexed: dict[str, int] = field(default_factory=dict)
    signals_scanned: int = 0
    files_checked_exact: int = 0
    bank_hashes_hunted: int = 0
    new_matches: int = 0
    new_match_ids: list[int] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# -- scan: new signals of stored files ---------------------------------------------------------


def signal_hits(
    app: App,
    indexes: IndexSet,
    signal_id: int | None,
    blob: str | None,
    kind: str,
    value: str | None,
    score: float | None,
    data: dict[str, Any],
    radius: int = DEFAULT_RADIUS,
    later: set[int] | None = None,
    canvas: CanvasSource | None = None,
    elsewhere: list[tuple[str, Hit]] | None = None,
) -> list[Hit]:
    """Matches of one PDQ/vPDQ hash against banks and captures. ``signal_id``/``blob``
    identify a stored query: only captures first posted before it are returned (never
    itself), and the signal ids of matching captures first posted after it are added to
    ``later``, so that the caller scans them and each pair is recorded on its re-post.

    A picture's anchored regions (``data["regions"]``) are then looked up for what the
    whole-picture hash did not find (stage 2), checked on ``canvas`` (the query's
    pixels) or on a stored candidate's; region matches to captures first posted after
    this one are added to ``elsewhere`` as (that file, its hit)."""
    if kind == "pdq" and (not value or (score is not None and score < QUALITY_THRESHOLD)):
        return []
    other = "vpdq" if kind == "pdq" else "pdq"
    bank_names = {BANK_NAMES[kind], BANK_NAMES[other]}
    with app.db.connect() as conn:
        raws: list[Raw]
        if kind == "pdq":
            assert value is not None
            variants = pdq_variants(value, data)
            names = [BANK_NAMES[kind], MEDIA_NAMES[kind], BANK_NAMES[other], MEDIA_NAMES[other]]
            raws = search_pdq(indexes, variants, names, radius)
        else:
            frames = data.get("frames", [])
            names = [BANK_NAMES[kind], MEDIA_NAMES[kind]]
            raws = search_vpdq(indexes, frames, names, radius, frame_counter(conn))
            raws += search_frames(indexes, frames, [BANK_NAMES[other], MEDIA_NAMES[other]], radius)
        banks = bank_targets(conn, [r.target_id for r in raws if r.index in bank_names])
        media = media_targets(conn, [r.target_id for r in raws if r.index not in bank_names])
        whole = {f"blob:{m.blob_sha256}" for m in media.values()}  # before the order filter
        whole |= {f"bank-signal:{b}" for b in banks}
        if signal_id is not None and blob is not None and media:
            order = first_seen(conn, {blob, *(m.blob_sha256 for m in media.values())})
            mine = order[blob]
            for sid, m in list(media.items()):
                if m.blob_sha256 != blob and order[m.blob_sha256] > mine:
                    del media[sid]  # a re-post of this file: recorded when it is scanned
                    if later is not None:
                        later.add(sid)
    hits = []
    for r in raws:
        hit_kind = kind if INDEX_KIND[r.index] == kind else FRAME
        if hit_kind == FRAME and kind == "pdq":  # the target is the video: name its frame
            r = Raw(r.index, r.target_id, r.distance, r.transform, r.score,
                    {**r.details, "video_frame": r.aux}, r.aux)  # fmt: skip
        if r.index in bank_names and r.target_id in banks:
            hits.append(bank_hit(hit_kind, r, banks[r.target_id], value, radius))
        elif r.index not in bank_names and r.target_id in media:
            target = media[r.target_id]
            if target.blob_sha256 != blob:
                hits.append(capture_hit(hit_kind, r, target, value, radius))
    best: dict[str, Hit] = {}
    for h in hits:  # several signals of one file (animation frames): keep the closest
        if h.kind == "pdq":
            h = replace(h, details={**h.details, "stage": "whole"})
        if h.target not in best or (h.distance or 0) < (best[h.target].distance or 0):
            best[h.target] = h
    regions = regions_of(data) if kind == "pdq" else None
    if regions is not None and len(regions):
        own_hits, theirs = region_stage(
            app, indexes, regions=regions, value=value, blob=blob, signal_id=signal_id,
            found=set(best) | whole, canvas=canvas,
        )  # fmt: skip
        for region_hit in own_hits:
            best.setdefault(region_hit.target, region_hit)
        if elsewhere is not None:
            elsewhere += theirs
    return list(best.values())


def scan_signals(app: App, indexes: IndexSet, *, rescan: bool = False) -> tuple[int, list[int]]:
    """Match every PDQ/vPDQ signal not yet scanned (all of them with ``rescan``)."""
    scanned, last = 0, 0
    new_ids: list[int] = []
    while True:
        q = (
            select(SignalRow.id, SignalRow.blob_sha256, SignalRow.kind, SignalRow.value,
                   SignalRow.score, SignalRow.data_json)
            .join(Analysis, Analysis.id == SignalRow.analysis_id)
            .where(SignalRow.kind.in_(["pdq", "vpdq"]), Analysis.status == "ok",
                   SignalRow.id > last)
            .order_by(SignalRow.id)
            .limit(PAGE)
        )  # fmt: skip
        if not rescan:
            q = q.outerjoin(SignalScan, SignalScan.signal_id == SignalRow.id).where(
                SignalScan.signal_id.is_(None)
            )
        with app.db.connect() as conn:
            page = conn.execute(q).all()
        if not page:
            return scanned, new_ids
        found: list[tuple[str, Hit]] = []
        done: list[tuple[int, int]] = []
        later: set[int] = set()
        for sid, blob, kind, value, score, data in page:
            parsed = orjson.loads(data) if data else {}
            hits = signal_hits(app, indexes, sid, blob, kind, value, score, parsed, later=later,
                               canvas=_vault_canvas(app, blob), elsewhere=found)  # fmt: skip
            found += [(blob, h) for h in hits]
            done.append((sid, len(hits)))
        found += _rescan_later(app, indexes, later - {d[0] for d in done})
        new_ids += store_hits(app, found, scanned_signals=done)
        scanned += len(page)
        last = page[-1][0]


def _rescan_later(app: App, indexes: IndexSet, ids: set[int]) -> list[tuple[str, Hit]]:
    """The hits of already indexed signals whose files were found to be re-posts of a
    file scanned just now (their own scan ran before that file was indexed)."""
    found: list[tuple[str, Hit]] = []
    todo = sorted(ids)
    for start in range(0, len(todo), PAGE):
        with app.db.connect() as conn:
            rows = conn.execute(
                select(SignalRow.id, SignalRow.blob_sha256, SignalRow.kind, SignalRow.value,
                       SignalRow.score, SignalRow.data_json)
                .where(SignalRow.id.in_(todo[start : start + PAGE]))
            ).all()  # fmt: skip
        for sid, blob, kind, value, score, data in rows:
            parsed = orjson.loads(data) if data else {}
            hits = signal_hits(app, indexes, sid, blob, kind, value, score, parsed,
                               canvas=_vault_canvas(app, blob), elsewhere=found)  # fmt: skip
            found += [(blob, h) for h in hits]
    return found


def _vault_canvas(app: App, blob: str) -> CanvasSource:
    return Lazy(lambda: stored_canvas(app, blob))


# -- exact: md5 and SHA-256 of stored files ------------------------------------------------------


def check_exact(app: App) -> tuple[int, list[int]]:
    checked = 0
    new_ids: list[int] = []
    while True:
        with app.db.connect() as conn:
            page = conn.execute(
                select(Blob.sha256, Blob.md5)
                .outerjoin(BlobScan, BlobScan.blob_sha256 == Blob.sha256)
                .where(BlobScan.blob_sha256.is_(None))
                .order_by(Blob.sha256)
                .limit(PAGE)
            ).all()
            if not page:
                return checked, new_ids
            by_value = {("md5", md5): sha for sha, md5 in page}
            by_value.update({("sha256", sha): sha for sha, _ in page})
            matched: list[Any] = []
            for kind in ("md5", "sha256"):
                values = [v for k, v in by_value if k == kind]
                matched += conn.execute(
                    select(BankSignal.id, BankSignal.kind, BankSignal.value).where(
                        BankSignal.kind == kind, BankSignal.value.in_(values)
                    )
                ).all()
            targets = bank_targets(conn, [m[0] for m in matched])
        found = []
        for signal_id, kind, value in matched:
            if signal_id in targets:
                raw = Raw("exact", signal_id, 0)
                hit = bank_hit(kind, raw, targets[signal_id], value, 0)
                found.append((by_value[(kind, value)], hit))
        new_ids += store_hits(app, found, checked_blobs=[sha for sha, _ in page])
        checked += len(page)


# -- hunt: new bank hashes against everything stored -------------------------------------------


def _hunt_page(app: App, indexes: IndexSet, page: Sequence[Any]) -> list[tuple[str, Hit]]:
    """The stored files matching a page of bank hashes, in the page's order: md5 and
    SHA-256 in one query, whole-picture PDQ in one vectorised pass per index for the
    whole page, vPDQ one video at a time, then each PDQ hash's regions."""
    with app.db.connect() as conn:
        targets = bank_targets(conn, [b.id for b in page])
        rows = [(b, targets[b.id], orjson.loads(b.data_json) if b.data_json else {})
                for b in page if b.id in targets]  # fmt: skip
        exact = _exact_blobs(conn, [(b.kind, b.value) for b, _, _ in rows])
        whole = [(b, d) for b, _, d in rows if b.kind == "pdq" and not _low_quality(b)]
        found = search_pdq_many(indexes, [pdq_variants(b.value, d) for b, d in whole],
                                [MEDIA_PDQ, MEDIA_VPDQ], DEFAULT_RADIUS)  # fmt: skip
        raws: dict[int, list[Raw]] = {b.id: r for (b, _), r in zip(whole, found, strict=True)}
        for b, _, data in rows:
            if b.kind == "vpdq":
                frames = data.get("frames", [])
                raws[b.id] = search_vpdq(indexes, frames, [MEDIA_VPDQ], DEFAULT_RADIUS,
                                         frame_counter(conn))  # fmt: skip
                raws[b.id] += search_frames(indexes, frames, [MEDIA_PDQ], DEFAULT_RADIUS)
        media = media_targets(conn, [r.target_id for rs in raws.values() for r in rs])
    out: list[tuple[str, Hit]] = []
    for b, target, data in rows:
        if b.kind in ("md5", "sha256"):
            out += [(s, bank_hit(b.kind, Raw("exact", target.signal_id, 0), target, b.value, 0))
                    for s in exact.get((b.kind, b.value), [])]  # fmt: skip
        elif b.kind in ("pdq", "vpdq"):
            hits = _bank_hits(b.kind, raws.get(b.id, []), media, target)
            out += hits
            if b.kind == "pdq":
                out += _hunt_regions(app, indexes, target, data, {blob for blob, _ in hits})
    return out


def _low_quality(bank_signal: Any) -> bool:
    """A PDQ hash too weak to match whole (only its regions are hunted)."""
    return bank_signal.quality is not None and bank_signal.quality < QUALITY_THRESHOLD


def _exact_blobs(conn: Any, wanted: Sequence[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
    """The stored files (SHA-256) whose md5 or SHA-256 is one of ``wanted`` (kind, value)."""
    out: dict[tuple[str, str], list[str]] = {}
    for kind, column in (("md5", Blob.md5), ("sha256", Blob.sha256)):
        values = sorted({v for k, v in wanted if k == kind})
        for start in range(0, len(values), PAGE):
            for value, sha in conn.execute(
                select(column, Blob.sha256).where(column.in_(values[start : start + PAGE]))
            ):
                out.setdefault((kind, value), []).append(sha)
    return out


def _bank_hits(
    kind: str, raws: Sequence[Raw], media: dict[int, Any], target: Any
) -> list[tuple[str, Hit]]:
    """Index rows a bank hash (``target``) found, as matches recorded on the stored files."""
    out = []
    for r in raws:
        m = media.get(r.target_id)
        if m is None:
            continue
        hit_kind = kind if INDEX_KIND[r.index] == kind else FRAME
        transform = INVERSE.get(r.transform or "", r.transform)  # as a variant of the stored file
        details = dict(r.details)
        if hit_kind == FRAME and kind == "pdq":
            details["video_frame"] = r.aux  # the stored file is the video
        if hit_kind == "vpdq":  # the stored video is the query: swap the two shares
            details = {
                **details,
                "query_match_percent": r.details.get("compared_match_percent"),
                "compared_match_percent": r.details.get("query_match_percent"),
            }
        if hit_kind == "pdq":
            details["stage"] = "whole"
        raw = Raw(r.index, r.target_id, r.distance, transform,
                  details.get("query_match_percent", r.score), details)  # fmt: skip
        out.append((m.blob_sha256, bank_hit(hit_kind, raw, target, m.value, DEFAULT_RADIUS)))
    return out


def _hunt_regions(
    app: App, indexes: IndexSet, target: Any, data: dict[str, Any], found: set[str]
) -> list[tuple[str, Hit]]:
    regions = regions_of(data)
    if regions is None or not len(regions):
        return []
    return hunt_regions(app, indexes, target, regions, found)


def _bank_pages(app: App, ids: Sequence[int] | None) -> Iterator[list[Any]]:
    """Bank hashes by id, a page at a time: ``ids``, or every one not yet hunted."""
    base = select(BankSignal).order_by(BankSignal.id)
    if ids is not None:
        wanted = sorted(set(ids))
        for start in range(0, len(wanted), PAGE):
            with app.db.connect() as conn:
                page = conn.execute(
                    base.where(BankSignal.id.in_(wanted[start : start + PAGE]))
                ).all()
            if page:
                yield list(page)
        return
    last = 0
    while True:
        with app.db.connect() as conn:
            page = conn.execute(
                base.where(BankSignal.id > last, BankSignal.hunted_at.is_(None)).limit(PAGE)
            ).all()
        if not page:
            return
        yield list(page)
        last = page[-1].id


def hunt_bank_signals(app: App, ids: Sequence[int] | None = None) -> int:
    """Match bank hashes (``ids``, or every one not yet hunted) against stored files."""
    indexes = IndexSet(app)
    indexes.sync([MEDIA_PDQ, MEDIA_VPDQ, MEDIA_REGION])
    new = 0
    for page in _bank_pages(app, ids):
        found = _hunt_page(app, indexes, page)
        new += len(store_hits(app, found, hunted=[b.id for b in page]))
    return new


def run_matching(app: App, *, rescan: bool = False) -> RunReport:
    """Sync the indexes, then scan, check exact hashes and hunt (see the module doc)."""
    report = RunReport()
    indexes = IndexSet(app)
    report.indexed = indexes.sync()
    report.signals_scanned, ids = scan_signals(app, indexes, rescan=rescan)
    report.files_checked_exact, exact_ids = check_exact(app)
    with app.db.connect() as conn:
        pending = (
            conn.execute(select(BankSignal.id).where(BankSignal.hunted_at.is_(None)))
            .scalars()
            .all()
        )
    report.bank_hashes_hunted = len(pending)
    hunted = hunt_bank_signals(app, None) if pending else 0
    report.new_match_ids = ids + exact_ids
    report.new_matches = len(report.new_match_ids) + hunted
    return report
