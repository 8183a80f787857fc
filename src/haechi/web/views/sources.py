"""The sources (``haechi sources``): every ingest and capture, oldest first, with its
counts, and whether it is complete — a capture refused part-way keeps what it committed
and says why and at which byte it stopped, so a corrected export ingested later never
hides it. For the roles that read the archive; ``GET /api/sources`` is the same list
(:func:`haechi.run.sources.list_sources`, which the command line prints)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.run.sources import list_sources
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(25, "nav.sources", "/sources", Perm.ARCHIVE_READ)]


@router.get("/sources", dependencies=[needs(Perm.ARCHIVE_READ)])
def sources_page(request: Request) -> Response:
    rows = list_sources(haechi(request))
    return render(request, "sources.html", rows=list(reversed(rows)))  # newest first
