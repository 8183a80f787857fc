"""The exchange's JSON API: the partner feed (``/api/exchange/v1/changes``, for partners'
own ``hxp_`` tokens) and the management endpoints for ``exchange.manage``. The pages are in
:mod:`haechi.web.views.exchange`; see docs/exchange.md.

Partners are not web users. ``web.auth.authenticate`` leaves their requests to the
partner route's guard, which refuses any logged-in person (403: no role has
``exchange.partner``). Every partner fetch, refusals included, is on the audit trail
(``haechi.exchange.publish``).
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from haechi.auth.roles import Perm
from haechi.web.auth import Denied, NeedLogin, client_ip, haechi, needs
from haechi.web.views.exchange import sync_for

router = APIRouter(prefix="/api/exchange", tags=["exchange"])


async def _partner_token(request: Request) -> str:
    """A partner's own token: never a web session (a logged-in person is refused)."""
    if getattr(request.state, "auth", None) is not None:
        raise Denied("permission")
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        raise NeedLogin
    return token


_partner_token.permission = Perm.EXCHANGE_PARTNER  # type: ignore[attr-defined]
PARTNER = Depends(_partner_token)


@router.get("/v1/changes", dependencies=[PARTNER])
def changes(
    request: Request,
    after: str | None = None,
    limit: int | None = None,
    kinds: str = "",
    labels: str = "",
) -> Response:
    """One signed page of the change feed after the cursor ``after`` (see docs/exchange.md)."""
    from haechi.exchange.errors import ExchangeError
    from haechi.exchange.publish import serve_page

    header = request.headers.get("authorization", "")
    token = header[7:].strip()
    try:
        served = serve_page(
            haechi(request), token, after=after, limit=limit, ip=client_ip(request),
            kinds=[k for k in kinds.split(",") if k][:8],
            labels=[lb for lb in labels.split(",") if lb][:50],
        )  # fmt: skip
    except ExchangeError as exc:
        headers = {"WWW-Authenticate": "Bearer"} if exc.status == 401 else None
        return JSONResponse({"detail": str(exc)}, status_code=exc.status, headers=headers)
    return Response(
        served.body, media_type="application/json",
        headers={"X-Haechi-Changes": f"{served.start}-{served.end}"},
    )  # fmt: skip


@router.get("/partners", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_partners(request: Request) -> list[dict[str, Any]]:
    from haechi.exchange.partners import list_partners

    return [p.as_dict() for p in list_partners(haechi(request))]


@router.get("/subscriptions", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_subscriptions(request: Request) -> list[dict[str, Any]]:
    from haechi.exchange.subscriptions import list_subscriptions

    return [s.as_dict() for s in list_subscriptions(haechi(request))]


@router.post("/subscriptions/{name}/sync", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
async def api_sync(request: Request, name: str) -> dict[str, Any]:
    return await run_in_threadpool(sync_for, request, name)
