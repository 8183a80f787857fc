"""Issue 13, point 1, the parts the counsellor's whole-flow test does not walk: the consent's
form number, relation and expiry entered at enrolment and shown on her page; a candidate
rejected on the face-confirmation page (recorded once, with who and when, and kept out of
her case); and her case extended, not opened again, with files confirmed later."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import (
    add_staff,
    custody_events,
    face_search,
    follow_enrolment,
    form_key,
    load_faces_demo,
)

from haechi.app import App
from haechi.services import integrations
from haechi.web.settings import WebSettings

pytest.importorskip("dlib")
pytestmark = pytest.mark.skipif(
    not (integrations.available("subjects") and integrations.available("cases")),
    reason="the faces and cases capabilities are not installed",
)
WORKER = "park"


def _decide(web, csrf: str, search_id: int, sha: str, decision: str) -> str:  # type: ignore[no-untyped-def]
    r = web.post(
        f"/face-searches/{search_id}/candidates/{sha}/decision",
        data={"decision": decision}, headers={"x-csrf-token": csrf},
    )  # fmt: skip
    assert r.status_code == 200, r.text
    return str(r.text)


def test_reject_one_then_open_and_extend_her_case(sqlite_app: App, tmp_path: Path) -> None:
    from haechi.cases.detail import case_detail
    from haechi.cases.service import list_cases
    from haechi.demo.faces_export import reference_photo

    app = sqlite_app
    load_faces_demo(app, tmp_path)
    add_staff(app, WORKER, "support_worker")
    with client_of(app, WebSettings(run_jobs=False)) as web:
        csrf = log_in(web, WORKER)
        key = re.search(r'name="key" value="([^"]+)"', web.get("/subjects/new").text)
        assert key
        r = web.post(
            "/subjects/enrol",
            data={"key": key.group(1), "label": "V-2024-031", "given_by": "김하늘 (fictional)",
                  "relation": "guardian", "given_at": "2024-09-01", "valid_until": "2030-08-31",
                  "scope": ["search"], "reference": "FORM-2024-0931"},
            files=[("photos", ("reference.png", reference_photo(), "image/png"))],
            headers={"x-csrf-token": csrf, "hx-request": "true"},
        )  # fmt: skip
        status, text = follow_enrolment(web, r)  # the enrol job, to her page
        err = re.search(r'id="enrol-error"[^>]*>(.*?)<', text, re.S)
        assert status == 200 and 'id="subject-title"' in text, err and err.group(1)
        sid = int(re.search(r'action="/subjects/(\d+)/search"', text).group(1))  # type: ignore[union-attr]
        row = re.search(r'<tr class="consent-row">(.*?)</tr>', text, re.S)
        assert row, text
        assert "FORM-2024-0931" in row.group(1) and "2030-08-31" in row.group(1)
        assert "Guardian" in row.group(1) or "guardian" in row.group(1).lower()
        assert "김하늘" not in text

        r = face_search(web, csrf, sid, "she asked us to find her photos")
        assert r.status_code == 303
        search_id = int(r.headers["location"].rsplit("/", 1)[1])
        shas = re.findall(r'data-sha="([0-9a-f]{64})"', web.get(r.headers["location"]).text)
        assert len(shas) >= 4
        not_her, first, later = shas[0], shas[1:3], shas[3:]

        # rejected twice: one record, with who and when on the card
        card = _decide(web, csrf, search_id, not_her, "rejected")
        assert _decide(web, csrf, search_id, not_her, "rejected").count("decided-rejected") == 1
        assert "decided-rejected" in card
        decision = re.search(r'<p class="decision">(.*?)</p>', card, re.S)
        assert decision and "Rejected" in decision.group(1) and WORKER in decision.group(1)
        assert re.search(r"\d{4}-\d{2}-\d{2}", decision.group(1)), decision.group(1)
        reviewed = custody_events(app, "face_candidate_reviewed")
        assert len(reviewed) == 1 and reviewed[0]["data"]["staff"] == f"{WORKER} (web)"
        for sha in first:
            _decide(web, csrf, search_id, sha, "confirmed")

        # her case from the two confirmed files; the rejected one stays out
        review = web.get(f"/face-searches/{search_id}").text
        form = {"csrf_token": csrf, "key": form_key(review, f"/face-searches/{search_id}/case"),
                "age": "24", "given_by": "subject", "method": "written",
                "consent_on": "2024-09-01"}  # fmt: skip
        # a counsellor working in Korean, no title typed: the default title is Korean too
        opened = web.post(
            f"/face-searches/{search_id}/case", data=form, headers={"accept-language": "ko"}
        )
        assert opened.status_code == 303
        ref = opened.headers["location"].rsplit("/", 1)[1]
        items = {i.blob_sha256 for i in case_detail(app, ref).active_items()}
        assert items == set(first)
        (victim,) = case_detail(app, ref).victims
        assert case_detail(app, ref).summary.title == f"삭제 요청: {victim.faces_subject_ref}"

        # later the rest are confirmed; the same page extends her case (chosen in the list)
        for sha in later:
            _decide(web, csrf, search_id, sha, "confirmed")
        review = web.get(f"/face-searches/{search_id}").text
        assert f'<option value="{ref}" selected' in review  # her case is offered first
        form = {"csrf_token": csrf, "key": form_key(review, f"/face-searches/{search_id}/case"),
                "case": ref}  # fmt: skip
        extended = web.post(f"/face-searches/{search_id}/case", data=form)
        assert extended.status_code == 303 and extended.headers["location"] == f"/cases/{ref}"
    assert len(list_cases(app)) == 1
    items = {i.blob_sha256 for i in case_detail(app, ref).active_items()}
    assert items == set(first) | set(later) and not_her not in items
