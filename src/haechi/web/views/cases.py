"""Cases, read-only here: the list and one case's detail (victims redacted), built on
``haechi.cases`` (the cases capability). Changes are made with ``haechi case``."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import integrations
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(70, "nav.cases", "/cases", Perm.CASES)]


@router.get("/cases", dependencies=[needs(Perm.CASES)])
def cases_page(request: Request, status: str | None = None) -> Response:
    if not integrations.available("cases"):
        return unavailable(request, "cases")
    from haechi.cases.service import list_cases

    found = list_cases(haechi(request), status=status or None, limit=500)
    return render(request, "cases.html", cases=found, case=None)


@router.get("/cases/{case}", dependencies=[needs(Perm.CASES)])
def case_page(request: Request, case: str) -> Response:
    if not integrations.available("cases"):
        return unavailable(request, "cases")
    from haechi.cases.detail import case_detail

    detail = case_detail(haechi(request), case[:64], reveal_victims=False)
    return render(request, "cases.html", cases=[], case=detail)
