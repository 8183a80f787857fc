"""The JSON twins of the recurring-faces pages (``views/face_clusters.py``): clusters and a
cluster's files as data (counts, SHA-256, where each appeared; never a picture: a face
is looked at through the page, one logged act each), re-clustering (a background job,
answered as the job), the link to a consenting subject and the apparent-minor flag,
acting as the token's (or session's) person. A change the cluster has already answers
``changed: false`` and logs nothing."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from haechi.auth.roles import Perm
from haechi.web.auth import haechi, needs
from haechi.web.views.face_clusters import as_data, link, mark_minor, recluster

router = APIRouter(prefix="/api", tags=["api"])
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


@router.get("/face-clusters", dependencies=[needs(Perm.FACE_SEARCH)])
def api_clusters(
    request: Request, offset: int = 0, limit: int = 50, min_images: int = 2
) -> dict[str, Any]:
    """Active clusters, the most widespread first, with up to five chats each."""
    from haechi.subjects.clusters import cluster_chats, count_clusters, list_clusters

    app = haechi(request)
    min_images, limit = max(2, min_images), max(1, min(limit, 200))
    found = list_clusters(app, min_images=min_images, limit=limit, offset=max(0, offset))
    chats = cluster_chats(app, [c.id for c in found], most=5)
    return {
        "total": count_clusters(app, min_images=min_images),
        "offset": max(0, offset),
        "clusters": [
            {**as_data(c), "where": [asdict(ch) for ch in chats.get(c.id, [])]} for c in found
        ],
    }


@router.get("/face-clusters/{cluster_id}", dependencies=[needs(Perm.FACE_SEARCH)])
def api_cluster(
    request: Request, cluster_id: int, offset: int = 0, limit: int = 100
) -> dict[str, Any]:
    """A cluster and one page of its files (SHA-256, its face box, where it appeared)."""
    from haechi.subjects.clusters import cluster_image_page, get_cluster

    app = haechi(request)
    info = get_cluster(app, cluster_id)
    page = cluster_image_page(app, cluster_id, offset=max(0, offset), limit=max(1, min(limit, 500)))
    return {"cluster": as_data(info), "total": page.total, "offset": page.offset,
            "images": [asdict(i) for i in page.images]}  # fmt: skip


@router.post("/face-clusters/update", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def api_update(request: Request, key: Key = None) -> JSONResponse:
    """Queue the grouping of every active face (as ``haechi face clusters`` does first) as
    a background job; answers the job (201 when queued now; 200 with the job already
    queued or running, or the one this ``Idempotency-Key`` queued). Its result, when
    done: ``clusters``, ``new_clusters``, ``clustered_faces``, ``conflict_list``."""
    info, fresh = recluster(request, key)
    body = {**asdict(info), "percent": info.percent, "location": f"/api/jobs/{info.id}",
            "started": fresh}  # fmt: skip
    return JSONResponse(jsonable_encoder(body), status_code=201 if fresh else 200)


class LinkBody(BaseModel):
    subject: int | None = Field(default=None, ge=1, le=2**62)
    reason: str = Field(max_length=500)


class MinorBody(BaseModel):
    minor: bool = True
    reason: str = Field(max_length=500)


@router.post("/face-clusters/{cluster_id}/link", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def api_link(request: Request, cluster_id: int, body: LinkBody) -> dict[str, Any]:
    """Link to a subject whose consent covers ``link`` (``subject: null`` unlinks)."""
    from haechi.subjects.clusters import get_cluster

    changed = link(request, cluster_id, body.subject, body.reason)
    return {"changed": changed, "cluster": as_data(get_cluster(haechi(request), cluster_id))}


@router.post("/face-clusters/{cluster_id}/minor", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def api_minor(request: Request, cluster_id: int, body: MinorBody) -> dict[str, Any]:
    from haechi.subjects.clusters import get_cluster

    changed = mark_minor(request, cluster_id, body.minor, body.reason)
    return {"changed": changed, "cluster": as_data(get_cluster(haechi(request), cluster_id))}
