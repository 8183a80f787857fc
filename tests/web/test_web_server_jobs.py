"""Analysis of new files and re-matching as background jobs (``analyze``, ``rematch``),
started by an investigator from the matches page or ``POST /api/jobs``, with the real
runner, the real analyzers and the real matching on benign pictures: progress in the page,
a double submit is one job, the result downloadable, on the audit trail; refused to
anonymous visitors and to every role but investigators; a failure says why in one
sentence."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from sqlalchemy import func, select
from tests.text.kit import room, write_export
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, custody_events, form_key, wait_for_job

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm, Role, can
from haechi.auth.types import Actor
from haechi.jobs import store
from haechi.jobs.model import JobError
from haechi.services import integrations
from haechi.web.settings import WebSettings

STAFF = {Role.INVESTIGATOR: "lee", Role.SUPPORT_WORKER: "park", Role.REVIEWER: "rae",
         Role.ADMIN: "ada", Role.AUDITOR: "aud"}  # fmt: skip

pytestmark = pytest.mark.skipif(
    not integrations.available("matches"), reason="the matches capability is not installed"
)


def _jpeg(arr: object, quality: int = 85, size: tuple[int, int] | None = None) -> bytes:
    picture = Image.fromarray(arr).convert("RGB")  # type: ignore[arg-type]
    if size:
        picture = picture.resize(size)
    buf = io.BytesIO()
    picture.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


@pytest.fixture
def stored(app: App, tmp_path: Path) -> App:
    """A benign channel ingested but not analysed: a coffee cup, the same cup smaller and
    re-encoded (a near duplicate), a cat; and one account per role."""
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.demo.tdesktop_format import Peer, unix_at

    chat = room("Coffee", 2087651112, "public_channel")
    who = Peer("Coffee", "channel2087651112")
    pictures = (
        ("2024-08-01 10:00:00", _jpeg(data.coffee())),
        ("2024-08-01 11:00:00", _jpeg(data.coffee(), quality=60, size=(300, 200))),
        ("2024-08-01 12:00:00", _jpeg(data.chelsea())),
    )
    for n, (when, picture) in enumerate(pictures):
        unix = unix_at(when)
        chat.message(unix, who, f"post {n}", media=chat.photo(unix, picture, 600, 400))
    run_ingest(app, write_export(tmp_path / "export", [chat]), quiet=True)
    for role, name in STAFF.items():
        add_staff(app, name, role.value)
    return app


def _analyses(app: App) -> int:
    from haechi.store.models import Analysis

    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Analysis)).scalar_one())


def _job_of(location: str) -> int:
    return int(location.rsplit("/", 1)[1])


def test_an_investigator_analyses_new_files_from_the_matches_page(stored: App) -> None:
    from haechi.analyze.registry import build
    from haechi.run.analysis_store import count_pending

    assert _analyses(stored) == 0
    with client_of(stored) as web:
        csrf = log_in(web, "lee")
        page = web.get("/matches").text
        assert 'id="processing"' in page and 'id="analyze-submit"' in page
        form = {"csrf_token": csrf, "key": form_key(page, "/jobs/analyze")}
        first = web.post("/jobs/analyze", data=form)
        again = web.post("/jobs/analyze", data=form)  # a double submit
        assert first.status_code == again.status_code == 303
        assert first.headers["location"] == again.headers["location"]
        job_id = _job_of(first.headers["location"])
        assert [j.id for j in store.jobs(stored)] == [job_id]
        part = wait_for_job(web, job_id, timeout=600)
        assert "job-done" in part, part
        # A new session sees the finished job on the matches page, with its download.
        web.cookies.clear()
        log_in(web, "lee")
        page = web.get("/matches").text
        assert f'id="job-{job_id}-download"' in page
        got = web.get(f"/jobs/{job_id}/result")
        assert got.status_code == 200
    info = store.get(stored, job_id)
    report = json.loads(got.content)
    analyzers, _infos = build(stored.settings.analyzers)
    assert sorted(report["analyzers"]) == sorted(a.name for a in analyzers)
    assert report["files"] == 3 and report["ok"] > 0 and report["signals"] > 0
    assert info.result["files"] == 3 and info.result["ok"] == report["ok"]
    assert "search" in report["hooks"]  # the message-side catch-up ran too
    assert _analyses(stored) >= 3
    assert count_pending(stored, analyzers, False) == 0  # nothing left for a second run
    # The analysis' custody events name the investigator; the start and the download are
    # on the audit trail, once each.
    (started,) = custody_events(stored, "analysis_started")
    assert started["actor"] == "lee (web)"
    (entry,) = audit.entries(stored, action="job_start")
    assert entry.username == "lee" and entry.detail == {"did": "analyze", "job_id": job_id}
    (download,) = audit.entries(stored, action=audit.EXPORT)
    assert download.detail["kind"] == "analyze_download"


def test_re_matching_finds_what_analysis_without_matching_left(stored: App) -> None:
    """Files analysed while matching did not run (its hooks off): the catch-up job finds
    the near-duplicate pair, says so, and lists the match in its result."""
    from haechi.analyze.registry import build
    from haechi.match.lookup import list_matches
    from haechi.run.analyze import AnalysisRunner

    analyzers, _infos = build(stored.settings.analyzers, only=["pdq"])
    runner = AnalysisRunner(stored, analyzers, workers=1)
    runner.hooks = []
    assert runner.run().ok == 3
    assert list_matches(stored) == []
    with client_of(stored) as web:
        csrf = log_in(web, "lee")
        headers = {"x-csrf-token": csrf, "Idempotency-Key": "rematch-key-0001"}
        body = {"kind": "rematch", "params": {"rescan": False}}
        first = web.post("/api/jobs", json=body, headers=headers)
        again = web.post("/api/jobs", json=body, headers=headers)
        assert first.status_code == again.status_code == 201
        job_id = first.json()["id"]
        assert again.json()["id"] == job_id
        part = wait_for_job(web, job_id, timeout=300)
        assert "job-done" in part, part
        state = web.get(f"/api/jobs/{job_id}").json()
        assert state["state"] == "done" and state["percent"] == 100
        got = web.get(state["result_url"])
    assert got.status_code == 200
    result = json.loads(got.content)
    found = list_matches(stored)
    assert found and state["result"]["new_matches"] == len(found)
    assert state["result"]["indexed"] >= 3
    assert {m["id"] for m in result["matches"]} == {m.id for m in found}
    assert all(m["kind"] == "pdq" for m in result["matches"])
    (entry,) = audit.entries(stored, action="job_start")
    assert entry.detail == {"did": "rematch", "job_id": job_id}


def test_a_failing_analysis_says_why_in_one_sentence(stored: App) -> None:
    """Another analysis holds the data directory's lock: the job stops and says so."""
    from haechi.run.analyze import run_lock

    with client_of(stored) as web, run_lock(stored):
        csrf = log_in(web, "lee")
        form = {"csrf_token": csrf, "key": form_key(web.get("/matches").text, "/jobs/analyze")}
        job_id = _job_of(web.post("/jobs/analyze", data=form).headers["location"])
        part = wait_for_job(web, job_id, timeout=300)
        assert "job-failed" in part
    error = store.get(stored, job_id).error
    assert error and error.startswith("Another `haechi analyze` is running on this")
    assert error.endswith(".") and error.count(". ") == 0  # one sentence
    assert error in part  # the page says it
    assert _analyses(stored) == 0


