"""Background jobs in the pages: starting a case's evidence package, report or re-upload
scan, the analysis of new files or the matching catch-up (from the matches page), a job's
progress (its part of the page asks again every second while it runs, so a
reload or another tab shows the same job), and its result's download (a logged export).

Each start route names the permission of its kind of job; a job is seen and downloaded by
the person who started it, or by anyone whose role may run that kind.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response, StreamingResponse

from haechi.auth import audit
from haechi.auth.roles import Perm, can
from haechi.domain import HaechiError
from haechi.i18n import t_
from haechi.jobs import results
from haechi.jobs import store as jobs
from haechi.jobs.kinds import kind_of
from haechi.jobs.model import JobError, JobInfo
from haechi.web.actions import JOB_START, audited, go
from haechi.web.auth import Denied, current, haechi, needs
from haechi.web.render import refusal, render
from haechi.web.views.cases import on_case

router = APIRouter()


def _start(request: Request, case: str, kind: str, params: dict[str, object], key: str) -> Response:
    def work() -> Response:
        job_id = start_job(request, kind, {"case": case.strip()[:64], **params}, key or None)
        return go(request, f"/jobs/{job_id}")

    return on_case(request, case, work)


@router.post("/cases/{case}/package", dependencies=[needs(Perm.EXPORT)])
def start_package(
    request: Request,
    case: str,
    pdf: Annotated[bool, Form()] = False,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return _start(request, case, "package", {"pdf": pdf}, key)


@router.post("/cases/{case}/report", dependencies=[needs(Perm.EXPORT)])
def start_report(
    request: Request,
    case: str,
    format: Annotated[str, Form(max_length=4)] = "pdf",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    return _start(request, case, "report", {"format": format}, key)


@router.post("/cases/{case}/reupload-scan", dependencies=[needs(Perm.NOTICES_WRITE)])
def start_scan(
    request: Request, case: str, key: Annotated[str, Form(max_length=64)] = ""
) -> Response:
    return _start(request, case, "reupload_scan", {}, key)


# -- analysis of new files and re-matching, from the matches page --------------------------
SERVER_KINDS = ("analyze", "rematch")  # the jobs the matches page lists and starts


def _start_here(request: Request, kind: str, params: dict[str, object], key: str) -> Response:
    """Queue a job from the matches page; a refusal shows that page with the sentence."""
    from haechi.web.views.matches import refused

    try:
        job_id = start_job(request, kind, params, key or None)
    except HaechiError as exc:
        return refused(request, refusal(request, exc))
    return go(request, f"/jobs/{job_id}")


@router.post("/jobs/analyze", dependencies=[needs(Perm.ANALYSIS)])
def start_analysis(
    request: Request,
    retry_errors: Annotated[bool, Form()] = False,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """Run every enabled analyzer over the files it has not analysed (``haechi analyze``)."""
    return _start_here(request, "analyze", {"retry_errors": retry_errors}, key)


@router.post("/jobs/rematch", dependencies=[needs(Perm.ANALYSIS)])
def start_rematch(
    request: Request,
    rescan: Annotated[bool, Form()] = False,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """The matching catch-up (``haechi match --all``; ``rescan``: every hash again)."""
    return _start_here(request, "rematch", {"rescan": rescan}, key)


def server_jobs(request: Request, limit: int = 5) -> list[JobInfo]:
    """The newest analysis and re-matching jobs, for those who may start them (anyone's:
    one running is news to the whole unit, and a second would only wait for its lock)."""
    if not can(current(request).user.role, Perm.ANALYSIS):
        return []
    return jobs.jobs(haechi(request), kinds=SERVER_KINDS, limit=limit)


def start_job(request: Request, kind: str, params: dict[str, object], key: str | None) -> int:
    """Queue a job once per form key (a repeat finds the first), on the audit trail."""
    auth, app = current(request), haechi(request)
    repeat = key is not None and jobs.find_by_key(app, auth.user.id, key) is not None
    job_id = jobs.submit(app, kind, params, auth.actor, idem_key=key)
    if not repeat:
        info = jobs.get(app, job_id)
        audited(request, JOB_START, kind, info.subject or f"job:{job_id}", job_id=job_id)
    return job_id


def visible_job(request: Request, job_id: int) -> JobInfo:
    """The job, if this person started it or may run its kind; else 404-like refusal."""
    auth = current(request)
    try:
        info = jobs.get(haechi(request), job_id)
        perm = kind_of(info.kind).perm
    except JobError:
        from haechi.auth.errors import NotFound

        raise NotFound(t_("There is no job {job_id}.", job_id=job_id)) from None
    if info.user_id != auth.user.id and not can(auth.user.role, perm):
        from haechi.auth.errors import NotFound

        raise NotFound(t_("There is no job {job_id}.", job_id=job_id))
    return info


@router.get("/jobs", dependencies=[needs(Perm.SELF)])
def my_jobs(request: Request) -> Response:
    found = jobs.jobs(haechi(request), user_id=current(request).user.id, limit=100)
    return render(request, "jobs.html", jobs=found, job=None)


@router.get("/jobs/{job_id}", dependencies=[needs(Perm.SELF)])
def job_page(request: Request, job_id: int) -> Response:
    info = visible_job(request, job_id)
    if request.headers.get("hx-request"):
        return render(request, "_job.html", j=info)
    return render(request, "jobs.html", jobs=[], job=info)


@router.get("/jobs/{job_id}/result", dependencies=[needs(Perm.SELF)])
def job_result(request: Request, job_id: int) -> Response:
    info = visible_job(request, job_id)
    auth, app = current(request), haechi(request)
    if not can(auth.user.role, kind_of(info.kind).perm):
        raise Denied("permission")
    stored, sealed = jobs.result_file(app, job_id)
    if stored is None or not results.exists(app, stored):
        raise JobError(t_("This job has no file to download (none was made, or it was removed)."))
    audit.record(
        app, auth.actor, audit.EXPORT, info.subject or f"job:{job_id}",
        {"kind": f"{info.kind}_download", "job_id": job_id, "sha256": info.result_sha256,
         "size": info.result_size, "name": info.result_name, **_refs(info)},
    )  # fmt: skip
    stream = results.open_result(app, stored, sealed)

    def chunks() -> Iterator[bytes]:
        with stream:
            while block := stream.read(1 << 16):
                yield block

    name = (info.result_name or f"job-{job_id}").replace('"', "")
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if info.result_size is not None:
        headers["Content-Length"] = str(info.result_size)
    return StreamingResponse(chunks(), media_type="application/octet-stream", headers=headers)


def _refs(info: JobInfo) -> dict[str, object]:
    """What ties a download to the export the job made (package id, its custody event)."""
    keep = ("package_id", "export_event", "manifest_sha256", "case")
    return {k: info.result[k] for k in keep if k in info.result} | {
        k: info.params[k] for k in ("case",) if k in info.params
    }
