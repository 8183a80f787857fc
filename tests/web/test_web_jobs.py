"""Background jobs from the web pages, with the real runner: a worker process per job,
state in the database, progress in the page, results downloadable (logged), failures in
one sentence, and jobs whose process or server died marked failed, not left "running"."""

from __future__ import annotations

import io
import re
import socket
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.text.kit import room, write_export
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, custody_events, form_key, wait_for_job

from haechi.app import App
from haechi.auth import audit
from haechi.auth.types import Actor
from haechi.jobs import results, store
from haechi.jobs.model import JobError
from haechi.jobs.runner import JobRunner
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)


def _jpeg(arr: object, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).convert("RGB").save(buf, "JPEG", quality=quality)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.fixture
def case_ref(app: App, tmp_path: Path) -> str:
    """A case holding two posts of a benign channel (a coffee cup, a cat), and accounts."""
    from haechi.cases import items
    from haechi.cases.service import create_case
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.tdesktop_format import Peer, unix_at

    chat = room("Coffee", 2087651111, "public_channel")
    who = Peer("Coffee", "channel2087651111")
    for n, (when, picture) in enumerate(
        (
            ("2024-08-01 10:00:00", _jpeg(data.coffee())),
            ("2024-08-01 11:00:00", _jpeg(data.chelsea())),
        )
    ):
        unix = unix_at(when)
        chat.message(unix, who, f"post {n}", media=chat.photo(unix, picture, 600, 400))
    run_ingest(app, write_export(tmp_path / "export", [chat]), quiet=True)
    case = create_case(app, "Coffee channel", ref="JOBS-2024-1")
    items.add_chat_files(app, case.ref, "channel:2087651111")
    add_staff(app, "lee", "investigator")
    add_staff(app, "park", "support_worker")
    return case.ref


def test_a_package_is_built_in_the_background_and_downloaded(app: App, case_ref: str) -> None:
    from haechi.report.verify import verify_package

    with client_of(app) as web:
        csrf = log_in(web, "lee")
        page = web.get(f"/cases/{case_ref}").text
        key = form_key(page, f"/cases/{case_ref}/package")
        form = {"csrf_token": csrf, "key": key, "pdf": "false"}
        first = web.post(f"/cases/{case_ref}/package", data=form)
        again = web.post(f"/cases/{case_ref}/package", data=form)  # a double submit
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        job_id = int(first.headers["location"].rsplit("/", 1)[1])
        assert len(store.jobs(app, subject=None)) == 1
        part = wait_for_job(web, job_id)
        assert "job-done" in part, part
        # The case page shows the job and its download, also in a new session (state in
        # the database, not in a browser or a process).
        web.cookies.clear()
        log_in(web, "lee")
        page = web.get(f"/cases/{case_ref}").text
        assert f'id="job-{job_id}-download"' in page
        got = web.get(f"/jobs/{job_id}/result")
        assert got.status_code == 200
        assert got.headers["content-disposition"].startswith('attachment; filename="JOBS-2024-1')
    info = store.get(app, job_id)
    assert info.result_sha256 and info.result_size == len(got.content)
    import hashlib

    assert hashlib.sha256(got.content).hexdigest() == info.result_sha256
    dest = Path(app.settings.home) / "downloaded.zip"
    dest.write_bytes(got.content)
    checked = verify_package(dest)
    assert checked.ok, checked.problems
    with zipfile.ZipFile(dest) as zf:
        assert any(n.endswith("manifest.json") for n in zf.namelist())
    # The package's own export event names the investigator; the download is an audit
    # entry (with its custody event) that points back to it.
    made = [e for e in custody_events(app, "export") if e["data"].get("kind") == "evidence_package"]
    assert len(made) == 1 and made[0]["actor"] == "lee (web)"
    (started,) = audit.entries(app, action="job_start")  # the double submit: one entry
    assert started.username == "lee" and started.detail == {"did": "package", "job_id": job_id}
    (download,) = audit.entries(app, action=audit.EXPORT)
    assert download.username == "lee" and download.detail["kind"] == "package_download"
    assert download.detail["export_event"] == info.result["export_event"] and download.custody_seq


