"""Reviewing a face search's candidates: a person confirms or rejects each one.

A search's hits are candidates, never identifications. The counsellor looks at each
candidate's face (the web page shows only the face region, as a logged act) and records
"this is her" or "this is not her". Each decision is a ``face_reviews`` row and a signed
``face_candidate_reviewed`` custody event with who and when, in one transaction. Decisions
belong to the subject and the file, so a file confirmed in one search stays confirmed in
the next; a changed mind is a new row (the newest is in force), and the same decision
twice adds nothing.

Which face of a file matched is recomputed from the subject's templates and the file's
active faces (the search log keeps the file and its distance, not the face): a subject
whose templates were deleted has no reviewable candidates any more, as it should be.
A probe search (a photo without a subject, never kept) logs the matched face's id beside
each file instead; its candidates can be looked at, one logged act each, but there is
no one to confirm them for: that needs her enrolled as a subject, with her consent.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
from sqlalchemy import Connection, func, insert, select, update

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.i18n import t_
from haechi.store.custody import Draft, utc_now
from haechi.store.models import Blob, SignalRow
from haechi.store.tables.face_reviews import FaceReview
from haechi.store.tables.faces import FaceRow, FaceSearch, Subject, SubjectTemplate
from haechi.subjects.model import SearchLogEntry, Sighting, SubjectError, SubjectInfo
from haechi.subjects.search import log_entry
from haechi.subjects.service import get_subject
from haechi.subjects.sightings import sightings_for

CANDIDATE_REVIEWED = "face_candidate_reviewed"
CONFIRMED, REJECTED = "confirmed", "rejected"
DECISIONS = (CONFIRMED, REJECTED)
PAGE = 24


@dataclass(frozen=True)
class Decision:
    decision: str
    staff: str
    at: str


@dataclass(frozen=True)
class Candidate:
    rank: int  # 1 = nearest
    blob_sha256: str
    distance: float  # as the search found it
    kind: str | None  # image / video
    face_id: int | None  # the file's face nearest her templates (None: none left)
    box: tuple[int, int, int, int] | None  # x, y, w, h in the file's (or frame's) pixels
    t: float | None  # seconds into a video: the frame the box is in
    decision: Decision | None
    sightings: list[Sighting] = field(default_factory=list)


@dataclass(frozen=True)
class Review:
    search: SearchLogEntry
    subject: SubjectInfo | None
    candidates: list[Candidate]  # this page
    total: int
    offset: int
    confirmed: int  # of all this search's candidates
    rejected: int


def _search_row(conn: Connection, search_id: int) -> Any:
    row = conn.execute(select(FaceSearch).where(FaceSearch.id == search_id)).first()
    if row is None:
        raise SubjectError(t_("There is no face search {search_id}.", search_id=search_id))
    return row


def _results(row: Any) -> list[tuple[str, float]]:
    raw = json.loads(getattr(row, "results_json", None) or "[]")
    return [(str(hit[0]), float(hit[1])) for hit in raw]


def _probe_face_ids(row: Any) -> dict[str, int]:
    """A probe search's matched face per file (searches logged before it was kept: none)."""
    raw = json.loads(getattr(row, "results_json", None) or "[]")
    return {str(hit[0]): int(hit[2]) for hit in raw if len(hit) > 2 and hit[2] is not None}


def search_entry(app: App, search_id: int) -> SearchLogEntry:
    with app.db.connect() as conn:
        return log_entry(_search_row(conn, search_id))


def _active_templates(conn: Connection, subject_id: int) -> np.ndarray | None:
    """Her templates (n x 128) while she is enrolled; None once she was deleted. Read on
    the caller's connection: her status and templates only, not her whole record."""
    status = conn.execute(select(Subject.status).where(Subject.id == subject_id)).scalar()
    if status != "active":
        return None
    rows = conn.execute(
        select(SubjectTemplate.embedding).where(SubjectTemplate.subject_id == subject_id)
    ).scalars()
    return codec.stack([bytes(r) for r in rows])


def decisions(
    conn: Connection, subject_id: int, shas: list[str] | None = None
) -> dict[str, Decision]:
    """The decision in force per file for a subject (the newest row)."""
    newest = (
        select(FaceReview.blob_sha256, func.max(FaceReview.id).label("last"))
        .where(FaceReview.subject_id == subject_id)
        .group_by(FaceReview.blob_sha256)
    )
    if shas is not None:
        newest = newest.where(FaceReview.blob_sha256.in_(shas))
    last = newest.subquery()
    rows = conn.execute(
        select(
            FaceReview.blob_sha256, FaceReview.decision, FaceReview.staff, FaceReview.decided_at
        ).join(last, last.c.last == FaceReview.id)
    ).all()
    return {sha: Decision(d, staff, at) for sha, d, staff, at in rows}


