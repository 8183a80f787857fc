"""The capture page: an investigator preserves a public page from the browser; the capture
runs as a background job whose result (WACZ, token, screenshot) is downloaded, and the
recent captures are listed from the custody log. Other roles are refused."""

from __future__ import annotations

import io
import re
import time
import zipfile

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.demo.capture_site import CaptureSite
from haechi.jobs import store as jobs


@pytest.fixture
def web(staffed: App):  # type: ignore[no-untyped-def]
    from tests.web.conftest import client_of

    with client_of(staffed) as client:
        yield client


def _wait(app: App, job_id: int, seconds: float = 240) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        info = jobs.get(app, job_id)
        if info.state in ("done", "failed"):
            assert info.state == "done", info.error
            return
        time.sleep(0.5)
    raise AssertionError(f"job {job_id} did not finish: {jobs.get(app, job_id)}")


def test_an_investigator_captures_a_channel_page(web: TestClient, staffed: App) -> None:
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    page = web.get("/capture")
    assert page.status_code == 200 and 'id="capture-form"' in page.text
    key = re.search(r'name="key" value="([^"]+)"', page.text)
    assert key
    with CaptureSite() as site:
        form = {"csrf_token": csrf, "key": key.group(1), "url": site.url("/s/haechi_demo_news")}
        r = web.post("/capture", data=form)
        assert r.status_code == 303 and r.headers["location"].startswith("/jobs/")
        again = web.post("/capture", data=form)  # a double submit queues nothing twice
        assert again.headers["location"] == r.headers["location"]
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        _wait(staffed, job_id)
    info = jobs.get(staffed, job_id)
    assert info.result["posts"] == 9 and info.result["outcome"] == "captured"
    download = web.get(f"/jobs/{job_id}/result")
    assert download.status_code == 200
    with zipfile.ZipFile(io.BytesIO(download.content)) as bundle:
        assert any(n.endswith("capture.wacz") for n in bundle.namelist())
    listed = web.get("/capture").text
    assert info.result["wacz_sha256"][:12] in listed and "⟨" not in listed


@pytest.mark.parametrize("role", [Role.SUPPORT_WORKER, Role.AUDITOR, Role.ADMIN])
def test_other_roles_cannot_capture(web: TestClient, role: Role) -> None:
    csrf = log_in(web, ROLE_USERS[role])
    assert web.get("/capture").status_code == 403
    r = web.post("/capture", data={"csrf_token": csrf, "url": "https://t.me/s/x"})
    assert r.status_code == 403


def test_a_bad_address_is_one_sentence(web: TestClient) -> None:
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    r = web.post("/capture", data={"csrf_token": csrf, "key": "k" * 16, "url": "ftp://x/y"})
    assert r.status_code == 400 and "is not an http(s) address" in r.text
