"""The review queue: files in the order staff should look at them, most exposed first.

Ordered by the newest nudity score (highest first), then SHA-256 for a stable order;
files whose nudity analysis has not run (or failed) come last, with no score, so nothing
is silently left out of review.
"""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from sqlalchemy import and_, func, select

from haechi.app import App
from haechi.store.models import Analysis, ArtifactRow, Blob, SignalRow

REVIEW_KINDS = ("image", "animation", "video")


@dataclass(frozen=True)
class QueueItem:
    sha256: str
    kind: str | None
    score: float | None  # None: no nudity result (not analysed or failed)
    exposed: bool
    regions: int
    has_preview: bool


def review_queue(
    app: App, *, limit: int = 50, offset: int = 0, min_score: float | None = None
) -> list[QueueItem]:
    """One page of the queue. ``min_score`` keeps only files scored at least that."""
    newest = (
        select(Analysis.blob_sha256.label("sha"), func.max(Analysis.id).label("aid"))
        .where(Analysis.analyzer == "nudity", Analysis.status == "ok")
        .group_by(Analysis.blob_sha256)
        .subquery()
    )
    q = (
        select(
            Blob.sha256,
            Blob.kind,
            SignalRow.score,
            SignalRow.value,
            SignalRow.data_json,
            ArtifactRow.id,
        )
        .select_from(Blob)
        .outerjoin(newest, newest.c.sha == Blob.sha256)
        .outerjoin(
            SignalRow, and_(SignalRow.analysis_id == newest.c.aid, SignalRow.kind == "nudity")
        )
        .outerjoin(
            ArtifactRow,
            and_(ArtifactRow.analysis_id == newest.c.aid, ArtifactRow.name == "safe_preview"),
        )
        .where(Blob.kind.in_(REVIEW_KINDS))
    )
    if min_score is not None:
        q = q.where(SignalRow.score >= min_score)
    q = q.order_by(SignalRow.score.is_(None), SignalRow.score.desc(), Blob.sha256)
    q = q.limit(limit).offset(offset)
    with app.db.connect() as conn:
        rows = conn.execute(q).all()
    out = []
    for sha, kind, score, value, data, art in rows:
        regions = len(orjson.loads(data).get("regions", [])) if data else 0
        out.append(QueueItem(str(sha), kind, score, value == "exposed", regions, art is not None))
    return out
