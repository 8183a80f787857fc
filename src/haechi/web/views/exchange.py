"""Cooperation with partners: the page where investigators and administrators manage the
partners we publish to and the subscriptions we fetch from (the JSON API and the partner
feed are in :mod:`haechi.web.views.exchange_api`).

The page acts through the exchange services as the logged-in person (their name in the
custody events), and each change is on the audit trail. A token is shown once, on the
answer to the form that made it. What ``haechi exchange key``, ``token``, ``enable``,
``disable``, ``remove``, ``partner scope`` and ``partner remove`` do is here too, through
the same services; the removals and a new scope are done once per form key, a pause, a
resume or a token already in force changes nothing again. A subscription is added once
per form key, to a haechi partner or to a ThreatExchange privacy group (``haechi exchange
add --tx-config`` with an ``fb_threatexchange`` config and the app token as its
credentials, through the same service: the token goes to the file the command line writes,
and never back into a page, an audit entry or a log). ``haechi exchange ftm`` is a
background job (``export``: :mod:`haechi.jobs.kinds.ftm`; its file, the archive's leads,
is a logged download); the page lists the newest of them with their state and file.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import FileResponse, RedirectResponse, Response
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool

from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.domain import HaechiError, UsageError
from haechi.i18n import t_
from haechi.jobs import once as once_store
from haechi.web.actions import go, once
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render
from haechi.web.views.collect import acting

router = APIRouter()
NAV = [NavItem(85, "nav.exchange", "/exchange", Perm.EXCHANGE_MANAGE)]
CHANGE = "exchange_change"  # audit action of the page's forms
WEB_SYNC_PAGES = 50  # a sync from the page stops here; the next one continues
TX_API = "fb_threatexchange"  # the ThreatExchange collaborations the page adds
LEADS_SHOWN = 5  # the newest leads jobs on the page


def _overview(request: Request) -> dict[str, Any]:
    from haechi.exchange.feed import feed_stats
    from haechi.exchange.partners import list_partners
    from haechi.exchange.status import recent_syncs
    from haechi.exchange.subscriptions import list_subscriptions

    app = haechi(request)
    return {
        "key_id": app.signer.key_id,
        "key_pem": public_key(request),
        "feed": feed_stats(app),
        "partners": list_partners(app),
        "subscriptions": list_subscriptions(app),
        "syncs": recent_syncs(app),
        "leads_jobs": _leads_jobs(request),
    }


def _leads_jobs(request: Request) -> list[Any]:
    """The newest FollowTheMoney leads jobs (anyone's: whoever may build leads may
    download them, as on the job's page), for those who may export."""
    from haechi.jobs import store as jobs

    if not can(current(request).user.role, Perm.EXPORT):
        return []
    return jobs.jobs(haechi(request), kinds=("ftm",), limit=LEADS_SHOWN)


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
    name: Annotated[str, Form(max_length=64)] = "",
    kind: Annotated[str, Form(max_length=16)] = "haechi",
    url: Annotated[str, Form(max_length=500)] = "",
    token: Annotated[str, Form(max_length=200)] = "",
    public_key: Annotated[str, Form(max_length=4000)] = "",
    privacy_group: Annotated[str, Form(max_length=40)] = "",
    app_token: Annotated[str, Form(max_length=500)] = "",
    bank: Annotated[str, Form(max_length=128)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """``haechi exchange add``: a haechi partner (``kind=haechi``: address, our token
    there, its public key) or a ThreatExchange privacy group (``kind=threatexchange``:
    its number and the app's access token). Once per form key; a refusal: the page with
    its sentence (400), the secrets not sent back."""
    from haechi.exchange.subscriptions import add_haechi

    def work() -> str:
        if kind == "threatexchange":
            sub = add_threatexchange_for(request, name, privacy_group, app_token, bank)
        elif kind == "haechi":
            sub = add_haechi(acting(request), name, url=url, token=token,
                             public_key_pem=public_key.encode(), bank=bank or None)  # fmt: skip
            _audit(request, f"subscription:{sub.name}", {"added": sub.url, "bank": sub.bank_name})
        else:
            raise UsageError(t_("A subscription is to a haechi or to ThreatExchange."))
        return f"/exchange#subscription-{sub.name}"

    return _keyed(request, key or once_store.new_key(), "exchange_subscription_add", work)


def add_threatexchange_for(
    request: Request, name: str, privacy_group: str, app_token: str, bank: str = ""
) -> Any:
    """A ThreatExchange privacy group, as ``haechi exchange add NAME --tx-config`` with an
    ``fb_threatexchange`` config and ``--tx-credentials-stdin`` (the app token), through
    the same service, which checks both with threatexchange's own classes and keeps the
    token in the subscription's credentials file (0600). The audit entry names the group,
    never the token."""
    from haechi.exchange.subscriptions import add_threatexchange

    group = privacy_group.strip()
    if not (group.isascii() and group.isdigit() and 0 < len(group) <= 19 and int(group) > 0):
        raise UsageError(t_("The privacy group is the number ThreatExchange gives it."))
    secret = app_token.strip()
    if not secret:
        raise UsageError(t_("Give the app's access token (APP_ID|APP_SECRET)."))
    config = {"name": name.strip(), "api": TX_API, "enabled": True, "privacy_group": int(group)}
    sub = add_threatexchange(acting(request), name, config=config, credentials=secret,
                             bank=bank.strip() or None)  # fmt: skip
    _audit(request, f"subscription:{sub.name}",
           {"added": f"threatexchange {sub.tx_api}", "privacy_group": int(group),
            "bank": sub.bank_name, "credentials": True})  # fmt: skip
    return sub


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


# -- our key, a subscription's token, pause, resume and removal, a partner's scope and removal
def public_key(request: Request) -> str:
    """``haechi exchange key``: our public key (PEM) partners check our pages with."""
    from haechi.store.keys import public_pem

    return public_pem(haechi(request).signer.public).decode().strip()


@router.get("/exchange/key.pem", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def key_pem(request: Request) -> Response:
    name = f"haechi-{haechi(request).signer.key_id}.pem"
    return Response(public_key(request) + "\n", media_type="application/x-pem-file",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})  # fmt: skip


def _act(request: Request, work: Callable[[], Response]) -> Response:
    """An action of the page; a refusal shows the page with its sentence (400)."""
    try:
        return work()
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))


