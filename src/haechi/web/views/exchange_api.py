"""The exchange's JSON API: the partner feed (``/api/exchange/v1/changes``, for partners'
own ``hxp_`` tokens) and the management endpoints for ``exchange.manage`` (partners,
subscriptions, a sync, our key, a subscription's token, pause, resume and removal, a
partner's scope and removal; the removals and a scope take an ``Idempotency-Key``), and the
FollowTheMoney leads for ``export``. The pages are in :mod:`haechi.web.views.exchange`,
whose functions these call; see docs/exchange.md.

Partners are not web users. ``web.auth.authenticate`` leaves their requests to the
partner route's guard, which refuses any logged-in person (403: no role has
``exchange.partner``). Every partner fetch, refusals included, is on the audit trail
(``haechi.exchange.publish``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from haechi.auth.roles import Perm
from haechi.web.auth import Denied, NeedLogin, client_ip, haechi, needs
from haechi.web.views import exchange
from haechi.web.views.banks_api import keyed
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


Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


@router.get("/key", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_key(request: Request) -> dict[str, str]:
    """Our public key (PEM), as ``haechi exchange key``."""
    return {"key_id": haechi(request).signer.key_id, "pem": exchange.public_key(request)}


class TokenBody(BaseModel):
    token: str = Field(max_length=200)


@router.post("/subscriptions/{name}/token", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_token(request: Request, name: str, body: TokenBody) -> dict[str, Any]:
    changed = exchange.set_token_for(request, name, body.token)
    return {"subscription": name, "changed": changed}


@router.post("/subscriptions/{name}/enable", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_enable(request: Request, name: str) -> dict[str, Any]:
    changed = exchange.set_enabled_for(request, name, True)
    return {"subscription": name, "enabled": True, "changed": changed}


@router.post("/subscriptions/{name}/disable", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_disable(request: Request, name: str) -> dict[str, Any]:
    changed = exchange.set_enabled_for(request, name, False)
    return {"subscription": name, "enabled": False, "changed": changed}


class ReasonBody(BaseModel):
    reason: str = Field(default="", max_length=500)


@router.post("/subscriptions/{name}/remove", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_remove(request: Request, name: str, body: ReasonBody, key: Key = None) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        sub = exchange.remove_subscription_for(request, name, body.reason)
        return "/api/exchange/subscriptions", {"removed": sub.name, "bank": sub.bank_name}

    return keyed(request, key, "exchange_subscription_remove", work)


class ScopeBody(BaseModel):
    banks: list[str] = Field(max_length=50)
    labels: list[str] = Field(default_factory=list, max_length=50)
    kinds: list[str] = Field(default_factory=list, max_length=8)


@router.post("/partners/{name}/scope", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_scope(request: Request, name: str, body: ScopeBody, key: Key = None) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        info = exchange.set_scope_for(request, name, body.banks, body.labels, body.kinds)
        return "/api/exchange/partners", {"partner": info.name, "scope": info.scope.describe()}

    return keyed(request, key, "exchange_partner_scope", work)


@router.post("/partners/{name}/remove", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def api_partner_remove(
    request: Request, name: str, body: ReasonBody, key: Key = None
) -> JSONResponse:
    def work() -> tuple[str, dict[str, Any]]:
        info = exchange.remove_partner_for(request, name, body.reason)
        return "/api/exchange/partners", {"removed": info.name}

    return keyed(request, key, "exchange_partner_remove", work)


@router.get("/ftm", dependencies=[needs(Perm.EXPORT)])
def api_ftm(
    request: Request, since: str = "", with_text: bool = False, include_personal: bool = False
) -> Response:
    """The leads as FollowTheMoney JSON lines, as ``haechi exchange ftm`` (a logged export),
    built in the request: for a small archive (a large one: ``POST /api/exchange/ftm``)."""
    return exchange.ftm_download(request, since, with_text, include_personal)


class FtmBody(BaseModel):
    since: str = Field(default="", max_length=40)
    with_text: bool = False
    include_personal: bool = False


@router.post("/ftm", dependencies=[needs(Perm.EXPORT)])
def api_ftm_job(request: Request, body: FtmBody, key: Key = None) -> JSONResponse:
    """The leads built as a background ``ftm`` job (once per ``Idempotency-Key``): answers
    the job (201); ``GET /api/jobs/<id>`` follows it, its ``result_url`` is the logged
    download."""
    from haechi.web.views.jobs import start_job

    params = exchange.ftm_params(body.since, body.with_text, body.include_personal)
    job_id = start_job(request, "ftm", params, key)
    return JSONResponse({"location": f"/api/jobs/{job_id}", "id": job_id}, status_code=201)
