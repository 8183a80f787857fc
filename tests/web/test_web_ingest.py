"""``haechi ingest`` from the browser through the server's drop folder: an investigator
chooses an export folder copied under ``[ingest] drop_roots`` and ingests it as a
background job (the real runner, the real ingest and analysis in the job's own process),
its messages are then in the archive and its custody events name the investigator; a
double submit is one job; an export ingested before is said so and offers nothing; a job
over a damaged export fails with one sentence; the page without a drop root says how to
set one; the page reads in Korean with no raw key or state."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, custody_events, form_key, wait_for_job
from tests.web.ingest_kit import FOLDER, ROOM, WORDS, export_in, post_choice, with_drop_root

from haechi.app import App
from haechi.auth import audit
from haechi.jobs import store
from haechi.store.models import Source
from haechi.web import i18n
from haechi.web.settings import WebSettings

QUIET = WebSettings(run_jobs=False)


@pytest.fixture
def drop(app: App, tmp_path: Path) -> tuple[App, Path]:
    root = tmp_path / "drop"
    root.mkdir()
    dropped = with_drop_root(app, root)
    add_staff(dropped, "lee", "investigator")
    return dropped, root


def test_an_investigator_ingests_a_dropped_export_as_a_job(drop: tuple[App, Path]) -> None:
    app, root = drop
    export_in(root / FOLDER)
    with client_of(app) as web:
        csrf = log_in(web, "lee")
        assert 'href="/sources/drop"' in web.get("/sources").text
        page = web.get("/sources/drop").text
        assert FOLDER in page and 'value="0/' + FOLDER + '"' in page
        form = {"csrf_token": csrf, "key": form_key(page, "/sources/drop"),
                "choice": f"0/{FOLDER}", "analyze": "true"}  # fmt: skip
        first = web.post("/sources/drop", data=form)
        again = web.post("/sources/drop", data=form)  # a double submit
        assert first.status_code == again.status_code == 303, first.text[-800:]
        assert first.headers["location"] == again.headers["location"]
        job_id = int(first.headers["location"].rsplit("/", 1)[1])
        assert [j.id for j in store.jobs(app)] == [job_id]
        part = wait_for_job(web, job_id, timeout=600)
        assert "job-done" in part, part
        assert f'id="job-{job_id}-source"' in part
        # Its messages are in the archive.
        chats = web.get("/chats").text
        assert ROOM in chats
        chat_id = re.search(r'href="/chats/(\d+)"', chats).group(1)  # type: ignore[union-attr]
        assert WORDS in web.get(f"/chats/{chat_id}").text
        # The folder now says it was ingested and offers nothing; asking again is refused.
        page = web.get("/sources/drop").text
        assert 'name="choice"' not in page and 'id="drop-submit"' not in page
        r = web.post("/sources/drop", data={**form, "key": "another-key-00001"})
        assert r.status_code == 400 and "was ingested already" in r.text
    info = store.get(app, job_id)
    assert info.result["messages"] == 2 and info.result["messages_new"] == 2
    with app.db.connect() as conn:
        (operator,) = conn.execute(select(Source.operator)).scalars().all()
    assert operator == "lee (web)"
    (started,) = custody_events(app, "ingest_started")
    assert started["actor"] == "lee (web)"
    (entry,) = audit.entries(app, action="job_start")
    assert entry.username == "lee" and entry.detail == {"did": "ingest", "job_id": job_id}
    assert len(store.jobs(app)) == 1


def test_a_second_request_for_a_folder_being_ingested_is_the_same_job(
    drop: tuple[App, Path],
) -> None:
    app, root = drop
    export_in(root / FOLDER)
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "lee")
        first = post_choice(web, csrf, f"0/{FOLDER}")
        other_tab = post_choice(web, csrf, f"0/{FOLDER}")  # a new form key
        assert first.status_code == other_tab.status_code == 303  # type: ignore[attr-defined]
        assert first.headers["location"] == other_tab.headers["location"]  # type: ignore[attr-defined]
        page = web.get("/sources/drop").text
        assert 'name="choice"' not in page and "/jobs/" in page  # being ingested: its job
    assert len(store.jobs(app)) == 1


def test_a_damaged_export_fails_in_one_sentence(drop: tuple[App, Path]) -> None:
    app, root = drop
    folder = export_in(root / FOLDER)
    whole = (folder / "result.json").read_bytes()
    (folder / "result.json").write_bytes(whole[: len(whole) * 2 // 3])
    with client_of(app) as web:
        csrf = log_in(web, "lee")
        r = post_choice(web, csrf, f"0/{FOLDER}")
        job_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
        part = wait_for_job(web, job_id, timeout=300)
    assert "job-failed" in part
    error = store.get(app, job_id).error
    assert error and error in part.replace("&#39;", "'").replace("&quot;", '"'), (error, part)
    assert error.endswith(".") and "Traceback" not in error


def test_an_analysis_running_elsewhere_leaves_the_export_stored(drop: tuple[App, Path]) -> None:
    """Another analysis holds the data directory: the ingest is done and says, in the
    reader's language, that the analysis is to be started later."""
    from haechi.run.analyze import run_lock

    app, root = drop
    if not app.db.is_sqlite:  # PostgreSQL's lock is shared by every test run on the server
        pytest.skip("the analysis lock of a shared PostgreSQL would stop other runs' tests")
    export_in(root / FOLDER)
    with client_of(app) as web, run_lock(app):
        csrf = log_in(web, "lee")
        r = post_choice(web, csrf, f"0/{FOLDER}", analyze="true")
        job_id = int(r.headers["location"].rsplit("/", 1)[1])  # type: ignore[attr-defined]
        part = wait_for_job(web, job_id, timeout=300)
        assert "job-done" in part and f'id="job-{job_id}-analysis-skipped"' in part, part
        web.cookies.set("haechi_lang", "ko")
        korean = web.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
    assert "분석은 실행되지 않았습니다" in korean and "Another `haechi analyze`" not in korean
    info = store.get(app, job_id)
    assert info.result["messages_new"] == 2
    assert info.result["analysis_skipped"]["reason"].startswith("Another `haechi analyze`")


