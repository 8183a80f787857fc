"""Triage: the review queue (highest nudity score first, as safe previews) where a reviewer
sets each file's category from the keyboard, and the synthetic-media verdict of one file.

Built on ``haechi.review`` (categories, decisions, the keyset queue) and ``haechi.triage``
(verdicts). The page shows one file at a time beside the queue; keys 1-6 (the categories'
own keys, ``HOME/review.toml``) record a decision and move to the next file, ``n``/``p``
move without deciding, ``c`` adds the file to the chosen case. A decision acts for the
logged-in person, is a custody event when it matters to a court, and is on the audit trail.
Files matched to a bank are shown as match cards, never as pictures.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.services import exposure, integrations
from haechi.services.media import Match
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import language, render
from haechi.web.views.capabilities import unavailable
from haechi.web.views.collect import acting, picker

router = APIRouter()
NAV = [NavItem(60, "nav.triage", "/triage", Perm.TRIAGE)]
REVIEW = "review"  # audit action


def _matches(app: App, shas: list[str]) -> dict[str, list[Match]]:
    """The files matched to a bank: shown as match cards, not as previews."""
    found = integrations.bank_matches(app, shas)
    return {sha: [Match(*m) for m in ms] for sha, ms in found.items()}


def _url(show: str, item: str | None = None, cursor: str | None = None) -> str:
    query = {
        "show": show,
        **({"item": item} if item else {}),
        **({"cursor": cursor} if cursor else {}),
    }
    return "/triage?" + urlencode(query)


@router.get("/triage", dependencies=[needs(Perm.TRIAGE)])
def triage_page(
    request: Request, show: str = "undecided", cursor: str | None = None, item: str | None = None
) -> Response:
    if not integrations.available("triage"):
        return unavailable(request, "triage")
    from haechi.review import queue
    from haechi.review.categories import load_categories

    app = haechi(request)
    cats = load_categories(app.settings.home)
    if show not in ("undecided", "all"):
        cats.get(show[:48])  # an unknown category is one sentence, not a 500
    if item and not cursor and show in ("undecided", "all"):
        # The queue from this file on: the page then holds it and the file after it.
        cursor = queue.position(app, item)
    page = queue.triage_page(app, show=show, cursor=cursor)
    chosen = next((i for i in page.items if i.sha256 == item), None) if item else None
    if item and chosen is None:
        chosen = queue.item(app, item)
    elif not item:
        chosen = page.items[0] if page.items else None
    if item and chosen is None:
        raise UsageError(t_("That file is not in the triage queue (pictures, animations, videos)."))
    shown_items = [*page.items, *([chosen] if chosen else [])]
    matched = _matches(app, [i.sha256 for i in shown_items])
    # Each safe preview the page shows counts once (the current file is also in the queue).
    shown = len({i.sha256 for i in shown_items if i.has_preview and i.sha256 not in matched})
    if shown:
        exposure.add(app, current(request).user.id, previews=shown)
    index = [i.sha256 for i in page.items]
    nxt = None
    if chosen is not None:
        at = index.index(chosen.sha256) if chosen.sha256 in index else -1
        # The page already holds the next file, unless this one is its last (or not on it).
        nxt = (
            index[at + 1]
            if 0 <= at < len(index) - 1
            else queue.next_item(app, chosen.sha256, show=show)
        )
    prev = None
    if chosen and chosen.sha256 in index and index.index(chosen.sha256) > 0:
        prev = index[index.index(chosen.sha256) - 1]
    return render(
        request, "triage.html", page=page, current=chosen, matched=matched, show=show,
        cursor=cursor or "", categories=cats.categories, counts=queue.counts(app),
        next_url=_url(show, nxt, cursor) if nxt else None,
        prev_url=_url(show, prev, cursor) if prev else None,
        more_url=_url(show, None, page.next_cursor) if page.next_cursor else None,
        url=_url, p=picker(request), lang=language(request), verdict=None,
    )  # fmt: skip


@router.post("/triage/{sha256}/decide", dependencies=[needs(Perm.REVIEW)])
def decide(
    request: Request,
    sha256: str,
    category: Annotated[str, Form(max_length=48)],
    note: Annotated[str, Form(max_length=2000)] = "",
    show: Annotated[str, Form(max_length=48)] = "undecided",
    cursor: Annotated[str, Form(max_length=200)] = "",
) -> Response:
    """Record a category (once: the same decision sent twice is one decision), then the
    next file of the queue."""
    from haechi.review.decisions import categorise
    from haechi.review.queue import next_item

    app = haechi(request)
    made = categorise(acting(request), sha256, category, note=note or None)
    if made.created:
        audit.record(app, current(request).actor, REVIEW, sha256.lower(), {
            "category": made.value, "group": made.group, "custody_seq": made.custody_seq,
        })  # fmt: skip
    nxt = next_item(app, made.blob_sha256 or sha256, show=show)
    target = _url(show, nxt, cursor or None) if nxt else _url(show, None, cursor or None)
    return RedirectResponse(target + "#current", status_code=303)


@router.get("/triage/{sha256}", dependencies=[needs(Perm.TRIAGE)])
def verdict_page(request: Request, sha256: str) -> Response:
    if not integrations.available("triage"):
        return unavailable(request, "triage")
    from haechi.review.categories import load_categories
    from haechi.review.decisions import history
    from haechi.triage.verdicts import file_verdict

    app = haechi(request)
    v = file_verdict(app, sha256)
    ko = language(request) == "ko"
    verdict = v.verdict
    return render(
        request, "verdict.html", verdict=v,
        verdict_matches=_matches(app, [v.sha256]).get(v.sha256, []),
        label=verdict.label_ko if ko else verdict.label_en,
        explanation=verdict.explanation_ko if ko else verdict.explanation_en,
        caveats=verdict.caveats_ko if ko else verdict.caveats_en,
        history=history(app, f"file:{v.sha256}"),
        categories={c.id: c for c in load_categories(app.settings.home).categories},
        lang=language(request),
    )  # fmt: skip
