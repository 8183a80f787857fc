"""Does a stored file show an apparent minor? Asked by the notices capability to route a
report to Telegram's child-safety address (stopCA@telegram.org) and to cite the
Child/Youth Protection Act instead of (or besides) the adult provisions.

Never a model's guess: only staff decisions count, namely

* a face of the file is in a cluster staff flagged *apparent minor*;
* a face of the file is in a cluster linked to a subject recorded as a minor;
* a face of the file is within the search threshold of a template of an active subject
  recorded as a minor (so her images route correctly before anyone clusters them).

A file for which none of these holds is *not known* to show a minor; that is not the
same as showing an adult, and notices should say "not determined" for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from sqlalchemy import select

from haechi.analyze.faces import codec
from haechi.app import App
from haechi.store.tables.faces import FaceCluster, FaceRow, Subject, SubjectTemplate
from haechi.subjects.model import SEARCH_THRESHOLD

STOPCA = "stopCA@telegram.org"


@dataclass(frozen=True)
class MinorFinding:
    blob_sha256: str
    apparent_minor: bool
    reasons: list[str] = field(default_factory=list)  # one sentence per reason


def apparent_minor(app: App, shas: Sequence[str]) -> dict[str, MinorFinding]:
    """For each file: whether staff decisions mark it as showing an apparent minor, and why."""
    wanted = sorted(set(shas))
    reasons: dict[str, list[str]] = {s: [] for s in wanted}
    faces: list[tuple[int, str, bytes]] = []
    with app.db.connect() as conn:
        for start in range(0, len(wanted), 500):
            part = wanted[start : start + 500]
            for fid, sha, cid, flagged, by, subject_label, subject_minor, emb in conn.execute(
                select(
                    FaceRow.id,
                    FaceRow.blob_sha256,
                    FaceCluster.id,
                    FaceCluster.apparent_minor,
                    FaceCluster.minor_set_by,
                    Subject.label,
                    Subject.is_minor,
                    FaceRow.embedding,
                )
                .outerjoin(FaceCluster, FaceCluster.id == FaceRow.cluster_id)
                .outerjoin(Subject, Subject.id == FaceCluster.subject_id)
                .where(FaceRow.blob_sha256.in_(part), FaceRow.active.is_(True))
            ):
                faces.append((fid, sha, bytes(emb)))
                if flagged:
                    reasons[sha].append(
                        f"a face is person #{cid}, marked apparent minor by {by or 'staff'}"
                    )
                if subject_minor:
                    reasons[sha].append(
                        f"a face is person #{cid}, linked to subject {subject_label} "
                        "(recorded as a minor)"
                    )
        minors = conn.execute(
            select(Subject.label, SubjectTemplate.embedding)
            .join(SubjectTemplate, SubjectTemplate.subject_id == Subject.id)
            .where(Subject.is_minor.is_(True), Subject.status == "active")
        ).all()
    if minors and faces:
        templates = codec.stack([bytes(m[1]) for m in minors])
        vectors = codec.stack([f[2] for f in faces])
        dist = np.sqrt(((vectors[:, None, :] - templates[None, :, :]) ** 2).sum(axis=2))
        for row, (_fid, sha, _) in enumerate(faces):
            col = int(np.argmin(dist[row]))
            if dist[row, col] < SEARCH_THRESHOLD:
                reasons[sha].append(
                    f"a face matches subject {minors[col][0]} (recorded as a minor) at "
                    f"distance {dist[row, col]:.2f}"
                )
    return {sha: MinorFinding(sha, bool(r), sorted(set(r))) for sha, r in reasons.items()}


def concerns_minor(app: App, shas: Sequence[str]) -> bool:
    """True when any of ``shas`` shows an apparent minor (route to :data:`STOPCA`)."""
    return any(f.apparent_minor for f in apparent_minor(app, shas).values())
