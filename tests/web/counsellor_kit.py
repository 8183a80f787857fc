"""Helpers for the counsellor's tests: the faces demo export (scikit-image's astronaut
portrait, NASA, public domain, re-posted altered in three rooms) ingested and analysed by
the real faces analyzer, a support worker logged in, forms read from the pages."""

from __future__ import annotations

import re
import time
from pathlib import Path

from fastapi.testclient import TestClient
from httpx import Response
from tests.web.conftest import PASSWORD

from haechi.app import App

KEY = re.compile(r'name="key" value="([^"]+)"')


def custody_events(app: App, event_type: str) -> list[dict[str, object]]:
    """The bodies of the custody events of one type, oldest first."""
    import json

    from sqlalchemy import select

    from haechi.store.models import CustodyEvent

    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body)
            .where(CustodyEvent.event_type == event_type)
            .order_by(CustodyEvent.seq)
        ).scalars()
        return [json.loads(b) for b in bodies]


def add_staff(app: App, name: str, role: str) -> None:
    """An account for the tests (with the reason privileged roles are created with, where
    the accounts service asks for one)."""
    import inspect

    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor

    extra = {"reason": "test account"} if "reason" in inspect.signature(add_user).parameters else {}
    add_user(app, name, PASSWORD, role, actor=cli_actor("test"), **extra)  # type: ignore[arg-type]


def load_faces_demo(app: App, tmp: Path) -> Path:
    """Ingest the faces demo export and analyse it with the faces analyzer, as
    ``haechi ingest`` then ``haechi analyze -a faces`` do; returns the export."""
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.faces_export import build_faces_export
    from haechi.run.hooks import run_ingest_hooks

    export = build_faces_export(tmp / "faces-export")
    report = run_ingest(app, export, quiet=True)
    assert run_analysis(app, ["faces"], quiet=True, workers=1).as_dict()["ok"] > 0
    run_ingest_hooks(app, report)
    return export


def form_key(page: str, action: str) -> str:
    """The idempotency key of the form posting to ``action`` on ``page``."""
    at = page.index(f'action="{action}"') if f'action="{action}"' in page else page.index(action)
    found = KEY.search(page, at)
    assert found, f"no key in the form for {action}"
    return found.group(1)


def enrol(
    web: TestClient, csrf: str, photo: bytes, *, label: str = "V-2024-017", minor: bool = False,
    scope: tuple[str, ...] = ("search",), key: str | None = None,
) -> tuple[int, str]:  # fmt: skip
    """Enrol through the page's form (multipart with the CSRF header, as htmx sends it) and
    follow its ``enrol`` job to the end; returns (HTTP status, page): the subject's page
    when the job is done, the job's part (``job-failed``, its sentence) when it failed, the
    form with its error when the form was refused, or the POST's own answer otherwise."""
    if key is None:
        key = KEY.search(web.get("/subjects/new").text).group(1)  # type: ignore[union-attr]
    data: dict[str, object] = {
        "key": key, "label": label, "given_by": "김하늘 (fictional)", "relation": "self",
        "given_at": "2024-09-01", "scope": list(scope), "reference": "FORM-2024-0917",
    }  # fmt: skip
    if minor:
        data["is_minor"] = "1"
    r = web.post(
        "/subjects/enrol",
        data=data,
        files=[("photos", ("reference.png", photo, "image/png"))],
        headers={"x-csrf-token": csrf, "hx-request": "true"},
    )
    return follow_enrolment(web, r)


def follow_enrolment(web: TestClient, r: Response) -> tuple[int, str]:
    """After the enrolment's POST: run its job here (unless the server's runner took it)
    and return the subject's page, or the failed job's part."""
    url = r.headers.get("hx-redirect", "")
    found = re.fullmatch(r"/jobs/(\d+)", url)
    if r.status_code != 204 or found is None:
        return r.status_code, r.text
    from haechi.jobs.worker import run_job

    job_id = int(found.group(1))
    run_job(web.app.state.haechi, job_id)  # type: ignore[attr-defined]
    part = wait_for_job(web, job_id)
    subject = re.search(r'href="/subjects/(\d+)"', part)
    if "job-failed" in part or subject is None:
        return 200, part
    page = web.get(f"/subjects/{subject.group(1)}")
    return page.status_code, page.text


def face_search(web: TestClient, csrf: str, subject_id: int, reason: str) -> Response:
    """A face search from the subject's page's form (its idempotency key read from the
    page), as the page sends it."""
    page = web.get(f"/subjects/{subject_id}").text
    return web.post(
        f"/subjects/{subject_id}/search",
        data={"csrf_token": csrf, "reason": reason,
              "key": form_key(page, f"/subjects/{subject_id}/search")},
    )  # fmt: skip


def wait_for_job(web: TestClient, job_id: int, timeout: float = 180.0) -> str:
    """Poll a job's part of the page (as the page does) until it is finished."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        part = web.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
        if "job-done" in part or "job-failed" in part:
            return part
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {part}")