def _faces_by_id(
    conn: Connection, face_ids: dict[str, int]
) -> dict[str, tuple[int, tuple[int, int, int, int], float | None]]:
    """Per file: (face id, box, seconds into a video) of the given face, if still active."""
    if not face_ids:
        return {}
    rows = conn.execute(
        select(
            FaceRow.id, FaceRow.blob_sha256, FaceRow.x, FaceRow.y, FaceRow.w, FaceRow.h,
            SignalRow.data_json,
        )
        .join(SignalRow, SignalRow.id == FaceRow.signal_id)
        .where(FaceRow.id.in_(list(face_ids.values())), FaceRow.active.is_(True))
    ).all()  # fmt: skip
    found = {}
    for fid, sha, x, y, w, h, data in rows:
        if face_ids.get(sha) == fid:
            t = json.loads(data or "{}").get("t")
            found[sha] = (int(fid), (int(x), int(y), int(w), int(h)), t)
    return found


def _nearest_faces(
    conn: Connection, templates: np.ndarray, shas: list[str]
) -> dict[str, tuple[int, tuple[int, int, int, int], float | None]]:
    """Per file: (face id, box, seconds into a video) of its active face nearest the
    templates."""
    if not len(templates) or not shas:
        return {}
    rows = conn.execute(
        select(
            FaceRow.id,
            FaceRow.blob_sha256,
            FaceRow.x,
            FaceRow.y,
            FaceRow.w,
            FaceRow.h,
            FaceRow.embedding,
            SignalRow.data_json,
        )
        .join(SignalRow, SignalRow.id == FaceRow.signal_id)
        .where(FaceRow.blob_sha256.in_(shas), FaceRow.active.is_(True))
    ).all()
    best: dict[str, tuple[float, int, tuple[int, int, int, int], float | None]] = {}
    for fid, sha, x, y, w, h, emb, data in rows:
        vec = codec.from_bytes(bytes(emb))
        dist = float(np.min(np.linalg.norm(templates - vec, axis=1)))
        t = json.loads(data or "{}").get("t")
        if sha not in best or dist < best[sha][0]:
            best[sha] = (dist, int(fid), (int(x), int(y), int(w), int(h)), t)
    return {sha: (fid, box, t) for sha, (_d, fid, box, t) in best.items()}


def review(app: App, search_id: int, *, offset: int = 0, limit: int = PAGE) -> Review:
    """One page of a subject search's candidates, nearest first, with the decisions in
    force and where each file appeared."""
    offset, limit = max(0, offset), max(1, min(limit, 100))
    with app.db.connect() as conn:
        row = _search_row(conn, search_id)
        entry = log_entry(row)
        results = _results(row)
        page = results[offset : offset + limit]
        shas = [sha for sha, _ in page]
        in_results = {sha for sha, _ in results}
        kinds = dict(
            conn.execute(select(Blob.sha256, Blob.kind).where(Blob.sha256.in_(shas))).all()
        )
        subject: SubjectInfo | None = None
        all_decisions: dict[str, Decision] = {}
        if entry.subject_id is None:  # a probe: the faces it matched, no one to decide for
            ids = _probe_face_ids(row)
            faces = _faces_by_id(conn, {sha: ids[sha] for sha in shas if sha in ids})
        else:
            all_decisions = {
                sha: d for sha, d in decisions(conn, entry.subject_id).items() if sha in in_results
            }
            subject = get_subject(app, entry.subject_id)  # the page shows her record
            found = _active_templates(conn, entry.subject_id)
            templates = found if found is not None else np.zeros((0, codec.DIM), np.float32)
            faces = _nearest_faces(conn, templates, shas)
    places = sightings_for(app, shas)
    candidates = []
    for i, (sha, dist) in enumerate(page):
        face = faces.get(sha)
        candidates.append(
            Candidate(
                rank=offset + i + 1,
                blob_sha256=sha,
                distance=dist,
                kind=kinds.get(sha),
                face_id=face[0] if face else None,
                box=face[1] if face else None,
                t=face[2] if face else None,
                decision=all_decisions.get(sha),
                sightings=places.get(sha, []),
            )
        )
    counted = [d.decision for d in all_decisions.values()]
    return Review(
        search=entry,
        subject=subject,
        candidates=candidates,
        total=len(results),
        offset=offset,
        confirmed=counted.count(CONFIRMED),
        rejected=counted.count(REJECTED),
    )


