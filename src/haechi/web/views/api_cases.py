"""The JSON API of the counsellor's and case actions, beside their pages: the same
services, the same permissions, acting as the token's (or session's) person.

A POST that creates something takes an ``Idempotency-Key`` header (16 to 64 characters of
letters, digits, ``-`` and ``_``): a retry with the same key creates nothing and answers
with what the first one made (``"repeat": true``). Reference photos are posted as
``multipart/form-data`` (read in memory, like the page's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from typing import Annotated, Any

from fastapi import APIRouter, Header, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.i18n import t_
from haechi.jobs import once as once_store
from haechi.web.actions import (
    FACE_REVIEW,
    FORMS,
    NOTICE_CHANGE,
    SUBJECT_CHANGE,
    acting,
    audited,
    staff,
    subject_of,
)  # fmt: skip
from haechi.web.auth import current, haechi, needs
from haechi.web.uploads import read_form
from haechi.web.views.cases import Filters

router = APIRouter(prefix="/api", tags=["api"])
Key = Annotated[str | None, Header(alias="Idempotency-Key", max_length=64)]


def _once(request: Request, key: str | None, action: str, work: Callable[[], str]) -> JSONResponse:
    """Run ``work`` (returning the location of what it made) once per key."""
    if key is None:
        location = work()
        _audit_form(request, action, location)
        return JSONResponse({"location": location, "repeat": False}, status_code=201)
    app, auth = haechi(request), current(request)
    claim = once_store.claim(app, auth.user.id, key, action)
    if not claim.fresh:
        status = 200 if claim.result else 409
        return JSONResponse({"location": claim.result, "repeat": True}, status_code=status)
    try:
        location = work()
    except BaseException:
        once_store.release(app, auth.user.id, key)
        raise
    once_store.done(app, auth.user.id, key, location)
    _audit_form(request, action, location)
    return JSONResponse({"location": location, "repeat": False}, status_code=201)


def _audit_form(request: Request, action: str, location: str) -> None:
    if action in FORMS:
        audited(request, FORMS[action], action, subject_of(location), result=location)


# -- subjects and face review ------------------------------------------------------------
@router.post("/subjects", dependencies=[needs(Perm.SUBJECTS_WRITE)])
async def api_enrol(request: Request, key: Key = None) -> JSONResponse:
    """multipart/form-data: label, photos (1-5 files), given_by, relation, given_at, scope
    (repeatable), valid_until, reference, is_minor."""
    from starlette.concurrency import run_in_threadpool

    from haechi.subjects.form import FIELDS, enrol_from_form
    from haechi.web.views.subjects import MAX_PHOTO_BYTES, MAX_PHOTOS

    form = await read_form(request, max_files=MAX_PHOTOS, max_file_bytes=MAX_PHOTO_BYTES)
    values = {k: form.get(k) for k in FIELDS}
    values["scope"] = ",".join(form.all("scope"))
    photos = [(f.name or "photo", f.data) for f in form.files.get("photos", [])]
    who, app, user = staff(request), acting(request), current(request).user.id
    if key is not None:
        claim = once_store.claim(haechi(request), user, key, "subject_enrol")
        if not claim.fresh:
            return JSONResponse({"location": claim.result, "repeat": True}, status_code=200)
    try:
        info, warnings = await run_in_threadpool(enrol_from_form, app, who, values, photos)
    except BaseException:
        if key is not None:
            once_store.release(haechi(request), user, key)
        raise
    location = f"/api/subjects/{info.id}"
    if key is not None:
        once_store.done(haechi(request), user, key, location)
    audited(request, SUBJECT_CHANGE, "subject_enrol", f"subject:{info.id}", label=info.label)
    body = {"location": location, "repeat": False, "id": info.id, "warnings": warnings}
    return JSONResponse(body, status_code=201)


@router.get("/subjects/{subject_id}", dependencies=[needs(Perm.SUBJECTS)])
def api_subject(request: Request, subject_id: int) -> dict[str, Any]:
    """A subject without her name or the consenting person's: label, state, consents by
    relation and scope, templates, photos kept."""
    from haechi.auth.errors import NotFound
    from haechi.subjects.service import get_subject

    info = get_subject(haechi(request), subject_id)
    if info is None:
        raise NotFound(t_("There is no subject {subject_id}.", subject_id=subject_id))
    consents = [{k: v for k, v in asdict(c).items() if k != "given_by"} for c in info.consents]
    return {"id": info.id, "label": info.label, "status": info.status,
            "is_minor": info.is_minor, "consents": consents, "templates": len(info.templates),
            "photos_kept": info.photos}  # fmt: skip


class SearchBody(BaseModel):
    reason: str = Field(max_length=500)
    exhaustive: bool = False


@router.post("/subjects/{subject_id}/search", dependencies=[needs(Perm.FACE_SEARCH)])
def api_face_search(
    request: Request, subject_id: int, body: SearchBody, key: Key = None
) -> JSONResponse:
    """A logged face search; its candidates at the location answered."""
    from haechi.domain import HaechiError
    from haechi.subjects.search import search_subject

    app, auth = haechi(request), current(request)

    def work() -> str:
        try:
            result = search_subject(
                acting(request), subject_id, staff=staff(request), reason=body.reason,
                exhaustive=body.exhaustive,
            )  # fmt: skip
        except HaechiError as exc:
            audit.record_face_search(
                app, auth.actor, f"subject:{subject_id}", reason=body.reason,
                exhaustive=body.exhaustive, result=None, refused=str(exc), subject_id=subject_id,
            )  # fmt: skip
            raise
        audit.record_face_search(
            app, auth.actor, f"subject:{subject_id}", reason=body.reason,
            exhaustive=body.exhaustive, result=result, subject_id=subject_id,
        )  # fmt: skip
        return f"/api/face-searches/{result.search_id}"

    return _once(request, key, "face_search", work)


@router.get("/face-searches/{search_id}", dependencies=[needs(Perm.FACE_SEARCH)])
def api_candidates(
    request: Request, search_id: int, offset: int = 0, limit: int = 24
) -> dict[str, Any]:
    """Candidates as data (file, distance, face box, decision, where it appeared); no
    picture: a face is looked at through the page, one logged act each."""
    from haechi.subjects.review import review

    found = review(haechi(request), search_id, offset=offset, limit=limit)
    return {
        "search": asdict(found.search),
        "total": found.total,
        "confirmed": found.confirmed,
        "rejected": found.rejected,
        "candidates": [asdict(c) for c in found.candidates],
    }


class DecisionBody(BaseModel):
    decision: str = Field(max_length=16)


@router.post(
    "/face-searches/{search_id}/candidates/{sha256}/decision",
    dependencies=[needs(Perm.SUBJECTS_WRITE)],
)
def api_decide(request: Request, search_id: int, sha256: str, body: DecisionBody) -> dict[str, Any]:
    from haechi.subjects.review import decide, search_entry

    changed = decide(acting(request), search_id, sha256, body.decision, staff=staff(request))
    if changed:
        subject = search_entry(haechi(request), search_id).subject_id
        audited(request, FACE_REVIEW, body.decision, f"subject:{subject}", search_id=search_id,
                file=sha256)  # fmt: skip
    return {"changed": changed, "decision": body.decision}


class CaseFromSearchBody(BaseModel):
    case: str | None = Field(default=None, max_length=64)
    title: str | None = Field(default=None, max_length=500)
    age: int | None = Field(default=None, ge=0, le=120)
    minor: bool = False
    given_by: str = Field(default="subject", max_length=16)
    method: str = Field(default="written", max_length=16)
    consent_on: str | None = Field(default=None, max_length=40)


@router.post("/face-searches/{search_id}/case", dependencies=[needs(Perm.CASES_WRITE)])
def api_case_from_search(
    request: Request, search_id: int, body: CaseFromSearchBody, key: Key = None
) -> JSONResponse:
    from haechi.cases.for_subject import VictimDetails, case_for_subject
    from haechi.cases.model import CaseError
    from haechi.subjects.review import confirmed_files, search_entry
    from haechi.subjects.service import get_subject

    def work() -> str:
        subject = get_subject(
            haechi(request), search_entry(haechi(request), search_id).subject_id or 0
        )
        if subject is None:
            raise CaseError(t_("The search has no subject."))
        victim = VictimDetails(
            age=body.age, is_minor=body.minor or subject.is_minor,
            consent_given_by=body.given_by, consent_method=body.method,
            consent_at=body.consent_on,
        )  # fmt: skip
        done = case_for_subject(
            acting(request), subject_label=subject.label,
            files=confirmed_files(haechi(request), subject.id), victim=victim,
            case=body.case, title=body.title,
        )  # fmt: skip
        return f"/api/cases/{done.case_ref}"

    return _once(request, key, "case_from_search", work)


# -- cases, notices, jobs ----------------------------------------------------------------
@router.get("/cases", dependencies=[needs(Perm.CASES)])
def api_cases(
    request: Request,
    filters: Filters,
    offset: Annotated[int, Query(ge=0, le=10_000_000)] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 500,
) -> list[dict[str, Any]]:
    """As ``haechi case list --json``: ``status``, ``tag``, ``assignee``, ``unit`` (``~``:
    the default unit), newest first; ``offset`` and ``limit`` page on."""
    from haechi.cases.service import list_cases

    found = list_cases(haechi(request), **filters.service(), limit=limit, offset=offset)
    return [asdict(c) for c in found]


class CaseBody(BaseModel):
    title: str = Field(max_length=500)
    ref: str | None = Field(default=None, max_length=64)
    reported_on: str | None = Field(default=None, max_length=10)
    unit: str | None = Field(default=None, max_length=64)  # default: the caller's own


@router.post("/cases", dependencies=[needs(Perm.CASES_WRITE)])
def api_create_case(request: Request, body: CaseBody, key: Key = None) -> JSONResponse:
    from haechi.cases.service import create_case

    def work() -> str:
        made = create_case(
            acting(request), body.title, ref=body.ref, reported_on=body.reported_on,
            unit=body.unit,
        )  # fmt: skip
        return f"/api/cases/{made.ref}"

    return _once(request, key, "case_create", work)


@router.get("/cases/{case}", dependencies=[needs(Perm.CASES)])
def api_case(request: Request, case: str) -> dict[str, Any]:
    """A case with its victims redacted, its notices and its re-upload hits."""
    from haechi.cases.detail import case_detail
    from haechi.cases.notices.views import list_notices
    from haechi.cases.page import reupload_hits

    app = haechi(request)
    detail = case_detail(app, case.strip()[:64], reveal_victims=False)
    for item in detail.items:
        item.detail.clear()  # match snapshots and notes stay with the CLI's full view
    return {
        **asdict(detail),
        "notices": [asdict(n) for n in list_notices(app, case=detail.id)],
        "reupload_hits": [asdict(h) for h in reupload_hits(app, detail.id)],
    }


class NoticeBody(BaseModel):
    recipient: str = Field(max_length=16)
    language: str | None = Field(default=None, max_length=4)


@router.post("/cases/{case}/notices", dependencies=[needs(Perm.NOTICES_WRITE)])
def api_draft(request: Request, case: str, body: NoticeBody, key: Key = None) -> JSONResponse:
    from haechi.cases.notices.service import draft_notice

    def work() -> str:
        made = draft_notice(acting(request), case.strip()[:64], body.recipient, body.language)
        return f"/api/notices/{made.notice.id}"

    return _once(request, key, "notice_draft", work)


@router.get("/notices/{notice_id}", dependencies=[needs(Perm.CASES)])
def api_notice(request: Request, notice_id: int) -> dict[str, Any]:
    from haechi.cases.notices.views import get_notice, transitions

    app = haechi(request)
    return {**asdict(get_notice(app, notice_id)), "history": transitions(app, notice_id)}


class MarkBody(BaseModel):
    status: str = Field(max_length=16)
    at: str | None = Field(default=None, max_length=40)  # ISO 8601 with a zone
    note: str | None = Field(default=None, max_length=500)
    external_ref: str | None = Field(default=None, max_length=128)


@router.post("/notices/{notice_id}/mark", dependencies=[needs(Perm.NOTICES_WRITE)])
def api_mark(request: Request, notice_id: int, body: MarkBody) -> dict[str, Any]:
    """Marking a notice with the status it has changes nothing."""
    from haechi.cases.notices.status import mark
    from haechi.cases.notices.views import get_notice

    current_status = get_notice(haechi(request), notice_id).status
    if current_status != body.status:
        mark(acting(request), notice_id, body.status, at=body.at, note=body.note,
             external_ref=body.external_ref)  # fmt: skip
        audited(request, NOTICE_CHANGE, f"notice_{body.status}", f"notice:{notice_id}",
                at=body.at)  # fmt: skip
    return asdict(get_notice(haechi(request), notice_id))


class JobBody(BaseModel):
    kind: str = Field(max_length=32)
    params: dict[str, Any] = Field(default_factory=dict)


@router.post("/jobs", dependencies=[needs(Perm.SELF)])
def api_submit_job(request: Request, body: JobBody, key: Key = None) -> JSONResponse:
    """Queue a background job; the kind's own permission is checked (403 otherwise)."""
    from haechi.auth.roles import can
    from haechi.jobs.kinds import kind_of
    from haechi.web.auth import Denied

    if not can(current(request).user.role, kind_of(body.kind).perm):
        raise Denied("permission")
    from haechi.web.views.jobs import start_job

    job_id = start_job(request, body.kind, body.params, key)
    return JSONResponse({"location": f"/api/jobs/{job_id}", "id": job_id}, status_code=201)


@router.get("/jobs/{job_id}", dependencies=[needs(Perm.SELF)])
def api_job(request: Request, job_id: int) -> dict[str, Any]:
    from haechi.web.views.jobs import visible_job

    info = visible_job(request, job_id)
    return {**asdict(info), "percent": info.percent,
            "result_url": f"/jobs/{job_id}/result" if info.has_file else None}  # fmt: skip
