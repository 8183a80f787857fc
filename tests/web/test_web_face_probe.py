"""``haechi face search --probe`` in the browser and the API: a probe photo searched without
an enrolled subject (``/face-searches/new``, ``POST /face-searches``, ``POST
/api/face-searches``), on the real faces analyzer over the faces demo export (scikit-image's
astronaut portrait, NASA, public domain). The photo is read in memory and never kept, the
basis and reason are required and logged, every search (refused ones too) is on the audit
trail as the command line's, a double submit searches once, the custody event carries the
person's name, and the candidates are the subject search's least-exposure page. Anonymous
visitors and every role outside ``faces.search`` are refused."""

from __future__ import annotations

import hashlib
import io
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from httpx import Response
from PIL import Image
from tests.web.analyst_kit import app_of, bearer, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, load_faces_demo

from haechi.app import App, init_home
from haechi.auth import audit
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.services import integrations

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not integrations.available("subjects"), reason="the faces capability is not installed"
)
BASIS = "consent form FORM-2024-0917"
REASON = "she asked us to find her photos"
WORKER = "u_support_worker"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    tmp = tmp_path_factory.mktemp("face-probe")
    app = init_home(tmp / "home")
    try:
        load_faces_demo(app, tmp)
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


def _photo() -> bytes:
    from haechi.demo.faces_export import reference_photo

    return reference_photo()


def _post(web: TestClient, csrf: str, data: dict[str, str], photo: bytes | None = None,
          **headers: str) -> Response:  # fmt: skip
    # no photo: an empty file input, as a browser sends it (still multipart)
    part = ("probe.png", photo, "image/png") if photo is not None else ("", b"", "image/png")
    files = [("photo", part)]
    return web.post(
        "/face-searches", data=data, files=files,
        headers={"x-csrf-token": csrf, "hx-request": "true", **headers},
    )  # fmt: skip


def _searches(app: App) -> list[tuple[object, ...]]:
    from sqlalchemy import text

    with app.db.connect() as conn:
        return list(conn.execute(text(
            "SELECT id, kind, staff, basis, reason, probe_sha256 FROM face_searches ORDER BY id"
        )).all())  # fmt: skip


def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    app = app_of(web)
    client = web
    before = (len(_searches(app)), len(audit.entries(app, action=audit.FACE_SEARCH)))
    client.cookies.clear()
    for path in ("/face-searches/new",):
        r = client.get(path)
        assert r.status_code == 303 and r.headers["location"].startswith("/login")
    files = [("photo", ("probe.png", _photo(), "image/png"))]
    form = {"basis": BASIS, "reason": REASON}
    anonymous = client.post("/face-searches", data=form, files=files)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    api = client.post("/api/face-searches", data=form, files=files)
    assert api.status_code == 401
    outside = [role for role in Role if role not in MATRIX[Perm.FACE_SEARCH]]
    assert outside  # admin, reviewer, auditor
    for role in outside:
        name = f"u_{role.value}"
        csrf = log_in(client, name)
        assert client.get("/face-searches/new").status_code == 403
        page = client.get("/subjects")
        assert 'id="probe-link"' not in page.text
        r = _post(client, csrf, {**form, "key": "k" * 24}, _photo())
        assert r.status_code == 403, (role, r.status_code)
        client.post("/logout", data={"csrf_token": csrf})
        client.cookies.clear()
        r = client.post("/api/face-searches", data=form, files=files,
                        headers=bearer(app, name))  # fmt: skip
        assert r.status_code == 403, (role, r.status_code)
    after = (len(_searches(app)), len(audit.entries(app, action=audit.FACE_SEARCH)))
    assert after == before  # nothing searched, nothing logged as a search


