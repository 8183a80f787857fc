"""A face search with a probe photo, without an enrolled subject (``haechi face search
--probe PHOTO --basis ... --reason ...``): the page ``/face-searches/new`` (linked from
``/subjects``), its form ``POST /face-searches`` and the API twin ``POST
/api/face-searches``, all on :func:`haechi.subjects.search.search_probe`, the service the
command line uses.

A victim's face is the most sensitive thing haechi holds. The photo is read in memory
(``web.uploads``: an upload path of ``security.is_upload``, never spooled to disk, one
file of at most 12 MB) and handed to the service, which keeps nothing of it but its
SHA-256. The basis (her consent or the legal authority) and the reason are required; the
service logs them with the search (``face_searches`` and its custody event, under the
person's name), and every search, refused ones included, is on the audit trail as the
command line's (``audit.record_face_search``, target ``probe``). A double submit runs one
search. The candidates are shown on the subject search's own page, ``/face-searches/<id>``
(``views.face_review``): nothing until a person asks to see one face, greyscale, the face
region only, one logged act each.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Header, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError, UsageError
from haechi.i18n import t_
from haechi.jobs import once as once_store
from haechi.services import integrations
from haechi.web.actions import acting, go, staff
from haechi.web.auth import current, haechi, needs
from haechi.web.render import refusal, render
from haechi.web.uploads import Form, read_form
from haechi.web.views.capabilities import unavailable

if TYPE_CHECKING:
    from haechi.subjects.model import SearchResult

router = APIRouter()
MAX_PROBE_BYTES = 12 * 1024 * 1024  # as a reference photo on /subjects/new
ACTION = "face_search_probe"  # the once-store action of the form and the API
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


def _missing(request: Request) -> Response | None:
    return None if integrations.available("subjects") else unavailable(request, "subjects")


@router.get("/face-searches/new", dependencies=[needs(Perm.FACE_SEARCH)])
def probe_page(request: Request) -> Response:
    if (page := _missing(request)) is not None:
        return page
    return render(request, "face_probe.html", error=None, values={})


def probe_search(request: Request, form: Form) -> SearchResult:
    """The logged search of the form's photo as the person (a worker thread runs it); a
    refusal is on the audit trail too, and raised."""
    from haechi.subjects.search import search_probe

    app, auth = haechi(request), current(request)
    reason, basis = form.get("reason"), form.get("basis")
    exhaustive = form.get("exhaustive") in ("1", "on", "true")
    photos = form.files.get("photo", [])
    try:
        if not photos:
            raise UsageError(t_("Choose the photo to search with."))
        photo = (photos[0].name or "probe", photos[0].data)
        result = search_probe(
            acting(request), photo, staff=staff(request), reason=reason, basis=basis,
            exhaustive=exhaustive,
        )  # fmt: skip
    except HaechiError as exc:
        audit.record_face_search(
            app, auth.actor, "probe", reason=reason, exhaustive=exhaustive, result=None,
            refused=str(exc), basis=basis.strip()[:200],
        )  # fmt: skip
        raise
    audit.record_face_search(
        app, auth.actor, "probe", reason=reason, exhaustive=exhaustive, result=result,
        basis=basis.strip()[:200],
    )  # fmt: skip
    return result


async def _read(request: Request) -> Form:
    return await read_form(request, max_files=1, max_file_bytes=MAX_PROBE_BYTES)


def _refused(request: Request, exc: HaechiError, form: Form | None) -> Response:
    """The form again with the sentence (htmx swaps only a 2xx answer: 200 for it)."""
    values = {k: form.get(k) for k in ("basis", "reason", "exhaustive")} if form else {}
    status = 200 if request.headers.get("hx-request") else 400
    return render(request, "face_probe.html", status=status, error=refusal(request, exc),
                  values=values)  # fmt: skip


@router.post("/face-searches", dependencies=[needs(Perm.FACE_SEARCH)])
async def probe_form(request: Request) -> Response:
    """Multipart, sent by htmx with the CSRF header (the body is read here, in memory);
    once per form key, then the candidates' page."""
    if (page := _missing(request)) is not None:
        return page
    try:
        form = await _read(request)
    except HaechiError as exc:
        return _refused(request, exc, None)
    app, user = haechi(request), current(request).user.id
    key = form.get("key") or once_store.new_key()
    try:
        claim = once_store.claim(app, user, key, ACTION)
    except HaechiError as exc:
        return _refused(request, exc, form)
    if not claim.fresh:  # a double submit: the first one's candidates (or it still runs)
        return go(request, claim.result or "/subjects")
    try:
        result = await run_in_threadpool(probe_search, request, form)
    except HaechiError as exc:
        once_store.release(app, user, key)
        return _refused(request, exc, form)
    except BaseException:
        once_store.release(app, user, key)
        raise
    url = f"/face-searches/{result.search_id}"
    once_store.done(app, user, key, url)
    return go(request, url)


@router.post("/api/face-searches", dependencies=[needs(Perm.FACE_SEARCH)])
async def api_probe(request: Request, key: Key = None) -> JSONResponse:
    """multipart/form-data: photo (one file), basis, reason, exhaustive. A logged search;
    its candidates at the location answered (``GET /api/face-searches/<id>``)."""
    form = await _read(request)
    app, user = haechi(request), current(request).user.id
    if key is not None:
        claim = once_store.claim(app, user, key, ACTION)
        if not claim.fresh:
            status = 200 if claim.result else 409
            return JSONResponse({"location": claim.result, "repeat": True}, status_code=status)
    try:
        result = await run_in_threadpool(probe_search, request, form)
    except BaseException:
        if key is not None:
            once_store.release(app, user, key)
        raise
    location = f"/api/face-searches/{result.search_id}"
    if key is not None:
        once_store.done(app, user, key, location)
    body = {"location": location, "repeat": False, "id": result.search_id,
            "images": len(result.hits), "custody_seq": result.custody_seq}  # fmt: skip
    return JSONResponse(body, status_code=201)
