"""The face-confirmation view: a search's candidates, built for least exposure.

Nothing of a candidate is shown until the counsellor asks to see its face; that is one
logged act per candidate (an audit entry and a signed ``access`` custody event, through
``audit.record``), and what comes back is the face region only, greyscale, cut in memory
from the original (``haechi.subjects.crops``). Asking for colour is another logged act.
The picture is fetched with a grant valid for this session, this candidate and this
rendering only (not an original's grant: it opens nothing else). Each candidate is then
confirmed or rejected (``haechi.subjects.review``: who and when, a custody event), and
the confirmed files open or extend her case (``haechi.cases.for_subject``). A search with
a probe photo (``views.face_probe``) shows its candidates here the same way; it has no
subject, so nothing is confirmed or put in a case from it.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.i18n import t_
from haechi.services import exposure, integrations
from haechi.web import grants
from haechi.web.actions import FACE_REVIEW, acting, audited, htmx_error, once, staff
from haechi.web.auth import Denied, current, haechi, needs
from haechi.web.render import render, t_of
from haechi.web.views.capabilities import unavailable
from haechi.web.views.cases import AS_GIVEN, Consent

router = APIRouter()
GRANT_TTL = 10 * 60
PURPOSE = "face-crop"  # a grant of its own kind: it opens no original


def _owner(request: Request) -> str:
    auth = current(request)
    return auth.session.id_hash if auth.session else f"user:{auth.user.id}"


def _grant(request: Request, search_id: int, sha: str, colour: bool) -> str:
    return grants.issue(
        request.app.state.secret, _owner(request), sha, purpose=PURPOSE,
        extra=(search_id, int(colour)),
    )  # fmt: skip


def _granted(request: Request, token: str, search_id: int, sha: str, colour: bool) -> bool:
    return grants.check(
        request.app.state.secret, token, _owner(request), sha, purpose=PURPOSE,
        extra=(search_id, int(colour)), ttl=GRANT_TTL,
    )  # fmt: skip


def _missing(request: Request) -> Response | None:
    return None if integrations.available("subjects") else unavailable(request, "subjects")


@router.get("/face-searches/{search_id:int}", dependencies=[needs(Perm.FACE_SEARCH)])
def review_page(request: Request, search_id: int, offset: int = 0) -> Response:
    if (page := _missing(request)) is not None:
        return page
    from haechi.subjects.review import PAGE, review

    app = haechi(request)
    found = review(app, search_id, offset=offset, limit=PAGE)
    open_cases: list[tuple[str, str]] = []
    linked = []
    if integrations.available("cases") and found.subject is not None:
        from haechi.cases.for_subject import cases_of_subject
        from haechi.cases.for_subject import open_cases as list_open

        open_cases = list_open(app)
        linked = cases_of_subject(app, found.subject.label)
    return render(
        request, "face_review.html", r=found, page=PAGE, open_cases=open_cases, linked=linked
    )


@router.post(
    "/face-searches/{search_id}/candidates/{sha256}/show", dependencies=[needs(Perm.FACE_SEARCH)]
)
def show_face(
    request: Request, search_id: int, sha256: str, colour: Annotated[bool, Form()] = False
) -> Response:
    """The logged act of looking at one candidate's face; answers the card with it."""
    from haechi.subjects.review import candidate

    app, auth = haechi(request), current(request)
    try:
        found = candidate(app, search_id, sha256)
    except HaechiError as exc:
        return htmx_error(request, exc)
    audit.record(
        app, auth.actor, audit.REVEAL, sha256,
        {"view": "face_region", "colour": colour, "search_id": search_id,
         "subject": _searched(app, search_id), "face_id": found.face_id},
    )  # fmt: skip
    exposure.add(app, auth.user.id, previews=1)
    return render(
        request,
        "_face_candidate.html",
        c=found,
        search_id=search_id,
        shown=True,
        colour=colour,
        decidable=_subject_id(app, search_id) is not None,  # a probe search: nothing to decide
        grant=_grant(request, search_id, sha256, colour),
        exposure=exposure.status(app, auth.user.id, request.app.state.web.wellness),
    )


