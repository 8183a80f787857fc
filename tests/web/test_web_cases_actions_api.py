"""The counsellor's and case actions through the JSON API with a bearer token: the same
services and permissions as the pages, retries made safe by ``Idempotency-Key``, photos
posted as multipart and read in memory, and the token's person named on every record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from tests.web.conftest import client_of
from tests.web.counsellor_kit import add_staff, load_faces_demo

from haechi.app import App
from haechi.auth.accounts import find_user
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.services import integrations
from haechi.store.models import CustodyEvent
from haechi.web.settings import WebSettings

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not (integrations.available("subjects") and integrations.available("cases")),
    reason="the faces and cases capabilities are not installed",
)


def token(app: App, name: str) -> dict[str, str]:
    user = find_user(app, name)
    secret, _ = create_token(app, user, "api test", days=30, actor=cli_actor("test"))
    return {"authorization": f"Bearer {secret}"}


@pytest.fixture
def api(sqlite_app: App, tmp_path: Path) -> App:
    load_faces_demo(sqlite_app, tmp_path)
    add_staff(sqlite_app, "park", "support_worker")
    add_staff(sqlite_app, "rev", "reviewer")
    return sqlite_app


def test_the_counsellors_flow_through_the_api(api: App) -> None:
    from haechi.demo.faces_export import reference_photo

    app = api
    park, rev = token(app, "park"), token(app, "rev")
    with client_of(app, WebSettings(run_jobs=False)) as web:
        form = {"label": "V-API-1", "given_by": "Jane Roe (fictional)", "relation": "self",
                "given_at": "2024-09-01", "scope": "search"}  # fmt: skip
        files = [("photos", ("ref.png", reference_photo(), "image/png"))]
        key = {"idempotency-key": "enrol-0123456789abcdef"}
        r = web.post("/api/subjects", data=form, files=files, headers={**park, **key})
        assert r.status_code == 201, r.text
        again = web.post("/api/subjects", data=form, files=files, headers={**park, **key})
        assert again.status_code == 200 and again.json()["repeat"] is True
        assert again.json()["location"] == r.json()["location"]
        subject = web.get(r.json()["location"], headers=park).json()
        assert subject["label"] == "V-API-1" and "Jane Roe" not in json.dumps(subject)
        assert web.post("/api/subjects", data=form, files=files, headers=rev).status_code == 403

        search = web.post(f"/api/subjects/{subject['id']}/search",
                          json={"reason": "she asked us to look"}, headers=park)  # fmt: skip
        assert search.status_code == 201
        candidates = web.get(search.json()["location"], headers=park).json()
        assert candidates["total"] == 5
        first = candidates["candidates"][0]
        assert first["box"] and "data:image" not in json.dumps(candidates)  # data, no picture
        base = f"{search.json()['location']}/candidates"
        for c in candidates["candidates"]:
            d = web.post(f"{base}/{c['blob_sha256']}/decision", json={"decision": "confirmed"},
                         headers=park)  # fmt: skip
            assert d.status_code == 200 and d.json()["changed"] is True
        case = web.post(f"{search.json()['location']}/case", json={"age": 30},
                        headers={**park, "idempotency-key": "case-0123456789abcdef"})  # fmt: skip
        assert case.status_code == 201
        detail = web.get(case.json()["location"], headers=park).json()
        assert len(detail["items"]) == 5 and detail["victims"][0]["display_name"] is None

        notice = web.post(f"{case.json()['location']}/notices", json={"recipient": "telegram"},
                          headers=park)  # fmt: skip
        assert notice.status_code == 201
        url = notice.json()["location"]
        marked = web.post(f"{url}/mark", json={"status": "sent", "at": "2024-09-03T10:00+09:00"},
                          headers=park)  # fmt: skip
        assert marked.status_code == 200 and marked.json()["status"] == "sent"
        bad = web.post(f"{url}/mark", json={"status": "removed", "at": "2024-09-03T10:00"},
                       headers=park)  # fmt: skip
        assert bad.status_code == 400 and "time zone" in bad.json()["detail"]

        # jobs: the kind's permission decides (support workers do not export)
        package = {"kind": "package", "params": {"case": detail["summary"]["ref"]}}
        job = web.post("/api/jobs", json=package, headers=park)
        assert job.status_code == 403
        scan = web.post("/api/jobs", json={"kind": "reupload_scan", "params": {}}, headers=park)
        assert scan.status_code == 201
        assert web.get(scan.json()["location"], headers=park).json()["state"] == "queued"
        assert web.get(scan.json()["location"], headers=rev).status_code == 404

    with app.db.connect() as conn:
        actors = {
            json.loads(b)["actor"]
            for b in conn.execute(
                select(CustodyEvent.body).where(
                    CustodyEvent.event_type.in_(
                        [
                            "subject_enrolled",
                            "face_search",
                            "face_candidate_reviewed",
                            "case_created",
                            "notice_drafted",
                            "notice_status",
                        ]
                    )
                )
            ).scalars()
        }
    assert actors == {"park (api)"}
