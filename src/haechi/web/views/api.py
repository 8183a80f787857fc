"""The REST API under ``/api``: the same services as the pages, JSON in and out, with a
bearer token (``haechi user token`` or the account page) or a browser session.

The OpenAPI schema is at ``/api/openapi.json`` (for logged-in users, like everything else).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import asdict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response, StreamingResponse

from haechi.auth import audit
from haechi.auth.errors import NotFound
from haechi.auth.roles import Perm, can, permissions_of
from haechi.i18n import t_
from haechi.services import chats, custody, dashboard, exposure, integrations, matches, messages
from haechi.services import media as media_service
from haechi.services.search import Filters, search
from haechi.web.auth import current, haechi, needs
from haechi.web.views.search import filters_from
from haechi.web.views.stats import compute as compute_stats

router = APIRouter(prefix="/api", tags=["api"])
EXPORT_MAX = 10_000


def _json(value: Any) -> dict[str, Any]:
    return asdict(value) if hasattr(value, "__dataclass_fields__") else value


@router.get("/openapi.json", dependencies=[needs(Perm.SELF)], include_in_schema=False)
def openapi(request: Request) -> JSONResponse:
    """The schema of the JSON endpoints (``create_app`` leaves the HTML pages out of it)."""
    return JSONResponse(request.app.openapi())


@router.get("/me", dependencies=[needs(Perm.SELF)])
def me(request: Request) -> dict[str, Any]:
    auth = current(request)
    status = exposure.status(haechi(request), auth.user.id, request.app.state.web.wellness)
    return {
        "username": auth.user.username,
        "role": auth.user.role,
        "permissions": [p.value for p in permissions_of(auth.user.role)],
        "exposure": asdict(status),
    }


@router.get("/dashboard", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_dashboard(request: Request) -> dict[str, Any]:
    return _json(dashboard.dashboard(haechi(request)))


@router.get("/chats", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_chats(request: Request, q: str | None = None, limit: int = 500) -> list[dict[str, Any]]:
    return [asdict(c) for c in chats.list_chats(haechi(request), q=q, limit=limit)]


@router.get("/chats/{chat_id}/messages", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_timeline(
    request: Request, chat_id: int, before: int | None = None, after: int | None = None,
    limit: int = 50,
) -> dict[str, Any]:  # fmt: skip
    return asdict(chats.timeline(haechi(request), chat_id, before=before, after=after, limit=limit))


@router.get("/search", dependencies=[needs(Perm.SEARCH)])
def api_search(request: Request) -> dict[str, Any]:
    """Query parameters as on the search page: q, chat, from, to (YYYY-MM-DD), author,
    media=1, fwd=1, fwd_from, lex=1, cursor, limit."""
    page = search(haechi(request), current(request).actor, filters_from(request))
    return asdict(page)


@router.get("/messages/{message_pk}", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_message(request: Request, message_pk: int) -> dict[str, Any]:
    """One message; ``custody`` (its custody trail) only for roles with ``custody.read``."""
    allowed = can(current(request).user.role, Perm.CUSTODY_READ)
    body = asdict(messages.detail(haechi(request), message_pk, with_custody=allowed))
    if not allowed:
        del body["custody"]  # absent, not empty: an empty trail would be a false statement
    return body


@router.get("/custody", dependencies=[needs(Perm.CUSTODY_READ)])
def api_custody(
    request: Request, subject: str | None = None, event: str | None = None,
    message: int | None = None, before: int | None = None, limit: int = 100,
) -> dict[str, Any]:  # fmt: skip
    """The custody log, newest first: one subject, one event type (``event``), or a
    message's trail (``message=<pk>``: the events of its export and files, without the
    message itself)."""
    page = custody.log(
        haechi(request), subject=subject, event_type=event, message_pk=message, before=before,
        limit=limit,
    )  # fmt: skip
    return asdict(page)


@router.get("/matches", dependencies=[needs(Perm.MATCHES)])
def api_matches(
    request: Request, bank: str | None = None, against: str | None = None,
    before: int | None = None, limit: int = 50,
) -> dict[str, Any]:  # fmt: skip
    """Banks with their counts and the stored matches, newest first (as on /matches)."""
    if not matches.available():
        raise NotFound(t_("The matches capability is not installed here."))
    app = haechi(request)
    page = matches.recent(app, bank=bank, against=against, before=before, limit=limit)
    return {"banks": [asdict(b) for b in matches.banks(app)], **asdict(page)}


@router.get("/stats", dependencies=[needs(Perm.STATS)])
def api_stats(request: Request) -> dict[str, Any]:
    """The statistics tables for ``from``/``to`` (YYYY-MM or YYYY-MM-DD), as on /stats."""
    if not integrations.available("stats"):
        raise NotFound(t_("The cases capability is not installed here."))
    st, stats = compute_stats(request)
    tables = st.tables(stats)
    return {name: {"header": h, "rows": rows} for name, (h, rows) in tables.items()}


@router.get("/media", dependencies=[needs(Perm.ARCHIVE_READ)])
def api_media(
    request: Request, chat: int | None = None, kind: str | None = None,
    signal: str | None = None, before: int | None = None, limit: int = 60,
) -> dict[str, Any]:  # fmt: skip
    page = media_service.grid(
        haechi(request), chat_id=chat, kind=kind, signal=signal, before=before, limit=limit
    )
    return asdict(page)


@router.post("/media/{sha256}/original", dependencies=[needs(Perm.MEDIA_REVEAL)])
def api_original(request: Request, sha256: str) -> Response:
    """Reveal and download one original in one call (logged like a reveal on a page)."""
    auth = current(request)
    app = haechi(request)
    media_service.reveal(app, auth.actor, sha256, reason="api")
    stream, _item = media_service.open_original(app, sha256)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1 << 16):
                yield block

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@router.get("/audit", dependencies=[needs(Perm.AUDIT_READ)])
def api_audit(
    request: Request, action: str | None = None, user: str | None = None,
    subject: str | None = None, before: int | None = None, limit: int = 100,
) -> list[dict[str, Any]]:  # fmt: skip
    rows = audit.entries(
        haechi(request), action=action, username=user, subject=subject, before_id=before,
        limit=limit,
    )  # fmt: skip
    return [asdict(r) for r in rows]


@router.get("/export/search.jsonl", dependencies=[needs(Perm.EXPORT)])
def api_export_search(request: Request) -> Response:
    """Every hit of a search (up to 10,000) as JSON Lines. Logged as an export, with a
    signed custody event naming the query and the number of messages exported."""
    app, auth = haechi(request), current(request)
    f = filters_from(request)
    hits: list[Any] = []
    cursor = None
    while len(hits) < EXPORT_MAX:
        page = search(
            app,
            auth.actor,
            Filters(**{**f.__dict__, "cursor": cursor, "limit": 200}),
            audited=False,
        )
        hits.extend(page.hits)
        cursor = page.next_cursor
        if cursor is None:
            break
    hits = hits[:EXPORT_MAX]
    detail = {**f.describe(), "what": "search", "messages": len(hits)}
    audit.record(app, auth.actor, audit.EXPORT, "search", detail)
    body = "".join(json.dumps(asdict(h), ensure_ascii=False) + "\n" for h in hits)
    return Response(body, media_type="application/x-ndjson")
