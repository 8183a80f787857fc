"""Subjects (people who consented to be searched for) with their consent records, and the
logged face search, built on ``haechi.subjects`` (the faces capability).

Names are not shown: a subject appears by her case label, consents by relation, scope and
dates. Results are safe previews with the chats where each file appeared.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.services import exposure, integrations
from haechi.services import media as media_service
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import render
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(55, "nav.subjects", "/subjects", Perm.SUBJECTS)]


@router.get("/subjects", dependencies=[needs(Perm.SUBJECTS)])
def subjects_page(request: Request) -> Response:
    if not integrations.available("subjects"):
        return unavailable(request, "subjects")
    from haechi.subjects.service import list_subjects

    return render(request, "subjects.html", subjects=list_subjects(haechi(request)), result=None)


@router.post("/subjects/{subject_id}/search", dependencies=[needs(Perm.FACE_SEARCH)])
def face_search(
    request: Request,
    subject_id: int,
    reason: Annotated[str, Form(max_length=500)] = "",
    exhaustive: Annotated[bool, Form()] = False,  # read the whole index (exact, slower)
) -> Response:
    if not integrations.available("subjects"):
        return unavailable(request, "subjects")
    from haechi.subjects.search import search_subject
    from haechi.subjects.service import list_subjects

    app, auth = haechi(request), current(request)
    error = None
    result = None
    try:
        result = search_subject(
            app, subject_id, staff=auth.actor.custody_name, reason=reason, exhaustive=exhaustive
        )
    except Exception as exc:  # the faces capability's sentences (SubjectError) and alike
        from haechi.domain import HaechiError

        if not isinstance(exc, HaechiError):
            raise
        error = str(exc)
    audit.record_face_search(
        app, auth.actor, f"subject:{subject_id}", reason=reason, exhaustive=exhaustive,
        result=result, refused=error, subject_id=subject_id,
    )  # fmt: skip
    items = {}
    if result is not None:
        for hit in result.hits[:200]:
            try:
                items[hit.blob_sha256] = media_service.file_info(app, hit.blob_sha256)
            except Exception:  # noqa: S112 - a hit whose file row is gone is just not shown
                continue
        shown = sum(1 for m in items.values() if m.has_preview and not m.matched)
        exposure.add(app, auth.user.id, previews=shown)
    return render(
        request,
        "subjects.html",
        subjects=list_subjects(app),
        result=result,
        items=items,
        searched=subject_id,
        error=error,
    )
