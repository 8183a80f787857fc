"""The media grid, safe previews, and revealing one original (an explicit, logged act)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from importlib import resources
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from haechi.auth.roles import Perm
from haechi.services import exposure
from haechi.services import media as media_service
from haechi.services.media import INLINE_MIME
from haechi.web import grants
from haechi.web.auth import Denied, current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.archive import count_previews
from haechi.web.views.collect import extras

router = APIRouter()
NAV = [NavItem(40, "nav.media", "/media", Perm.ARCHIVE_READ)]
_PLACEHOLDER = resources.files("haechi.web").joinpath("static", "placeholder.svg")
_MATCHED = resources.files("haechi.web").joinpath("static", "matched.svg")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")
# The signals the grid filters on (what the analyzers write about a file, named in the
# catalogues as enum.signal.<kind>).
SIGNAL_KINDS = ("nudity", "synthetic", "provenance", "face", "pdq", "vpdq")


@router.get("/media", dependencies=[needs(Perm.ARCHIVE_READ)])
def media_grid(
    request: Request,
    chat: int | None = None,
    kind: str | None = None,
    signal: str | None = None,
    before: int | None = None,
) -> Response:
    page = media_service.grid(
        haechi(request), chat_id=chat, kind=kind, signal=signal, before=before
    )
    count_previews(request, page.items)
    x = extras(request, files=[m.sha256 for m in page.items])
    return render(
        request, "media.html", page=page, chat=chat, kind=kind or "", signal=signal or "", x=x,
        signal_kinds=SIGNAL_KINDS,
    )  # fmt: skip


@router.get("/media/{sha256}/preview", dependencies=[needs(Perm.ARCHIVE_READ)])
def preview(request: Request, sha256: str) -> Response:
    found = media_service.preview(haechi(request), sha256)
    if found.matched:
        # Matched to a bank: not even the safe preview, whoever asks for it and however.
        return Response(_MATCHED.read_bytes(), media_type="image/svg+xml")
    if found.data is None or found.mime is None:
        # Never the original: a neutral placeholder when no safe preview exists.
        return Response(_PLACEHOLDER.read_bytes(), media_type="image/svg+xml")
    mime = found.mime
    return Response(found.data, media_type=mime if mime.startswith("image/") else "image/jpeg")


@router.get("/media/{sha256}/heatmap", dependencies=[needs(Perm.ARCHIVE_READ)])
def heat_map(request: Request, sha256: str) -> Response:
    """The synthetic-media detector's heat map (``haechi preview --heatmap``, the same
    :func:`haechi.triage.previews.heatmap`): its score per tile as colours at the safe
    preview's size, no picture content. A file matched to a bank gets the neutral card, as
    its preview does."""
    from haechi.auth.errors import NotFound
    from haechi.i18n import t_
    from haechi.store.vault import is_sha256
    from haechi.triage.previews import heatmap

    app = haechi(request)
    sha = sha256.strip().lower()
    if not is_sha256(sha):
        raise NotFound(t_("There is no such file."))
    if media_service.preview(app, sha).matched:
        return Response(_MATCHED.read_bytes(), media_type="image/svg+xml")
    found = heatmap(app, sha)
    if found is None:
        raise NotFound(t_("{sha} has no heat map; run `haechi analyze` first.", sha=sha))
    return Response(found.data, media_type=found.mime or "image/png")


def _owner(request: Request) -> str:
    auth = current(request)
    return auth.session.id_hash if auth.session else f"user:{auth.user.id}"


@router.post("/media/{sha256}/reveal", dependencies=[needs(Perm.MEDIA_REVEAL)])
def reveal(
    request: Request, sha256: str, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    app = haechi(request)
    auth = current(request)
    item = media_service.reveal(app, auth.actor, sha256, reason=reason or None)
    grant = grants.issue(request.app.state.secret, _owner(request), sha256)
    status = exposure.status(app, auth.user.id, request.app.state.web.wellness)
    return render(request, "_revealed.html", item=item, grant=grant, exposure=status)


@router.get("/media/{sha256}/original", dependencies=[needs(Perm.MEDIA_REVEAL)])
def original(request: Request, sha256: str, g: str = "") -> Response:
    if not grants.check(request.app.state.secret, g, _owner(request), sha256):
        raise Denied("reveal_first")
    stream, item = media_service.open_original(haechi(request), sha256)
    mime = (item.mime or "").split(";")[0].strip().lower()
    name = _SAFE_NAME.sub("_", item.file_name or sha256[:16])[:100]
    inline = mime in INLINE_MIME
    headers = {
        # An original is shown, never run: no script, no plug-in, no navigation.
        "Content-Security-Policy": "default-src 'none'; media-src 'self'; img-src 'self'; sandbox",
        "Content-Disposition": f'{"inline" if inline else "attachment"}; filename="{name}"',
    }
    if item.size is not None:
        headers["Content-Length"] = str(item.size)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1 << 16):
                yield block

    return StreamingResponse(
        chunks(), media_type=mime if inline else "application/octet-stream", headers=headers
    )


@router.post("/me/break", dependencies=[needs(Perm.SELF)])
def take_break(request: Request) -> Response:
    from haechi.auth import audit

    auth = current(request)
    app = haechi(request)
    exposure.take_break(app, auth.user.id)
    audit.record(app, auth.actor, audit.BREAK, f"user:{auth.user.username}")
    return render(request, "_exposure.html")