def test_without_a_drop_root_the_page_says_how_to_set_one(app: App) -> None:
    add_staff(app, "lee", "investigator")
    with client_of(app, QUIET) as web:
        csrf = log_in(web, "lee")
        page = web.get("/sources/drop")
        assert page.status_code == 200
        assert 'id="drop-unset"' in page.text and "drop_roots" in page.text
        assert 'id="drop-form"' not in page.text
        r = web.post("/api/ingest", json={"root": 0, "folder": FOLDER},
                     headers={"x-csrf-token": csrf})  # fmt: skip
        assert r.status_code == 400 and "No drop folder is set up" in r.text
    assert store.jobs(app) == []


def test_the_korean_page_has_no_raw_key_or_state(drop: tuple[App, Path]) -> None:
    app, root = drop
    export_in(root / FOLDER)
    (root / "not_an_export").mkdir()
    i18n.MISSING.clear()
    with client_of(app, QUIET) as web:
        log_in(web, "lee")
        web.cookies.set("haechi_lang", "ko")
        page = web.get("/sources/drop").text
    assert "서버 드롭 폴더에서 수집" in page and "아직 수집 안 됨" in page
    assert "수집할 수 없음" in page  # the folder without result.json, with the sentence
    english = i18n.catalogue("en")
    for key in ("drop.new", "drop.refused", "drop.start", "drop.folder", "drop.hint"):
        assert english[key] not in page, key
    assert not re.search(r"\bdrop\.[a-z_]+\b", page)
    assert not [k for k in i18n.MISSING if k.startswith(("drop.", "jobs."))]
