"""Banks and matches, read-only: the banks with their counts, the newest matches (hash
kind, distance, bank, where the file was first posted) and the duplicate groups ("posted
in N chats, first in X on D"). Nothing on these pages is a picture: a file matched to a
bank is shown as a match card, and the others by hash and kind, with a link to the message
(whose page follows the usual preview rules). Filtering by bank or kind lists stored
matches; it searches no content, so it is not an audited search.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.services import matches
from haechi.web.auth import haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(50, "nav.matches", "/matches", Perm.MATCHES)]


@router.get("/matches", dependencies=[needs(Perm.MATCHES)])
def matches_page(
    request: Request,
    bank: str | None = None,
    against: str | None = None,
    before: int | None = None,
) -> Response:
    if not matches.available():
        return unavailable(request, "matches")
    app = haechi(request)
    against = against if against in matches.KINDS else None
    page = matches.recent(app, bank=bank or None, against=against, before=before)
    return render(
        request, "matches.html", banks=matches.banks(app), page=page, bank=bank or "",
        against=against or "", kinds=matches.KINDS,
    )  # fmt: skip


@router.get("/matches/groups", dependencies=[needs(Perm.MATCHES)])
def groups_part(request: Request) -> Response:
    """The duplicate groups, loaded by htmx after the page (they are computed over every
    stored match, so the page itself does not wait for them)."""
    if not matches.available():
        return unavailable(request, "matches")
    return render(request, "_match_groups.html", groups=matches.groups(haechi(request)))
