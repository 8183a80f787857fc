"""Triage: the review queue (highest nudity score first, as safe previews) and the
synthetic-media verdict of one file, built on ``haechi.triage`` (the triage capability)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import exposure, integrations
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import language, render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(60, "nav.triage", "/triage", Perm.TRIAGE)]


@router.get("/triage", dependencies=[needs(Perm.TRIAGE)])
def triage_page(request: Request, offset: int = 0) -> Response:
    if not integrations.available("triage"):
        return unavailable(request, "triage")
    from haechi.triage.queue import review_queue

    offset = max(0, offset)
    items = review_queue(haechi(request), limit=60, offset=offset)
    shown = sum(1 for i in items if i.has_preview)
    if shown:
        exposure.add(haechi(request), current(request).user.id, previews=shown)
    return render(request, "triage.html", items=items, offset=offset, verdict=None)


@router.get("/triage/{sha256}", dependencies=[needs(Perm.TRIAGE)])
def verdict_page(request: Request, sha256: str) -> Response:
    if not integrations.available("triage"):
        return unavailable(request, "triage")
    from haechi.triage.verdicts import file_verdict

    v = file_verdict(haechi(request), sha256)
    ko = language(request) == "ko"
    verdict = v.verdict
    return render(
        request,
        "triage.html",
        items=[],
        offset=0,
        verdict=v,
        label=verdict.label_ko if ko else verdict.label_en,
        explanation=verdict.explanation_ko if ko else verdict.explanation_en,
        caveats=verdict.caveats_ko if ko else verdict.caveats_en,
    )
