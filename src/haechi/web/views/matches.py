"""Banks and matches: the banks with their counts, the newest matches (hash kind, distance,
bank, where the file was first posted), the duplicate groups ("posted in N chats, first in
X on D"), and the actioner's step on them: confirm or dismiss a match, add a matched file
to a bank, build a bank from what was confirmed, add matches to a case. Investigators also
start the analysis of new files and the matching catch-up here (background jobs,
``views/jobs.py``), and see the newest of them.

Nothing on these pages is a picture: a file matched to a bank is shown as a match card, the
others by hash and kind, with a link to the message (whose page follows the usual preview
rules). Filtering by bank or kind lists stored matches; it searches no content, so it is not
an audited search. Every change acts for the logged-in person (``haechi.review.matches``,
``haechi.match.banks``: custody events name them) and is on the audit trail.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.services import matches
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import language, refusal, render
from haechi.web.views.capabilities import unavailable
from haechi.web.views.collect import acting, picker

router = APIRouter()
NAV = [NavItem(50, "nav.matches", "/matches", Perm.MATCHES, also=("/banks",))]
REVIEW = "review"  # audit actions
BANK_CHANGE = "bank_change"


def _page(
    request: Request,
    bank: str | None = None,
    against: str | None = None,
    before: int | None = None,
    status: int = 200,
    error: str | None = None,
    done: str | None = None,
) -> Response:
    from haechi.match.describe import describe_region
    from haechi.review.categories import load_categories
    from haechi.review.decisions import current as current_decisions
    from haechi.web.views.jobs import server_jobs

    app = haechi(request)
    against = against if against in matches.KINDS else None
    page = matches.recent(app, bank=bank or None, against=against, before=before)
    decided = current_decisions(app, [f"match:{m.id}" for m in page.matches])
    return render(
        request, "matches.html", status=status, banks=matches.banks(app), page=page,
        bank=bank or "", against=against or "", kinds=matches.KINDS, decided=decided,
        p=picker(request), categories=load_categories(app.settings.home).categories,
        lang=language(request), error=error, done=done, server_jobs=server_jobs(request),
        region_words=lambda details: describe_region(details, language(request)),
        back="/matches?" + urlencode({"bank": bank or "", "against": against or ""}),
    )  # fmt: skip


def refused(request: Request, error: str) -> Response:
    """The matches page with a refusal's sentence (400): a job it starts that cannot run."""
    if not matches.available():
        return unavailable(request, "matches")
    return _page(request, status=400, error=error)


@router.get("/matches", dependencies=[needs(Perm.MATCHES)])
def matches_page(
    request: Request,
    bank: str | None = None,
    against: str | None = None,
    before: int | None = None,
) -> Response:
    if not matches.available():
        return unavailable(request, "matches")
    return _page(request, bank, against, before)


@router.get("/matches/groups", dependencies=[needs(Perm.MATCHES)])
def groups_part(request: Request) -> Response:
    """The duplicate groups, loaded by htmx after the page (they are computed over every
    stored match, so the page itself does not wait for them)."""
    if not matches.available():
        return unavailable(request, "matches")
    return render(request, "_match_groups.html", groups=matches.groups(haechi(request)))


def _back(value: str, match_id: int | None = None) -> str:
    target = value if value.startswith("/matches") else "/matches"
    return target + (f"#match-{match_id}" if match_id is not None else "")


@router.post("/matches/{match_id}/review", dependencies=[needs(Perm.REVIEW)])
def review(
    request: Request,
    match_id: int,
    decision: Annotated[str, Form(max_length=16)],
    note: Annotated[str, Form(max_length=2000)] = "",
    back: Annotated[str, Form(max_length=500)] = "/matches",
) -> Response:
    """Confirm or dismiss a match (sent twice: one decision)."""
    from haechi.review.matches import review_match

    made = review_match(acting(request), match_id, decision, note=note or None)
    if made.created:
        audit.record(haechi(request), current(request).actor, REVIEW, f"match:{match_id}", {
            "decision": made.value, "sha256": made.blob_sha256, "custody_seq": made.custody_seq,
        })  # fmt: skip
    return RedirectResponse(_back(back, match_id), status_code=303)


@router.post("/matches/{match_id}/bank", dependencies=[needs(Perm.REVIEW)])
def add_to_bank(
    request: Request,
    match_id: int,
    bank: Annotated[str, Form(max_length=128)],
    back: Annotated[str, Form(max_length=500)] = "/matches",
) -> Response:
    """Add the matched file to a bank (its hashes; the bank retro-hunts). Sent twice, the
    bank already holds the hashes and adds nothing."""
    from haechi.review.matches import add_files_to_bank, match_file

    try:
        sha = match_file(haechi(request), match_id)
        built = add_files_to_bank(acting(request), bank, [sha], notes=f"from match {match_id}")
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    audit.record(haechi(request), current(request).actor, BANK_CHANGE, f"bank:{built.bank}", {
        "added": built.items_added, "duplicates": built.duplicates, "match_id": match_id,
        "sha256": sha,
    })  # fmt: skip
    return RedirectResponse(_back(back, match_id), status_code=303)


@router.post("/banks/from-confirmed", dependencies=[needs(Perm.REVIEW)])
def bank_from_confirmed(
    request: Request,
    name: Annotated[str, Form(max_length=128)],
    confirmed_matches: Annotated[str, Form(max_length=8)] = "",
    category: Annotated[list[str] | None, Form()] = None,
    description: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    """A bank of the files people confirmed (confirmed matches, files of categories)."""
    from haechi.review.matches import bank_from_confirmed as build

    try:
        built = build(
            acting(request), name, categories=list(category or [])[:20],
            confirmed_matches=confirmed_matches == "1", description=description or None,
        )  # fmt: skip
    except HaechiError as exc:
        return _page(request, status=400, error=refusal(request, exc))
    audit.record(haechi(request), current(request).actor, BANK_CHANGE, f"bank:{built.bank}", {
        "created": built.created, "files": built.files, "added": built.items_added,
        "sources": built.sources,
    })  # fmt: skip
    return _page(request, bank=built.bank, done=built.bank)
