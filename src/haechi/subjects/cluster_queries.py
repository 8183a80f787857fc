"""The read side of recurring faces: the lists, counts and pages the web, the CLI and the
API show (a cluster, its files, the chats they were posted in, the face to crop), and the
subjects a cluster may be linked to. Grouping and staff decisions are in
:mod:`haechi.subjects.clusters`, which re-exports every name here."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select

from haechi.app import App
from haechi.i18n import t_
from haechi.store.models import Blob, Chat, Media, Message, SignalRow
from haechi.store.tables.faces import FaceCluster, FaceRow, Subject
from haechi.subjects.model import ClusterInfo, ConsentScope, ImageHit, SubjectError, SubjectInfo
from haechi.subjects.sightings import sightings_for


@dataclass(frozen=True)
class ClusterChat:
    """A chat a cluster's files were posted in."""

    id: int
    title: str | None


def _info(row: Any) -> ClusterInfo:
    """A ClusterInfo from a ``face_clusters`` row joined with the subject's label."""
    return ClusterInfo(
        id=row.id,
        faces=row.faces,
        images=row.images,
        chats=row.chats,
        subject_id=row.subject_id,
        subject_label=row.label,
        apparent_minor=bool(row.apparent_minor),
        minor_set_by=row.minor_set_by,
        status=row.status,
        updated_at=row.updated_at,
    )


def list_clusters(
    app: App, *, min_images: int = 2, limit: int = 200, offset: int = 0
) -> list[ClusterInfo]:
    """Active clusters, the most widespread first (``offset``: pages on)."""
    with app.db.connect() as conn:
        rows = conn.execute(
            select(FaceCluster.__table__, Subject.label)
            .outerjoin(Subject, Subject.id == FaceCluster.subject_id)
            .where(FaceCluster.status == "active", FaceCluster.images >= min_images)
            .order_by(FaceCluster.images.desc(), FaceCluster.chats.desc(), FaceCluster.id)
            .offset(max(0, offset))
            .limit(limit)
        ).all()
    return [_info(r) for r in rows]


def count_clusters(app: App, *, min_images: int = 2) -> int:
    """How many active clusters span at least ``min_images`` files (the list's pages)."""
    with app.db.connect() as conn:
        return int(
            conn.execute(
                select(func.count())
                .select_from(FaceCluster)
                .where(FaceCluster.status == "active", FaceCluster.images >= min_images)
            ).scalar_one()
        )


def cluster_chats(app: App, cluster_ids: list[int], most: int = 3) -> dict[int, list[ClusterChat]]:
    """Per cluster, up to ``most`` of the chats its files were posted in (by name): where
    a recurring face appeared, without any picture."""
    out: dict[int, list[ClusterChat]] = {}
    if not cluster_ids:
        return out
    with app.db.connect() as conn:
        rows = conn.execute(
            select(FaceRow.cluster_id, Chat.id, Chat.title)
            .join(Media, Media.blob_sha256 == FaceRow.blob_sha256)
            .join(Message, Message.id == Media.message_pk)
            .join(Chat, Chat.id == Message.chat_id)
            .where(FaceRow.cluster_id.in_(cluster_ids), FaceRow.active.is_(True))
            .distinct()
            .order_by(FaceRow.cluster_id, Chat.id)
        ).all()
    for cid, chat_id, title in rows:
        chats = out.setdefault(int(cid or 0), [])
        if len(chats) < most:
            chats.append(ClusterChat(id=chat_id, title=title))
    return out


def get_cluster(app: App, cluster_id: int) -> ClusterInfo:
    with app.db.connect() as conn:
        row = conn.execute(
            select(FaceCluster.__table__, Subject.label)
            .outerjoin(Subject, Subject.id == FaceCluster.subject_id)
            .where(FaceCluster.id == cluster_id)
        ).first()
    if row is None:
        raise SubjectError(
            t_(
                "There is no person #{cluster_id}; the faces may need grouping again.",
                cluster_id=cluster_id,
            )
        )
    return _info(row)


