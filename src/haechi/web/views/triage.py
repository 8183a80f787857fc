"""Triage: the review queue (highest nudity score first, as safe previews) and the
synthetic-media verdict of one file, built on ``haechi.triage`` (the triage capability)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.services import exposure, integrations
from haechi.services.media import Match
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

    app = haechi(request)
    offset = max(0, offset)
    items = review_queue(app, limit=60, offset=offset)
    matched = _matches(app, [i.sha256 for i in items])
    shown = sum(1 for i in items if i.has_preview and i.sha256 not in matched)
    if shown:
        exposure.add(app, current(request).user.id, previews=shown)
    return render(request, "triage.html", items=items, matched=matched, offset=offset, verdict=None)


def _matches(app: App, shas: list[str]) -> dict[str, list[Match]]:
    """The queue's files matched to a bank: shown as match cards, not as previews."""
    found = integrations.bank_matches(app, shas)
    return {sha: [Match(*m) for m in ms] for sha, ms in found.items()}


@router.get("/triage/{sha256}", dependencies=[needs(Perm.TRIAGE)])
def verdict_page(request: Request, sha256: str) -> Response:
    if not integrations.available("triage"):
        return unavailable(request, "triage")
    from haechi.triage.verdicts import file_verdict

    app = haechi(request)
    v = file_verdict(app, sha256)
    ko = language(request) == "ko"
    verdict = v.verdict
    return render(
        request,
        "triage.html",
        items=[],
        matched={},
        offset=0,
        verdict=v,
        verdict_matches=_matches(app, [v.sha256]).get(v.sha256, []),
        label=verdict.label_ko if ko else verdict.label_en,
        explanation=verdict.explanation_ko if ko else verdict.explanation_en,
        caveats=verdict.caveats_ko if ko else verdict.caveats_en,
    )
