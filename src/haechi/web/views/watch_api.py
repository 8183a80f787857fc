"""Live capture in the JSON API: the status of the service and every target, adding,
pausing and resuming targets (the same service as the page and ``haechi watch``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from haechi.auth.errors import NotFound
from haechi.auth.roles import Perm
from haechi.i18n import t_
from haechi.web.auth import current, haechi, needs

router = APIRouter(prefix="/api", tags=["api"])


class NewTarget(BaseModel):
    target: str = Field(max_length=300, description="@name, t.me/name, t.me/+invite")
    join: bool = Field(False, description="allow haechi to join the room (recorded)")


@router.get("/watch", dependencies=[needs(Perm.LIVE)])
def api_watch(request: Request) -> dict[str, Any]:
    from haechi.collect.telegram_live.status import watch_status

    return watch_status(haechi(request)).as_dict()


@router.post("/watch/targets", dependencies=[needs(Perm.LIVE)])
def api_add_target(request: Request, body: NewTarget) -> dict[str, Any]:
    from haechi.collect.telegram_live.targets import add_target

    target_id, created = add_target(
        haechi(request), body.target, join=body.join, actor=current(request).actor.custody_name
    )
    return {"id": target_id, "created": created}


@router.post("/watch/targets/{target_id}/{action}", dependencies=[needs(Perm.LIVE)])
def api_change_target(request: Request, target_id: str, action: str) -> dict[str, Any]:
    from haechi.collect.telegram_live.targets import set_paused

    if action not in ("pause", "resume") or not target_id.isdigit():
        raise NotFound(t_("Use /api/watch/targets/<id>/pause or /resume."))
    set_paused(
        haechi(request),
        int(target_id),
        action == "pause",
        actor=current(request).actor.custody_name,
    )
    return {"id": int(target_id), "paused": action == "pause"}
