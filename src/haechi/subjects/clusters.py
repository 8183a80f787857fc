"""Recurring unknown faces: clustering, staff links to subjects, the apparent-minor flag.

**Clustering** (Chinese whispers, as in dlib's face-clustering example): every active face
is linked to its nearest neighbours (FAISS, ``k`` of them) that are closer than
:data:`~haechi.subjects.model.CLUSTER_THRESHOLD` and lie in *another* file (two faces in
one picture are two people); Chinese whispers then labels the graph. A group whose faces
span at least ``min_images`` files is a cluster: "person #17 appears in 42 images across
5 chats". The graph is sparse (k edges a face), so a run is linear in the number of faces.

**Stable numbers.** Re-running after new files arrive must not renumber people staff have
already looked at: each new group takes the number of the old cluster it shares most
faces with (largest overlaps first, one-to-one); a group with none gets a new number; an
old cluster left without faces is kept, empty, with its history. Staff decisions survive
merges conservatively: a merged group is *apparent minor* if any cluster in it was (the
inheritance is recorded), and keeps a subject link unless two different subjects meet,
which is reported and left for staff to resolve.

**Links and flags** are staff decisions, each a custody event with who and why.

The read side (lists, counts, pages, a cluster's face) is :mod:`haechi.subjects.cluster_queries`;
its names are re-exported here.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import insert, select, update

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.i18n import t_
from haechi.match.face_index import FaceIndex
from haechi.store.custody import Draft, utc_now
from haechi.store.models import Media, Message
from haechi.store.tables.faces import FaceCluster, FaceRow
from haechi.subjects.cluster_queries import (  # re-exported (__all__): callers import them here
    ClusterChat,
    ClusterFace,
    ImagePage,
    cluster_chats,
    cluster_count,
    cluster_face,
    cluster_image_page,
    cluster_images,
    count_clusters,
    get_cluster,
    linkable_subjects,
    list_clusters,
)
from haechi.subjects.model import CLUSTER_THRESHOLD, ClusterInfo, ConsentScope, SubjectError
from haechi.subjects.projection import catch_up
from haechi.subjects.service import get_subject

CLUSTERS_UPDATED = "face_clusters_updated"
CLUSTER_LINKED = "face_cluster_linked"
CLUSTER_MINOR = "face_cluster_minor"
PAGE = 20_000

__all__ = [
    "CLUSTERS_UPDATED",
    "CLUSTER_LINKED",
    "CLUSTER_MINOR",
    "PAGE",
    "ClusterChat",
    "ClusterFace",
    "ClusterRun",
    "ImagePage",
    "Progress",
    "cluster_chats",
    "cluster_count",
    "cluster_face",
    "cluster_image_page",
    "cluster_images",
    "count_clusters",
    "get_cluster",
    "link_cluster",
    "linkable_subjects",
    "list_clusters",
    "set_apparent_minor",
    "update_clusters",
]

Progress = Callable[[float], None]  # the fraction done, 0..1, rising; cheap to call often


def _quiet(_fraction: float) -> None:
    return None


@dataclass
class ClusterRun:
    faces: int = 0
    clustered_faces: int = 0
    clusters: int = 0
    new_clusters: int = 0
    emptied: list[int] = field(default_factory=list)
    merged: dict[int, list[int]] = field(default_factory=dict)  # kept id -> absorbed ids
    minor_inherited: list[int] = field(default_factory=list)
    link_conflicts: dict[int, list[int]] = field(default_factory=dict)  # cluster -> subjects
    threshold: float = CLUSTER_THRESHOLD


def _load_faces(app: App) -> tuple[np.ndarray, list[str], list[int | None], np.ndarray]:
    ids: list[int] = []
    blobs: list[str] = []
    old: list[int | None] = []
    vectors: list[bytes] = []
    last = 0
    while True:
        with app.db.connect() as conn:
            rows = conn.execute(
                select(FaceRow.id, FaceRow.blob_sha256, FaceRow.cluster_id, FaceRow.embedding)
                .where(FaceRow.active.is_(True), FaceRow.id > last)
                .order_by(FaceRow.id)
                .limit(PAGE)
            ).all()
        if not rows:
            break
        for fid, sha, cid, emb in rows:
            ids.append(fid)
            blobs.append(sha)
            old.append(cid)
            vectors.append(bytes(emb))
        last = rows[-1][0]
    return np.asarray(ids, dtype=np.int64), blobs, old, codec.stack(vectors)


def _groups(
    index: FaceIndex,
    ids: np.ndarray,
    blobs: list[str],
    vectors: np.ndarray,
    k: int,
    threshold: float,
    progress: Progress = _quiet,
) -> list[list[int]]:
    """Chinese whispers over the k-nearest-neighbour graph; returns groups of positions.
    ``progress`` hears the share of faces whose neighbours were looked up."""
    import dlib

    pos = {int(fid): i for i, fid in enumerate(ids)}
    edges: list[tuple[int, int]] = [(i, i) for i in range(len(ids))]  # every face is a node
    for start in range(0, len(ids), 5000):
        batch = vectors[start : start + 5000]
        for offset, hits in enumerate(index.nearest(batch, k + 1)):
            i = start + offset
            for hit in hits:
                j = pos.get(hit.face_id)
                if j is None or j <= i or hit.distance >= threshold or blobs[i] == blobs[j]:
                    continue
                edges.append((i, j))
        progress(min(start + 5000, len(ids)) / len(ids))
    labels = dlib.chinese_whispers(edges) if len(ids) else []
    grouped: dict[int, list[int]] = defaultdict(list)
    for i, label in enumerate(labels):
        grouped[label].append(i)
    return list(grouped.values())


def update_clusters(
    app: App,
    *,
    staff: str,
    threshold: float = CLUSTER_THRESHOLD,
    k: int = 16,
    min_images: int = 2,
    progress: Progress | None = None,
) -> ClusterRun:
    """Re-cluster every active face and record the run (one custody event). ``progress``
    (a job's bar) hears the fraction done as it rises, 1.0 once the run is recorded."""
    if not 0.2 <= threshold <= 0.6:
        raise SubjectError(t_("The clustering threshold must be between 0.2 and 0.6."))
    tell = progress or _quiet
    tell(0.0)
    catch_up(app)
    tell(0.05)
    index = FaceIndex.for_app(app)
    index.sync(app)
    tell(0.15)
    ids, blobs, old, vectors = _load_faces(app)
    tell(0.2)
    run = ClusterRun(faces=len(ids), threshold=threshold)
    found = _groups(index, ids, blobs, vectors, k, threshold, lambda f: tell(0.2 + 0.5 * f))
    groups = [g for g in found if len({blobs[i] for i in g}) >= min_images]
    tell(0.75)
    with app.db.connect() as conn:
        existing = {
            r.id: r
            for r in conn.execute(
                select(FaceCluster.__table__).where(FaceCluster.status == "active")
            ).all()
        }
    # One-to-one: largest overlaps first.
    pairs: list[tuple[int, int, int]] = []
    for g_no, members in enumerate(groups):
        overlap = Counter(c for c in (old[i] for i in members) if c is not None)
        pairs += [(n, g_no, cid) for cid, n in overlap.items()]
    pairs.sort(key=lambda p: (-p[0], p[1], p[2]))
    number: dict[int, int] = {}
    taken: set[int] = set()
    for _n, g_no, cid in pairs:
        if g_no not in number and cid not in taken and cid in existing:
            number[g_no] = cid
            taken.add(cid)
    now = utc_now()
    assignment: dict[int, int | None] = {int(fid): None for fid in ids}
    chats = _chats_per_blob(app, sorted(set(blobs)))
    with app.db.begin() as conn:
        for g_no, members in enumerate(groups):
            if g_no % 100 == 0:
                tell(0.75 + 0.2 * g_no / len(groups))
            absorbed: list[int] = sorted(
                {c for c in (old[i] for i in members) if c is not None and c in existing}
            )
            known = number.get(g_no)
            if known is not None:
                cid = known
            else:
                cid = int(
                    conn.execute(
                        insert(FaceCluster)
                        .values(
                            status="active", created_at=now, updated_at=now, apparent_minor=False
                        )
                        .returning(FaceCluster.id)
                    ).scalar_one()
                )
                run.new_clusters += 1
            others = [c for c in absorbed if c != cid]
            if others:
                run.merged[cid] = others
            values = _inherit(
                cid, [existing[c] for c in absorbed if c in existing], existing.get(cid), run
            )
            g_blobs = {blobs[i] for i in members}
            g_chats = set().union(*(chats.get(b, set()) for b in g_blobs))
            conn.execute(
                update(FaceCluster)
                .where(FaceCluster.id == cid)
                .values(
                    status="active",
                    faces=len(members),
                    images=len(g_blobs),
                    chats=len(g_chats),
                    updated_at=now,
                    **values,
                )
            )
            for i in members:
                assignment[int(ids[i])] = cid
        for cid in sorted(set(existing) - set(number.values())):
            conn.execute(
                update(FaceCluster)
                .where(FaceCluster.id == cid)
                .values(status="empty", faces=0, images=0, chats=0, updated_at=now)
            )
            run.emptied.append(cid)
        changed = [
            {"fid": fid, "cid": cid}
            for fid, cid, before in zip(ids.tolist(), assignment.values(), old, strict=True)
            if cid != before
        ]
        if changed:
            from sqlalchemy import bindparam

            conn.execute(
                update(FaceRow)
                .where(FaceRow.id == bindparam("fid"))
                .values(cluster_id=bindparam("cid")),
                changed,
            )
        run.clusters = len(groups)
        run.clustered_faces = sum(len(g) for g in groups)
        app.custody.append_many(
            conn,
            [
                Draft(
                    CLUSTERS_UPDATED,
                    None,
                    {
                        "staff": staff,
                        "algorithm": "chinese_whispers",
                        "k": k,
                        "threshold": threshold,
                        "min_images": min_images,
                        "faces": run.faces,
                        "clustered_faces": run.clustered_faces,
                        "clusters": run.clusters,
                        "new_clusters": run.new_clusters,
                        "emptied": run.emptied,
                        "merged": {str(k_): v for k_, v in run.merged.items()},
                        "minor_inherited": run.minor_inherited,
                        "link_conflicts": {str(k_): v for k_, v in run.link_conflicts.items()},
                    },
                )
            ],
        )
    tell(1.0)
    return run


def _inherit(cid: int, absorbed: list[Any], own: Any | None, run: ClusterRun) -> dict[str, object]:
    values: dict[str, object] = {}
    minors = [c for c in absorbed if c.apparent_minor and c.id != cid]
    if minors and not (own is not None and own.apparent_minor):
        values.update(
            apparent_minor=True,
            minor_set_by=minors[0].minor_set_by,
            minor_set_at=minors[0].minor_set_at,
            minor_reason=f"inherited from person #{minors[0].id} (merged)",
        )
        run.minor_inherited.append(cid)
    subjects = sorted({c.subject_id for c in absorbed if c.subject_id is not None})
    if len(subjects) > 1:
        run.link_conflicts[cid] = subjects
    elif subjects and (own is None or own.subject_id is None):
        donor = next(c for c in absorbed if c.subject_id == subjects[0])
        values.update(
            subject_id=donor.subject_id,
            linked_by=donor.linked_by,
            linked_at=donor.linked_at,
            link_reason=f"inherited from person #{donor.id} (merged)",
        )
    return values


def _chats_per_blob(app: App, shas: list[str]) -> dict[str, set[int]]:
    out: dict[str, set[int]] = defaultdict(set)
    with app.db.connect() as conn:
        for start in range(0, len(shas), 500):
            for blob, chat in conn.execute(
                select(Media.blob_sha256, Message.chat_id)
                .join(Message, Message.id == Media.message_pk)
                .where(Media.blob_sha256.in_(shas[start : start + 500]))
                .distinct()
            ):
                out[str(blob)].add(chat)
    return out


def link_cluster(
    app: App, cluster_id: int, subject_id: int | None, *, staff: str, reason: str
) -> ClusterInfo:
    """Link a cluster to a subject whose consent covers ``link`` (None: unlink)."""
    if len(reason.strip()) < 5:
        raise SubjectError(t_("Give a reason of at least 5 characters; it is recorded."))
    cluster = get_cluster(app, cluster_id)
    if subject_id is not None:
        subject = get_subject(app, subject_id)
        if subject is None or subject.status != "active":
            raise SubjectError(
                t_("There is no active subject {subject_id}.", subject_id=subject_id)
            )
        if subject.consent_for(ConsentScope.LINK) is None:
            raise SubjectError(
                t_(
                    "Subject {subject_id}'s consent does not cover linking unknown faces to them.",
                    subject_id=subject_id,
                )
            )
    now = utc_now()
    with app.db.begin() as conn:
        conn.execute(
            update(FaceCluster)
            .where(FaceCluster.id == cluster_id)
            .values(
                subject_id=subject_id,
                linked_by=staff if subject_id else None,
                linked_at=now if subject_id else None,
                link_reason=reason.strip() if subject_id else None,
            )
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    CLUSTER_LINKED,
                    f"face_cluster:{cluster_id}",
                    {
                        "subject_id": subject_id,
                        "previous_subject_id": cluster.subject_id,
                        "staff": staff,
                        "reason": reason.strip(),
                    },
                )
            ],
        )
    return get_cluster(app, cluster_id)


def set_apparent_minor(
    app: App, cluster_id: int, value: bool, *, staff: str, reason: str
) -> ClusterInfo:
    """Staff's judgement that the person of a cluster appears to be a minor (or not)."""
    if len(reason.strip()) < 5:
        raise SubjectError(t_("Give a reason of at least 5 characters; it is recorded."))
    get_cluster(app, cluster_id)
    now = utc_now()
    with app.db.begin() as conn:
        conn.execute(
            update(FaceCluster)
            .where(FaceCluster.id == cluster_id)
            .values(
                apparent_minor=value,
                minor_set_by=staff,
                minor_set_at=now,
                minor_reason=reason.strip(),
            )
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    CLUSTER_MINOR,
                    f"face_cluster:{cluster_id}",
                    {"apparent_minor": value, "staff": staff, "reason": reason.strip()},
                )
            ],
        )
    return get_cluster(app, cluster_id)