def test_a_report_is_written_in_the_background_and_downloaded(app: App, case_ref: str) -> None:
    """The case page's "report as HTML" button: a background job (a double submit queues
    one), its result downloaded from the page (a logged export)."""
    with client_of(app) as web:
        csrf = log_in(web, "lee")
        page = web.get(f"/cases/{case_ref}").text
        assert 'id="report-pdf-submit"' in page and 'id="report-html-submit"' in page
        forms = re.findall(r'<form method="post" action="/cases/[^"]+/report"(.*?)</form>',
                           page, re.S)  # fmt: skip
        (html_form,) = [f for f in forms if 'name="format" value="html"' in f]
        key = re.search(r'name="key" value="([^"]+)"', html_form)
        assert key
        form = {"csrf_token": csrf, "key": key.group(1), "format": "html"}
        first = web.post(f"/cases/{case_ref}/report", data=form)
        again = web.post(f"/cases/{case_ref}/report", data=form)
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        job_id = int(first.headers["location"].rsplit("/", 1)[1])
        part = wait_for_job(web, job_id)
        assert "job-done" in part, part
        assert f'id="job-{job_id}-download"' in web.get(f"/cases/{case_ref}").text
        got = web.get(f"/jobs/{job_id}/result")
    assert got.status_code == 200
    assert re.search(
        r'filename="JOBS-2024-1[^"]*-report\.html"', got.headers["content-disposition"]
    )
    assert case_ref in got.content.decode("utf-8")
    assert len(store.jobs(app, subject=None)) == 1
    (download,) = audit.entries(app, action=audit.EXPORT)
    assert download.username == "lee" and download.custody_seq


def test_only_roles_that_may_export_start_or_fetch_a_package(app: App, case_ref: str) -> None:
    actor = Actor(None, "lee", "investigator", via="api")
    job_id = store.submit(app, "package", {"case": case_ref, "pdf": False}, actor)
    with client_of(app, _no_runner()) as web:
        csrf = log_in(web, "park")
        assert web.post(f"/cases/{case_ref}/package", data={"csrf_token": csrf}).status_code == 403
        assert web.get(f"/jobs/{job_id}").status_code == 404  # not hers, not her kind
        assert web.get(f"/jobs/{job_id}/result").status_code == 404
    with pytest.raises(JobError, match="may not run package jobs"):
        store.submit(app, "package", {"case": case_ref}, Actor(None, "park", "support_worker"))


def _no_runner() -> object:
    from haechi.web.settings import WebSettings

    return WebSettings(run_jobs=False)


def test_a_failing_job_says_why_in_one_sentence(app: App, case_ref: str) -> None:
    """An original missing from the vault: the package stops, and the page says so."""
    from haechi.cases.detail import case_detail

    sha = next(i.blob_sha256 for i in case_detail(app, case_ref).items if i.blob_sha256)
    path = app.vault.path_for(sha)
    path.chmod(0o644)
    path.unlink()
    with client_of(app) as web:
        csrf = log_in(web, "lee")
        key = form_key(web.get(f"/cases/{case_ref}").text, f"/cases/{case_ref}/package")
        r = web.post(f"/cases/{case_ref}/package", data={"csrf_token": csrf, "key": key})
        job_id = int(r.headers["location"].rsplit("/", 1)[1])
        part = wait_for_job(web, job_id)
    assert "job-failed" in part
    error = store.get(app, job_id).error
    assert error and sha in error and "missing from the vault" in error
    assert error.count(". ") == 0 and error.endswith(".")  # one sentence
    assert not (results.root(app) / str(job_id)).exists()  # nothing half-made is left


def test_a_case_that_cannot_be_packaged_is_refused_before_queueing(app: App) -> None:
    from haechi.cases.service import create_case

    add_staff(app, "lee", "investigator")
    create_case(app, "Nothing yet", ref="EMPTY-1")
    with client_of(app, _no_runner()) as web:
        csrf = log_in(web, "lee")
        key = form_key(web.get("/cases/EMPTY-1").text, "/cases/EMPTY-1/package")
        r = web.post("/cases/EMPTY-1/package", data={"csrf_token": csrf, "key": key})
    assert r.status_code == 400 and "has no items yet" in r.text
    assert store.jobs(app) == []


