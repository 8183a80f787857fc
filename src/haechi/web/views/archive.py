"""Dashboard, chats with their timelines, and message detail."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth.roles import Perm, can
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.services import chats, dashboard, exposure, messages
from haechi.services.media import MediaItem
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem, home_for
from haechi.web.render import render
from haechi.web.views.collect import extras

router = APIRouter()
NAV = [
    NavItem(10, "nav.dashboard", "/", Perm.ARCHIVE_READ),
    NavItem(20, "nav.chats", "/chats", Perm.ARCHIVE_READ, also=("/messages",)),
]


def parse_day(value: str | None, *, end: bool = False) -> int | None:
    """``YYYY-MM-DD`` (UTC) as epoch seconds: the start of the day, or its last second."""
    if not value:
        return None
    try:
        day = datetime.strptime(value.strip(), "%Y-%m-%d").replace(tzinfo=UTC)
    except ValueError:
        raise UsageError(
            t_("{value!r} is not a date: write it as YYYY-MM-DD.", value=value)
        ) from None
    return int(day.timestamp()) + (86399 if end else 0)


def count_previews(request: Request, items: list[MediaItem]) -> None:
    """Safe previews shown on a page count towards the viewer's exposure."""
    shown = sum(1 for m in items if m.has_preview and not m.matched)
    auth = current(request)
    if shown:
        exposure.add(haechi(request), auth.user.id, previews=shown)


@router.get("/", dependencies=[needs(Perm.SELF)])
def home(request: Request) -> Response:
    """Everyone's start: the dashboard for those who read the archive, else the role's
    own home (auditors: the audit trail), so no one lands on a "no permission" page."""
    role = current(request).user.role
    if not can(role, Perm.ARCHIVE_READ):
        return RedirectResponse(home_for(role), status_code=303)
    return render(request, "dashboard.html", d=dashboard.dashboard(haechi(request)))


@router.get("/chats", dependencies=[needs(Perm.ARCHIVE_READ)])
def chat_list(request: Request, q: str | None = None) -> Response:
    found = chats.list_chats(haechi(request), q=q)
    return render(request, "chats.html", chats=found, q=q or "")


@router.get("/chats/{chat_id}", dependencies=[needs(Perm.ARCHIVE_READ)])
def chat_timeline(
    request: Request,
    chat_id: int,
    before: int | None = None,
    after: int | None = None,
    day: str | None = None,
) -> Response:
    page = chats.timeline(
        haechi(request), chat_id, before=before, after=after, from_date=parse_day(day)
    )
    files = [m for msg in page.messages for m in msg.media]
    count_previews(request, files)
    x = extras(
        request, messages=[m.pk for m in page.messages], files=[f.sha256 for f in files],
        chats=[chat_id],
    )  # fmt: skip
    return render(request, "timeline.html", tl=page, day=day or "", x=x)


@router.get("/messages/{message_pk}", dependencies=[needs(Perm.ARCHIVE_READ)])
def message_detail(request: Request, message_pk: int) -> Response:
    auth = current(request)
    # The trail is read only for roles that may see it (support workers may not).
    show_custody = can(auth.user.role, Perm.CUSTODY_READ)
    detail = messages.detail(haechi(request), message_pk, with_custody=show_custody)
    count_previews(request, detail.media)
    x = extras(
        request, messages=[detail.pk], files=[f.sha256 for f in detail.media],
        chats=[detail.chat_id],
    )  # fmt: skip
    return render(request, "message.html", m=detail, show_custody=show_custody, x=x)
