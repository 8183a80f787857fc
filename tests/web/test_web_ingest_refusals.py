"""The drop folder refuses what is not an export folder directly inside a configured drop
root — ``../``, absolute paths, a symlink (the folder's or its ``result.json``'s) leading
out of the root, a root number not configured — on the page and in the API, before any
job is queued, and the job checks again; anonymous visitors and every role outside
``analysis.run`` are refused the page, its form and the API; the API lists the folders and
a repeated ``Idempotency-Key`` (or a second request while the job waits) is one job."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of, bearer, refused_outside, staffed_web
from tests.web.conftest import log_in
from tests.web.ingest_kit import FOLDER, export_in, post_choice, with_drop_root

from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.jobs import store
from haechi.run.ingest_drop import identity, resolve


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    from haechi.app import init_home

    tmp = tmp_path_factory.mktemp("drop_refusals")
    root, outside = tmp / "drop", tmp / "outside"
    root.mkdir()
    export_in(root / FOLDER)
    export_in(outside / "secret", name="밖의 방", bare_id=1500000002)
    os.symlink(outside / "secret", root / "link_out")  # a folder leading out
    inner = root / "json_out"  # a folder whose result.json leads out
    inner.mkdir()
    os.symlink(outside / "secret" / "result.json", inner / "result.json")
    os.symlink(root / FOLDER, root / "link_in")  # a link staying inside: allowed
    app = init_home(tmp / "home")
    try:
        with staffed_web(with_drop_root(app, root)) as client:
            client.outside = outside  # type: ignore[attr-defined]
            yield client
    finally:
        app.close()


BAD = ("../outside/secret", "/etc", "link_out", "json_out", "..", ".", "", "a/../..")


def test_the_page_refuses_paths_and_links_leaving_the_root(web: TestClient) -> None:
    outside = web.outside  # type: ignore[attr-defined]
    csrf = log_in(web, "u_investigator")
    page = web.get("/sources/drop").text
    assert 'value="0/link_out"' not in page and 'value="0/json_out"' not in page
    assert "leads outside the drop folder" in page  # listed, with why, without a button
    for name in BAD:
        r = post_choice(web, csrf, f"0/{name}")
        assert r.status_code == 400, (name, r.status_code)  # type: ignore[attr-defined]
        assert "drop folder" in r.text, (name, r.text[-600:])  # type: ignore[attr-defined]
    for choice in (f"7/{FOLDER}", f"-1/{FOLDER}", f"x/{FOLDER}", f"{outside}/secret", FOLDER):
        r = post_choice(web, csrf, choice)
        assert r.status_code == 400, (choice, r.status_code)  # type: ignore[attr-defined]
        assert "drop folder" in r.text, (choice, r.text[-600:])  # type: ignore[attr-defined]
    forged = web.post("/sources/drop", data={"csrf_token": "x" * 40, "key": "k" * 24,
                                              "choice": f"0/{FOLDER}"})  # fmt: skip
    assert forged.status_code == 403
    assert store.jobs(app_of(web)) == []
    web.post("/logout", data={"csrf_token": csrf})
    web.cookies.clear()


def test_the_api_refuses_them_too(web: TestClient) -> None:
    headers = bearer(app_of(web), "u_investigator")
    for name in BAD:
        r = web.post("/api/ingest", json={"root": 0, "folder": name}, headers=headers)
        assert r.status_code in (400, 422), (name, r.status_code)
        assert r.status_code == 422 or "folder" in r.json()["detail"], r.text
    r = web.post("/api/ingest", json={"root": 3, "folder": FOLDER}, headers=headers)
    assert r.status_code == 400 and "There is no drop folder number 3" in r.text
    assert store.jobs(app_of(web)) == []


def test_the_job_checks_again_before_it_reads(web: TestClient) -> None:
    """A folder swapped for a link out of the root after it was asked for is refused by
    the job's own resolution (the same check)."""
    settings = app_of(web).settings
    with pytest.raises(UsageError, match="leads outside the drop folder"):
        resolve(settings, 0, "link_out")
    with pytest.raises(UsageError, match=r"result\.json of json_out leads outside"):
        resolve(settings, 0, "json_out")
    with pytest.raises(UsageError, match="Name one export folder"):
        resolve(settings, 0, "\ud800")  # not UTF-8 (the API's JSON parser refuses it first)
    with pytest.raises(UsageError, match="cannot be read"):  # gone meanwhile: a sentence
        identity(settings.drop_roots[0] / "gone" / "result.json")
    assert resolve(settings, 0, "link_in")[1] == (settings.drop_roots[0] / FOLDER).resolve()


def test_the_api_lists_and_starts_once(web: TestClient) -> None:
    app = app_of(web)
    headers = bearer(app, "u_investigator")
    listed = web.get("/api/ingest", headers=headers)
    assert listed.status_code == 200
    (root,) = listed.json()["roots"]
    by_name = {f["name"]: f for f in root["folders"]}
    assert by_name[FOLDER]["can_start"] and by_name[FOLDER]["files"] == 1
    assert not by_name["link_out"]["can_start"] and by_name["link_out"]["problem"]
    keyed = {**headers, "Idempotency-Key": "ingest-key-000001"}
    body = {"root": 0, "folder": FOLDER, "analyze": False}
    first = web.post("/api/ingest", json=body, headers=keyed)
    again = web.post("/api/ingest", json=body, headers=keyed)
    other = web.post("/api/ingest", json=body, headers=headers)  # no key, while it waits
    assert first.status_code == 201 and again.status_code == other.status_code == 200
    job_id = first.json()["id"]
    assert again.json() == other.json() == {"location": f"/api/jobs/{job_id}", "id": job_id,
                                            "repeat": True}  # fmt: skip
    state = web.get(f"/api/jobs/{job_id}", headers=headers).json()
    assert state["kind"] == "ingest" and state["state"] == "queued"
    assert state["params"] == {"root": 0, "folder": FOLDER, "assume_timezone": None,
                               "analyze": False}  # fmt: skip
    assert [j.id for j in store.jobs(app)] == [job_id]


@pytest.mark.parametrize(
    ("method", "path", "kw"),
    [
        ("GET", "/sources/drop", {}),
        ("POST", "/sources/drop", {"data": {"choice": f"0/{FOLDER}"}}),
        ("GET", "/api/ingest", {}),
        ("POST", "/api/ingest", {"json": {"root": 0, "folder": FOLDER}}),
    ],
)
def test_anonymous_and_roles_outside_the_matrix_are_refused(
    web: TestClient, method: str, path: str, kw: dict[str, object]
) -> None:
    before = len(store.jobs(app_of(web)))
    data = kw.get("data")
    extra = {k: v for k, v in kw.items() if k != "data"}
    refused_outside(web, Perm.ANALYSIS, method, path, data, **extra)  # type: ignore[arg-type]
    assert len(store.jobs(app_of(web))) == before
