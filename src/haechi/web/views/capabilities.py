"""Views of the other capabilities: banks and matches, subjects and face search, the
network graph, triage verdicts, cases, statistics. Each is built against that capability's service
module (``haechi.services.integrations.SERVICES``); where the module is not installed, the
page says so plainly instead of failing.

A capability whose view is wired gets its own module in this package, which registers the
same path first (modules load in name order, and this one is named to load last).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import integrations
from haechi.services.common import has_module
from haechi.web.auth import needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()

AREAS = {
    # capability: (path, permission, nav order, catalogue key)
    "matches": ("/matches", Perm.MATCHES, 50, "nav.matches"),
    "subjects": ("/subjects", Perm.SUBJECTS, 55, "nav.subjects"),
    "triage": ("/triage", Perm.TRIAGE, 60, "nav.triage"),
    "graph": ("/graph", Perm.GRAPH, 65, "nav.graph"),
    "cases": ("/cases", Perm.CASES, 70, "nav.cases"),
    "stats": ("/stats", Perm.STATS, 75, "nav.stats"),
}
# A capability whose view module exists here (views/<capability>.py) is served by it.
WIRED = {name for name in AREAS if has_module(f"haechi.web.views.{name}")}
NAV = [
    NavItem(order, key, path, perm)
    for name, (path, perm, order, key) in AREAS.items()
    if name not in WIRED
]


def unavailable(request: Request, capability: str) -> Response:
    """The page of a capability that is not installed (or whose view is not wired)."""
    return render(
        request,
        "unavailable.html",
        title_key=AREAS[capability][3],
        capability=capability,
        installed=integrations.available(capability),
    )


def _placeholder(capability: str) -> object:
    path, perm, _order, _key = AREAS[capability]

    def view(request: Request) -> Response:
        return unavailable(request, capability)

    view.__name__ = f"{capability}_page"
    router.add_api_route(path, view, methods=["GET"], dependencies=[needs(perm)])
    return view


for _name in AREAS:
    if _name not in WIRED:
        _placeholder(_name)
