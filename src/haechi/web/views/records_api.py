"""The API of the record of what was collected and whether it holds: the sources
(``haechi sources``), the custody log as JSON Lines (``haechi custody export``) and its
signing public key (``haechi custody public-key``). The same service functions as the
pages (:mod:`haechi.web.views.custody`, :mod:`haechi.web.views.sources`) and the command
line; each download is an ``export`` entry on the audit trail. The integrity check
(``haechi verify``) is ``POST /api/jobs {"kind": "verify"}``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.run.sources import list_sources
from haechi.web.auth import haechi, needs
from haechi.web.views.custody import log_download, public_key_response

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/sources", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_sources(request: Request) -> list[dict[str, Any]]:
    """Every source, oldest first: status, counts, complete or not, and for one refused
    part-way why and at which byte (as ``haechi sources --json``)."""
    return [s.as_dict() for s in list_sources(haechi(request))]


@router.get("/custody/log.jsonl", dependencies=[needs(Perm.AUDIT_READ)])
def api_custody_log(request: Request) -> Response:
    """The whole custody log as JSON Lines (checkable with ``haechi verify --log``)."""
    return log_download(request)


@router.get("/custody/public-key", dependencies=[needs(Perm.CUSTODY_READ)])
def api_public_key(request: Request) -> Response:
    """The custody signing public key (PEM)."""
    return public_key_response(request)
