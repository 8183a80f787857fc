"""The subjects view and the logged face search, on the faces capability's real service."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Role
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="haechi.subjects is not installed"
)


@pytest.fixture
def subject(loaded: App) -> int:
    pytest.importorskip("dlib")
    from haechi.demo.faces_export import reference_photo
    from haechi.subjects.consent import ConsentRequest
    from haechi.subjects.service import enroll_subject

    info, _ = enroll_subject(
        loaded, label="V-WEB-1", photos=[("ref.png", reference_photo())], staff="test",
        consent=ConsentRequest(given_by="Jane Roe", scope="search", given_at="2024-09-01"),
    )  # fmt: skip
    return info.id


def test_face_search_is_logged_and_names_stay_hidden(
    web: TestClient, loaded: App, subject: int
) -> None:
    csrf = log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    page = web.get("/subjects").text
    assert "V-WEB-1" in page and "Jane Roe" not in page
    r = web.post(f"/subjects/{subject}/search", data={"csrf_token": csrf, "reason": "x"})
    assert r.status_code == 400 and 'id="subject-error"' in r.text  # a reason is required
    r = web.post(
        f"/subjects/{subject}/search",
        data={"csrf_token": csrf, "reason": "the victim asked us to look"},
    )
    assert r.status_code == 303  # to the candidates' review page
    assert 'id="face-results"' in web.get(r.headers["location"]).text
    entries = audit.entries(loaded, action=audit.FACE_SEARCH)
    assert [e.subject for e in entries] == [f"subject:{subject}"] * 2
    assert "refused" in entries[1].detail and "images" in entries[0].detail
    assert entries[0].detail["faces_custody_seq"] > 0


def test_reviewers_cannot_face_search(web: TestClient, subject: int) -> None:
    csrf = log_in(web, ROLE_USERS[Role.REVIEWER])
    assert web.get("/subjects").status_code == 403
    r = web.post(f"/subjects/{subject}/search", data={"csrf_token": csrf, "reason": "curious"})
    assert r.status_code == 403


@pytest.mark.skipif(not integrations.available("graph"), reason="haechi.graph is not installed")
def test_graph_data_is_the_room_map(web: TestClient, loaded: App) -> None:
    log_in(web, ROLE_USERS[Role.REVIEWER])
    data = web.get("/graph/data.json").json()
    with loaded.db.connect() as conn:
        chats = conn.exec_driver_sql("SELECT count(*) FROM chats").scalar()
    assert data["total_nodes"] == chats and data["nodes"]
    ids = {n["data"]["id"] for n in data["nodes"]}
    assert all(e["data"]["source"] in ids and e["data"]["target"] in ids for e in data["edges"])
    assert web.get("/graph").status_code == 200
    web.cookies.clear()
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    assert web.get("/graph/data.json").status_code == 403


@pytest.mark.skipif(not integrations.available("triage"), reason="haechi.triage is not installed")
def test_triage_queue_and_verdict(web: TestClient, loaded: App) -> None:
    log_in(web, ROLE_USERS[Role.REVIEWER])
    page = web.get("/triage")
    assert page.status_code == 200 and 'id="unavailable"' not in page.text
    with loaded.db.connect() as conn:
        sha = conn.exec_driver_sql("SELECT sha256 FROM blobs WHERE kind = 'image' LIMIT 1").scalar()
    verdict = web.get(f"/triage/{sha}")
    assert verdict.status_code == 200 and 'id="verdict"' in verdict.text
    assert "/original" not in verdict.text


@pytest.mark.skipif(not integrations.available("cases"), reason="haechi.cases is not installed")
def test_cases_list_and_detail(web: TestClient, loaded: App) -> None:
    from haechi.cases.service import create_case

    case = create_case(loaded, "Composite channel", ref="SEOUL-2024-0815")
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    assert "SEOUL-2024-0815" in web.get("/cases").text
    detail = web.get(f"/cases/{case.ref}")
    assert detail.status_code == 200 and "Composite channel" in detail.text
    assert web.get("/cases/NO-SUCH-CASE").status_code in (400, 404)


def test_the_subjects_list_is_paged_newest_first(
    web: TestClient, loaded: App, subject: int
) -> None:
    """A hundred subjects a page, the newest first (the list showed every one, read five
    queries a subject); the bulk reader gives what the one-subject reader gives."""
    from sqlalchemy import insert

    from haechi.store.tables.faces import Subject
    from haechi.subjects.service import get_subject, list_subjects

    with loaded.db.begin() as conn:
        conn.execute(insert(Subject), [
            {"label": f"V-PAGE-{i:03d}", "status": "active", "is_minor": False,
             "created_at": "2026-12-07T00:00:00Z", "created_by": "test"}
            for i in range(105)
        ])  # fmt: skip
    log_in(web, ROLE_USERS[Role.SUPPORT_WORKER])
    first = web.get("/subjects").text
    assert first.count('class="subject-link"') == 100
    assert "V-PAGE-104" in first and "V-WEB-1" not in first
    assert 'id="older-subjects"' in first and 'id="newer-subjects"' not in first
    second = web.get("/subjects?page=1").text
    assert second.count('class="subject-link"') == 6 and "V-WEB-1" in second
    assert 'id="newer-subjects"' in second and 'id="older-subjects"' not in second
    assert web.get("/subjects?page=-1").status_code == 422
    every = list_subjects(loaded)
    assert len(every) == 106 and every == [get_subject(loaded, s.id) for s in every]
    assert every[0].templates and every[0].consents  # V-WEB-1, enrolled with a photo
