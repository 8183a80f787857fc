"""A case's notes from its page and the JSON API, as ``haechi case note``:
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
from tests.web.conftest import client_of, log_in
from tests.web.counsellor_kit import add_staff, form_key

from haechi.app import App
from haechi.auth import audit
from haechi.auth.accounts import find_user
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.services import integrations
from haechi.store.models import CustodyEvent
from haechi.web.settings import WebSettings

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
REF = "NOTE-2024-1"
NOTE = "피해자 상담 2회차: 삭제 요청 동의 확인"  # fictional
ACTIONS = [f"/cases/{REF}/notes", f"/api/cases/{REF}/notes"]


def _events(app: App, case_id: int, kind: str) -> list[dict[str, object]]:
    with app.db.connect() as conn:
        bodies = conn.execute(
            select(CustodyEvent.body).where(
                CustodyEvent.subject == f"case:{case_id}", CustodyEvent.event_type == kind
            )
        ).scalars()
        return [json.loads(b) for b in bodies]


def _bearer(app: App, name: str) -> dict[str, str]:
    secret, _ = create_token(app, find_user(app, name), "test", days=1, actor=cli_actor("test"))
    return {"authorization": f"Bearer {secret}"}


@pytest.fixture
def web(app: App) -> Iterator[TestClient]:
    from haechi.cases.service import create_case

    create_case(app, "Notes", ref=REF)
    for role in Role:
        add_staff(app, f"u_{role.value}", role.value)
    with client_of(app, WebSettings(run_jobs=False)) as client:
        yield client


@pytest.mark.parametrize("path", ACTIONS)
def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient, path: str) -> None:
    app: App = web.app.state.haechi  # type: ignore[attr-defined]
    anonymous = web.post(path, data={"text": NOTE}) if "/api" not in path else None
    if anonymous is not None:
        assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    else:
        assert web.post(path, json={"text": NOTE}).status_code == 401
    for role in Role:
        if role in MATRIX[Perm.CASES_WRITE]:
            continue
        if "/api" in path:
            r = web.post(path, json={"text": NOTE}, headers=_bearer(app, f"u_{role.value}"))
        else:
            csrf = log_in(web, f"u_{role.value}")
            r = web.post(path, data={"csrf_token": csrf, "text": NOTE, "key": "k" * 24})
            web.post("/logout", data={"csrf_token": csrf})
        assert r.status_code == 403, (role, r.status_code)
    assert not _events(app, 1, "case_note_added")


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
    headers = {**_bearer(app, "u_investigator"), "idempotency-key": "note-retry-0000001"}
    first = web.post(ACTIONS[1], json={"text": NOTE}, headers=headers)
    again = web.post(ACTIONS[1], json={"text": NOTE}, headers=headers)
    assert first.status_code == 201 and again.status_code == 200
    assert first.json() == {"location": f"/api/cases/{REF}", "repeat": False}
    assert again.json()["repeat"] is True
    assert (
        web.post(ACTIONS[1], json={"text": ""}, headers=_bearer(app, "u_investigator")).status_code
        == 400
    )
    (note,) = case_detail(app, REF).notes
    assert note.text == NOTE and note.author == "u_investigator (api)"
    got = web.get(f"/api/cases/{REF}", headers=_bearer(app, "u_investigator")).json()
    assert [n["text"] for n in got["notes"]] == [NOTE]