def cluster_images(app: App, cluster_id: int) -> list[ImageHit]:
    """The files of a cluster with where each appeared (distance 0: membership, not a match)."""
    return cluster_image_page(app, cluster_id).images


@dataclass(frozen=True)
class ImagePage:
    total: int  # files of the cluster
    offset: int
    images: list[ImageHit]


def cluster_image_page(
    app: App, cluster_id: int, *, offset: int = 0, limit: int | None = None
) -> ImagePage:
    """One page of a cluster's files (by SHA-256), each with its first face of the
    cluster and where it appeared; where it appeared is read for this page only."""
    get_cluster(app, cluster_id)
    offset = max(0, offset)
    with app.db.connect() as conn:
        rows = conn.execute(
            select(FaceRow.id, FaceRow.blob_sha256, FaceRow.x, FaceRow.y, FaceRow.w, FaceRow.h)
            .where(FaceRow.cluster_id == cluster_id, FaceRow.active.is_(True))
            .order_by(FaceRow.id)
        ).all()
    per_blob: dict[str, list[tuple[int, tuple[int, int, int, int]]]] = defaultdict(list)
    for fid, sha, x, y, w, h in rows:
        per_blob[sha].append((fid, (x, y, w, h)))
    files = sorted(per_blob.items())
    page = files[offset:] if limit is None else files[offset : offset + max(1, limit)]
    places = sightings_for(app, [sha for sha, _ in page])
    return ImagePage(
        total=len(files),
        offset=offset,
        images=[
            ImageHit(sha, 0.0, faces[0][0], faces[0][1], len(faces), places.get(sha, []))
            for sha, faces in page
        ],
    )


@dataclass(frozen=True)
class ClusterFace:
    """The face of a cluster in one file that a person may ask to see (its box, and for a
    video the keyframe it was found in)."""

    cluster_id: int
    blob_sha256: str
    face_id: int
    box: tuple[int, int, int, int]
    kind: str | None  # image / video
    t: float | None  # seconds into a video
    faces: int = 1  # the cluster's faces in this file


def cluster_face(app: App, cluster_id: int, sha256: str) -> ClusterFace:
    """The cluster's first face in ``sha256`` (the one its page lists), or a sentence
    when the file is not one of the cluster's."""
    import json

    get_cluster(app, cluster_id)
    with app.db.connect() as conn:
        rows = conn.execute(
            select(FaceRow.id, FaceRow.x, FaceRow.y, FaceRow.w, FaceRow.h, SignalRow.data_json)
            .outerjoin(SignalRow, SignalRow.id == FaceRow.signal_id)
            .where(
                FaceRow.cluster_id == cluster_id,
                FaceRow.blob_sha256 == sha256,
                FaceRow.active.is_(True),
            )
            .order_by(FaceRow.id)
        ).all()
        kind = conn.execute(select(Blob.kind).where(Blob.sha256 == sha256)).scalar()
    if not rows:
        raise SubjectError(
            t_(
                "That file is not one of person #{cluster_id}'s.",
                cluster_id=cluster_id,
            )
        )
    fid, x, y, w, h, data = rows[0]
    t = json.loads(data or "{}").get("t")
    return ClusterFace(
        cluster_id, sha256, int(fid), (int(x), int(y), int(w), int(h)), kind,
        float(t) if t is not None else None, len(rows),
    )  # fmt: skip


def linkable_subjects(app: App) -> list[SubjectInfo]:
    """Active subjects whose consent covers linking clusters (``link``) today: the ones
    :func:`~haechi.subjects.clusters.link_cluster` accepts."""
    from haechi.subjects.service import list_subjects

    return [
        s
        for s in list_subjects(app)
        if s.status == "active" and s.consent_for(ConsentScope.LINK) is not None
    ]


def cluster_count(app: App) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(
                select(func.count()).select_from(FaceCluster).where(FaceCluster.status == "active")
            ).scalar_one()
        )
