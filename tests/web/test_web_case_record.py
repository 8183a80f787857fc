"""A case's notes, assignee, tags, withdrawn items and a victim's minor flag from its
page and the JSON API, as ``haechi case note``, ``assign``, ``tag``, ``withdraw`` and
``minor``:
permission-checked (anonymous visitors and roles without ``cases.write`` are refused),
CSRF-protected, done once however often the form is sent, recorded under the acting
person's name, its time in UTC with KST beside it."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from tests.web.analyst_kit import bearer, refused_outside
from tests.web.conftest import PASSWORD, client_of, log_in
from tests.web.counsellor_kit import add_staff, form_key

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm, Role
from haechi.services import integrations
from haechi.store.models import CustodyEvent
from haechi.web.settings import WebSettings

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
REF = "NOTE-2024-1"
NOTE = "피해자 상담 2회차: 삭제 요청 동의 확인"  # fictional
ACTIONS = [f"/cases/{REF}/notes", f"/api/cases/{REF}/notes"]
LINK = "https://t.me/example_reposts/7"  # fictional
FINDING = "note:successor room announced in the old one"  # fictional
# Every route of this module with a body that would change the case.
CHANGES = {
    **{path: {"text": NOTE} for path in ACTIONS},
    f"/cases/{REF}/assign": {"assignee": "lee"},
    f"/api/cases/{REF}/assign": {"assignee": "lee"},
    f"/cases/{REF}/unit": {"unit": "cyber-2"},
    f"/cases/{REF}/links": {"url": LINK},
    f"/api/cases/{REF}/links": {"url": LINK},
    f"/cases/{REF}/findings": {"finding": FINDING},
    f"/api/cases/{REF}/findings": {"finding": FINDING},
    f"/api/cases/{REF}/unit": {"unit": "cyber-2"},
    f"/cases/{REF}/tags": {"add": "urgent"},
    f"/api/cases/{REF}/tags": {"add": ["urgent"]},
    f"/cases/{REF}/items/1/withdraw": {"reason": "posted twice"},
    f"/api/cases/{REF}/items/1/withdraw": {"reason": "posted twice"},
    f"/cases/{REF}/victims/V1/minor": {"minor": "true"},
    f"/api/cases/{REF}/victims/V1/minor": {"minor": True},
}


def _events(app: App, case_id: int, kind: str) -> list[dict[str, object]]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body).where(
                CustodyEvent.subject == f"case:{case_id}", CustodyEvent.event_type == kind
            )
        ).scalars()
        return [json.loads(b) for b in bodies]


@pytest.fixture
def web(app: App) -> Iterator[TestClient]:
    from haechi.cases.items import add_link
    from haechi.cases.service import create_case

    create_case(app, "Notes", ref=REF)
    add_link(app, REF, "https://t.me/example_channel/41")  # item 1
    add_link(app, REF, "https://t.me/example_channel/42")  # item 2
    for role in Role:
        add_staff(app, f"u_{role.value}", role.value)
    with client_of(app, WebSettings(run_jobs=False)) as client:
        yield client


@pytest.mark.parametrize("path", sorted(CHANGES))
def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient, path: str) -> None:
    from haechi.cases.service import get_summary

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    body = CHANGES[path]
    if path.startswith("/api"):
        refused_outside(web, Perm.CASES_WRITE, "POST", path, json=body)
    else:
        refused_outside(web, Perm.CASES_WRITE, "POST", path, body)
    summary = get_summary(app, REF)
    assert not _events(app, summary.id, "case_note_added") and summary.assignee is None
    assert not summary.tags and summary.unit is None and summary.items == 2
    assert not _events(app, summary.id, "case_item_withdrawn")
    assert not _events(app, summary.id, "case_subject_updated")
    assert not audit.entries(app, action="case_change")


def test_a_note_from_the_page_once_under_the_persons_name(web: TestClient) -> None:
    from haechi.cases.service import get_summary

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_support_worker")
    page = web.get(f"/cases/{REF}").text
    form = {"csrf_token": csrf, "key": form_key(page, 'id="note-form"'), "text": NOTE}
    first, again = web.post(ACTIONS[0], data=form), web.post(ACTIONS[0], data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"] == f"/cases/{REF}#notes"
    forged = web.post(ACTIONS[0], data={**form, "csrf_token": "forged", "key": "n" * 24})
    assert forged.status_code == 403
    empty = web.post(ACTIONS[0], data={**form, "key": "e" * 24, "text": "  "})
    assert empty.status_code == 400 and "cannot be empty" in empty.text

    case_id = get_summary(app, REF).id
    (event,) = _events(app, case_id, "case_note_added")
    assert event["actor"] == "u_support_worker (web)"
    assert NOTE not in json.dumps(event, ensure_ascii=False)  # the log keeps its hash only
    (entry,) = audit.entries(app, action="case_change")
    assert entry.username == "u_support_worker" and entry.detail["did"] == "case_note"

    shown = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert NOTE in shown and "메모" in shown
    assert re.search(
        r'id="note-\d+"><span class="muted">\d{4}-\d\d-\d\d \d\d:\d\d UTC · [\d: -]+ KST · ', shown
    )


def test_a_note_through_the_api_once_per_idempotency_key(web: TestClient) -> None:
    from haechi.cases.detail import case_detail

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    headers = {**bearer(app, "u_investigator"), "idempotency-key": "note-retry-0000001"}
    first = web.post(ACTIONS[1], json={"text": NOTE}, headers=headers)
    again = web.post(ACTIONS[1], json={"text": NOTE}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == {"location": f"/api/cases/{REF}", "repeat": False}
    assert again.json()["repeat"] is True
    assert (
        web.post(ACTIONS[1], json={"text": ""}, headers=bearer(app, "u_investigator")).status_code
        == 400
    )
    (note,) = case_detail(app, REF).notes
    assert note.text == NOTE and note.author == "u_investigator (api)"
    got = web.get(f"/api/cases/{REF}", headers=bearer(app, "u_investigator")).json()
    assert [n["text"] for n in got["notes"]] == [NOTE]


def test_assigning_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.service import get_summary

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_investigator")
    assert 'id="assign-form"' in web.get(f"/cases/{REF}").text
    path = f"/cases/{REF}/assign"
    for _ in range(2):  # the same assignee twice: one change
        r = web.post(path, data={"csrf_token": csrf, "assignee": " 김수사 "})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}"
    assert web.post(path, data={"csrf_token": "forged", "assignee": "x"}).status_code == 403
    too_long = web.post(path, data={"csrf_token": csrf, "assignee": "x" * 129})
    assert too_long.status_code in (400, 422)
    summary = get_summary(app, REF)
    assert summary.assignee == "김수사"
    (entry,) = audit.entries(app, action="case_change")
    assert entry.detail == {"did": "case_assign", "assignee": "김수사", "previous": None}
    changes = [e for e in _events(app, summary.id, "case_updated") if "assignee" in json.dumps(e)]
    (event,) = changes
    assert event["actor"] == "u_investigator (web)"
    assert "김수사" in web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text

    api = web.post(
        f"/api/{path[1:]}", json={"assignee": None}, headers=bearer(app, "u_support_worker")
    )
    assert api.status_code == 200 and api.json() == {"case": REF, "assignee": None}
    assert get_summary(app, REF).assignee is None
    assert len(audit.entries(app, action="case_change")) == 2


def test_tagging_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.service import get_summary

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_support_worker")
    path = f"/cases/{REF}/tags"
    for _ in range(2):  # the same tags twice: one change
        r = web.post(path, data={"csrf_token": csrf, "add": "긴급 dsa-2024, minor"})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}"
    assert web.post(path, data={"csrf_token": "forged", "add": "x"}).status_code == 403
    bad = web.post(path, data={"csrf_token": csrf, "add": "<b>"})
    assert bad.status_code == 400 and "is not a valid tag" in bad.text
    assert get_summary(app, REF).tags == ("dsa-2024", "minor", "긴급")
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert 'id="tag-form"' in page and 'name="remove" value="긴급"' in page
    r = web.post(path, data={"csrf_token": csrf, "remove": "minor"})
    assert r.status_code == 303 and get_summary(app, REF).tags == ("dsa-2024", "긴급")
    logged = audit.entries(app, action="case_change")
    assert [e.detail["did"] for e in logged] == ["case_tags", "case_tags"]
    summary = get_summary(app, REF)
    changes = [e for e in _events(app, summary.id, "case_updated") if "tags" in json.dumps(e)]
    assert len(changes) == 2 and {e["actor"] for e in changes} == {"u_support_worker (web)"}

    token = bearer(app, "u_investigator")
    api = web.post(f"/api{path}", json={"add": ["referred"], "remove": ["긴급"]}, headers=token)
    assert api.status_code == 200 and api.json() == {"case": REF, "tags": ["dsa-2024", "referred"]}
    assert web.post(f"/api{path}", json={"add": ["a b"]}, headers=token).status_code == 400


def test_withdrawing_an_item_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.detail import case_detail

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_support_worker")
    page = web.get(f"/cases/{REF}").text
    assert 'id="withdraw-1"' in page and 'id="withdraw-2"' in page
    path = f"/cases/{REF}/items/1/withdraw"
    no_reason = web.post(path, data={"csrf_token": csrf, "reason": " "})
    assert no_reason.status_code == 400 and "Say why the item is withdrawn" in no_reason.text
    assert web.post(path, data={"csrf_token": "forged", "reason": "x"}).status_code == 403
    for _ in range(2):  # withdrawn twice: one change
        r = web.post(path, data={"csrf_token": csrf, "reason": "posted twice"})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}#items"
    unknown = web.post(f"/cases/{REF}/items/99/withdraw", data={"csrf_token": csrf, "reason": "x"})
    assert unknown.status_code == 400 and "has no item 99" in unknown.text
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert 'id="withdraw-1"' not in page and "철회됨" in page and 'id="withdraw-2"' in page

    detail = case_detail(app, REF)
    assert [i.withdrawn for i in detail.items] == [True, False]
    (event,) = _events(app, detail.id, "case_item_withdrawn")
    assert event["actor"] == "u_support_worker (web)" and "posted twice" not in json.dumps(event)
    (entry,) = audit.entries(app, action="case_change")
    assert entry.detail == {"did": "item_withdraw", "item_id": 1}

    token = bearer(app, "u_investigator")
    api = web.post(f"/api/cases/{REF}/items/2/withdraw", json={"reason": "not her"}, headers=token)
    assert api.status_code == 200 and api.json() == {"case": REF, "item": 2, "withdrawn": True}
    assert all(i.withdrawn for i in case_detail(app, REF).items)


def test_a_victims_minor_flag_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.detail import case_detail
    from haechi.cases.for_subject import VictimDetails, add_victim

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    assert add_victim(app, REF, VictimDetails(), display_name="한지우") == "V1"  # fictional
    csrf = log_in(web, "u_support_worker")
    assert 'id="minor-V1"' in web.get(f"/cases/{REF}").text
    path = f"/cases/{REF}/victims/V1/minor"
    assert web.post(path, data={"csrf_token": "forged", "minor": "true"}).status_code == 403
    for _ in range(2):  # the same flag twice: one change
        r = web.post(path, data={"csrf_token": csrf, "minor": "true"})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}#victims"
    unknown = web.post(f"/cases/{REF}/victims/V9/minor", data={"csrf_token": csrf, "minor": "1"})
    assert unknown.status_code == 400 and "no victim" in unknown.text
    (victim,) = case_detail(app, REF).victims
    assert victim.is_minor
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert "미성년자 아님" in page and "한지우" not in page  # her name stays redacted
    (event,) = _events(app, case_detail(app, REF).id, "case_subject_updated")
    assert event["actor"] == "u_support_worker (web)"
    (entry,) = audit.entries(app, action="case_change")
    assert entry.detail == {"did": "victim_minor", "victim": "V1", "minor": True}

    token = bearer(app, "u_investigator")
    api = web.post(f"/api{path}", json={"minor": False}, headers=token)
    assert api.status_code == 200 and api.json() == {"case": REF, "victim": "V1", "minor": False}
    assert not case_detail(app, REF).victims[0].is_minor
    assert len(audit.entries(app, action="case_change")) == 2


def test_moving_a_case_to_another_unit_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.auth.accounts import add_user
    from haechi.auth.types import cli_actor
    from haechi.cases.service import get_summary

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    add_user(app, "u_lead", PASSWORD, "investigator", actor=cli_actor("test"),
             reason="test account", all_units=True)  # fmt: skip
    path = f"/cases/{REF}/unit"
    csrf = log_in(web, "u_investigator")  # sees only the default unit: refused, no form
    assert 'id="unit-form"' not in web.get(f"/cases/{REF}").text
    own = web.post(path, data={"csrf_token": csrf, "unit": "cyber-2"})
    assert own.status_code == 400 and "Only someone who sees every unit" in own.text
    assert get_summary(app, REF).unit is None

    csrf = log_in(web, "u_lead")
    assert 'id="unit-form"' in web.get(f"/cases/{REF}").text
    assert web.post(path, data={"csrf_token": "forged", "unit": "x"}).status_code == 403
    bad = web.post(path, data={"csrf_token": csrf, "unit": "<b>"})
    assert bad.status_code == 400 and "is not a unit name" in bad.text
    for _ in range(2):  # the same unit twice: one change
        r = web.post(path, data={"csrf_token": csrf, "unit": " 사이버 2팀 "})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}"
    summary = get_summary(app, REF)
    assert summary.unit == "사이버 2팀"
    (entry,) = audit.entries(app, action="case_change")
    assert entry.username == "u_lead"
    assert entry.detail == {"did": "case_unit", "unit": "사이버 2팀", "previous": None}
    moves = [e for e in _events(app, summary.id, "case_updated") if '"unit"' in json.dumps(e)]
    (event,) = moves
    assert event["actor"] == "u_lead (web)"
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert "이 부서로 이관" in page and '<bdi translate="no">사이버 2팀</bdi>' in page

    api = web.post(f"/api{path}", json={"unit": None}, headers=bearer(app, "u_lead"))
    assert api.status_code == 200 and api.json() == {"case": REF, "unit": None}
    assert get_summary(app, REF).unit is None
    assert len(audit.entries(app, action="case_change")) == 2
    refused = web.post(f"/api{path}", json={"unit": "x"}, headers=bearer(app, "u_investigator"))
    assert refused.status_code == 400


def test_a_reported_link_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.detail import case_detail

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_support_worker")
    assert 'id="link-form"' in web.get(f"/cases/{REF}").text
    path = f"/cases/{REF}/links"
    assert web.post(path, data={"csrf_token": "forged", "url": LINK}).status_code == 403
    bad = web.post(path, data={"csrf_token": csrf, "url": "javascript:alert(1)"})
    assert bad.status_code == 400 and "is not an http(s) URL" in bad.text
    for _ in range(2):  # the same link twice: one item
        r = web.post(path, data={"csrf_token": csrf, "url": f" {LINK} ", "note": "피해자 제보"})
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}#items"
    detail = case_detail(app, REF)
    (item,) = [i for i in detail.items if i.url == LINK]
    assert item.kind == "link" and len(detail.items) == 3
    (entry,) = audit.entries(app, action="case_change")
    assert entry.username == "u_support_worker"
    assert entry.detail == {"did": "case_link", "item_id": item.id}
    added = [e for e in _events(app, detail.id, "case_item_added") if LINK in json.dumps(e)]
    assert [e["actor"] for e in added] == ["u_support_worker (web)"]
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert "신고된 링크 추가" in page and f'<bdi class="url" translate="no">{LINK}</bdi>' in page

    token = bearer(app, "u_investigator")
    api = web.post(f"/api{path}", json={"url": "t.me/example_reposts/8"}, headers=token)
    assert api.status_code == 201 and api.json()["added"] is True
    again = web.post(f"/api{path}", json={"url": "t.me/example_reposts/8"}, headers=token)
    assert again.status_code == 200 and again.json() == {**api.json(), "added": False}
    assert web.post(f"/api{path}", json={"url": "ftp://x"}, headers=token).status_code == 400
    assert len(case_detail(app, REF).items) == 4
    assert len(audit.entries(app, action="case_change")) == 2


def test_a_map_finding_from_the_page_and_the_api(web: TestClient) -> None:
    from haechi.cases.detail import case_detail

    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    csrf = log_in(web, "u_investigator")
    assert 'id="finding-form"' in web.get(f"/cases/{REF}").text
    path = f"/cases/{REF}/findings"
    form = {"csrf_token": csrf, "finding": FINDING, "note": "<b>이전 방</b>"}
    assert web.post(path, data={**form, "csrf_token": "forged"}).status_code == 403
    unknown = web.post(path, data={**form, "finding": "chat:999"})
    assert unknown.status_code == 400 and "Nothing in the store is chat:999" in unknown.text
    bad_url = web.post(path, data={**form, "url": "javascript:x"})
    assert bad_url.status_code == 400 and "is not an http(s) URL" in bad_url.text
    for _ in range(2):  # the same finding twice: one item
        r = web.post(path, data=form)
        assert r.status_code == 303 and r.headers["location"] == f"/cases/{REF}#items"
    detail = case_detail(app, REF)
    (item,) = [i for i in detail.items if i.kind == "finding"]
    (entry,) = audit.entries(app, action="case_change")
    assert entry.detail == {"did": "case_finding", "item_id": item.id}
    added = [e for e in _events(app, detail.id, "case_item_added") if "finding" in json.dumps(e)]
    assert [e["actor"] for e in added] == ["u_investigator (web)"]
    page = web.get(f"/cases/{REF}", headers={"accept-language": "ko"}).text
    assert "네트워크 지도 발견 사항 추가" in page and "<b>이전 방</b>" not in page

    token = bearer(app, "u_support_worker")
    body = {"finding": "note:the same wallet in both rooms"}
    api = web.post(f"/api{path}", json=body, headers=token)
    assert api.status_code == 201 and api.json()["added"] is True
    assert web.post(f"/api{path}", json=body, headers=token).json()["added"] is False
    assert web.post(f"/api{path}", json={"finding": "x"}, headers=token).status_code == 400
    assert len(audit.entries(app, action="case_change")) == 2
