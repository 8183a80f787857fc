"""Ingest from the browser (``haechi ingest``) through a drop folder on the server: an
administrator names the folders in ``haechi.toml`` (``[ingest] drop_roots``); whoever may
run analysis jobs (investigators) sees the export folders copied there — size, files,
whether the export was ingested before (by its ``result.json``'s SHA-256, the identity the
ingest itself uses) — chooses one, and starts it as a background ``ingest`` job
(:mod:`haechi.jobs.kinds.ingest`) with the command line's options (``--assume-timezone``,
``--no-analyze``). Linked from ``/sources``; without a drop root the page says how to set
one. A repeated form (the same key), or a second request for a folder whose ingest is
queued or running, leads to the job already started; an export ingested before offers no
button. ``POST /api/ingest`` is the same (:mod:`haechi.web.views.ingest_api`)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.i18n import localize
from haechi.jobs import store as jobs
from haechi.jobs.model import FINISHED, JobInfo
from haechi.run.ingest_drop import list_drop
from haechi.web.actions import go
from haechi.web.auth import current, haechi, needs
from haechi.web.render import language, refusal, render
from haechi.web.views.jobs import start_job

router = APIRouter()
KIND = "ingest"


def active_jobs(request: Request) -> dict[tuple[int, str], JobInfo]:
    """The ingest jobs queued or running, by (drop root, folder)."""
    found: dict[tuple[int, str], JobInfo] = {}
    for job in jobs.jobs(haechi(request), kinds=(KIND,), limit=200):
        if job.state not in FINISHED:
            found.setdefault((int(job.params.get("root", -1)), str(job.params.get("folder"))), job)
    return found


def start(request: Request, params: dict[str, Any], key: str | None) -> tuple[int, bool]:
    """(job id, whether it was started before): one job per folder while it runs."""
    root, folder = params.get("root"), str(params.get("folder"))
    if isinstance(root, str) and root.isascii() and root.isdigit():
        root = int(root)
    running = active_jobs(request).get((root, folder)) if isinstance(root, int) else None
    if running is not None:
        return running.id, True
    user_id = current(request).user.id
    repeat = key is not None and jobs.find_by_key(haechi(request), user_id, key) is not None
    return start_job(request, KIND, params, key), repeat


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    app, lang = haechi(request), language(request)
    return render(
        request, "ingest_drop.html", status=status, roots=list_drop(app),
        active=active_jobs(request), jobs=jobs.jobs(app, kinds=(KIND,), limit=10),
        say=lambda sentence: localize(sentence, lang), **extra,
    )  # fmt: skip


@router.get("/sources/drop", dependencies=[needs(Perm.ANALYSIS)])
def drop_page(request: Request) -> Response:
    return _page(request)


@router.post("/sources/drop", dependencies=[needs(Perm.ANALYSIS)])
def start_ingest(
    request: Request,
    choice: Annotated[str, Form(max_length=300)] = "",
    assume_timezone: Annotated[str, Form(max_length=64)] = "",
    analyze: Annotated[bool, Form()] = False,
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    """``choice`` is ``<drop root number>/<folder name>`` (the page's radio buttons)."""
    root, _, folder = choice.partition("/")
    params = {"root": root, "folder": folder, "analyze": analyze,
              "assume_timezone": assume_timezone.strip() or None}  # fmt: skip
    try:
        job_id, _repeat = start(request, params, key or None)
    except HaechiError as exc:
        return _page(request, 400, error=refusal(request, exc), choice=choice,
                     assume_timezone=assume_timezone)  # fmt: skip
    return go(request, f"/jobs/{job_id}")
