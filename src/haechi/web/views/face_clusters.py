"""Recurring unknown faces in the browser, as ``haechi face clusters`` / ``cluster`` /
``link`` / ``minor``: the same services (``haechi.subjects.clusters``), built for the
least exposure of the face review (``views/face_review.py``).

* ``/face-clusters``: every recurring face as counts and the chats it was posted in
  ("person #17 appears in 42 images across 5 chats"), no picture at all; re-clustering
  (the CLI's default ``--update``) is a button that queues a background job
  (:mod:`haechi.jobs.kinds.face_clusters`, one at a time), shown on the page with its
  progress and outcome.
* ``/face-clusters/<id>``: the cluster's files by SHA-256, each with where it appeared;
  nothing of a face is shown until a person asks for one file's face. That is one logged
  act (a ``reveal`` audit entry, ``view: face_region``, with its signed ``access`` custody
  event) and answers the file's card with the face region only, greyscale, cut in memory
  (``haechi.subjects.crops``) and fetched with a grant of its own kind (this session, this
  cluster, this file, this rendering). Colour is another logged act.
* Linking the cluster to a subject (only one whose consent covers ``link``: the service
  refuses the others) and the apparent-minor flag, acting as the person: the services'
  custody events name them, each change is an audit entry; the state the cluster is in
  already changes and logs nothing, so a double submit adds nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.domain import HaechiError
from haechi.services import exposure, integrations
from haechi.web import grants
from haechi.web.actions import SUBJECT_CHANGE, acting, audited, go, htmx_error, staff
from haechi.web.auth import Denied, current, haechi, needs
from haechi.web.render import refusal, render
from haechi.web.views.capabilities import unavailable
from haechi.web.views.face_review import _owner

if TYPE_CHECKING:
    from haechi.jobs.model import JobInfo
    from haechi.subjects.model import ClusterInfo

router = APIRouter()
GRANT_TTL = 10 * 60
PURPOSE = "cluster-face-crop"  # a grant of its own kind: it opens no original, no candidate
PAGE = 50  # clusters a page
FILES = 24  # files of a cluster a page


def _missing(request: Request) -> Response | None:
    return None if integrations.available("subjects") else unavailable(request, "subjects")


def _grant(request: Request, cluster_id: int, sha: str, colour: bool) -> str:
    return grants.issue(
        request.app.state.secret, _owner(request), sha, purpose=PURPOSE,
        extra=(cluster_id, int(colour)),
    )  # fmt: skip


def _granted(request: Request, token: str, cluster_id: int, sha: str, colour: bool) -> bool:
    return grants.check(
        request.app.state.secret, token, _owner(request), sha, purpose=PURPOSE,
        extra=(cluster_id, int(colour)), ttl=GRANT_TTL,
    )  # fmt: skip


def subject_ref(cluster_id: int) -> str:
    """The audit subject and custody subject of a cluster (as the service names it)."""
    return f"face_cluster:{cluster_id}"


# -- the changes, shared by the pages and the API ------------------------------------------
def link(request: Request, cluster_id: int, subject: int | None, reason: str) -> bool:
    """Link the cluster to ``subject`` (None: unlink) as the person, through the service the
    CLI uses (it refuses a subject whose consent does not cover ``link``); False when the
    cluster is linked so already (nothing is written or logged)."""
    from haechi.subjects.clusters import get_cluster, link_cluster

    before = get_cluster(haechi(request), cluster_id)
    if before.subject_id == subject:
        return False
    link_cluster(acting(request), cluster_id, subject, staff=staff(request), reason=reason)
    audited(request, SUBJECT_CHANGE, "cluster_link", subject_ref(cluster_id),
            subject_id=subject, previous=before.subject_id)  # fmt: skip
    return True


def mark_minor(request: Request, cluster_id: int, minor: bool, reason: str) -> bool:
    """Set or clear the apparent-minor flag as the person, as ``haechi face minor``; False
    when the flag is so already."""
    from haechi.subjects.clusters import get_cluster, set_apparent_minor

    before = get_cluster(haechi(request), cluster_id)
    if before.apparent_minor == minor:
        return False
    set_apparent_minor(acting(request), cluster_id, minor, staff=staff(request), reason=reason)
    audited(request, SUBJECT_CHANGE, "cluster_minor", subject_ref(cluster_id), minor=minor)
    return True


def running_job(request: Request) -> JobInfo | None:
    """The grouping queued or running now, if any (anyone's: one runs at a time)."""
    from haechi.jobs import store as jobs
    from haechi.jobs.kinds.face_clusters import NAME

    for job in jobs.jobs(haechi(request), kinds=(NAME,), limit=20):
        if not job.finished:
            return job
    return None


def latest_job(request: Request) -> JobInfo | None:
    from haechi.jobs import store as jobs
    from haechi.jobs.kinds.face_clusters import NAME

    found = jobs.jobs(haechi(request), kinds=(NAME,), limit=1)
    return found[0] if found else None


def recluster(request: Request, key: str | None) -> tuple[JobInfo, bool]:
    """Queue the grouping of every active face (``haechi face clusters``' update, run as a
    background job as the person: one custody event, one audit entry); while one is queued
    or running, that one is the answer. (job, whether this request queued it)."""
    from haechi.jobs import store as jobs
    from haechi.jobs.kinds.face_clusters import NAME
    from haechi.web.views.jobs import start_job

    app, user_id = haechi(request), current(request).user.id
    if key is not None and (mine := jobs.find_by_key(app, user_id, key)) is not None:
        return jobs.get(app, mine), False  # a double submit: the first one's job
    if (running := running_job(request)) is not None:
        return running, False
    job_id = start_job(request, NAME, {}, key)
    return jobs.get(app, job_id), True


def _subject(value: str) -> int | None:
    """The form's subject: blank unlinks; anything but a number names no subject."""
    value = value.strip()
    if not value:
        return None
    if not value.isdigit() or len(value) > 18:
        from haechi.i18n import t_
        from haechi.subjects.model import SubjectError

        raise SubjectError(t_("There is no active subject {subject_id}.", subject_id=value))
    return int(value)


# -- pages ---------------------------------------------------------------------------------
@router.get("/face-clusters", dependencies=[needs(Perm.FACE_SEARCH)])
def clusters_page(request: Request, offset: int = 0, min_images: int = 2) -> Response:
    if (page := _missing(request)) is not None:
        return page
    from haechi.subjects.clusters import cluster_chats, count_clusters, list_clusters

    app = haechi(request)
    offset, min_images = max(0, offset), max(2, min(min_images, 1_000_000))
    found = list_clusters(app, min_images=min_images, limit=PAGE, offset=offset)
    return render(
        request, "face_clusters.html", clusters=found, total=count_clusters(app,
        min_images=min_images), offset=offset, page=PAGE, min_images=min_images,
        chats=cluster_chats(app, [c.id for c in found]), job=latest_job(request),
    )  # fmt: skip


@router.post("/face-clusters/update", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def update_page(request: Request, key: Annotated[str, Form(max_length=64)] = "") -> Response:
    """Queue the grouping once per form, one at a time (a double submit, or a second
    request while one runs, is led to that job); the page shows it and its outcome."""
    if (page := _missing(request)) is not None:
        return page
    from haechi.jobs.once import check_key

    recluster(request, check_key(key))  # a malformed key: the sentence, 400
    return go(request, "/face-clusters#cluster-job")


def cluster_view(
    request: Request, cluster_id: int, offset: int = 0, *, error: str | None = None,
    status: int = 200,
) -> Response:  # fmt: skip
    from haechi.subjects.clusters import cluster_chats, cluster_image_page, get_cluster

    app = haechi(request)
    info = get_cluster(app, cluster_id)
    files = cluster_image_page(app, cluster_id, offset=offset, limit=FILES)
    subjects = []
    if can(current(request).user.role, Perm.SUBJECTS_WRITE):
        from haechi.subjects.clusters import linkable_subjects

        subjects = linkable_subjects(app)
    return render(
        request, "face_cluster.html", status=status, c=info, files=files, page=FILES,
        chats=cluster_chats(app, [cluster_id], most=20).get(cluster_id, []),
        subjects=subjects, error=error,
    )  # fmt: skip


@router.get("/face-clusters/{cluster_id}", dependencies=[needs(Perm.FACE_SEARCH)])
def cluster_page(request: Request, cluster_id: int, offset: int = 0) -> Response:
    if (page := _missing(request)) is not None:
        return page
    return cluster_view(request, cluster_id, max(0, offset))


def _on_cluster(request: Request, cluster_id: int, work: object) -> Response:
    """Run a change; a refusal shows the cluster's page with the sentence (400)."""
    if (page := _missing(request)) is not None:
        return page
    try:
        work()  # type: ignore[operator]
    except HaechiError as exc:
        return cluster_view(request, cluster_id, error=refusal(request, exc), status=400)
    return go(request, f"/face-clusters/{cluster_id}")


@router.post("/face-clusters/{cluster_id}/link", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def link_page(
    request: Request,
    cluster_id: int,
    subject: Annotated[str, Form(max_length=20)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _on_cluster(
        request, cluster_id, lambda: link(request, cluster_id, _subject(subject), reason)
    )


@router.post("/face-clusters/{cluster_id}/minor", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def minor_page(
    request: Request,
    cluster_id: int,
    minor: Annotated[bool, Form()] = False,
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    return _on_cluster(request, cluster_id, lambda: mark_minor(request, cluster_id, minor, reason))


@router.post(
    "/face-clusters/{cluster_id}/files/{sha256}/show", dependencies=[needs(Perm.FACE_SEARCH)]
)
def show_face(
    request: Request, cluster_id: int, sha256: str, colour: Annotated[bool, Form()] = False
) -> Response:
    """The logged act of looking at the cluster's face in one file; answers its card."""
    from haechi.subjects.clusters import cluster_face
    from haechi.subjects.sightings import sightings_for

    app, auth = haechi(request), current(request)
    try:
        face = cluster_face(app, cluster_id, sha256)
    except HaechiError as exc:
        return htmx_error(request, exc)
    audit.record(
        app, auth.actor, audit.REVEAL, sha256,
        {"view": "face_region", "colour": colour, "cluster": subject_ref(cluster_id),
         "face_id": face.face_id},
    )  # fmt: skip
    exposure.add(app, auth.user.id, previews=1)
    return render(
        request, "_cluster_face.html", sha=face.blob_sha256, faces=face.faces,
        video_t=face.t if face.kind == "video" else None, cluster_id=cluster_id, shown=True,
        colour=colour, sightings=sightings_for(app, [sha256]).get(sha256, []),
        grant=_grant(request, cluster_id, sha256, colour),
        exposure=exposure.status(app, auth.user.id, request.app.state.web.wellness),
    )  # fmt: skip


@router.get(
    "/face-clusters/{cluster_id}/files/{sha256}/face.jpg", dependencies=[needs(Perm.FACE_SEARCH)]
)
def face_picture(
    request: Request, cluster_id: int, sha256: str, g: str = "", colour: int = 0
) -> Response:
    """The face region's bytes, only after the logged act (the grant says it happened)."""
    if not _granted(request, g, cluster_id, sha256, bool(colour)):
        raise Denied("reveal_first")
    from haechi.subjects.clusters import cluster_face
    from haechi.subjects.crops import face_crop

    app = haechi(request)
    face = cluster_face(app, cluster_id, sha256)
    data = face_crop(app, sha256, face.box, kind=face.kind, t=face.t, colour=bool(colour))
    return Response(data, media_type="image/jpeg")


def as_data(info: ClusterInfo) -> dict[str, object]:
    """A cluster for the API: counts, its subject and its flag (no picture)."""
    from dataclasses import asdict

    return asdict(info)
