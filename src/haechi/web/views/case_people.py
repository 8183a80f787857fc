"""A case's suspects from its page and the JSON API: each with the identifiers they were
seen with, added, and their apprehension (검거) or detention (구속) recorded with its time
(what ``/stats`` counts), an identifier added to a recorded suspect and a recorded time
corrected with its reason (the earlier time stays in the custody event). The services
``haechi case suspect``, ``suspect-status``, ``suspect-identifier`` and ``suspect-correct``
use (``haechi.cases.people``), acting as the logged-in person; each change is a signed
custody event of the case and an audit entry. Also a victim linked to her consenting face
subject, as ``haechi case link-face``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from haechi.auth.roles import Perm
from haechi.web.actions import CASE_CHANGE, acting, audited, go, once
from haechi.web.auth import haechi, needs
from haechi.web.views.api_cases import Key, _once
from haechi.web.views.cases import on_case

router = APIRouter()
MAX_IDENTIFIERS = 50


def _key(case: str) -> str:
    return case.strip()[:64]


def _lines(text: str) -> list[tuple[str, str]]:
    """``kind=value`` a line; a line without ``=`` is its kind alone (the service refuses it)."""
    pairs = []
    for line in text.splitlines():
        kind, _, value = line.strip().partition("=")
        if kind or value:
            pairs.append((kind.strip(), value.strip()))
    return pairs[:MAX_IDENTIFIERS]


def _add_suspect(
    request: Request,
    case: str,
    identifiers: list[tuple[str, str]],
    *,
    account: str | None,
    age: int | None,
    band: str | None,
    note: str | None,
) -> str:
    """The suspect recorded as the person; where they are shown."""
    from haechi.cases.people import add_suspect
    from haechi.cases.service import get_summary

    ref = get_summary(haechi(request), _key(case)).ref
    label = add_suspect(acting(request), ref, identifiers=identifiers, account=account or None,
                        age=age, band=band or None, note=note or None)  # fmt: skip
    audited(request, CASE_CHANGE, "case_suspect", f"case:{ref}", suspect=label)
    return f"/cases/{ref}#suspect-{label}"


def _age(text: str) -> int | None:
    from haechi.cases.for_subject import parse_age

    return parse_age(text)


@router.post("/cases/{case}/suspects", dependencies=[needs(Perm.CASES_WRITE)])
def add_suspect_form(
    request: Request,
    case: str,
    identifiers: Annotated[str, Form(max_length=20000)] = "",
    account: Annotated[str, Form(max_length=128)] = "",
    age: Annotated[str, Form(max_length=3)] = "",
    age_band: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=2000)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    def work() -> str:
        return _add_suspect(request, case, _lines(identifiers), account=account.strip(),
                            age=_age(age), band=age_band, note=note.strip())  # fmt: skip

    return on_case(request, case, lambda: once(request, key, "case_suspect", work))


class SuspectBody(BaseModel):
    identifiers: list[tuple[str, str]] = Field(default_factory=list, max_length=MAX_IDENTIFIERS)
    account: str | None = Field(default=None, max_length=128)
    age: int | None = None
    age_band: str | None = Field(default=None, max_length=16)
    note: str | None = Field(default=None, max_length=2000)


@router.post("/api/cases/{case}/suspects", dependencies=[needs(Perm.CASES_WRITE)], tags=["api"])
def api_add_suspect(
    request: Request, case: str, body: SuspectBody, key: Key = None
) -> JSONResponse:
    def work() -> str:
        url = _add_suspect(request, case, body.identifiers, account=body.account, age=body.age,
                           band=body.age_band, note=body.note)  # fmt: skip
        return "/api" + url.split("#")[0]

    return _once(request, key, "case_suspect", work)


def _status(
    request: Request, case: str, label: str, status: str, at: str | None, age: int | None
) -> str:
    """A suspect's status set as the person (apprehended and detained with their time);
    the case's reference. The status they have already changes nothing and is not logged
    again (a second submit does not move the recorded time)."""
    from haechi.cases.detail import suspect_views
    from haechi.cases.people import set_suspect_status
    from haechi.cases.service import get_summary

    app = haechi(request)
    summary = get_summary(app, _key(case))
    with app.db.connect() as conn:
        before = {s.label: s for s in suspect_views(conn, summary.id)}
    now = before.get(label)
    if now is not None and now.status == status and age in (None, now.age):
        return summary.ref
    set_suspect_status(acting(request), summary.ref, label, status, at=at or None, age=age)
    audited(request, CASE_CHANGE, "suspect_status", f"case:{summary.ref}",
            suspect=label, status=status, previous=now.status if now else None)  # fmt: skip
    return summary.ref


@router.post("/cases/{case}/suspects/{label}/status", dependencies=[needs(Perm.CASES_WRITE)])
def status_form(
    request: Request,
    case: str,
    label: str,
    status: Annotated[str, Form(max_length=16)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    age: Annotated[str, Form(max_length=3)] = "",
) -> Response:
    def work() -> Response:
        ref = _status(request, case, label[:16], status, at.strip(), _age(age))
        return go(request, f"/cases/{ref}#suspect-{label[:16]}")

    return on_case(request, case, work)


class StatusBody(BaseModel):
    status: str = Field(max_length=16)
    at: str | None = Field(default=None, max_length=40)  # ISO 8601 with its zone
    age: int | None = None


@router.post(
    "/api/cases/{case}/suspects/{label}/status",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_status(request: Request, case: str, label: str, body: StatusBody) -> dict[str, object]:
    ref = _status(request, case, label[:16], body.status, body.at, body.age)
    return {"case": ref, "suspect": label[:16], "status": body.status}


def _add_identifiers(
    request: Request, case: str, label: str, identifiers: list[tuple[str, str]]
) -> tuple[str, list[dict[str, str]]]:
    """Identifiers added to a recorded suspect as the person; the case's reference and
    those that were new (one the suspect has already adds nothing and is not logged)."""
    from haechi.cases.people import add_suspect_identifiers
    from haechi.cases.service import get_summary

    ref = get_summary(haechi(request), _key(case)).ref
    added = add_suspect_identifiers(acting(request), ref, label, identifiers)
    if added:
        audited(request, CASE_CHANGE, "suspect_identifier", f"case:{ref}", suspect=label,
                kinds=[i["kind"] for i in added])  # fmt: skip
    return ref, added


@router.post("/cases/{case}/suspects/{label}/identifiers", dependencies=[needs(Perm.CASES_WRITE)])
def identifiers_form(
    request: Request,
    case: str,
    label: str,
    kind: Annotated[str, Form(max_length=32)] = "",
    value: Annotated[str, Form(max_length=300)] = "",
) -> Response:
    def work() -> Response:
        ref, _ = _add_identifiers(request, case, label[:16], [(kind.strip(), value.strip())])
        return go(request, f"/cases/{ref}#suspect-{label[:16]}")

    return on_case(request, case, work)


class IdentifiersBody(BaseModel):
    identifiers: list[tuple[str, str]] = Field(min_length=1, max_length=MAX_IDENTIFIERS)


@router.post(
    "/api/cases/{case}/suspects/{label}/identifiers",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_identifiers(request: Request, case: str, label: str, body: IdentifiersBody) -> JSONResponse:
    ref, added = _add_identifiers(request, case, label[:16], body.identifiers)
    return JSONResponse({"case": ref, "suspect": label[:16], "added": added},
                        status_code=201 if added else 200)  # fmt: skip


def _correct(
    request: Request, case: str, label: str, which: str, at: str, reason: str
) -> dict[str, object]:
    """A recorded apprehension or detention time corrected as the person, with the reason;
    the earlier time stays in the custody event and the audit entry. The time it has
    already changes nothing and is not logged again."""
    from haechi.cases.people import correct_suspect_time
    from haechi.cases.service import get_summary

    ref = get_summary(haechi(request), _key(case)).ref
    before = correct_suspect_time(acting(request), ref, label, which, at, reason=reason)
    if before is not None:
        audited(request, CASE_CHANGE, "suspect_time_corrected", f"case:{ref}", suspect=label,
                which=which, previous=before, at=at, reason=reason)  # fmt: skip
    return {"case": ref, "suspect": label, "which": which, "previous": before,
            "corrected": before is not None}  # fmt: skip


@router.post("/cases/{case}/suspects/{label}/correct", dependencies=[needs(Perm.CASES_WRITE)])
def correct_form(
    request: Request,
    case: str,
    label: str,
    which: Annotated[str, Form(max_length=16)] = "",
    at: Annotated[str, Form(max_length=40)] = "",
    reason: Annotated[str, Form(max_length=500)] = "",
) -> Response:
    def work() -> Response:
        done = _correct(request, case, label[:16], which, at.strip(), reason)
        return go(request, f"/cases/{done['case']}#suspect-{label[:16]}")

    return on_case(request, case, work)


class CorrectBody(BaseModel):
    which: str = Field(max_length=16)  # apprehended or detained
    at: str = Field(max_length=40)  # ISO 8601 with its zone
    reason: str = Field(max_length=500)


@router.post(
    "/api/cases/{case}/suspects/{label}/correct",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_correct(request: Request, case: str, label: str, body: CorrectBody) -> dict[str, object]:
    return _correct(request, case, label[:16], body.which, body.at, body.reason)


def _link_face(request: Request, case: str, label: str, subject: str) -> str:
    """A victim tied to her consenting face subject as the person; the case's reference.
    The service decides whether her consent covers it; the subject she is linked to
    already changes nothing and is not logged again."""
    from haechi.cases.detail import victim_views
    from haechi.cases.people import link_faces_subject
    from haechi.cases.service import get_summary

    app = haechi(request)
    summary = get_summary(app, _key(case))
    with app.db.connect() as conn:
        before = {v.label: v.faces_subject_ref for v in victim_views(conn, summary.id)}
    subject = subject.strip()
    if label in before and before[label] == subject:
        return summary.ref
    link_faces_subject(acting(request), summary.ref, label, subject)  # refuses without consent
    audited(request, CASE_CHANGE, "victim_face", f"case:{summary.ref}",
            victim=label, faces_subject=subject, previous=before.get(label))  # fmt: skip
    return summary.ref


@router.post("/cases/{case}/victims/{label}/face", dependencies=[needs(Perm.CASES_WRITE)])
def link_face_form(
    request: Request, case: str, label: str, subject: Annotated[str, Form(max_length=128)] = ""
) -> Response:
    def work() -> Response:
        return go(request, f"/cases/{_link_face(request, case, label[:16], subject)}#victims")

    return on_case(request, case, work)


class FaceBody(BaseModel):
    subject: str = Field(min_length=1, max_length=128)


@router.post(
    "/api/cases/{case}/victims/{label}/face",
    dependencies=[needs(Perm.CASES_WRITE)],
    tags=["api"],
)
def api_link_face(request: Request, case: str, label: str, body: FaceBody) -> dict[str, object]:
    ref = _link_face(request, case, label[:16], body.subject)
    return {"case": ref, "victim": label[:16], "subject": body.subject.strip()}
