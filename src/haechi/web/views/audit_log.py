"""The audit trail, for auditors and administrators."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(80, "nav.audit", "/audit", Perm.AUDIT_READ)]


@router.get("/audit", dependencies=[needs(Perm.AUDIT_READ)])
def audit_page(
    request: Request,
    action: str | None = None,
    user: str | None = None,
    subject: str | None = None,
    before: int | None = None,
) -> Response:
    rows = audit.entries(
        haechi(request),
        action=action or None,
        username=user or None,
        subject=subject or None,
        before_id=before,
        limit=100,
    )
    return render(
        request,
        "audit.html",
        rows=rows,
        actions=audit.ACTIONS,
        action=action or "",
        who=user or "",
        subject=subject or "",
        older=rows[-1].id if len(rows) == 100 else None,
    )
