"""Face search: a subject's templates (or a probe photo) against every face in the archive.

Rules, enforced here so that the CLI, the web UI and the API cannot skip them:

* A subject search needs an active consent whose scope includes ``search`` (not withdrawn,
  not expired); a probe search needs a stated basis (the consent or the legal authority)
  and keeps nothing of the photo but its SHA-256.
* Every search needs a reason and is logged, with the staff member, the reason, the basis,
  the threshold and what it showed (``face_searches``, plus a ``face_search`` custody
  event holding the SHA-256 of the result list), in one transaction, *before* the result
  is returned.
* The threshold is the calibrated one (:data:`~haechi.subjects.model.SEARCH_THRESHOLD`)
  unless staff choose another within [0.3, 0.7]; results are ranked by distance and are
  candidates for a person to confirm.
* Past the index's exact limit a search reads part of the inverted file (range recall
  >= 0.99 measured against brute force, ``bench/bench_faces.py``) unless staff ask for an
  ``exhaustive`` one; which of the two ran (and the index's ``nlist``/``nprobe``) is in the
  custody event and the result.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import orjson
from sqlalchemy import bindparam, insert, select, update

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.i18n import t_
from haechi.match.face_index import FaceIndex
from haechi.store.custody import Draft, canonical, utc_now
from haechi.store.tables.faces import FaceRow, FaceSearch
from haechi.subjects.enroll import read_photo_file, reference_from_bytes
from haechi.subjects.model import (
    SEARCH_THRESHOLD,
    ConsentScope,
    ImageHit,
    SearchLogEntry,
    SearchResult,
    SubjectError,
)
from haechi.subjects.projection import catch_up
from haechi.subjects.service import get_subject, subject_templates
from haechi.subjects.sightings import sightings_for

FACE_SEARCH = "face_search"
MIN_THRESHOLD, MAX_THRESHOLD = 0.3, 0.7
CHUNK = 500


def _check(reason: str, threshold: float) -> None:
    if len(reason.strip()) < 5:
        raise SubjectError(
            t_("Give the reason for this search (at least 5 characters); it is logged.")
        )
    if not MIN_THRESHOLD <= threshold <= MAX_THRESHOLD:
        raise SubjectError(
            t_(
                "The threshold must be between {min_threshold} and "
                "{max_threshold} (calibrated: {search_threshold}).",
                min_threshold=MIN_THRESHOLD,
                max_threshold=MAX_THRESHOLD,
                search_threshold=SEARCH_THRESHOLD,
            )
        )


def search_subject(
    app: App,
    subject_id: int,
    *,
    staff: str,
    reason: str,
    threshold: float = SEARCH_THRESHOLD,
    exhaustive: bool = False,
) -> SearchResult:
    """Every image in the archive with a face within ``threshold`` of one of the subject's
    templates, nearest first, with the chats and messages where each appeared.
    ``exhaustive`` reads every cell of the index (exact; slower past the exact limit)."""
    _check(reason, threshold)
    subject = get_subject(app, subject_id)
    if subject is None:
        raise SubjectError(t_("There is no subject {subject_id}.", subject_id=subject_id))
    if subject.status != "active":
        raise SubjectError(
            t_("Subject {subject_id} was deleted; her templates are gone.", subject_id=subject_id)
        )
    consent = subject.consent_for(ConsentScope.SEARCH)
    if consent is None:
        raise SubjectError(
            t_(
                "Subject {subject_id} has no active consent to search "
                "(withdrawn, expired, or its scope lacks 'search'): record a "
                "new consent first.",
                subject_id=subject_id,
            )
        )
    templates = codec.stack(subject_templates(app, subject_id))
    if not len(templates):
        raise SubjectError(
            t_(
                "Subject {subject_id} has no templates: enrol a reference photo.",
                subject_id=subject_id,
            )
        )
    return _search(
        app,
        templates,
        kind="subject",
        subject_id=subject_id,
        consent_id=consent.id,
        basis=f"consent:{consent.id}",
        probe_sha256=None,
        staff=staff,
        reason=reason,
        threshold=threshold,
        exhaustive=exhaustive,
    )


def search_probe(
    app: App,
    photo: Path | tuple[str, bytes],
    *,
    staff: str,
    reason: str,
    basis: str,
    threshold: float = SEARCH_THRESHOLD,
    exhaustive: bool = False,
) -> SearchResult:
    """Search with a photo that is not enrolled. ``basis`` names the consent or the legal
    authority for it; the photo itself is never stored (only its SHA-256 is logged)."""
    _check(reason, threshold)
    if len(basis.strip()) < 3:
        raise SubjectError(
            t_("A probe search needs its basis: the consent or legal authority (--basis).")
        )
    name, data = (photo.name, read_photo_file(photo)) if isinstance(photo, Path) else photo
    ref = reference_from_bytes(name, data)
    vectors = np.asarray(ref.embedding, dtype=np.float32).reshape(1, codec.DIM)
    return _search(
        app,
        vectors,
        kind="probe",
        subject_id=None,
        consent_id=None,
        basis=basis.strip(),
        probe_sha256=ref.sha256,
        staff=staff,
        reason=reason,
        threshold=threshold,
        exhaustive=exhaustive,
    )


def _search(
    app: App,
    vectors: np.ndarray,
    *,
    kind: str,
    subject_id: int | None,
    consent_id: int | None,
    basis: str,
    probe_sha256: str | None,
    staff: str,
    reason: str,
    threshold: float,
    exhaustive: bool,
) -> SearchResult:
    catch_up(app)
    index = FaceIndex.for_app(app)
    index.sync(app)
    mode = index.mode(exhaustive=exhaustive)
    best: dict[int, float] = {}
    for found in index.within(vectors, threshold, exhaustive=exhaustive):
        for hit in found:
            if hit.distance < best.get(hit.face_id, 9.0):
                best[hit.face_id] = hit.distance
    images = _images(app, best)
    places = sightings_for(app, [h[0] for h in images])
    hits = [
        ImageHit(sha, round(dist, 4), fid, box, n, places.get(sha, []))
        for sha, dist, fid, box, n in images
    ]
    results = [[h.blob_sha256, h.distance] for h in hits]
    # A probe's photo is not kept, so which face of a file matched it cannot be worked out
    # again later (a subject's templates can): a probe search keeps the face id beside
    # each file (a face of the archive, nothing of the probe). The custody event's
    # results_sha256 is of [[sha256, distance], ...] for both kinds.
    kept = [[h.blob_sha256, h.distance, h.face_id] for h in hits] if kind == "probe" else results
    now = utc_now()
    with app.db.begin() as conn:
        search_id = int(
            conn.execute(
                insert(FaceSearch)
                .values(
                    at=now,
                    staff=staff,
                    reason=reason.strip(),
                    basis=basis,
                    kind=kind,
                    subject_id=subject_id,
                    consent_id=consent_id,
                    probe_sha256=probe_sha256,
                    threshold=threshold,
                    faces=len(best),
                    images=len(hits),
                    results_json=orjson.dumps(kept).decode(),
                )
                .returning(FaceSearch.id)
            ).scalar_one()
        )
        (seq,) = app.custody.append_many(
            conn,
            [
                Draft(
                    FACE_SEARCH,
                    f"subject:{subject_id}" if subject_id else f"probe:{probe_sha256}",
                    {
                        "search_id": search_id,
                        "kind": kind,
                        "staff": staff,
                        "reason": reason.strip(),
                        "basis": basis,
                        "threshold": threshold,
                        "templates": len(vectors),
                        "model": codec.MODEL,
                        "faces": len(best),
                        "images": len(hits),
                        "results_sha256": hashlib.sha256(canonical(results)).hexdigest(),
                        "index": mode,
                    },
                )
            ],
        )
        conn.execute(update(FaceSearch).where(FaceSearch.id == search_id).values(custody_seq=seq))
    return SearchResult(search_id, kind, subject_id, threshold, len(vectors), hits, seq, mode)


# Built once, with the ids as one expanding parameter: a search matches hundreds of faces,
# and an ``in_`` of literals costs SQLAlchemy a coercion per id on every search.
_FACES_BY_ID = select(
    FaceRow.id, FaceRow.blob_sha256, FaceRow.x, FaceRow.y, FaceRow.w, FaceRow.h
).where(FaceRow.id.in_(bindparam("ids", expanding=True)), FaceRow.active.is_(True))


def _images(
    app: App, best: dict[int, float]
) -> list[tuple[str, float, int, tuple[int, int, int, int], int]]:
    """Group matched faces by file: (sha256, best distance, face id, box, faces matched)."""
    per_blob: dict[str, list[tuple[float, int, tuple[int, int, int, int]]]] = {}
    ids = sorted(best)
    with app.db.connect() as conn:
        for start in range(0, len(ids), CHUNK):
            part = ids[start : start + CHUNK]
            for fid, sha, x, y, w, h in conn.execute(_FACES_BY_ID, {"ids": part}):
                per_blob.setdefault(sha, []).append((best[fid], fid, (x, y, w, h)))
    out = []
    for sha, faces in per_blob.items():
        faces.sort()
        dist, fid, box = faces[0]
        out.append((sha, dist, fid, box, len(faces)))
    out.sort(key=lambda r: (r[1], r[0]))
    return out


def search_log(
    app: App, *, subject_id: int | None = None, limit: int = 100
) -> list[SearchLogEntry]:
    """The newest searches first: who ran them, why, on what basis, with what result."""
    with app.db.connect() as conn:
        q = select(FaceSearch.__table__).order_by(FaceSearch.id.desc()).limit(limit)
        if subject_id is not None:
            q = q.where(FaceSearch.subject_id == subject_id)
        rows = conn.execute(q).all()
    return [log_entry(r) for r in rows]


def log_entry(r: Any) -> SearchLogEntry:
    """A ``face_searches`` row as the log shows it."""
    return SearchLogEntry(
        id=r.id,
        at=r.at,
        staff=r.staff,
        reason=r.reason,
        basis=r.basis,
        kind=r.kind,
        subject_id=r.subject_id,
        probe_sha256=r.probe_sha256,
        threshold=r.threshold,
        faces=r.faces,
        images=r.images,
        custody_seq=r.custody_seq,
    )
