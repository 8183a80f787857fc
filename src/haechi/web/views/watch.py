"""Live capture's page: whether ``haechi watch run`` is running, and per target its state,
last message (UTC with KST beside), lag, counts and the sentence that explains a problem;
investigators add, pause and resume targets here (the same service as ``haechi watch``).

Logging in a Telegram account stays on the server's shell (``haechi watch login``): it
asks for a code Telegram sends to the investigator's phone, and the session must never
pass through a browser.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(72, "nav.watch", "/watch", Perm.LIVE)]


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    from haechi.collect.telegram_live.status import watch_status

    return render(
        request, "watch.html", status=status, watch=watch_status(haechi(request)), **extra
    )


@router.get("/watch", dependencies=[needs(Perm.LIVE)])
def watch_page(request: Request) -> Response:
    return _page(request)


@router.post("/watch/targets", dependencies=[needs(Perm.LIVE)])
def add_target_form(
    request: Request,
    target: Annotated[str, Form(max_length=300)],
    join: Annotated[str, Form(max_length=8)] = "",
) -> Response:
    from haechi.collect.telegram_live.targets import add_target

    try:
        add_target(
            haechi(request), target, join=join == "on", actor=current(request).actor.custody_name
        )
    except HaechiError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/watch", status_code=303)


@router.post("/watch/targets/{target_id}", dependencies=[needs(Perm.LIVE)])
def change_target_form(
    request: Request, target_id: str, action: Annotated[str, Form(max_length=16)]
) -> Response:
    from haechi.collect.telegram_live.targets import set_paused

    if action not in ("pause", "resume") or not target_id.isdigit():
        return _page(request, 400, error="Unknown action.")
    try:
        set_paused(
            haechi(request),
            int(target_id),
            action == "pause",
            actor=current(request).actor.custody_name,
        )
    except HaechiError as exc:
        return _page(request, 400, error=str(exc))
    return RedirectResponse("/watch", status_code=303)
