"""Enrolment from the page as a background job: the form is checked at once, the values and
photos wait sealed (``haechi.subjects.staging``) until the ``enrol`` job takes them, the
face work runs in the job's own process (the real runner), and a quick job does not wait
behind a long one."""

from __future__ import annotations

import os
import re
import stat
import subprocess
import sys
import time

import pytest
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import KEY, add_staff, custody_events, wait_for_job

from haechi.app import App
from haechi.auth.types import Actor
from haechi.jobs import store
from haechi.jobs.runner import JobRunner, _Active
from haechi.services import integrations
from haechi.subjects import staging
from haechi.subjects.model import SubjectError

pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="the faces capability is not installed"
)
VALUES = {"label": "V-2024-090", "given_by": "김하늘 (fictional)", "relation": "self",
          "given_at": "2024-09-01", "scope": "search", "reference": "FORM-90"}  # fmt: skip


def _folder(app: App) -> object:
    return app.settings.home / "subjects" / "staging"


def test_a_waiting_enrolment_is_sealed_taken_once_by_its_owner_and_swept(app: App) -> None:
    from haechi.demo.faces_export import reference_photo

    photo = reference_photo()
    name = staging.stage(app, 7, dict(VALUES), [("ref.png", photo)])
    path = app.settings.home / "subjects" / "staging" / name
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    sealed = path.read_bytes()
    assert photo[:64] not in sealed and "김하늘".encode() not in sealed and b"V-2024" not in sealed
    with pytest.raises(SubjectError, match="someone else"):
        staging.take(app, name, 8)
    assert path.exists()  # not the owner's: it stays for her job
    taken = staging.take(app, name, 7)
    assert taken.photos == [("ref.png", photo)] and taken.values["given_by"] == VALUES["given_by"]
    assert not path.exists()
    with pytest.raises(SubjectError, match="no longer here"):
        staging.take(app, name, 7)
    with pytest.raises(SubjectError, match="not a waiting enrolment"):
        staging.take(app, "../../keys/subjects.key", 7)
    # an enrolment no job took goes after a day
    old = staging.stage(app, 7, dict(VALUES), [("ref.png", photo)])
    fresh = staging.stage(app, 7, dict(VALUES), [("ref.png", photo)])
    day_ago = time.time() - staging.MAX_AGE - 60
    os.utime(path.parent / old, (day_ago, day_ago))
    assert staging.sweep(app) == 1
    assert sorted(p.name for p in path.parent.iterdir()) == [fresh]


def test_the_page_enrols_through_a_job_and_keeps_no_photo(app: App) -> None:
    from haechi.auth.audit import entries
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.service import get_subject

    add_staff(app, "park", "support_worker")
    with client_of(app) as web:  # the server's own runner runs the job
        csrf = log_in(web, "park")
        key = KEY.search(web.get("/subjects/new").text).group(1)  # type: ignore[union-attr]
        r = web.post(
            "/subjects/enrol", data={**VALUES, "key": key, "scope": ["search"]},
            files=[("photos", ("ref.png", reference_photo(), "image/png"))],
            headers={"x-csrf-token": csrf, "hx-request": "true"},
        )  # fmt: skip
        assert r.status_code == 204, r.text
        job_id = int(r.headers["hx-redirect"].rsplit("/", 1)[1])
        info = store.get(app, job_id)
        assert info.kind == "enrol" and set(info.params) == {"staged", "label"}
        assert "김하늘" not in str(info.params)  # her name never in the job's clear parameters
        part = wait_for_job(web, job_id)
        assert "job-done" in part and 'id="enrol-subject-link"' in part, part
        sid = int(re.search(r'href="/subjects/(\d+)"', part).group(1))  # type: ignore[union-attr]
        subject = get_subject(app, sid)
        assert subject is not None and subject.label == "V-2024-090"
        assert len(subject.templates) == 1 and subject.photos == 0
        page = web.get(f"/jobs/{job_id}").text
        assert "Open her record" in page and "김하늘" not in page
    assert list(app.settings.home.joinpath("subjects", "staging").iterdir()) == []
    enrolled = custody_events(app, "subject_enrolled")[-1]
    assert enrolled["actor"] == "park (web)" and enrolled["data"]["staff"] == "park (web)"
    did = [e.detail.get("did") for e in entries(app, limit=50)]
    assert "subject_enrol" in did  # the job's own audit entry, as the person


def test_an_enrolment_does_not_wait_behind_a_long_job(app: App) -> None:
    """One quick job may run beside the runner's full slots; a second long one waits."""
    from haechi.demo.faces_export import reference_photo

    add_staff(app, "park", "support_worker")
    runner = JobRunner(app, concurrency=1)
    lee = Actor(None, "lee", "investigator", via="api")
    long_job = store.submit(app, "reupload_scan", {}, lee)
    waiting = store.submit(app, "reupload_scan", {}, lee)
    # the long job "runs": a live process holds the only slot
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    try:
        assert store.claim(app, long_job, f"test:{sleeper.pid}")
        runner._active[long_job] = _Active(long_job, sleeper, time.monotonic(), 600.0)
        park = Actor(None, "park", "support_worker", via="web")
        name = staging.stage(app, None, dict(VALUES), [("ref.png", reference_photo())])
        quick = store.submit(app, "enrol", {"staged": name, "label": "V-2024-090"}, park)
        runner.tick()
        assert quick in runner._active and waiting not in runner._active
        deadline = time.monotonic() + 180
        while store.get(app, quick).state not in ("done", "failed"):
            assert time.monotonic() < deadline, "the enrol job did not finish"
            time.sleep(0.3)
            runner._watch()
        done = store.get(app, quick)
        assert done.state == "done", done.error
        assert done.result["label"] == "V-2024-090"
        runner.tick()
        assert waiting not in runner._active  # still the long job's slot
    finally:
        sleeper.kill()
        sleeper.wait()


def test_long_jobs_yield_the_cores_to_the_pages_quick_ones_do_not(app: App) -> None:
    from haechi.demo.faces_export import reference_photo

    lee = Actor(None, "lee", "investigator", via="api")
    park = Actor(None, "park", "support_worker", via="web")
    long_job = store.submit(app, "reupload_scan", {}, lee)
    name = staging.stage(app, None, dict(VALUES), [("ref.png", reference_photo())])
    quick = store.submit(app, "enrol", {"staged": name, "label": "V-2024-090"}, park)
    base = os.nice(0)
    for job_id, expected in ((long_job, 10), (quick, 0)):
        code = (
            "import os, sys; from pathlib import Path; from haechi.app import open_app; "
            "from haechi.jobs.worker import _lower_priority; "
            f"app = open_app(Path({str(app.settings.home)!r})); "
            f"_lower_priority(app, {job_id}); print(os.nice(0)); "
            "group = Path('/proc/self/autogroup'); "
            "print(group.read_text().split()[-1] if group.exists() else 'none')"
        )
        # a session of its own, as the runner starts it (its own scheduling group)
        done = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, start_new_session=True
        )
        assert done.returncode == 0, done.stderr[-2000:]
        nice, group = done.stdout.split()[-2:]
        assert int(nice) == min(19, base + expected)
        if group != "none":  # Linux with autogroup: the group yields too
            assert int(group) == expected