def set_token_for(request: Request, name: str, token: str) -> bool:
    """``haechi exchange token``: our new token at a haechi partner; False when it is the
    one in force already (nothing written)."""
    from haechi.exchange.subscriptions import (
        check_token,
        get_subscription,
        set_token,
        token_of,
    )

    sub = get_subscription(haechi(request), name)
    try:
        same = token_of(haechi(request), sub) == check_token(token)
    except HaechiError:
        same = False
    if same:
        return False
    set_token(acting(request), name, token)
    _audit(request, f"subscription:{name}", {"token": token.strip()[:10]})
    return True


def set_enabled_for(request: Request, name: str, enabled: bool) -> bool:
    """``haechi exchange enable`` / ``disable``; False when it is so already."""
    from haechi.exchange.subscriptions import get_subscription, set_enabled

    if get_subscription(haechi(request), name).enabled == enabled:
        return False
    set_enabled(acting(request), name, enabled)
    _audit(request, f"subscription:{name}", {"enabled": enabled})
    return True


def remove_subscription_for(request: Request, name: str, reason: str) -> Any:
    """``haechi exchange remove``: the subscription ends, its bank stays."""
    from haechi.exchange.subscriptions import remove_subscription

    sub = remove_subscription(acting(request), name, reason=reason)
    _audit(request, f"subscription:{sub.name}", {"removed": sub.bank_name, "reason": reason})
    return sub


def set_scope_for(
    request: Request, name: str, banks: Sequence[str], labels: Sequence[str],
    kinds: Sequence[str],
) -> Any:  # fmt: skip
    """``haechi exchange partner scope``: what the partner may fetch (it starts over)."""
    from haechi.exchange.partners import set_scope

    info = set_scope(acting(request), name, banks=list(banks)[:50], labels=list(labels)[:50],
                     kinds=list(kinds)[:8])  # fmt: skip
    _audit(request, f"partner:{info.name}", {"scope": info.scope.describe()})
    return info


def remove_partner_for(request: Request, name: str, reason: str) -> Any:
    """``haechi exchange partner remove``: its token stops working; the trail keeps its
    fetches."""
    from haechi.exchange.partners import remove_partner

    info = remove_partner(acting(request), name, reason=reason)
    _audit(request, f"partner:{info.name}", {"removed": info.token_prefix, "reason": reason})
    return info


def _words(text: str) -> list[str]:
    return [x for x in text.replace(",", " ").split() if x]


