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


def _older_site(site: CaptureSite) -> None:
    """?before=11 (the demo page's "more" link): posts 5 to 9, and no older link."""
    from haechi.demo.capture_site import DemoPost, channel_page

    posts = [DemoPost(i, f"2026-03-01T0{i}:00:00+00:00", f"Older notice {i}") for i in range(5, 10)]
    body = re.sub(r'<a href="[^"]*" class="tme_messages_more[^>]*></a>', "", channel_page(posts))
    site.routes["/s/haechi_demo_news?before=11"] = lambda h: h.send_body(
        200, "text/html; charset=utf-8", body.encode()
    )


def test_the_form_and_the_api_follow_older_pages(web: TestClient, staffed: App) -> None:
    path = staffed.settings.config_path
    path.write_text(path.read_text() + "\n[capture]\npage_delay_seconds = 0\n")
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    page = web.get("/capture").text
    assert 'name="pages"' in page and 'max="200"' in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    with CaptureSite() as site:
        _older_site(site)
        form = {"csrf_token": csrf, "key": key.group(1), "url": site.url("/s/haechi_demo_news"),
                "pages": "3"}  # fmt: skip
        r = web.post("/capture", data=form)
        assert r.status_code == 303
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        _wait(staffed, job_id)
        info = jobs.get(staffed, job_id)
        assert info.result["pages"] == 2 and info.result["pages_stopped"] == "no_older_page"
        assert info.result["posts"] == 14 and info.result["oldest_id"] == 5
        headers = {"x-csrf-token": csrf}
        body = {"kind": "capture", "params": {"url": site.url("/s/haechi_demo_news"), "pages": 2}}
        api = web.post("/api/jobs", json=body, headers=headers)
        assert api.status_code == 201, api.text
        _wait(staffed, api.json()["id"])
        assert jobs.get(staffed, api.json()["id"]).result["pages"] == 2
        over = {"kind": "capture", "params": {"url": site.url("/s/x"), "pages": 201}}
        refused = web.post("/api/jobs", json=over, headers=headers)
        assert refused.status_code == 400 and "at most 200 pages" in refused.text
        odd = {"kind": "capture", "params": {"url": site.url("/s/x"), "pages": "²"}}
        refused = web.post("/api/jobs", json=odd, headers=headers)  # int("²") raises
        assert refused.status_code == 400 and "at least 1" in refused.text
    bad = web.post("/capture", data={**form, "key": "k" * 16, "pages": "999"})
    assert bad.status_code == 400 and "at most 200 pages" in bad.text
    assert 'value="999"' in bad.text  # the form keeps what was typed


def test_the_form_and_the_api_capture_back_to_a_message(web: TestClient, staffed: App) -> None:
    """``haechi capture --back-to`` in the browser and the jobs API: older pages are followed
    until one reaches the message id (the pages field left empty: up to 200), and an id that
    is no whole number is refused with one sentence, in Korean on a Korean page."""
    path = staffed.settings.config_path
    path.write_text(path.read_text() + "\n[capture]\npage_delay_seconds = 0\n")
    csrf = log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    page = web.get("/capture").text
    assert 'name="back_to"' in page
    key = re.search(r'name="key" value="([^"]+)"', page)
    assert key
    with CaptureSite() as site:
        _older_site(site)
        form = {"csrf_token": csrf, "key": key.group(1), "url": site.url("/s/haechi_demo_news"),
                "pages": "", "back_to": "9"}  # fmt: skip
        r = web.post("/capture", data=form)
        assert r.status_code == 303, r.text
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        assert jobs.get(staffed, job_id).params["back_to"] == 9
        _wait(staffed, job_id)
        result = jobs.get(staffed, job_id).result
        assert result["pages"] == 2 and result["pages_stopped"] in ("back_to", "no_older_page")
        headers = {"x-csrf-token": csrf}
        body = {"kind": "capture",
                "params": {"url": site.url("/s/haechi_demo_news"), "back_to": 9}}  # fmt: skip
        api = web.post("/api/jobs", json=body, headers=headers)
        assert api.status_code == 201, api.text
        for bad in ("-3", "x", "²", "99999999999999999999"):
            over = {"kind": "capture", "params": {"url": site.url("/s/x"), "back_to": bad}}
            refused = web.post("/api/jobs", json=over, headers=headers)
            assert refused.status_code == 400 and "whole number" in refused.text, bad
    web.cookies.set("haechi_lang", "ko")
    bad_form = web.post("/capture", data={**form, "key": "b" * 16, "back_to": "x"})
    assert bad_form.status_code == 400 and "1 이상의 정수" in bad_form.text
    assert 'value="x"' in bad_form.text  # the form keeps what was typed
