"""Subjects (people who consented to be searched for): enrolment from reference photos
with the consent record, consent changes, deletion, and the logged face search, all on
``haechi.subjects`` (the faces capability's services, which the CLI uses too).

Names are not shown: a subject appears by her case label, a consent by relation, scope,
dates and form number, never the consenting person's name. Reference photos are read in
memory (``web.uploads``) and handed to the service, which keeps templates only unless the
consent's scope keeps photos (then encrypted, outside the vault).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import Response

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.i18n import t_
from haechi.jobs import once as once_store
from haechi.services import integrations
from haechi.web.actions import SUBJECT_CHANGE, acting, audited, go, once, staff
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render
from haechi.web.uploads import read_form
from haechi.web.views.capabilities import unavailable

router = APIRouter()
NAV = [NavItem(55, "nav.subjects", "/subjects", Perm.SUBJECTS)]
MAX_PHOTOS = 5
SUBJECTS_PAGE = 100  # subjects a page of the list
MAX_PHOTO_BYTES = 12 * 1024 * 1024
RELATIONS = ("self", "guardian", "representative")
SCOPES = ("search", "keep_photos", "link")


def _missing(request: Request) -> Response | None:
    return None if integrations.available("subjects") else unavailable(request, "subjects")


@router.get("/subjects", dependencies=[needs(Perm.SUBJECTS)])
def subjects_page(request: Request, page: Annotated[int, Query(ge=0, le=100_000)] = 0) -> Response:
    """The subjects, newest first, a hundred a page (the list had every one)."""
    if (missing := _missing(request)) is not None:
        return missing
    from haechi.subjects.search import search_log
    from haechi.subjects.service import list_subjects

    app = haechi(request)
    found = list_subjects(
        app, limit=SUBJECTS_PAGE + 1, offset=page * SUBJECTS_PAGE, newest_first=True
    )
    return render(
        request, "subjects.html", subjects=found[:SUBJECTS_PAGE], page=page,
        more=len(found) > SUBJECTS_PAGE, searches=search_log(app, limit=20),
    )  # fmt: skip


@router.get("/subjects/new", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def enrol_page(request: Request) -> Response:
    if (page := _missing(request)) is not None:
        return page
    return render(request, "subject_enrol.html", error=None, values={})


@router.post("/subjects/enrol", dependencies=[needs(Perm.SUBJECTS_WRITE)])
async def enrol(request: Request) -> Response:
    """Multipart, sent by htmx with the CSRF header (the body is read here, in memory).

    What can be checked at once is (the label, the consent, the photos' size and header);
    the face work runs as an ``enrol`` job (its page follows it), with the form's values and
    photos sealed until the job takes them (``haechi.subjects.staging``)."""
    if (page := _missing(request)) is not None:
        return page
    from starlette.concurrency import run_in_threadpool

    from haechi.jobs import store as jobs
    from haechi.subjects import staging
    from haechi.subjects.form import FIELDS, check_form
    from haechi.web.views.jobs import start_job

    try:
        form = await read_form(request, max_files=MAX_PHOTOS, max_file_bytes=MAX_PHOTO_BYTES)
    except HaechiError as exc:
        return render(request, "subject_enrol.html", error=refusal(request, exc), values={})
    values = {k: form.get(k) for k in FIELDS}
    values["scope"] = ",".join(form.all("scope"))
    shown = {k: v for k, v in values.items() if k != "given_by"}  # her name is not sent back
    app, auth = haechi(request), current(request)
    key = form.get("key") or None
    if key is not None and (found := jobs.find_by_key(app, auth.user.id, key)) is not None:
        return go(request, f"/jobs/{found}")  # the same form again: its job
    photos = [(f.name or "photo", f.data) for f in form.files.get("photos", [])]

    def stage() -> str:
        values["label"] = check_form(app, values, photos)
        return staging.stage(app, auth.user.id, values, photos)

    try:
        name = await run_in_threadpool(stage)
        try:
            job_id = start_job(request, "enrol", {"staged": name, "label": values["label"]}, key)
        except BaseException:
            staging.discard(app, name)
            raise
    except HaechiError as exc:
        return render(request, "subject_enrol.html", error=refusal(request, exc), values=shown)
    if jobs.get(app, job_id).params.get("staged") != name:
        staging.discard(app, name)  # a double submit: the other request's job has the photos
    return go(request, f"/jobs/{job_id}")


def _subject_page(
    request: Request, subject_id: int, *, warnings: list[str] | None = None, status: int = 200,
    error: str | None = None,
) -> Response:  # fmt: skip
    from haechi.cases.for_subject import cases_of_subject
    from haechi.subjects.review import confirmed_files
    from haechi.subjects.search import search_log
    from haechi.subjects.service import get_subject

    app = haechi(request)
    info = get_subject(app, subject_id)
    if info is None:
        from haechi.auth.errors import NotFound

        raise NotFound(t_("There is no subject {subject_id}.", subject_id=subject_id))
    cases = cases_of_subject(app, info.label) if integrations.available("cases") else []
    return render(
        request,
        "subject.html",
        status=status,
        s=info,
        searches=search_log(app, subject_id=subject_id, limit=50),
        confirmed=len(confirmed_files(app, subject_id)),
        cases=cases,
        warnings=warnings or [],
        error=error,
        relations=RELATIONS,
        scopes=SCOPES,
    )


@router.get("/subjects/{subject_id}", dependencies=[needs(Perm.SUBJECTS)])
def subject_page(request: Request, subject_id: int) -> Response:
    if (page := _missing(request)) is not None:
        return page
    return _subject_page(request, subject_id)


@router.post("/subjects/{subject_id}/consents", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def record_consent(
    request: Request,
    subject_id: int,
    given_by: Annotated[str, Form(max_length=200)] = "",
    relation: Annotated[str, Form(max_length=32)] = "self",
    given_at: Annotated[str, Form(max_length=40)] = "",
    scope: Annotated[list[str] | None, Form()] = None,
    valid_until: Annotated[str, Form(max_length=40)] = "",
    reference: Annotated[str, Form(max_length=120)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.consent import record_consent as record

    def work() -> str:
        request_ = ConsentRequest(
            given_by=given_by, scope=list(scope or []), given_at=given_at, relation=relation,
            valid_until=valid_until or None, reference=reference.strip() or None,
        )  # fmt: skip
        record(acting(request), subject_id, request_, staff(request))
        return f"/subjects/{subject_id}"

    return _or_page(request, subject_id, lambda: once(request, key, "subject_consent", work))


@router.post(
    "/subjects/{subject_id}/consents/{consent_id}/withdraw",
    dependencies=[needs(Perm.SUBJECTS_WRITE)],
)
def withdraw_consent(request: Request, subject_id: int, consent_id: int) -> Response:
    from haechi.subjects.consent import withdraw_consent as withdraw
    from haechi.subjects.service import get_subject

    def work() -> Response:
        info = get_subject(haechi(request), subject_id)
        already = info is not None and any(
            c.id == consent_id and c.withdrawn_at for c in info.consents
        )
        if not already:  # a second click finds it withdrawn: nothing to do
            withdraw(acting(request), subject_id, consent_id, staff(request))
            audited(request, SUBJECT_CHANGE, "consent_withdraw", f"subject:{subject_id}",
                    consent_id=consent_id)  # fmt: skip
        return go(request, f"/subjects/{subject_id}")

    return _or_page(request, subject_id, work)


@router.post("/subjects/{subject_id}/delete", dependencies=[needs(Perm.SUBJECTS_WRITE)])
def delete_subject(
    request: Request, subject_id: int, reason: Annotated[str, Form(max_length=500)] = ""
) -> Response:
    from haechi.subjects.service import delete_subject as delete
    from haechi.subjects.service import get_subject

    def work() -> Response:
        info = get_subject(haechi(request), subject_id)
        if info is not None and info.status != "deleted":
            delete(acting(request), subject_id, staff(request), reason)
            audited(request, SUBJECT_CHANGE, "subject_delete", f"subject:{subject_id}")
        return go(request, f"/subjects/{subject_id}")

    return _or_page(request, subject_id, work)


def _or_page(request: Request, subject_id: int, work: object) -> Response:
    """Run ``work``; a refusal shows the subject's page with the sentence (400)."""
    if (page := _missing(request)) is not None:
        return page
    try:
        return work()  # type: ignore[operator]
    except HaechiError as exc:
        return _subject_page(request, subject_id, status=400, error=refusal(request, exc))


@router.post("/subjects/{subject_id}/search", dependencies=[needs(Perm.FACE_SEARCH)])
def face_search(
    request: Request,
    subject_id: int,
    reason: Annotated[str, Form(max_length=500)] = "",
    exhaustive: Annotated[bool, Form()] = False,  # read the whole index (exact, slower)
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """A logged face search (the service refuses it without a reason and an active
    consent), then its candidates on their review page."""
    if (page := _missing(request)) is not None:
        return page
    from haechi.subjects.search import search_subject

    app, auth = haechi(request), current(request)

    def work() -> str:
        result = None
        try:
            result = search_subject(
                acting(request),
                subject_id,
                staff=staff(request),
                reason=reason,
                exhaustive=exhaustive,
            )
        except HaechiError as exc:
            audit.record_face_search(
                app, auth.actor, f"subject:{subject_id}", reason=reason, exhaustive=exhaustive,
                result=None, refused=str(exc), subject_id=subject_id,
            )  # fmt: skip
            raise
        audit.record_face_search(
            app, auth.actor, f"subject:{subject_id}", reason=reason, exhaustive=exhaustive,
            result=result, subject_id=subject_id,
        )  # fmt: skip
        return f"/face-searches/{result.search_id}"

    if not key:  # an API client or an old page: no double-submit guard to key on
        key = once_store.new_key()
    return _or_page(request, subject_id, lambda: once(request, key, "face_search", work))