def test_a_probe_search_from_the_page_once_then_its_candidates(web: TestClient) -> None:
    from haechi.demo.faces_export import variants

    app = app_of(web)
    client = web
    csrf = log_in(client, WORKER)
    subjects = client.get("/subjects").text
    assert 'id="probe-link" href="/face-searches/new"' in subjects
    page = client.get("/face-searches/new").text
    assert 'hx-post="/face-searches"' in page and 'name="basis"' in page
    key = re.search(r'name="key" value="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    form = {"key": key, "basis": BASIS, "reason": REASON}
    before = len(_searches(app))
    first = _post(client, csrf, form, _photo())
    again = _post(client, csrf, form, _photo())  # a double submit: no second search
    assert first.status_code == again.status_code == 204
    url = first.headers["hx-redirect"]
    assert url.startswith("/face-searches/") and again.headers["hx-redirect"] == url
    rows = _searches(app)
    assert len(rows) == before + 1
    search_id, kind, staff, basis, reason, probe_sha = rows[-1]
    assert int(url.rsplit("/", 1)[1]) == search_id
    assert (kind, staff, basis, reason) == ("probe", f"{WORKER} (web)", BASIS, REASON)
    assert probe_sha == hashlib.sha256(_photo()).hexdigest()  # only its SHA-256 is kept
    event = custody_events(app, "face_search")[-1]
    assert event["actor"] == f"{WORKER} (web)" and event["data"]["staff"] == f"{WORKER} (web)"
    assert event["subject"] == f"probe:{probe_sha}" and event["data"]["basis"] == BASIS
    (entry,) = [e for e in audit.entries(app, action=audit.FACE_SEARCH) if e.subject == "probe"
                and "refused" not in e.detail]  # fmt: skip
    assert entry.username == WORKER and entry.detail["reason"] == REASON
    assert entry.detail["basis"] == BASIS and entry.detail["images"] == 5
    # the photo itself is nowhere: not in the data directory, not in a log
    home = app.settings.home
    assert not any(
        _photo() in p.read_bytes() for p in home.rglob("*") if p.is_file() and p.stat().st_size
        < 50_000_000
    )  # fmt: skip

    # -- the subject search's own page: nothing shown until asked, no decisions
    review = client.get(url).text
    expected = {hashlib.sha256(v[0]).hexdigest() for v in variants().values()}
    assert set(re.findall(r'data-sha="([0-9a-f]{64})"', review)) == expected
    assert "face-crop" not in review and "/original" not in review
    assert 'id="probe-note"' in review and BASIS in review
    assert "/decision" not in review and 'id="case-form"' not in review
    original = hashlib.sha256(variants()["original"][0]).hexdigest()
    base = f"{url}/candidates/{original}"
    assert client.get(f"{base}/face.jpg").status_code == 403
    part = client.post(f"{base}/show", headers={"x-csrf-token": csrf}).text
    src = re.search(r'class="face-crop grey"[^>]*src="([^"]+)"', part)
    assert src and "/decision" not in part, part
    picture = client.get(src.group(1).replace("&amp;", "&"))
    face = Image.open(io.BytesIO(picture.content))
    assert picture.status_code == 200 and face.mode == "L" and max(face.size) <= 320
    (look,) = [e for e in audit.entries(app, action=audit.REVEAL) if e.subject == original]
    assert look.username == WORKER and look.detail["subject"] == f"probe:{probe_sha}"
    # nothing to confirm a probe's candidate for
    r = client.post(f"{base}/decision", data={"decision": "confirmed"},
                    headers={"x-csrf-token": csrf})  # fmt: skip
    assert "no subject whose candidates could be confirmed" in r.text
    assert not custody_events(app, "face_candidate_reviewed")
    # Korean: the page and the note
    korean = client.get("/face-searches/new", headers={"accept-language": "ko"}).text
    assert "사진으로 얼굴 검색" in korean and "근거" in korean
    client.post("/logout", data={"csrf_token": csrf})


def test_refusals_are_sentences_and_on_the_audit_trail(web: TestClient) -> None:
    app = app_of(web)
    client = web
    csrf = log_in(client, "u_investigator")
    before = len(_searches(app))
    refused_before = len([e for e in audit.entries(app, action=audit.FACE_SEARCH)
                          if "refused" in e.detail])  # fmt: skip
    cases = (
        ({"basis": "", "reason": REASON}, _photo(), "needs its basis"),
        ({"basis": BASIS, "reason": "x"}, _photo(), "reason"),
        ({"basis": BASIS, "reason": REASON}, None, "Choose the photo to search with"),
        ({"basis": BASIS, "reason": REASON}, b"not a picture at all" * 10, ""),
    )
    for i, (form, photo, said) in enumerate(cases):
        r = _post(client, csrf, {**form, "key": f"refused-key-{i:08d}"}, photo)
        assert r.status_code == 200 and 'id="probe-error"' in r.text, r.text
        assert said in r.text, re.search(r"probe-error\">([^<]*)", r.text)
    # too large: refused while the body is read, before anything is searched
    big = b"\x89PNG" + b"0" * (12 * 1024 * 1024 + 10)
    r = _post(client, csrf, {"basis": BASIS, "reason": REASON}, big)
    assert 'id="probe-error"' in r.text and "12 MB" in r.text
    # an upload path: a token in the form instead of the header is refused unread
    files = [("photo", ("probe.png", _photo(), "image/png"))]
    forged = client.post("/face-searches", files=files,
                         data={"csrf_token": csrf, "basis": BASIS, "reason": REASON})  # fmt: skip
    assert forged.status_code == 403
    assert len(_searches(app)) == before
    refused = [e for e in audit.entries(app, action=audit.FACE_SEARCH) if "refused" in e.detail]
    assert len(refused) - refused_before == 4
    assert {e.subject for e in refused} == {"probe"} and refused[0].username == "u_investigator"
    korean = _post(client, csrf, {"basis": "", "reason": REASON, "key": "refused-key-ko-0001"},
                   _photo(), **{"accept-language": "ko"})  # fmt: skip
    assert "근거가 필요합니다" in korean.text
    client.post("/logout", data={"csrf_token": csrf})


def test_the_api_twin_once_per_idempotency_key(web: TestClient) -> None:
    app = app_of(web)
    client = web
    client.cookies.clear()
    headers = {**bearer(app, "u_investigator"), "idempotency-key": "probe-search-0001"}
    files = [("photo", ("probe.png", _photo(), "image/png"))]
    form = {"basis": "warrant 2024-77", "reason": "a probe through the API", "exhaustive": "true"}
    before = len(_searches(app))
    first = client.post("/api/face-searches", data=form, files=files, headers=headers)
    again = client.post("/api/face-searches", data=form, files=files, headers=headers)
    assert first.status_code == 201 and again.status_code == 200, first.text
    assert again.json()["repeat"] and again.json()["location"] == first.json()["location"]
    assert len(_searches(app)) == before + 1 and first.json()["images"] == 5
    found = client.get(first.json()["location"], headers=bearer(app, "u_investigator")).json()
    assert found["search"]["kind"] == "probe" and found["total"] == 5
    assert found["search"]["basis"] == "warrant 2024-77"
    assert "custody_seq" in first.json() and json.dumps(found).count("probe.png") == 0
    refused = client.post("/api/face-searches", data={"reason": "no basis given"},
                          files=files, headers=bearer(app, "u_investigator"))  # fmt: skip
    assert refused.status_code == 400 and "basis" in refused.json()["detail"]
    assert len(_searches(app)) == before + 1
    assert (Path(app.settings.home) / "subjects").exists() is False