def _subject_id(app: App, search_id: int) -> int | None:
    from haechi.subjects.review import search_entry

    return search_entry(app, search_id).subject_id


def _searched(app: App, search_id: int) -> str:
    """Who the search was for: ``subject:<id>``, or ``probe:<sha256>`` as its custody event."""
    from haechi.subjects.review import search_entry

    entry = search_entry(app, search_id)
    return f"subject:{entry.subject_id}" if entry.subject_id else f"probe:{entry.probe_sha256}"


@router.get(
    "/face-searches/{search_id}/candidates/{sha256}/face.jpg",
    dependencies=[needs(Perm.FACE_SEARCH)],
)
def face_picture(
    request: Request, search_id: int, sha256: str, g: str = "", colour: int = 0
) -> Response:
    """The face region's bytes, only after the logged act (the grant says it happened)."""
    if not _granted(request, g, search_id, sha256, bool(colour)):
        raise Denied("reveal_first")
    from haechi.subjects.crops import face_crop
    from haechi.subjects.review import candidate

    app = haechi(request)
    found = candidate(app, search_id, sha256)
    if found.box is None:
        raise Denied("reveal_first")
    data = face_crop(app, sha256, found.box, kind=found.kind, t=found.t, colour=bool(colour))
    return Response(data, media_type="image/jpeg")


@router.post(
    "/face-searches/{search_id}/candidates/{sha256}/decision",
    dependencies=[needs(Perm.SUBJECTS_WRITE)],
)
def decide(
    request: Request,
    search_id: int,
    sha256: str,
    decision: Annotated[str, Form(max_length=16)] = "",
) -> Response:
    from haechi.subjects.review import decide_card

    try:
        changed, found, subject_id = decide_card(
            acting(request), search_id, sha256, decision, staff=staff(request)
        )
    except HaechiError as exc:
        return htmx_error(request, exc)
    if changed:
        audited(request, FACE_REVIEW, decision, f"subject:{subject_id}",
                search_id=search_id, file=sha256)  # fmt: skip
    return render(
        request, "_face_candidate.html", c=found, search_id=search_id, shown=False,
        colour=False, grant="",
    )  # fmt: skip


@router.post("/face-searches/{search_id}/case", dependencies=[needs(Perm.CASES_WRITE)])
def case_from_search(
    request: Request,
    search_id: int,
    case: Annotated[str, Form(max_length=64)] = "",
    title: Annotated[str, Form(max_length=500)] = "",
    age: Annotated[str, Form(max_length=3)] = "",
    minor: Annotated[bool, Form()] = False,
    consent: Consent = AS_GIVEN,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Open (no ``case``) or extend her case with every file confirmed as hers."""
    if not integrations.available("cases"):
        return unavailable(request, "cases")
    from haechi.cases.for_subject import case_for_subject, parse_age
    from haechi.cases.model import CaseError
    from haechi.subjects.review import confirmed_files, search_entry
    from haechi.subjects.service import get_subject

    def work() -> str:
        entry = search_entry(haechi(request), search_id)
        subject = get_subject(haechi(request), entry.subject_id or 0)
        if subject is None:
            raise CaseError(t_("The search has no subject."))
        done = case_for_subject(
            acting(request),
            subject_label=subject.label,
            files=confirmed_files(haechi(request), subject.id),
            victim=consent.details(age=parse_age(age), minor=minor or subject.is_minor),
            case=case.strip() or None,
            # the default title in the counsellor's language, not the service's English
            title=title.strip() or t_of(request)("review.case_title_default", label=subject.label),
        )
        return f"/cases/{done.case_ref}"

    return once(request, key, "case_from_search", work)
