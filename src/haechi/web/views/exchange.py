"""Cooperation with partners: the page where investigators and administrators manage the
partners we publish to and the subscriptions we fetch from (the JSON API and the partner
feed are in :mod:`haechi.web.views.exchange_api`).

The page acts through the exchange services as the logged-in person (their name in the
custody events), and each change is on the audit trail. A token is shown once, on the
answer to the form that made it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render
from haechi.web.views.collect import acting

router = APIRouter()
NAV = [NavItem(85, "nav.exchange", "/exchange", Perm.EXCHANGE_MANAGE)]
CHANGE = "exchange_change"  # audit action of the page's forms
WEB_SYNC_PAGES = 50  # a sync from the page stops here; the next one continues


def _overview(request: Request) -> dict[str, Any]:
    from haechi.exchange.feed import feed_stats
    from haechi.exchange.partners import list_partners
    from haechi.exchange.status import recent_syncs
    from haechi.exchange.subscriptions import list_subscriptions

    app = haechi(request)
    return {
        "key_id": app.signer.key_id,
        "feed": feed_stats(app),
        "partners": list_partners(app),
        "subscriptions": list_subscriptions(app),
        "syncs": recent_syncs(app),
    }


def _page(request: Request, status: int = 200, **values: Any) -> Response:
    from haechi.match.banks import list_banks

    shown = {"error": None, "token": None, "token_for": None, "synced": None, **values}
    return render(request, "exchange.html", status=status, banks=list_banks(haechi(request)),
                  **_overview(request), **shown)  # fmt: skip


def _audit(request: Request, subject: str, detail: dict[str, Any]) -> None:
    audit.record(haechi(request), current(request).actor, CHANGE, subject, detail)


@router.get("/exchange", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def exchange_page(request: Request) -> Response:
    return _page(request)


@router.post("/exchange/partners", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def add_partner(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    bank: Annotated[list[str], Form()],
    labels: Annotated[str, Form(max_length=2000)] = "",
    kinds: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    from haechi.exchange.partners import add_partner as add

    try:
        secret, info = add(acting(request), name, banks=bank[:50],
                           labels=[x for x in labels.replace(",", " ").split() if x],
                           kinds=kinds or [], description=description or None)  # fmt: skip
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    _audit(request, f"partner:{info.name}", {"added": info.scope.describe()})
    return _page(request, token=secret, token_for=info.name)


@router.post("/exchange/partners/{name}/token", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def partner_token(request: Request, name: str) -> Response:
    from haechi.exchange.partners import new_token

    try:
        secret, info = new_token(acting(request), name)
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    _audit(request, f"partner:{info.name}", {"token": info.token_prefix})
    return _page(request, token=secret, token_for=info.name)


@router.post("/exchange/partners/{name}/revoke", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def partner_revoke(
    request: Request, name: str, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    from haechi.exchange.partners import revoke_token

    try:
        info = revoke_token(acting(request), name, reason=reason)
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    _audit(request, f"partner:{info.name}", {"revoked": info.token_prefix, "reason": reason})
    return RedirectResponse("/exchange", status_code=303)


@router.post("/exchange/subscriptions", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def add_subscription(
    request: Request,
    name: Annotated[str, Form(max_length=64)],
    url: Annotated[str, Form(max_length=500)],
    token: Annotated[str, Form(max_length=200)],
    public_key: Annotated[str, Form(max_length=4000)],
    bank: Annotated[str, Form(max_length=128)] = "",
) -> Response:
    from haechi.exchange.subscriptions import add_haechi

    try:
        sub = add_haechi(acting(request), name, url=url, token=token,
                         public_key_pem=public_key.encode(), bank=bank or None)  # fmt: skip
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    _audit(request, f"subscription:{sub.name}", {"added": sub.url, "bank": sub.bank_name})
    return RedirectResponse("/exchange", status_code=303)


def sync_for(request: Request, name: str) -> dict[str, Any]:
    """Sync one subscription as the logged-in person (bounded; the next sync continues)."""
    from haechi.exchange.subscriptions import get_subscription
    from haechi.exchange.sync import sync_one

    app = acting(request)
    report = sync_one(app, get_subscription(app, name), max_pages=WEB_SYNC_PAGES)
    _audit(request, f"subscription:{name}", {"sync": report.line()})
    return report.as_dict()


@router.post("/exchange/subscriptions/{name}/sync", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
async def sync_page(request: Request, name: str) -> Response:
    try:
        report = await run_in_threadpool(sync_for, request, name)
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    return _page(request, synced=report)
