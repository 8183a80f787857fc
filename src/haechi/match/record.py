"""Recording matches: each new match is one ``match_hits`` row and one signed ``match``
custody event, written in the same transaction with the bookkeeping of what was scanned,
checked or hunted (``haechi.match.matching`` finds them). A match is unique per stored
file, kind and target, so recording the same hits twice adds nothing; a region-stage
match of a pair the whole-picture hash already matched is not recorded.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from sqlalchemy import insert, select, update

from haechi.app import App
from haechi.match import events
from haechi.match.regions import STAGE
from haechi.match.search import Hit
from haechi.store.custody import Draft, utc_now
from haechi.store.tables.match import BankSignal, BlobScan, MatchRow, SignalScan

PAGE = 500


def event_data(blob_sha256: str, hit: Hit) -> dict[str, Any]:
    target: dict[str, Any]
    if hit.is_bank:
        target = {
            "type": "bank",
            "bank": hit.bank_name,
            "bank_id": hit.bank_id,
            "item_id": hit.bank_item_id,
            "signal_id": hit.bank_signal_id,
            "external_id": hit.external_id,
            "labels": list(hit.labels),
            "value": hit.target_value,
        }
    else:
        target = {"type": "capture", "sha256": hit.target_blob_sha256, "value": hit.target_value}
    return {
        "sha256": blob_sha256,
        "kind": hit.kind,
        "distance": hit.distance,
        "threshold": hit.threshold,
        "transform": hit.transform,
        "score": hit.score,
        "query_value": hit.query_value,
        "target": target,
        "details": hit.details,
    }


def store_hits(
    app: App,
    hits: Sequence[tuple[str, Hit]],
    *,
    scanned_signals: Sequence[tuple[int, int]] = (),
    checked_blobs: Sequence[str] = (),
    hunted: Sequence[int] = (),
) -> list[int]:
    """Record new matches (rows + custody events) and the bookkeeping, in one
    transaction. Returns the ids of the matches that were new."""
    now = utc_now()
    with app.db.begin() as conn:
        fresh: list[tuple[str, Hit]] = []
        keys = {(b, h.kind, h.target) for b, h in hits}
        existing: set[tuple[str, str, str]] = set()
        blobs = sorted({k[0] for k in keys})
        for start in range(0, len(blobs), PAGE):
            found = conn.execute(
                select(MatchRow.blob_sha256, MatchRow.kind, MatchRow.target).where(
                    MatchRow.blob_sha256.in_(blobs[start : start + PAGE])
                )
            )
            existing.update((b, k, t) for b, k, t in found)
        seen: set[tuple[str, str, str]] = set()
        # Region matches last: a pair the whole-picture hash matched needs no region match.
        for blob, hit in sorted(hits, key=lambda bh: bh[1].kind == STAGE):
            key = (blob, hit.kind, hit.target)
            if key in existing or key in seen:
                continue
            if hit.kind == STAGE and {(blob, "pdq", hit.target)} & (existing | seen):
                continue
            seen.add(key)
            fresh.append((blob, hit))
        ids: list[int] = []
        if fresh:
            drafts = [Draft(events.MATCH, b, event_data(b, h)) for b, h in fresh]
            seqs = app.custody.append_many(conn, drafts)
            rows = [_row(b, h, now, seq) for (b, h), seq in zip(fresh, seqs, strict=True)]
            for row in rows:
                ids.append(
                    conn.execute(insert(MatchRow).values(**row).returning(MatchRow.id)).scalar_one()
                )
        hits_by_signal = dict(scanned_signals)
        if hits_by_signal:
            app.db.insert_ignore(
                conn,
                SignalScan,
                [{"signal_id": s, "scanned_at": now, "hits": n} for s, n in hits_by_signal.items()],
            )
        if checked_blobs:
            app.db.insert_ignore(
                conn, BlobScan, [{"blob_sha256": b, "scanned_at": now} for b in checked_blobs]
            )
        if hunted:
            conn.execute(
                update(BankSignal).where(BankSignal.id.in_(list(hunted))).values(hunted_at=now)
            )
    return ids


def _row(blob: str, hit: Hit, now: str, seq: int) -> dict[str, Any]:
    details = dict(hit.details)
    if hit.labels:
        details["labels"] = list(hit.labels)
    if hit.external_id:
        details["external_id"] = hit.external_id
    return {
        "blob_sha256": blob,
        "kind": hit.kind,
        "target": hit.target,
        "distance": hit.distance,
        "score": hit.score,
        "transform": hit.transform,
        "threshold": hit.threshold,
        "query_value": hit.query_value,
        "target_value": hit.target_value,
        "target_blob_sha256": hit.target_blob_sha256,
        "bank_id": hit.bank_id,
        "bank_item_id": hit.bank_item_id,
        "bank_signal_id": hit.bank_signal_id,
        "bank_name": hit.bank_name,
        "details_json": orjson.dumps(details).decode() if details else None,
        "created_at": now,
        "custody_seq": seq,
    }
