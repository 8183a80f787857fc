"""Re-upload watch by face: an altered copy of removed content (cropped, resized, re-encoded,
mirrored) has new hashes, and often a new PDQ too, but it still shows the same face.

When a notice is marked removed, every active face the faces capability found in the files
of its items becomes a watched **template**: a ``reupload_watches`` row (method ``face``,
value the SHA-256 of the template, which is all a custody event names) and a
``reupload_templates`` row holding the embedding itself — 128 numbers, never a picture or
a crop. Files of removed items whose faces are analysed only later are caught up at every
scan, so the order of ``haechi analyze`` and ``haechi notice mark ... removed`` does not
matter.

At every scan (after each ingest, which runs after the analysis so new faces are already
projected and indexed, and on ``haechi notice watch``) the templates are looked up in the
face index through its public API (``FaceIndex.for_app``, ``sync``, ``within``, exhaustive)
with the calibrated search threshold (``subjects.model.SEARCH_THRESHOLD``, 0.55). A stored
file with a face that close, other than the watched item's own files, is a candidate; the
re-upload watch then raises the hit exactly as for a hash (``watch.scan``). Like a face
search, a hit is a candidate for a person to confirm, never an identification.

The faces capability is optional: without it (or without its index library) nothing here
runs, and the hash watches go on.
"""

from __future__ import annotations

import hashlib
import logging
from collections import defaultdict
from types import SimpleNamespace
from typing import Any

from sqlalchemy import Connection, insert, select

from haechi.app import App
from haechi.cases import events as ev
from haechi.store.tables.cases import ReuploadTemplate, ReuploadWatch

METHOD = "face"
CHUNK = 500
log = logging.getLogger(__name__)


def _faces() -> SimpleNamespace | None:
    """The faces capability's public pieces, or None when it is not installed."""
    try:
        from haechi.analyze.faces import codec
        from haechi.match.face_index import FaceIndex
        from haechi.store.tables.faces import FaceRow
        from haechi.subjects.model import SEARCH_THRESHOLD
        from haechi.subjects.projection import catch_up
    except ImportError:
        return None
    return SimpleNamespace(
        codec=codec,
        FaceIndex=FaceIndex,
        FaceRow=FaceRow,
        threshold=SEARCH_THRESHOLD,
        catch_up=catch_up,
    )


def _chunks(values: list[str]) -> list[list[str]]:
    return [values[i : i + CHUNK] for i in range(0, len(values), CHUNK)]


def register_templates(app: App, conn: Connection, notice_id: int | None = None) -> int:
    """Watch the faces of removed items' files (one notice's, or every removed one's) that
    are not watched yet; returns how many templates were added. The files are those the
    exact watch holds (``sha256`` watches), so this runs after ``register_removed``."""
    faces = _faces()
    if faces is None:
        return 0
    fresh = _pending(conn, faces, notice_id)
    return _write(app, conn, faces, fresh) if fresh else 0


def catch_up_templates(app: App) -> int:
    """Templates for removed items whose faces were analysed after the removal. Reads first
    and writes only when something is new: it runs after every ingest."""
    faces = _faces()
    if faces is None:
        return 0
    with app.db.connect() as conn:
        watched = conn.execute(
            select(ReuploadWatch.id)
            .where(ReuploadWatch.active.is_(True), ReuploadWatch.method == "sha256")
            .limit(1)
        ).first()
    if watched is None:
        return 0
    faces.catch_up(app)  # faces an interrupted analysis hook did not project yet
    with app.db.connect() as conn:
        if not _pending(conn, faces, None):
            return 0
    with app.db.begin() as conn:
        return register_templates(app, conn)


def _pending(
    conn: Connection, faces: SimpleNamespace, notice_id: int | None
) -> dict[tuple[int, str], dict[str, Any]]:
    """{(item id, template SHA-256): template} for active faces of watched files that no
    ``face`` watch of that item holds yet."""
    stmt = select(
        ReuploadWatch.case_id,
        ReuploadWatch.case_item_id,
        ReuploadWatch.notice_id,
        ReuploadWatch.value,
    ).where(ReuploadWatch.active.is_(True), ReuploadWatch.method == "sha256")
    if notice_id is not None:
        stmt = stmt.where(ReuploadWatch.notice_id == notice_id)
    owners: dict[str, list[tuple[int, int, int | None]]] = defaultdict(list)
    for case_id, item_id, nid, sha in conn.execute(stmt):
        owners[sha].append((case_id, item_id, nid))
    if not owners:
        return {}
    known = {
        (int(item_id), str(value))
        for item_id, value in conn.execute(
            select(ReuploadWatch.case_item_id, ReuploadWatch.value).where(
                ReuploadWatch.method == METHOD
            )
        )
    }
    row = faces.FaceRow
    fresh: dict[tuple[int, str], dict[str, Any]] = {}
    for part in _chunks(sorted(owners)):
        for sha, face_no, embedding in conn.execute(
            select(row.blob_sha256, row.face_no, row.embedding)
            .where(row.blob_sha256.in_(part), row.active.is_(True))
            .order_by(row.id)
        ):
            raw = bytes(embedding)
            digest = hashlib.sha256(raw).hexdigest()
            for case_id, item_id, nid in owners[sha]:
                if (item_id, digest) not in known:
                    fresh.setdefault(
                        (item_id, digest),
                        {"case": case_id, "notice": nid, "sha": sha, "no": face_no, "raw": raw},
                    )
    return fresh


