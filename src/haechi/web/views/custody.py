"""The custody log for the roles that hold ``custody.read`` without ``archive.read``
(auditors): the signed events, newest first, by subject, by event type, or a message's
trail as its detail page shows it — the events only, never the message or its files."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import custody
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(85, "nav.custody", "/custody", Perm.CUSTODY_READ)]


@router.get("/custody", dependencies=[needs(Perm.CUSTODY_READ)])
def custody_page(
    request: Request,
    subject: str | None = None,
    event: str | None = None,
    message: int | None = None,
    before: int | None = None,
) -> Response:
    page = custody.log(
        haechi(request), subject=subject or None, event_type=event or None, message_pk=message,
        before=before,
    )  # fmt: skip
    return render(
        request, "custody.html", page=page, subject=subject or "", event=event or "",
        message=message,
    )  # fmt: skip