def test_jobs_whose_process_or_server_died_are_failed_not_left_running(app: App) -> None:
    actor = Actor(None, "lee", "investigator", via="api")
    runner = JobRunner(app)
    host = socket.gethostname()[:60]

    # 1. A worker that died under a running job (killed, out of memory): its exit is seen.
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    first = store.submit(app, "reupload_scan", {}, actor)
    assert store.claim(app, first, f"{host}:{gone.pid}")
    runner._after(first, -9, gone.pid)
    failed = store.get(app, first)
    assert failed.state == "failed" and failed.error == (
        "The job's process stopped unexpectedly (signal 9) before it finished."
    )

    # 2. The server stopped while a job ran here: its worker's pid is gone at the next start.
    second = store.submit(app, "reupload_scan", {}, actor)
    assert store.claim(app, second, f"{host}:{gone.pid}")
    # 3. A job claimed on another host whose heartbeat stopped long ago.
    third = store.submit(app, "reupload_scan", {}, actor)
    assert store.claim(app, third, "elsewhere:1")
    from sqlalchemy import update

    from haechi.auth.db import write
    from haechi.store.tables.jobs import Job

    with write(app) as conn:
        conn.execute(update(Job).where(Job.id == third).values(heartbeat_at=store.now() - 3600))
    # 4. A job running on another host with a fresh heartbeat is left alone.
    fourth = store.submit(app, "reupload_scan", {}, actor)
    assert store.claim(app, fourth, "elsewhere:2")
    assert runner.recover() == 2
    assert [store.get(app, j).state for j in (second, third, fourth)] == [
        "failed",
        "failed",
        "running",
    ]
    assert store.get(app, second).error == store.INTERRUPTED
    # A late worker cannot finish a job that was given up on.
    assert not store.finish(app, third, "elsewhere:1", summary={})


def test_a_result_is_sealed_when_the_vault_is_encrypted(tmp_path: Path) -> None:
    from haechi.app import init_home

    app = init_home(tmp_path / "sealed", encrypt=True)
    try:
        folder = results.folder_for(app, 7)
        plain = folder / "report.html"
        plain.write_bytes(b"<p>benign</p>" * 1000)
        stored, sha, size, sealed = results.keep(app, 7, plain)
        assert sealed and not plain.exists() and stored == "7/report.html.sealed"
        on_disk = (results.root(app) / stored).read_bytes()
        assert b"benign" not in on_disk
        with results.open_result(app, stored, sealed) as stream:
            assert stream.read() == b"<p>benign</p>" * 1000
        assert size == 13000 and len(sha) == 64
        assert oct((results.root(app) / "7").stat().st_mode & 0o777) == "0o700"
    finally:
        app.close()


def test_progress_reaches_the_page(app: App, case_ref: str) -> None:
    """The worker's progress reaches the job's row, which the page reads."""
    actor = Actor(None, "lee", "investigator", via="api")
    job_id = store.submit(app, "package", {"case": case_ref, "pdf": False}, actor)
    assert store.claim(app, job_id, "here:1")
    assert store.set_progress(app, job_id, "here:1", 0.42, "originals")
    with client_of(app, _no_runner()) as web:
        log_in(web, "lee")
        part = web.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
    assert 'value="42"' in part and "copying originals" in part
    assert 'hx-trigger="every 1s"' in part  # asks again while it runs
    assert re.search(r"job-running", part)


def test_a_job_outlives_a_stopped_server(app: App, case_ref: str, tmp_path: Path) -> None:
    """Stopping ``haechi serve`` while a package is being built does not lose it: the
    worker process (a session of its own) finishes, and the job is done in the database."""
    import time

    import httpx
    from tests.web.test_web_e2e import serving

    from haechi.auth.accounts import find_user
    from haechi.auth.sessions import create_token
    from haechi.auth.types import cli_actor

    secret, _ = create_token(app, find_user(app, "lee"), "job test", days=1, actor=cli_actor("t"))
    home = app.settings.home
    with serving(home, tmp_path / "serve.log") as url:
        r = httpx.post(f"{url}/api/jobs", json={"kind": "package", "params": {"case": case_ref}},
                       headers={"authorization": f"Bearer {secret}"})  # fmt: skip
        assert r.status_code == 201, r.text
        job_id = r.json()["id"]
        deadline = time.monotonic() + 60
        while store.get(app, job_id).state == "queued" and time.monotonic() < deadline:
            time.sleep(0.05)
        assert store.get(app, job_id).state == "running"
    # the server is stopped here, with the job still running
    deadline = time.monotonic() + 120
    while not store.get(app, job_id).finished and time.monotonic() < deadline:
        time.sleep(0.2)
    info = store.get(app, job_id)
    assert info.state == "done", info.error
    stored, sealed = store.result_file(app, job_id)
    assert stored and results.exists(app, stored) and sealed == app.vault.encrypted
