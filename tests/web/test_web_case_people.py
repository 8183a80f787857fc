"""A case's suspects (and, further down, a victim's face subject) from its page and the
JSON API, as ``haechi case suspect`` and ``suspect-status``: permission-checked (anonymous
visitors and roles without ``cases.write`` are refused), CSRF-protected, done once however
often the form is sent, recorded under the acting person's name, times in UTC with KST
beside them. One SQLite data directory for the module; each test its own case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from tests.web.analyst_kit import app_of as _app
from tests.web.analyst_kit import bearer, module_web, refused_outside
from tests.web.conftest import log_in
from tests.web.counsellor_kit import form_key
from tests.web.test_web_case_record import _events

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
WALLET = "TQ1fictionalWallet‮gnp.exe"  # fictional, with a right-to-left override
CHANGES = {
    "/cases/{ref}/suspects": {"identifiers": "telegram_username=example_user"},
    "/api/cases/{ref}/suspects": {"identifiers": [["telegram_username", "example_user"]]},
    "/cases/{ref}/suspects/S1/status": {"status": "apprehended"},
    "/api/cases/{ref}/suspects/S1/status": {"status": "apprehended"},
}


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with module_web(tmp_path_factory.mktemp("people"), ingest=False) as client:
        yield client


def _case(web: TestClient, ref: str, *, suspect: bool = True) -> int:
    from haechi.cases.people import add_suspect
    from haechi.cases.service import create_case, get_summary

    create_case(_app(web), "People", ref=ref)
    if suspect:
        add_suspect(_app(web), ref, identifiers=[("telegram_id", "123456789")])
    return get_summary(_app(web), ref).id


def _suspects(app: App, ref: str) -> dict[str, object]:
    from haechi.cases.detail import case_detail

    return {s.label: s for s in case_detail(app, ref).suspects}


def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    app, ref = _app(web), "SUS-2024-0"
    case_id = _case(web, ref)
    for template, body in CHANGES.items():
        path = template.format(ref=ref)
        if path.startswith("/api"):
            refused_outside(web, Perm.CASES_WRITE, "POST", path, json=body)
        else:
            refused_outside(web, Perm.CASES_WRITE, "POST", path, body)
    (s1,) = _suspects(app, ref).values()
    assert s1.status == "identified" and s1.apprehended_at is None  # type: ignore[attr-defined]
    assert not _events(app, case_id, "suspect_updated")
    assert not audit.entries(app, action="case_change", subject=f"case:{ref}")


def test_a_suspect_from_the_page_once_shown_escaped_and_isolated(web: TestClient) -> None:
    app, ref = _app(web), "SUS-2024-1"
    _case(web, ref, suspect=False)
    csrf = log_in(web, "u_investigator")
    page = web.get(f"/cases/{ref}").text
    form = {
        "csrf_token": csrf, "key": form_key(page, 'id="suspect-form"'), "age": "17",
        "identifiers": f"telegram_username=<b>bad</b>\ncrypto_wallet={WALLET}",
    }  # fmt: skip
    action = f"/cases/{ref}/suspects"
    first, again = web.post(action, data=form), web.post(action, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/cases/{ref}#suspect-S1"
    assert (
        web.post(action, data={**form, "csrf_token": "forged", "key": "f" * 24}).status_code == 403
    )
    bad = web.post(action, data={**form, "key": "b" * 24, "identifiers": "shoe_size=270"})
    assert (
        bad.status_code == 400
        and "shoe_size" in bad.text
        and bad.text.count('id="case-error"') == 1
    )
    assert list(_suspects(app, ref)) == ["S1"]
    (entry,) = audit.entries(app, action="case_change", subject=f"case:{ref}")
    assert entry.username == "u_investigator" and entry.detail["did"] == "case_suspect"

    shown = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert "피의자" in shown and "14–19" in shown
    assert "&lt;b&gt;bad&lt;/b&gt;" in shown and "<b>bad" not in shown
    assert '<bdi translate="no">TQ1fictionalWallet' in shown and "\u202e" not in shown


def test_apprehension_and_detention_once_with_their_times(web: TestClient) -> None:
    app, ref = _app(web), "SUS-2024-2"
    case_id = _case(web, ref)
    csrf = log_in(web, "u_support_worker")
    action = f"/cases/{ref}/suspects/S1/status"
    caught = {"csrf_token": csrf, "status": "apprehended", "at": "2024-09-03T10:00+09:00"}
    first, again = web.post(action, data=caught), web.post(action, data=caught)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"/cases/{ref}#suspect-S1"
    naive = web.post(action, data={**caught, "status": "detained", "at": "2024-09-04T10:00"})
    assert naive.status_code == 400 and naive.text.count('id="case-error"') == 1
    held = web.post(action, data={**caught, "status": "detained", "at": "2024-09-04T01:00Z"})
    assert held.status_code == 303
    s1 = _suspects(app, ref)["S1"]
    assert (s1.status, s1.apprehended_at) == ("detained", "2024-09-03T01:00:00Z")  # type: ignore[attr-defined]
    assert len(_events(app, case_id, "suspect_updated")) == 2
    did = [
        e.detail["status"] for e in audit.entries(app, action="case_change", subject=f"case:{ref}")
    ]
    assert sorted(did) == ["apprehended", "detained"]

    shown = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert "구속" in shown and "2024-09-03 01:00 UTC · 10:00 KST" in shown


def test_the_api_adds_a_suspect_once_per_key_and_sets_a_status(web: TestClient) -> None:
    app, ref = _app(web), "SUS-2024-3"
    _case(web, ref, suspect=False)
    web.cookies.clear()
    auth = bearer(app, "u_investigator")
    body = {"identifiers": [["phone", "010-0000-0000"]], "age_band": "20s"}
    headers = {**auth, "idempotency-key": "suspect-retry-0000001"}
    first = web.post(f"/api/cases/{ref}/suspects", json=body, headers=headers)
    again = web.post(f"/api/cases/{ref}/suspects", json=body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert again.json()["repeat"]
    assert list(_suspects(app, ref)) == ["S1"]
    r = web.post(f"/api/cases/{ref}/suspects/S1/status", json={"status": "referred"}, headers=auth)
    assert r.status_code == 200 and r.json() == {"case": ref, "suspect": "S1", "status": "referred"}
    bad = web.post(
        f"/api/cases/{ref}/suspects/S9/status", json={"status": "detained"}, headers=auth
    )
    assert bad.status_code == 400 and "S9" in bad.text


FACE = {"/cases/{ref}/victims/V1/face": {"subject": "SUBJ-1"}}


def _victim(web: TestClient, ref: str, *, consent: bool) -> int:
    from haechi.cases.people import add_victim, record_consent

    case_id = _case(web, ref, suspect=False)
    add_victim(_app(web), ref, age=17)
    if consent:
        record_consent(_app(web), ref, "V1", "face_search")
    return case_id


def test_linking_a_victim_to_her_subject_is_refused_outside_the_matrix(web: TestClient) -> None:
    app, ref = _app(web), "FACE-2024-0"
    case_id = _victim(web, ref, consent=True)
    path = f"/cases/{ref}/victims/V1/face"
    refused_outside(web, Perm.CASES_WRITE, "POST", path, {"subject": "SUBJ-1"})
    refused_outside(web, Perm.CASES_WRITE, "POST", f"/api{path}", json={"subject": "SUBJ-1"})
    assert not _events(app, case_id, "case_subject_updated")
    assert not audit.entries(app, action="case_change", subject=f"case:{ref}")


def test_linking_needs_her_face_search_consent_and_happens_once(
    web: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    from haechi.cases import seams
    from haechi.cases.detail import case_detail

    monkeypatch.setattr(seams, "faces_subject_exists", lambda app, ref: ref == "SUBJ-1")
    app = _app(web)
    _victim(web, "FACE-2024-1", consent=False)
    case_id = _victim(web, "FACE-2024-2", consent=True)
    csrf = log_in(web, "u_support_worker")
    form = {"csrf_token": csrf, "subject": "SUBJ-1"}
    refused = web.post("/cases/FACE-2024-1/victims/V1/face", data=form)
    assert refused.status_code == 400 and refused.text.count('id="case-error"') == 1
    assert "face search" in refused.text
    unknown = web.post("/cases/FACE-2024-2/victims/V1/face", data={**form, "subject": "SUBJ-9"})
    assert unknown.status_code == 400 and "SUBJ-9" in unknown.text
    action = "/cases/FACE-2024-2/victims/V1/face"
    first, again = web.post(action, data=form), web.post(action, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == "/cases/FACE-2024-2#victims"
    (victim,) = case_detail(app, "FACE-2024-2").victims
    assert victim.faces_subject_ref == "SUBJ-1"
    assert len(_events(app, case_id, "case_subject_updated")) == 1
    (entry,) = audit.entries(app, action="case_change", subject="case:FACE-2024-2")
    assert entry.username == "u_support_worker" and entry.detail["did"] == "victim_face"
    shown = web.get("/cases/FACE-2024-2", headers={"accept-language": "ko"}).text
    assert "얼굴 대상자 연결" in shown and "SUBJ-1" in shown
    web.cookies.clear()
    r = web.post(f"/api{action}", json={"subject": "SUBJ-1"}, headers=bearer(app, "u_investigator"))
    assert r.status_code == 200 and r.json()["subject"] == "SUBJ-1"
    assert len(_events(app, case_id, "case_subject_updated")) == 1
