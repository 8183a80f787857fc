"""The drop folder's JSON API, beside its page (:mod:`haechi.web.views.ingest_drop`):
``GET /api/ingest`` lists the drop roots and the export folders in them,
``POST /api/ingest {root, folder, assume_timezone, analyze}`` starts the ``ingest`` job
(201 with its ``location``, ``GET /api/jobs/<id>`` its progress and result). An
``Idempotency-Key`` header makes a retry return the same job (``"repeat": true``); so does
a second request for a folder whose ingest is queued or running."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from haechi.auth.roles import Perm
from haechi.run.ingest_drop import DropFolder, DropRoot, list_drop
from haechi.web.auth import haechi, needs
from haechi.web.views.ingest_drop import start

router = APIRouter(prefix="/api/ingest", tags=["api"])
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


def _folder(f: DropFolder) -> dict[str, Any]:
    return {
        "name": f.name, "size": f.size, "files": f.files, "counted_all": f.counted_all,
        "modified": f.modified, "json_size": f.json_size, "sha256": f.identity,
        "source_id": f.source.id if f.source else None,
        "source_status": f.source.status if f.source else None,
        "messages": f.messages, "ingested": f.ingested, "can_start": f.can_start,
        "problem": str(f.problem) if f.problem else None,  # the API answers in English
    }  # fmt: skip


@router.get("", dependencies=[needs(Perm.ANALYSIS)])
def api_drop(request: Request) -> dict[str, Any]:
    return {"roots": [_root(r) for r in list_drop(haechi(request))]}


def _root(r: DropRoot) -> dict[str, Any]:
    return {
        "root": r.index, "path": str(r.path), "folders_not_listed": r.more,
        "problem": str(r.problem) if r.problem else None,
        "folders": [_folder(f) for f in r.folders],
    }  # fmt: skip


class IngestBody(BaseModel):
    root: int = Field(ge=0, le=1000)
    folder: str = Field(min_length=1, max_length=255)
    assume_timezone: str | None = Field(default=None, max_length=64)
    analyze: bool = True


@router.post("", dependencies=[needs(Perm.ANALYSIS)])
def api_ingest(request: Request, body: IngestBody, key: Key = None) -> JSONResponse:
    params = body.model_dump()
    job_id, repeat = start(request, params, key)
    return JSONResponse(
        {"location": f"/api/jobs/{job_id}", "id": job_id, "repeat": repeat},
        status_code=200 if repeat else 201,
    )
