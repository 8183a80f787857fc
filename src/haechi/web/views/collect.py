"""Collecting from any view: add the chosen messages, files, chats or matches to a case, or
tag them. Every list page (a chat's timeline, a message, the media grid, search results,
matches, triage) carries the same bar (``_collect.html``) and checkboxes; one button adds a
single item. Search results may send "every result of this search" instead of a page.

Each request acts for the logged-in person (``cases.acting.acting_as``: the case items and
their custody events name them), is written to the audit trail, and adds nothing twice
(``cases.bulk.add_targets`` and ``review.tags.add_tag`` are idempotent).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import Connection

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.cases.acting import acting_as
from haechi.domain import HaechiError
from haechi.i18n import t_
from haechi.services import integrations
from haechi.services.search import Filters, search
from haechi.web.auth import current, haechi, needs
from haechi.web.render import refusal, render

router = APIRouter()
CASE_ADD = "case_add"  # audit actions of this module
TAG = "tag"
UNTAG = "untag"
ALL_RESULTS_MAX = 10_000
# The collect bar lists this many open cases, newest first; any other is typed by its
# reference. Every page with the bar asks: listing hundreds cost every page milliseconds.
PICKER_CASES = 30


def acting(request: Request) -> App:
    """The application acting for the logged-in person (their name in what it records)."""
    return acting_as(haechi(request), current(request).actor.custody_name)


@dataclass(frozen=True)
class Picker:
    """What the collect bar offers: the open cases (for ``cases.add``) and tagging (for
    ``review.write``)."""

    cases: list[Any]
    can_add: bool
    can_tag: bool
    can_open: bool  # may open a new case (the cases page)
    more: bool = False  # more open cases than listed: a reference can be typed

    @property
    def shown(self) -> bool:
        return self.can_add or self.can_tag


def picker(request: Request) -> Picker:
    role = current(request).user.role
    can_add = can(role, Perm.CASES_ADD) and integrations.available("cases")
    cases: list[Any] = []
    if can_add:
        from haechi.cases.bulk import case_choices

        cases = case_choices(haechi(request), limit=PICKER_CASES + 1)
    more = len(cases) > PICKER_CASES
    return Picker(
        cases[:PICKER_CASES], can_add, can(role, Perm.REVIEW), can(role, Perm.CASES_WRITE), more
    )


def _back(value: str) -> str:
    return value if value.startswith("/") and not value.startswith("//") else "/"


def _answer(request: Request, back: str, status: int = 200, **values: Any) -> Response:
    values.setdefault("error", None)
    if request.headers.get("hx-request"):
        # htmx swaps only 2xx answers: a refusal is shown in place, as a sentence.
        return render(request, "_collect_result.html", **values)
    return render(request, "collect_done.html", status=status, back=_back(back), **values)


def _search_targets(request: Request, query: str) -> tuple[list[str], dict[str, Any]]:
    """Every message of a search (up to ``ALL_RESULTS_MAX``), as targets."""
    from haechi.web.views.search import filters_from_params

    f = filters_from_params(dict(parse_qsl(query[:4000])))
    if not f.describe():
        raise HaechiError(t_("Search for something first: an empty search selects nothing."))
    app, actor = haechi(request), current(request).actor
    targets: list[str] = []
    cursor = None
    while len(targets) < ALL_RESULTS_MAX:
        page = search(app, actor, Filters(**{**f.__dict__, "cursor": cursor, "limit": 200}),
                      audited=False)  # fmt: skip
        targets += [f"message:{h.message_pk}" for h in page.hits]
        cursor = page.next_cursor
        if cursor is None:
            break
    return targets[:ALL_RESULTS_MAX], f.describe()


@router.post("/collect/case", dependencies=[needs(Perm.CASES_ADD)])
def add_to_case(
    request: Request,
    case: Annotated[str, Form(max_length=64)] = "",
    case_ref: Annotated[str, Form(max_length=64)] = "",
    target: Annotated[list[str] | None, Form()] = None,
    only: Annotated[str, Form(max_length=120)] = "",
    all_results: Annotated[str, Form(max_length=8)] = "",
    search_query: Annotated[str, Form(max_length=4000)] = "",
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    from haechi.cases.bulk import add_targets

    detail: dict[str, Any] = {}
    case = case_ref.strip() or case  # a typed reference wins over the list's choice
    try:
        if not case:
            raise HaechiError(t_("Choose the case to add to (or open one on the Cases page)."))
        if only:
            targets = [only]
        elif all_results == "1":
            targets, detail["search"] = _search_targets(request, search_query)
        else:
            targets = list(target or [])[:ALL_RESULTS_MAX]
        result = add_targets(acting(request), case.strip(), targets)
    except HaechiError as exc:
        return _answer(request, back, error=refusal(request, exc), status=400)
    detail.update(targets=len(targets), added=result.added, existing=result.existing)
    audit.record(haechi(request), current(request).actor, CASE_ADD, f"case:{result.case_ref}",
                 detail)  # fmt: skip
    return _answer(
        request, back, case_ref=result.case_ref, added=result.added, existing=result.existing
    )


@router.post("/collect/tag", dependencies=[needs(Perm.REVIEW)])
def tag_targets(
    request: Request,
    tag: Annotated[str, Form(max_length=64)] = "",
    target: Annotated[list[str] | None, Form()] = None,
    only: Annotated[str, Form(max_length=120)] = "",
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    from haechi.review.tags import add_tag

    targets = [only] if only else list(target or [])
    try:
        report = add_tag(acting(request), targets, tag)
    except HaechiError as exc:
        return _answer(request, back, error=refusal(request, exc), status=400)
    audit.record(haechi(request), current(request).actor, TAG, f"tag:{report.tag}",
                 {"targets": report.targets, "added": report.added})  # fmt: skip
    return _answer(request, back, tag=report.tag, tagged=report.targets, added=report.added)


@router.post("/collect/untag", dependencies=[needs(Perm.REVIEW)])
def untag(
    request: Request,
    tag: Annotated[str, Form(max_length=64)],
    only: Annotated[str, Form(max_length=120)],
    back: Annotated[str, Form(max_length=500)] = "/",
) -> Response:
    from haechi.review.tags import remove_tag

    removed = remove_tag(acting(request), [only], tag)
    if removed:
        audit.record(haechi(request), current(request).actor, UNTAG, f"tag:{tag}",
                     {"target": only})  # fmt: skip
    return RedirectResponse(_back(back), status_code=303)


@dataclass(frozen=True)
class Extras:
    """What a page shows beside the evidence it lists: the collect bar, tags, the current
    review decisions of its files, and the text signals of its messages."""

    picker: Picker
    tags: dict[str, list[str]]
    decisions: dict[str, dict[str, Any]]
    signals: dict[int, Any]
    categories: Any  # haechi.review.categories.CategorySet
    lang: str

    def category(self, decision: Any) -> str:
        """The category a decision names, in the reader's language."""
        try:
            return str(self.categories.get(decision.value).label(self.lang))
        except HaechiError:  # a category since removed from review.toml
            return str(decision.value)


def extras(
    request: Request,
    *,
    messages: Sequence[int] = (),
    files: Sequence[str | None] = (),
    chats: Sequence[int] = (),
    conn: Connection | None = None,
) -> Extras:
    from haechi.review.categories import load_categories
    from haechi.review.decisions import current as current_decisions
    from haechi.review.tags import tags_of
    from haechi.services import signals
    from haechi.web.render import language

    app = haechi(request)
    targets = [f"message:{pk}" for pk in messages] + [f"file:{s}" for s in files if s]
    targets += [f"chat:{c}" for c in chats]
    if conn is None:
        with app.db.connect() as own:
            found_tags = tags_of(app, targets, own)
            found_signals = signals.for_messages(app, own, list(messages))
    else:
        found_tags = tags_of(app, targets, conn)
        found_signals = signals.for_messages(app, conn, list(messages))
    decided = current_decisions(app, [f"file:{s}" for s in files if s])
    cats = load_categories(app.settings.home)
    return Extras(picker(request), found_tags, decided, found_signals, cats, language(request))