def candidate(app: App, search_id: int, sha256: str) -> Candidate:
    """One candidate of a search (a file the search did show), or a sentence."""
    with app.db.connect() as conn:
        row = _search_row(conn, search_id)
        entry = log_entry(row)
        ranked = {sha: (i, d) for i, (sha, d) in enumerate(_results(row))}
        if sha256 not in ranked:
            raise SubjectError(
                t_("That file is not a candidate of face search {search_id}.", search_id=search_id)
            )
        kind = conn.execute(select(Blob.kind).where(Blob.sha256 == sha256)).scalar()
        current: Decision | None = None
        if entry.subject_id is None:  # a probe: the face it matched; no decisions
            ids = _probe_face_ids(row)
            wanted = {sha256: ids[sha256]} if sha256 in ids else {}
            face = _faces_by_id(conn, wanted).get(sha256)
        else:
            templates = _active_templates(conn, entry.subject_id)
            if templates is None:
                raise SubjectError(
                    t_(
                        "Subject {subject_id} was deleted; her candidates are closed.",
                        subject_id=entry.subject_id,
                    )
                )
            face = _nearest_faces(conn, templates, [sha256]).get(sha256)
            current = decisions(conn, entry.subject_id, [sha256]).get(sha256)
    rank, dist = ranked[sha256]
    return Candidate(
        rank=rank + 1,
        blob_sha256=sha256,
        distance=dist,
        kind=kind,
        face_id=face[0] if face else None,
        box=face[1] if face else None,
        t=face[2] if face else None,
        decision=current,
        sightings=sightings_for(app, [sha256]).get(sha256, []),
    )


def decide(app: App, search_id: int, sha256: str, decision: str, *, staff: str) -> bool:
    """Record ``confirmed`` or ``rejected`` for one candidate; False when that decision is
    already the one in force (a double submit adds nothing)."""
    return decide_card(app, search_id, sha256, decision, staff=staff)[0]


def decide_card(
    app: App, search_id: int, sha256: str, decision: str, *, staff: str
) -> tuple[bool, Candidate, int]:
    """``decide``, returning also the candidate as it now stands and her subject id (the
    page's card, without reading the candidate a second time)."""
    if decision not in DECISIONS:
        raise SubjectError(
            t_("A candidate is confirmed or rejected, not {decision!r}.", decision=decision)
        )
    found = candidate(app, search_id, sha256)
    subject_id = search_entry(app, search_id).subject_id
    if subject_id is None:
        raise SubjectError(t_("A probe search has no subject whose candidates could be confirmed."))
    with app.db.begin() as conn:
        current = decisions(conn, subject_id, [sha256]).get(sha256)
        if current is not None and current.decision == decision:
            return False, replace(found, decision=current), subject_id
        at = utc_now()
        review_id = int(
            conn.execute(
                insert(FaceReview)
                .values(
                    subject_id=subject_id,
                    search_id=search_id,
                    blob_sha256=sha256,
                    face_id=found.face_id,
                    distance=found.distance,
                    decision=decision,
                    staff=staff,
                    decided_at=at,
                )
                .returning(FaceReview.id)
            ).scalar_one()
        )
        (seq,) = app.custody.append_many(
            conn,
            [
                Draft(
                    CANDIDATE_REVIEWED,
                    f"subject:{subject_id}",
                    {
                        "review_id": review_id,
                        "search_id": search_id,
                        "blob_sha256": sha256,
                        "face_id": found.face_id,
                        "distance": found.distance,
                        "decision": decision,
                        "previous": current.decision if current else None,
                        "staff": staff,
                    },
                )
            ],
        )
        conn.execute(update(FaceReview).where(FaceReview.id == review_id).values(custody_seq=seq))
    return True, replace(found, decision=Decision(decision, staff, at)), subject_id


def confirmed_files(app: App, subject_id: int) -> list[str]:
    """The files confirmed as hers, in the order they were confirmed."""
    with app.db.connect() as conn:
        found = decisions(conn, subject_id)
        order = {
            sha: i
            for i, sha in enumerate(
                conn.execute(
                    select(FaceReview.blob_sha256)
                    .where(FaceReview.subject_id == subject_id)
                    .order_by(FaceReview.id)
                ).scalars()
            )
        }
    return sorted((s for s, d in found.items() if d.decision == CONFIRMED), key=order.__getitem__)
