"""Public-page capture in the browser (``haechi capture URL``): an investigator names a
t.me/s channel, a post or any public page, optionally a case; the capture runs as a
background job (fetch, WARC/WACZ, screenshot, signature, RFC 3161 timestamp, ingest) and
its page shows the progress and offers the WACZ, its token and screenshot to download.
Recent captures are listed from the custody log (what was signed), not from the jobs.
A channel's older pages are followed when ``pages`` (1 to 200) asks for more than one, or
back to the message id ``back_to`` (``haechi capture --back-to``). Scripts use the jobs
API: ``POST /api/jobs {"kind": "capture", "params": {"url": ..., "pages": 5}}``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response

from haechi.auth.roles import Perm
from haechi.domain import HaechiError
from haechi.jobs import store as jobs
from haechi.services import custody as custody_view
from haechi.web.actions import once
from haechi.web.auth import current, haechi, needs
from haechi.web.nav import NavItem
from haechi.web.render import refusal, render

router = APIRouter()
NAV = [NavItem(73, "nav.capture", "/capture", Perm.LIVE)]
EVENTS = ("web_capture", "web_capture_gone", "web_capture_failed")


def _page(request: Request, status: int = 200, **extra: object) -> Response:
    app = haechi(request)
    events = sorted(
        (e for kind in EVENTS for e in custody_view.log(app, event_type=kind, limit=20).events),
        key=lambda e: e.seq,
        reverse=True,
    )[:20]
    mine = [
        j for j in jobs.jobs(app, user_id=current(request).user.id, limit=200)
        if j.kind == "capture"
    ][:10]  # fmt: skip
    return render(request, "capture.html", status=status, events=events, jobs=mine, **extra)


@router.get("/capture", dependencies=[needs(Perm.LIVE)])
def capture_page(request: Request) -> Response:
    return _page(request)


def _params(
    url: str, case: str, follow_offhost: str, pages: str, back_to: str
) -> dict[str, object]:
    params: dict[str, object] = {"url": url, "follow_offhost": follow_offhost == "on"}
    if case.strip():
        params["case"] = case.strip()
    if pages.strip():  # checked by the job kind (1 to 200), with the capture's sentence
        params["pages"] = pages.strip()
    if back_to.strip():  # checked by the job kind too
        params["back_to"] = back_to.strip()
    return params


@router.post("/capture", dependencies=[needs(Perm.LIVE)])
def start_capture(
    request: Request,
    url: Annotated[str, Form(max_length=2100)],
    case: Annotated[str, Form(max_length=64)] = "",
    follow_offhost: Annotated[str, Form(max_length=8)] = "",
    pages: Annotated[str, Form(max_length=8)] = "",
    back_to: Annotated[str, Form(max_length=24)] = "",
    key: Annotated[str, Form(max_length=64)] = "",
) -> Response:
    auth = current(request)
    try:

        def work() -> str:
            job_id = jobs.submit(
                haechi(request), "capture", _params(url, case, follow_offhost, pages, back_to),
                auth.actor,
                idem_key=key or None,
            )  # fmt: skip
            return f"/jobs/{job_id}"

        return once(request, key, "capture", work)
    except HaechiError as exc:
        return _page(
            request, 400, error=refusal(request, exc), url=url, case=case, pages=pages,
            back_to=back_to,
        )  # fmt: skip
