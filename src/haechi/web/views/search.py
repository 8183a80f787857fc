"""Full-text search with filters; the results part is swapped in by htmx."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import chats, integrations
from haechi.services.search import Filters, search
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.archive import parse_day
from haechi.web.views.collect import extras

router = APIRouter()
NAV = [NavItem(30, "nav.search", "/search", Perm.SEARCH)]


def filters_from(request: Request) -> Filters:
    return filters_from_params(request.query_params)


def filters_from_params(p: Mapping[str, str]) -> Filters:
    """The search filters of a query string (the page's, or the one a collect form sends
    back to add every result to a case)."""

    def flag(name: str) -> bool:
        return p.get(name) in ("1", "on", "true")

    chat = p.get("chat")
    limit = p.get("limit")
    return Filters(
        q=(p.get("q") or "")[:500],
        chat_id=int(chat) if chat and chat.isdigit() and len(chat) < 19 else None,
        date_from=parse_day(p.get("from")),
        date_to=parse_day(p.get("to"), end=True),
        author=(p.get("author") or None),
        has_media=flag("media"),
        forwarded=flag("fwd"),
        forwarded_from=(p.get("fwd_from") or None),
        lexicon=flag("lex"),
        cursor=p.get("cursor") or None,
        limit=int(limit) if limit and limit.isdigit() and len(limit) < 5 else 50,
    )


def _active(f: Filters) -> bool:
    return bool(f.describe())


@router.get("/search", dependencies=[needs(Perm.SEARCH)])
def search_page(request: Request) -> Response:
    f = filters_from(request)
    app = haechi(request)
    page = search(app, current(request).actor, f) if _active(f) else None
    template = "_search_results.html" if request.headers.get("hx-request") else "search.html"
    x = extras(request, messages=[h.message_pk for h in page.hits] if page else [])
    query = urlencode([(k, v) for k, v in request.query_params.multi_items() if k != "cursor"])
    return render(
        request,
        template,
        f=f,
        page=page,
        chats=chats.chat_choices(app) if template == "search.html" else [],
        lexicon=integrations.lexicon_available(),
        more_url=_more_url(request, page.next_cursor) if page else None,
        x=x,
        search_query=query,
        back="/search?" + query,
    )


def _more_url(request: Request, cursor: str | None) -> str | None:
    if cursor is None:
        return None
    params = [(k, v) for k, v in request.query_params.multi_items() if k != "cursor"]
    return "/search?" + urlencode([*params, ("cursor", cursor)])