@router.post("/exchange/subscriptions/{name}/token", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def subscription_token(
    request: Request, name: str, token: Annotated[str, Form(max_length=200)] = ""
) -> Response:
    def work() -> Response:
        set_token_for(request, name, token)
        return go(request, f"/exchange#subscription-{name}")

    return _act(request, work)


def _toggle(request: Request, name: str, enabled: bool) -> Response:
    def work() -> Response:
        set_enabled_for(request, name, enabled)
        return go(request, f"/exchange#subscription-{name}")

    return _act(request, work)


@router.post("/exchange/subscriptions/{name}/enable", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def subscription_enable(request: Request, name: str) -> Response:
    return _toggle(request, name, True)


@router.post("/exchange/subscriptions/{name}/disable", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def subscription_disable(request: Request, name: str) -> Response:
    return _toggle(request, name, False)


Reason = Annotated[str, Form(max_length=500)]
FormKey = Annotated[str, Form(max_length=64)]


def _keyed(request: Request, key: str, action: str, work: Callable[[], str]) -> Response:
    """A form done once per key (``work`` returns where to go); a refusal: the page."""
    return _act(request, lambda: once(request, key, action, work))


@router.post("/exchange/subscriptions/{name}/remove", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def subscription_remove(
    request: Request, name: str, reason: Reason = "", key: FormKey = ""
) -> Response:
    def work() -> str:
        remove_subscription_for(request, name, reason)
        return "/exchange"

    return _keyed(request, key, "exchange_subscription_remove", work)


@router.post("/exchange/partners/{name}/scope", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def partner_scope(
    request: Request,
    name: str,
    bank: Annotated[list[str] | None, Form()] = None,
    labels: Annotated[str, Form(max_length=2000)] = "",
    kinds: Annotated[list[str] | None, Form()] = None,
    key: FormKey = "",
) -> Response:
    def work() -> str:
        info = set_scope_for(request, name, bank or [], _words(labels), kinds or [])
        return f"/exchange#partner-{info.name}"

    return _keyed(request, key, "exchange_partner_scope", work)


@router.post("/exchange/partners/{name}/remove", dependencies=[needs(Perm.EXCHANGE_MANAGE)])
def partner_remove(request: Request, name: str, reason: Reason = "", key: FormKey = "") -> Response:
    def work() -> str:
        remove_partner_for(request, name, reason)
        return "/exchange"

    return _keyed(request, key, "exchange_partner_remove", work)


# -- leads for Aleph ---------------------------------------------------------------------
def ftm_params(since: str, with_text: bool, include_personal: bool) -> dict[str, object]:
    return {"since": since.strip()[:40], "with_text": with_text,
            "include_personal": include_personal}  # fmt: skip


def ftm_download(
    request: Request, since: str = "", with_text: bool = False, include_personal: bool = False
) -> Response:
    """``haechi exchange ftm`` as a download built in the request (``GET /api/exchange/ftm``,
    for a script and a small archive; the page and ``POST /api/exchange/ftm`` build it as a
    background job): the export service's own custody event (its SHA-256, cursor and
    options) and an ``export`` audit entry, as the person. The next export's ``since`` is
    in the file name and the ``X-Haechi-Ftm-Cursor`` header."""
    try:
        from haechi.exchange.ftm import FtmOptions, export_ftm
    except ImportError:
        raise UsageError(
            t_("FollowTheMoney is not installed: pip install 'haechi[exchange]' to export leads.")
        ) from None
    folder = Path(tempfile.mkdtemp(prefix="haechi-ftm-"))
    try:
        opts = FtmOptions(since=since.strip() or None, with_text=with_text,
                          include_personal=include_personal)  # fmt: skip
        result = export_ftm(acting(request), folder / "leads.jsonl", opts)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    name = f"leads-{result['cursor']}.jsonl"
    detail = {k: v for k, v in result.items() if k not in ("file", "by_schema")}
    audit.record(haechi(request), current(request).actor, audit.EXPORT, "ftm",
                 {"kind": "ftm", "name": name, **detail})  # fmt: skip
    return FileResponse(
        folder / "leads.jsonl", media_type="application/x-ndjson", filename=name,
        headers={"X-Haechi-Ftm-Cursor": result["cursor"], "Cache-Control": "no-store"},
        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True),
    )  # fmt: skip


@router.post("/exchange/leads", dependencies=[needs(Perm.EXPORT)])
def leads(
    request: Request,
    since: Annotated[str, Form(max_length=40)] = "",
    with_text: Annotated[bool, Form()] = False,
    include_personal: Annotated[bool, Form()] = False,
    key: FormKey = "",
) -> Response:
    """Build the leads as a background ``ftm`` job once per form key, and show the job
    (its progress; then its file to download, a logged export). A bad cursor: the page
    with its sentence (400)."""
    from haechi.jobs.once import check_key
    from haechi.web.views.jobs import start_job

    def work() -> Response:
        params = ftm_params(since, with_text, include_personal)
        return go(request, f"/jobs/{start_job(request, 'ftm', params, check_key(key))}")

    return _act(request, work)
