"""Recurring unknown faces in the browser and the API, as ``haechi face clusters`` /
``cluster`` / ``link`` / ``minor``: the faces demo export (one public-domain portrait
re-posted in three rooms) analysed by the real faces analyzer and grouped; no picture until
a person asks for one file's face (logged, greyscale, the face region only); linking only
to a subject whose consent covers ``link``; the minor flag; a double submit changes
nothing twice; every route refuses anonymous visitors and the roles outside the matrix."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from fastapi.testclient import TestClient
from PIL import Image
from tests.web.analyst_kit import app_of, bearer, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, load_faces_demo

from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.services import integrations
from haechi.web import i18n

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="the faces capability is not installed"
)
WORKER = "u_support_worker"
INVESTIGATOR = "u_investigator"


def _subject(app: Any, label: str, scope: str) -> int:
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.service import enroll_subject

    info, _ = enroll_subject(
        app, label=label, photos=[("ref.png", reference_photo())],
        consent=ConsentRequest(given_by="김하늘 (fictional)", scope=scope, given_at="2024-09-01"),
        staff="test",
    )  # fmt: skip
    return info.id


@contextmanager
def _database(backend: str) -> Iterator[str | None]:
    """SQLite in the data directory, or a PostgreSQL schema of the module's own."""
    if backend == "sqlite":
        yield None
        return
    from sqlalchemy import create_engine, text
    from tests.conftest import _PG_SKIP, PG_URL

    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = "haechi_t_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield f"{PG_URL}{'&' if '?' in PG_URL else '?'}options=-csearch_path%3D{schema}"
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def web(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    from haechi.app import init_home
    from haechi.subjects.clusters import update_clusters

    tmp = tmp_path_factory.mktemp("clusters")
    with _database(request.param) as url:
        app = init_home(tmp / "home", database_url=url)
        try:
            load_faces_demo(app, tmp)
            update_clusters(app, staff="test")
            with staffed_web(app) as client:
                yield client
        finally:
            app.close()


@pytest.fixture(scope="module")
def cluster(web: TestClient) -> int:
    from haechi.subjects.clusters import list_clusters

    found = list_clusters(app_of(web))
    assert found and found[0].images >= 3, found
    return found[0].id


@pytest.fixture(scope="module")
def subjects(web: TestClient) -> dict[str, int]:
    app = app_of(web)
    return {"link": _subject(app, "V-LINK-1", "search,link"),
            "search": _subject(app, "V-SEARCH-1", "search")}  # fmt: skip


def _files(page: str) -> list[str]:
    return re.findall(r'data-sha="([0-9a-f]{64})"', page)


def test_every_route_refuses_anonymous_and_roles_outside(web: TestClient, cluster: int) -> None:
    from haechi.subjects.clusters import cluster_images

    sha = cluster_images(app_of(web), cluster)[0].blob_sha256
    reveal = {"colour": "false"}
    for perm, method, path, data in [
        (Perm.FACE_SEARCH, "GET", "/face-clusters", None),
        (Perm.FACE_SEARCH, "GET", f"/face-clusters/{cluster}", None),
        (Perm.FACE_SEARCH, "POST", f"/face-clusters/{cluster}/files/{sha}/show", reveal),
        (Perm.FACE_SEARCH, "GET", f"/face-clusters/{cluster}/files/{sha}/face.jpg", None),
        (Perm.SUBJECTS_WRITE, "POST", "/face-clusters/update", None),
        (Perm.SUBJECTS_WRITE, "POST", f"/face-clusters/{cluster}/link",
         {"subject": "", "reason": "not her, unlink"}),
        (Perm.SUBJECTS_WRITE, "POST", f"/face-clusters/{cluster}/minor",
         {"minor": "true", "reason": "looks under 19"}),
        (Perm.FACE_SEARCH, "GET", "/api/face-clusters", None),
        (Perm.FACE_SEARCH, "GET", f"/api/face-clusters/{cluster}", None),
    ]:  # fmt: skip
        refused_outside(web, perm, method, path, data)
    for path, body in [
        ("/api/face-clusters/update", {}),
        (f"/api/face-clusters/{cluster}/link", {"subject": None, "reason": "not her"}),
        (f"/api/face-clusters/{cluster}/minor", {"minor": True, "reason": "looks young"}),
    ]:
        refused_outside(web, Perm.SUBJECTS_WRITE, "POST", path, json=body)
    # nothing happened: no reveal, no link, no flag, no run
    app = app_of(web)
    assert not [e for e in audit.entries(app, action=audit.REVEAL)
                if e.detail.get("cluster")]  # fmt: skip
    assert custody_events(app, "face_cluster_linked") == []
    assert custody_events(app, "face_cluster_minor") == []
    assert len(custody_events(app, "face_clusters_updated")) == 1  # the fixture's


def test_the_list_and_the_cluster_show_no_picture(web: TestClient, cluster: int) -> None:
    log_in(web, WORKER)
    listed = web.get("/face-clusters").text
    assert f'href="/face-clusters/{cluster}"' in listed
    assert "<img" not in listed and "face.jpg" not in listed
    assert "Space Photos" in listed  # where it appeared, by chat name
    page = web.get(f"/face-clusters/{cluster}").text
    files = _files(page)
    assert len(files) >= 3 and len(set(files)) == len(files)
    assert "<img" not in page and "face.jpg" not in page  # nothing shown yet
    assert f'action="/face-clusters/{cluster}/link"' in page  # the counsellor's actions
    assert "UTC · " in page and " KST" in page
    # the subjects page leads here; an investigator sees it too
    assert 'href="/face-clusters"' in web.get("/subjects").text
    log_in(web, INVESTIGATOR)
    assert web.get(f"/face-clusters/{cluster}").status_code == 200


def test_each_face_is_one_logged_act_in_greyscale(web: TestClient, cluster: int) -> None:
    from haechi.subjects.clusters import cluster_images

    app = app_of(web)
    csrf = log_in(web, WORKER)
    sha = cluster_images(app, cluster)[0].blob_sha256
    base = f"/face-clusters/{cluster}/files/{sha}"
    assert web.get(f"{base}/face.jpg").status_code == 403  # not before the act
    assert web.get(f"{base}/face.jpg?g=forged").status_code == 403
    before = len(audit.entries(app, action=audit.REVEAL))
    r = web.post(f"{base}/show", data={"csrf_token": "forged"})
    assert r.status_code == 403  # CSRF
    part = web.post(f"{base}/show", headers={"x-csrf-token": csrf, "hx-request": "true"}).text
    src = re.search(r'class="face-crop grey"[^>]*src="([^"]+)"', part)
    assert src, part
    entries = audit.entries(app, action=audit.REVEAL)
    assert len(entries) == before + 1
    newest = entries[0]  # newest first
    assert newest.username == "u_support_worker" and newest.subject == sha
    assert (
        newest.detail["view"] == "face_region"
        and newest.detail["cluster"] == f"face_cluster:{cluster}"
    )
    picture = web.get(src.group(1).replace("&amp;", "&"))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/jpeg"
    assert "no-store" in picture.headers["cache-control"]
    face = Image.open(io.BytesIO(picture.content))
    assert face.mode == "L" and max(face.size) <= 320  # greyscale, the face region only
    # the grant is for greyscale: colour is a second logged act
    assert (
        web.get(src.group(1).replace("&amp;", "&").replace("colour=0", "colour=1")).status_code
        == 403
    )
    # a file that is not the cluster's is refused in a sentence and logs nothing
    other = "0" * 64
    r = web.post(f"/face-clusters/{cluster}/files/{other}/show", headers={"x-csrf-token": csrf})
    assert 'class="error"' in r.text and len(audit.entries(app, action=audit.REVEAL)) == before + 1
    # another person's session cannot use the grant
    log_in(web, INVESTIGATOR)
    assert web.get(src.group(1).replace("&amp;", "&")).status_code == 403


def test_link_only_with_consent_and_once(
    web: TestClient, cluster: int, subjects: dict[str, int]
) -> None:
    from haechi.subjects.clusters import get_cluster

    app = app_of(web)
    csrf = log_in(web, WORKER)
    page = web.get(f"/face-clusters/{cluster}").text
    assert "V-LINK-1" in page and "V-SEARCH-1" not in page  # only consenting subjects offered
    # a subject whose consent does not cover 'link': the service's sentence, nothing written
    r = web.post(
        f"/face-clusters/{cluster}/link",
        data={
            "csrf_token": csrf,
            "subject": str(subjects["search"]),
            "reason": "same face as hers",
        },
    )
    assert r.status_code == 400 and 'id="cluster-error"' in r.text and "link" in r.text
    assert get_cluster(app, cluster).subject_id is None
    r = web.post(
        f"/face-clusters/{cluster}/link",
        data={"csrf_token": csrf, "subject": "abc", "reason": "same face as hers"},
    )
    assert r.status_code == 400
    # without a reason: refused
    r = web.post(
        f"/face-clusters/{cluster}/link",
        data={"csrf_token": csrf, "subject": str(subjects["link"]), "reason": ""},
    )
    assert r.status_code == 400 and get_cluster(app, cluster).subject_id is None
    # forged CSRF
    r = web.post(
        f"/face-clusters/{cluster}/link",
        data={
            "csrf_token": "forged",
            "subject": str(subjects["link"]),
            "reason": "same face as hers",
        },
    )
    assert r.status_code == 403
    form = {"csrf_token": csrf, "subject": str(subjects["link"]), "reason": "same face as hers"}
    for _ in range(2):  # a double submit
        r = web.post(f"/face-clusters/{cluster}/link", data=form)
        assert r.status_code == 303 and r.headers["location"] == f"/face-clusters/{cluster}"
    assert get_cluster(app, cluster).subject_id == subjects["link"]
    events = custody_events(app, "face_cluster_linked")
    assert len(events) == 1
    assert events[0]["actor"] == "u_support_worker (web)"
    assert events[0]["data"]["staff"] == "u_support_worker (web)"
    changes = [e for e in audit.entries(app, action="subject_change")
               if e.detail.get("did") == "cluster_link"]  # fmt: skip
    assert len(changes) == 1 and changes[0].username == "u_support_worker"
    page = web.get(f"/face-clusters/{cluster}").text
    assert f'href="/subjects/{subjects["link"]}"' in page
    assert f'href="/face-clusters/{cluster}"' in web.get(f"/subjects/{subjects['link']}").text
    # the API: the same link again changes nothing; a subject without consent is refused
    headers = bearer(app, INVESTIGATOR)
    r = web.post(f"/api/face-clusters/{cluster}/link", headers=headers,
                 json={"subject": subjects["link"], "reason": "same face as hers"})  # fmt: skip
    assert r.status_code == 200 and r.json()["changed"] is False
    r = web.post(f"/api/face-clusters/{cluster}/link", headers=headers,
                 json={"subject": subjects["search"], "reason": "same face as hers"})  # fmt: skip
    assert r.status_code == 400 and "link" in r.json()["detail"]
    assert len(custody_events(app, "face_cluster_linked")) == 1


def test_minor_flag_once_page_and_api(web: TestClient, cluster: int) -> None:
    from haechi.subjects.clusters import get_cluster

    app = app_of(web)
    csrf = log_in(web, INVESTIGATOR)
    form = {"csrf_token": csrf, "minor": "true", "reason": "looks under 19 to me"}
    for _ in range(2):
        r = web.post(f"/face-clusters/{cluster}/minor", data=form)
        assert r.status_code == 303
    info = get_cluster(app, cluster)
    assert info.apparent_minor and info.minor_set_by == "u_investigator (web)"
    assert len(custody_events(app, "face_cluster_minor")) == 1
    page = web.get(f"/face-clusters/{cluster}").text
    assert 'id="minor-submit"' in page and 'name="minor" value="false"' in page
    headers = bearer(app, WORKER)
    body = {"minor": True, "reason": "looks under 19 to me"}
    r = web.post(f"/api/face-clusters/{cluster}/minor", headers=headers, json=body)
    assert r.status_code == 200 and r.json()["changed"] is False
    r = web.post(f"/api/face-clusters/{cluster}/minor", headers=headers,
                 json={"minor": False, "reason": "an adult: her record says 24"})  # fmt: skip
    assert r.status_code == 200 and r.json()["changed"] is True
    assert not r.json()["cluster"]["apparent_minor"]
    events = custody_events(app, "face_cluster_minor")
    assert [e["data"]["apparent_minor"] for e in events] == [True, False]
    assert str(events[-1]["data"]["staff"]).startswith("u_support_worker")


def _grouping_jobs(app: Any) -> list[Any]:
    from haechi.jobs import store

    return store.jobs(app, kinds=("face_clusters",), limit=100)


def test_recluster_is_one_job_at_a_time_and_the_api_lists(web: TestClient, cluster: int) -> None:
    from tests.web.counsellor_kit import form_key

    from haechi.jobs.worker import run_job

    app = app_of(web)
    csrf = log_in(web, WORKER)
    page = web.get("/face-clusters").text
    key = form_key(page, "/face-clusters/update")
    runs, before = len(custody_events(app, "face_clusters_updated")), len(_grouping_jobs(app))
    forged = web.post("/face-clusters/update", data={"csrf_token": "forged", "key": key})
    assert forged.status_code == 403 and len(_grouping_jobs(app)) == before
    first = web.post("/face-clusters/update", data={"csrf_token": csrf, "key": key})
    again = web.post("/face-clusters/update", data={"csrf_token": csrf, "key": key})
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == "/face-clusters#cluster-job"
    # another form, and the API, while it is queued: led to the same job
    other = form_key(web.get("/face-clusters").text, "/face-clusters/update")
    assert web.post("/face-clusters/update", data={"csrf_token": csrf, "key": other}).is_redirect
    headers = bearer(app, INVESTIGATOR)
    waiting = web.post("/api/face-clusters/update", headers=headers)
    (job,) = _grouping_jobs(app)[: len(_grouping_jobs(app)) - before]
    assert waiting.status_code == 200 and waiting.json()["id"] == job.id
    assert waiting.json()["started"] is False and waiting.json()["state"] == "queued"
    assert len(custody_events(app, "face_clusters_updated")) == runs  # in the request: nothing
    queued = web.get("/face-clusters").text
    assert 'id="cluster-job"' in queued and f'id="job-{job.id}"' in queued
    assert run_job(app, job.id)
    assert len(custody_events(app, "face_clusters_updated")) == runs + 1
    assert custody_events(app, "face_clusters_updated")[-1]["data"]["staff"] == (
        "u_support_worker (web)"
    )
    updates = [e for e in audit.entries(app, action="subject_change")
               if e.detail.get("did") == "clusters_update"]  # fmt: skip
    assert updates[-1].username == "u_support_worker" and updates[-1].detail["job_id"] == job.id
    shown = web.get(first.headers["location"]).text
    assert 'id="cluster-run"' in shown and "job-done" in shown
    assert f'href="/face-clusters/{cluster}"' in shown
    korean = web.get("/face-clusters", headers={"accept-language": "ko"}).text
    assert "최근 얼굴 묶기" in korean and "얼굴 묶기" in korean and "묶음" in korean
    assert "jobs.kind" not in korean and "clusters.run" not in korean
    # the API's twin: a new job once the last one is done, then followed at /api/jobs/<id>
    started = web.post("/api/face-clusters/update", headers={**headers,
                       "Idempotency-Key": "grouping-api-1"})  # fmt: skip
    assert started.status_code == 201 and started.json()["started"] is True
    repeat = web.post("/api/face-clusters/update", headers={**headers,
                      "Idempotency-Key": "grouping-api-1"})  # fmt: skip
    assert repeat.status_code == 200 and repeat.json()["id"] == started.json()["id"]
    assert run_job(app, started.json()["id"])
    done = web.get(started.json()["location"], headers=headers).json()
    assert done["state"] == "done" and done["result"]["clusters"] >= 1
    assert done["result_url"] is None  # no file: the outcome is the counts
    headers = bearer(app, INVESTIGATOR)
    listed = web.get("/api/face-clusters", headers=headers).json()
    assert listed["total"] >= 1 and listed["clusters"][0]["id"] == cluster
    assert listed["clusters"][0]["where"]
    one = web.get(f"/api/face-clusters/{cluster}?limit=2", headers=headers).json()
    assert one["cluster"]["id"] == cluster and len(one["images"]) == 2 and one["total"] >= 3
    assert all("sightings" in i for i in one["images"])
    assert web.get("/api/face-clusters/999999", headers=headers).status_code == 400


def test_korean_pages_without_raw_values(web: TestClient, cluster: int) -> None:
    from tests.web.test_web_i18n_walk import ALLOWED, MOMENT, WITH_KST, WORD, _Visible

    log_in(web, WORKER)
    web.cookies.set(i18n.COOKIE, "ko")
    try:
        for path in ("/face-clusters", f"/face-clusters/{cluster}", "/subjects"):
            i18n.MISSING.clear()
            r = web.get(path)
            assert r.status_code == 200, path
            assert not i18n.MISSING, (path, i18n.MISSING)
            parser = _Visible()
            parser.feed(r.text)
            shown = " ".join(parser.parts)
            words = {w for w in WORD.findall(shown) if w.lower() not in ALLOWED}
            assert not words, (path, words)
            assert "active" not in shown and "empty" not in shown
            for moment in MOMENT.finditer(shown):
                after = shown[moment.end() :]
                assert WITH_KST.match(after) or after.startswith(" KST"), path
        assert "인물 #" in web.get(f"/face-clusters/{cluster}").text
    finally:
        web.cookies.delete(i18n.COOKIE)


def test_the_cli_reads_the_same_page(web: TestClient, cluster: int) -> None:
    """``haechi face cluster --limit`` reads the files it prints through the service the
    page uses, and says how many more there are."""
    from tests.helpers import haechi_here

    from haechi.subjects.clusters import cluster_image_page

    app = app_of(web)
    page = cluster_image_page(app, cluster, limit=2)
    assert len(page.images) == 2 and page.total >= 3
    proc = haechi_here("face", "cluster", str(cluster), "--limit", "2", home=app.settings.home)
    assert proc.returncode == 0, proc.stderr
    assert all(i.blob_sha256 in proc.stdout for i in page.images)
    assert f"... and {page.total - 2} more" in proc.stdout
    whole = haechi_here("face", "cluster", str(cluster), "--json", home=app.settings.home)
    assert len(json.loads(whole.stdout)["images"]) == page.total


def test_numbers_out_of_range_are_no_such_item(web: TestClient) -> None:
    """Numbers beyond a 64-bit column name nothing: 404 or the page, never a server error."""
    app = app_of(web)
    headers = bearer(app, INVESTIGATOR)
    huge = str(10**20)
    for path in (f"/api/face-clusters?offset={huge}", f"/api/face-clusters?min_images={huge}",
                 f"/api/face-clusters/{huge}", f"/api/face-clusters/1?offset={huge}&limit=-5",
                 "/api/face-clusters?limit=-1&offset=-3"):  # fmt: skip
        assert web.get(path, headers=headers).status_code in (200, 400, 404), path
    r = web.post(f"/api/face-clusters/{huge}/minor", headers=headers,
                 json={"minor": True, "reason": "looks under 19"})  # fmt: skip
    assert r.status_code in (400, 404)
    log_in(web, WORKER)
    for path in (f"/face-clusters?offset={huge}", f"/face-clusters?min_images={huge}",
                 f"/face-clusters/{huge}", "/face-clusters/1?offset=-4"):  # fmt: skip
        assert web.get(path).status_code in (200, 400, 404), path
