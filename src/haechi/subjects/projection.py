"""Copy ``face`` signals into the ``faces`` table, where search and clustering read them.

Idempotent (a signal becomes at most one face row) and incremental: the analysis hook
passes the ids of a committed batch; ``project_faces(app, None)`` catches up on everything
(after a crash between a batch's commit and its hook, or on a database restored from a
backup). When a newer version of the analyzer has analysed a file, the older version's
faces of that file stop being *active*: search, clustering and the index use one
analysis per file, the newest.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import and_, exists, func, select, update

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.store.models import Analysis, SignalRow
from haechi.store.tables.faces import FaceRow

ANALYZER = "faces"
PAGE = 2000


def _rows(conn: object, analysis_ids: Sequence[int] | None, after: int) -> list[tuple]:
    q = (
        select(
            SignalRow.id,
            SignalRow.analysis_id,
            SignalRow.blob_sha256,
            SignalRow.score,
            SignalRow.data_json,
            Analysis.version,
        )
        .join(Analysis, Analysis.id == SignalRow.analysis_id)
        .where(
            Analysis.analyzer == ANALYZER,
            Analysis.status == "ok",
            SignalRow.kind == "face",
            SignalRow.id > after,
            ~exists().where(FaceRow.signal_id == SignalRow.id),
        )
        .order_by(SignalRow.id)
        .limit(PAGE)
    )
    if analysis_ids is not None:
        q = q.where(SignalRow.analysis_id.in_(list(analysis_ids)))
    return list(conn.execute(q).all())  # type: ignore[attr-defined]


def _face(row: tuple) -> dict[str, object] | None:
    signal_id, analysis_id, sha, score, data_json, version = row
    try:
        data = orjson.loads(data_json or b"{}")
        x, y, w, h = (int(v) for v in data["box"])
        embedding = codec.to_bytes(codec.decode(data["embedding"]))
    except (KeyError, ValueError, TypeError, orjson.JSONDecodeError):
        return None  # not one of ours (a third-party analyzer's "face" signal)
    return {
        "signal_id": signal_id,
        "analysis_id": analysis_id,
        "blob_sha256": sha,
        "analyzer_version": version,
        "face_no": int(data.get("i", 0)),
        "x": x,
        "y": y,
        "w": w,
        "h": h,
        "score": float(score or 0.0),
        "size": int(data.get("size", min(w, h))),
        "sharpness": float(data.get("sharpness", 0.0)),
        "embedding": embedding,
        "active": True,
    }


def project_faces(app: App, analysis_ids: Sequence[int] | None = None) -> tuple[int, int]:
    """Returns (faces added, faces retired because a newer analysis replaced them)."""
    if analysis_ids is not None and not analysis_ids:
        return 0, 0
    added = 0
    last = 0
    while True:
        with app.db.connect() as conn:
            rows = _rows(conn, analysis_ids, last)
        if not rows:
            break
        faces = [f for f in (_face(r) for r in rows) if f is not None]
        with app.db.begin() as conn:
            app.db.insert_ignore(conn, FaceRow, faces)
        added += len(faces)
        last = int(rows[-1][0])
    return added, retire_superseded(app, analysis_ids)


def retire_superseded(app: App, analysis_ids: Sequence[int] | None = None) -> int:
    """Mark inactive every face whose file has a newer successful ``faces`` analysis."""
    newest = (
        select(func.max(Analysis.id))
        .where(
            Analysis.blob_sha256 == FaceRow.blob_sha256,
            Analysis.analyzer == ANALYZER,
            Analysis.status == "ok",
        )
        .scalar_subquery()
    )
    stmt = update(FaceRow).where(and_(FaceRow.active.is_(True), FaceRow.analysis_id < newest))
    if analysis_ids is not None:
        blobs = select(Analysis.blob_sha256).where(Analysis.id.in_(list(analysis_ids)))
        stmt = stmt.where(FaceRow.blob_sha256.in_(blobs))
    with app.db.begin() as conn:
        result = conn.execute(stmt.values(active=False, cluster_id=None))
    return int(result.rowcount or 0)


def catch_up(app: App) -> tuple[int, int]:
    """Project whatever the hook missed (a crash between a batch's commit and its hook):
    two counts when nothing is missing, a full pass otherwise."""
    with app.db.connect() as conn:
        signals = conn.execute(
            select(func.count())
            .select_from(SignalRow)
            .join(Analysis, Analysis.id == SignalRow.analysis_id)
            .where(Analysis.analyzer == ANALYZER, Analysis.status == "ok", SignalRow.kind == "face")
        ).scalar_one()
        faces = conn.execute(select(func.count()).select_from(FaceRow)).scalar_one()
    if signals == faces:
        return 0, 0
    return project_faces(app, None)