def test_a_job_that_cannot_run_is_refused_before_queueing(stored: App) -> None:
    with client_of(stored, WebSettings(run_jobs=False)) as web:
        csrf = log_in(web, "lee")
        r = web.post(
            "/api/jobs", json={"kind": "analyze", "params": {"analyzers": ["no_such_one"]}},
            headers={"x-csrf-token": csrf},
        )  # fmt: skip
        assert r.status_code == 400 and "There is no analyzer called 'no_such_one'" in r.text
    assert store.jobs(stored) == []


def test_only_investigators_start_analysis_or_re_matching(stored: App) -> None:
    assert {r for r in Role if can(r, Perm.ANALYSIS)} == {Role.INVESTIGATOR}
    with client_of(stored, WebSettings(run_jobs=False)) as web:
        for path in ("/jobs/analyze", "/jobs/rematch"):  # anonymous: to the login page
            r = web.post(path, data={"key": "k" * 16})
            assert r.status_code == 303 and r.headers["location"].startswith("/login")
        r = web.post("/api/jobs", json={"kind": "analyze", "params": {}})
        assert r.status_code == 401
        for role, name in STAFF.items():
            if role is Role.INVESTIGATOR:
                continue
            web.cookies.clear()
            csrf = log_in(web, name)
            for path in ("/jobs/analyze", "/jobs/rematch"):
                r = web.post(path, data={"csrf_token": csrf, "key": "k" * 16})
                assert r.status_code == 403, (role, path)
            for kind in ("analyze", "rematch"):
                r = web.post("/api/jobs", json={"kind": kind, "params": {}},
                             headers={"x-csrf-token": csrf})  # fmt: skip
                assert r.status_code == 403, (role, kind)
            page = web.get("/matches")
            if can(role, Perm.MATCHES):
                assert page.status_code == 200 and 'id="processing"' not in page.text
            for kind in ("analyze", "rematch"):
                with pytest.raises(JobError, match=f"may not run {kind} jobs"):
                    store.submit(stored, kind, {}, Actor(None, name, role.value))
    assert store.jobs(stored) == []
    # Someone else's job of these kinds is not theirs to see either.
    job_id = store.submit(stored, "rematch", {}, Actor(None, "lee", "investigator", via="api"))
    with client_of(stored, WebSettings(run_jobs=False)) as web:
        log_in(web, "park")
        assert web.get(f"/jobs/{job_id}").status_code == 404
        assert web.get(f"/api/jobs/{job_id}").status_code == 404


def test_both_kinds_report_their_progress(stored: App, tmp_path: Path) -> None:
    """The runs move the bar: increasing fractions with what they are doing (the notes
    the page translates), as the worker process hands them to the database."""
    from haechi.jobs.kinds import kind_of
    from haechi.jobs.model import JobContext

    def run(kind: str, params: dict[str, object]) -> list[tuple[float, str | None]]:
        seen: list[tuple[float, str | None]] = []
        folder = tmp_path / kind
        folder.mkdir()
        context = JobContext(
            app=stored, actor=Actor(None, "lee", "investigator", via="web"), job_id=1,
            params=kind_of(kind).check(stored, params)[0], folder=folder,
            progress=lambda fraction, note: seen.append((fraction, note)),
        )  # fmt: skip
        output = kind_of(kind).run(context)
        assert output.path is not None and output.path.parent == folder
        return seen

    analysed = run("analyze", {"analyzers": ["pdq"]})
    assert [n for _f, n in analysed][:2] == ["preparing", "analysing"]
    assert analysed[-1] == (0.9, "analysing")  # every planned file done
    matched = run("rematch", {"rescan": True})
    notes = [n for _f, n in matched]
    assert notes[0] == "indexing" and notes[-2:] == ["matching", "listing"]
    fractions = [f for f, _n in analysed + matched]
    assert fractions[: len(analysed)] == sorted(fractions[: len(analysed)])
    assert fractions[len(analysed) :] == sorted(fractions[len(analysed) :])