def _write(
    app: App,
    conn: Connection,
    faces: SimpleNamespace,
    fresh: dict[tuple[int, str], dict[str, Any]],
) -> int:
    logged: dict[tuple[int, int | None], list[dict[str, Any]]] = defaultdict(list)
    for (item_id, digest), t in fresh.items():
        watch_id = conn.execute(
            insert(ReuploadWatch)
            .values(
                case_id=t["case"],
                case_item_id=item_id,
                notice_id=t["notice"],
                method=METHOD,
                value=digest,
                backend_ref=faces.codec.MODEL,
                created_at=ev.now_iso(),
                active=True,
            )
            .returning(ReuploadWatch.id)
        ).scalar_one()
        conn.execute(
            insert(ReuploadTemplate).values(
                watch_id=watch_id,
                blob_sha256=t["sha"],
                face_no=int(t["no"]),
                model=faces.codec.MODEL,
                embedding=t["raw"],
            )
        )
        logged[(t["case"], t["notice"])].append(
            {"item_id": item_id, "template_sha256": digest, "blob_sha256": t["sha"]}
        )
    for (case_id, nid), templates in logged.items():
        ev.record(
            app,
            conn,
            case_id,
            ev.WATCH_ADDED,
            {
                "notice_id": nid,
                "method": METHOD,
                "model": faces.codec.MODEL,
                "threshold": faces.threshold,
                "templates": templates,
            },
        )
    return len(fresh)


def face_matches(app: App) -> dict[int, dict[str, float | None]]:
    """Per active face watch: the stored files showing a face within the threshold of its
    template, with the closest distance; the watched item's own files are left to the
    exact watch. Read before the scan's write transaction opens (and after
    :func:`catch_up_templates`, which projects faces a crashed analysis hook missed)."""
    faces = _faces()
    if faces is None:
        return {}
    with app.db.connect() as conn:
        watches = conn.execute(
            select(ReuploadWatch.id, ReuploadWatch.case_item_id, ReuploadTemplate.embedding)
            .join(ReuploadTemplate, ReuploadTemplate.watch_id == ReuploadWatch.id)
            .where(
                ReuploadWatch.active.is_(True),
                ReuploadWatch.method == METHOD,
                ReuploadTemplate.model == faces.codec.MODEL,
            )
            .order_by(ReuploadWatch.id)
        ).all()
        own: dict[int, set[str]] = defaultdict(set)
        for item_id, sha in conn.execute(
            select(ReuploadWatch.case_item_id, ReuploadWatch.value).where(
                ReuploadWatch.method == "sha256"
            )
        ):
            own[item_id].add(sha)
    if not watches:
        return {}
    index = faces.FaceIndex.for_app(app)
    index.sync(app)
    # exhaustive: the watch runs once per ingest over a few templates, and a re-upload it
    # misses stays online, so it reads every cell rather than the search's default share
    found = index.within(
        faces.codec.stack([bytes(w.embedding) for w in watches]), faces.threshold, exhaustive=True
    )
    face_ids = sorted({h.face_id for hits in found for h in hits})
    blob_of: dict[int, str] = {}
    row = faces.FaceRow
    with app.db.connect() as conn:
        for start in range(0, len(face_ids), CHUNK):
            for face_id, face_sha in conn.execute(
                select(row.id, row.blob_sha256).where(
                    row.id.in_(face_ids[start : start + CHUNK]), row.active.is_(True)
                )
            ):
                blob_of[int(face_id)] = str(face_sha)
    out: dict[int, dict[str, float | None]] = {}
    for watch, hits in zip(watches, found, strict=True):
        closest: dict[str, float] = {}
        for h in hits:
            file = blob_of.get(h.face_id)
            if file is None or file in own[watch.case_item_id]:
                continue
            closest[file] = min(h.distance, closest.get(file, h.distance))
        out[watch.id] = dict(closest)
    return out
