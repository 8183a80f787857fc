"""The tags in use and what carries each, as ``haechi tag list`` (``haechi.review.tags``):
every tag with how many files, messages and chats carry it, and one tag's items, each
linked to its page. Tags are put on and taken off from the lists (``/collect/tag``)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render

router = APIRouter()
NAV = [NavItem(62, "nav.tags", "/tags", Perm.ARCHIVE_READ)]


def item(target: str) -> dict[str, str]:
    """A tagged target (``file:<sha256>``, ``message:<pk>``, ``chat:<id>``) and its kind."""
    kind, _, ref = target.partition(":")
    return {"target": target, "kind": kind, "ref": ref}


def _tagged(request: Request, tag: str) -> list[dict[str, str]]:
    from haechi.review.tags import tagged

    return [item(t) for t in tagged(haechi(request), tag)]


@router.get("/tags", dependencies=[needs(Perm.ARCHIVE_READ)])
def tags_page(request: Request) -> Response:
    from haechi.review.tags import all_tags

    return render(request, "tags.html", tags=all_tags(haechi(request)), tag=None, items=[])


@router.get("/tags/{tag:path}", dependencies=[needs(Perm.ARCHIVE_READ)])
def tag_page(request: Request, tag: str) -> Response:
    return render(request, "tags.html", tags=[], tag=tag, items=_tagged(request, tag))


@router.get("/api/tags", dependencies=[needs(Perm.ARCHIVE_READ)], tags=["api"])
def api_tags(request: Request) -> list[dict[str, Any]]:
    from haechi.review.tags import all_tags

    return [{"tag": t, "count": n} for t, n in all_tags(haechi(request))]


@router.get("/api/tags/{tag:path}", dependencies=[needs(Perm.ARCHIVE_READ)], tags=["api"])
def api_tag(request: Request, tag: str) -> dict[str, Any]:
    return {"tag": tag.strip(), "items": _tagged(request, tag)}
