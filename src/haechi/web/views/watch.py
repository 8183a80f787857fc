"""Live capture's page: whether ``haechi watch run`` is running, and per target its state,
last message (UTC with KST beside), lag, counts and the sentence that explains a problem;
investigators add, pause and resume targets here (the same service as ``haechi watch``),
and talk to a suspect bot (``haechi watch bot``): the conversation runs as a background job
(``bot_conversation``) whose page shows what was sent and what came back.

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
from haechi.i18n import localize, t_
from haechi.jobs import store as jobs
from haechi.web.actions import once
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import language, refusal, render

router = APIRouter()
NAV = [NavItem(72, "nav.watch", "/watch", Perm.LIVE)]


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    from haechi.collect.telegram_live.status import watch_status

    app = haechi(request)
    mine = [
        j for j in jobs.jobs(app, user_id=current(request).user.id, limit=200)
        if j.kind == "bot_conversation"
    ][:10]  # fmt: skip
    return render(
        request, "watch.html", status=status, watch=watch_status(app), bot_jobs=mine, **extra
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
        return _page(request, 400, error=refusal(request, exc))
    return RedirectResponse("/watch", status_code=303)


@router.post("/watch/targets/{target_id}", dependencies=[needs(Perm.LIVE)])
def change_target_form(
    request: Request, target_id: str, action: Annotated[str, Form(max_length=16)]
) -> Response:
    from haechi.collect.telegram_live.targets import set_paused

    if action not in ("pause", "resume") or not target_id.isdigit():
        return _page(request, 400, error=localize(t_("Unknown action."), language(request)))
    try:
        set_paused(
            haechi(request),
            int(target_id),
            action == "pause",
            actor=current(request).actor.custody_name,
        )
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc))
    return RedirectResponse("/watch", status_code=303)


@router.post("/watch/bot", dependencies=[needs(Perm.LIVE)])
def start_bot_conversation(
    request: Request,
    bot: Annotated[str, Form(max_length=64)],
    commands: Annotated[str, Form(max_length=20_000)] = "",
    case: Annotated[str, Form(max_length=64)] = "",
    wait_seconds: Annotated[str, Form(max_length=16)] = "15",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Queue a conversation with a bot; the commands are checked before anything is queued
    (text only, nothing that asks for generation), and a double submit queues one job."""
    from haechi.web.views.jobs import start_job

    params: dict[str, object] = {"bot": bot, "commands": commands, "wait_seconds": wait_seconds}
    if case.strip():
        params["case"] = case.strip()

    def work() -> str:
        return f"/jobs/{start_job(request, 'bot_conversation', params, key or None)}"

    try:
        return once(request, key, "bot_conversation", work)
    except HaechiError as exc:
        form = {"bot": bot, "commands": commands, "case": case, "wait_seconds": wait_seconds}
        return _page(request, 400, bot_error=refusal(request, exc), bot_form=form)
