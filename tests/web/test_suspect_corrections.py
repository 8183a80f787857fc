"""An identifier added to a recorded suspect, and a recorded apprehension (검거) or
detention (구속) time corrected with its reason, through the one service
(``cases.people``) the command line (``haechi case suspect-identifier``,
``suspect-correct``), the case's page and the JSON API call: refused to anonymous visitors
and to every role without ``cases.write``, CSRF-protected, done once however often it is
sent, the earlier time kept in the custody event and the audit entry (what a court may
have seen is never silently overwritten), identifier kinds shown translated in Korean.
One SQLite data directory for the module; each test its own case."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.helpers import haechi_here
from tests.web.analyst_kit import app_of as _app
from tests.web.analyst_kit import bearer, module_web, refused_outside
from tests.web.conftest import log_in
from tests.web.test_web_case_record import _events

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Perm
from haechi.cases.model import CaseError
from haechi.services import integrations

pytestmark = pytest.mark.skipif(
    not integrations.available("cases"), reason="the cases capability is not installed"
)
CAUGHT = "2024-09-03T10:00+09:00"  # 01:00 UTC
HELD = "2024-09-04T10:00+09:00"


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    with module_web(tmp_path_factory.mktemp("corrections"), ingest=False) as client:
        yield client


def _case(app: App, ref: str, *, status: str | None = "detained") -> int:
    from haechi.cases.people import add_suspect, set_suspect_status
    from haechi.cases.service import create_case, get_summary

    create_case(app, "Corrections", ref=ref)
    add_suspect(app, ref, identifiers=[("telegram_id", "123456789")])
    if status:
        set_suspect_status(app, ref, "S1", "apprehended", at=CAUGHT)
        if status == "detained":
            set_suspect_status(app, ref, "S1", "detained", at=HELD)
    return get_summary(app, ref).id


def _s1(app: App, ref: str) -> object:
    from haechi.cases.detail import case_detail

    return case_detail(app, ref).suspects[0]


def _updates(app: App, case_id: int, key: str) -> list[dict[str, object]]:
    """The data of the case's ``suspect_updated`` events holding ``key``, with their actor."""
    found = []
    for event in _events(app, case_id, "suspect_updated"):
        data = event["data"]
        assert isinstance(data, dict)
        if key in data:
            found.append({**data, "actor": event["actor"]})
    return found


# -- the service ----------------------------------------------------------------------------
def test_the_service_adds_an_identifier_once_and_identifies_an_unidentified_suspect(
    web: TestClient,
) -> None:
    from haechi.cases.people import add_suspect, add_suspect_identifiers
    from haechi.cases.service import create_case, get_summary

    app, ref = _app(web), "COR-2024-0"
    create_case(app, "Unknown suspect", ref=ref)
    add_suspect(app, ref, age=30)
    case_id = get_summary(app, ref).id
    assert _s1(app, ref).status == "unidentified"  # type: ignore[attr-defined]
    pair = ("telegram_username", "maker_demo_bot_owner")
    assert add_suspect_identifiers(app, ref, "S1", [pair, pair]) == [
        {"kind": "telegram_username", "value": "maker_demo_bot_owner"}
    ]
    assert add_suspect_identifiers(app, ref, "S1", [pair]) == []
    s1 = _s1(app, ref)
    assert s1.status == "identified" and s1.identifiers == (pair,)  # type: ignore[attr-defined]
    (event,) = _updates(app, case_id, "identifiers_added")
    assert (event["from"], event["to"]) == ("unidentified", "identified")
    with pytest.raises(CaseError, match="shoe_size"):
        add_suspect_identifiers(app, ref, "S1", [("shoe_size", "270")])
    with pytest.raises(CaseError, match="S7"):
        add_suspect_identifiers(app, ref, "S7", [pair])


def test_the_service_corrects_a_time_keeping_the_earlier_one(web: TestClient) -> None:
    from haechi.cases.people import correct_suspect_time

    app, ref = _app(web), "COR-2024-1"
    case_id = _case(app, ref)
    before = correct_suspect_time(
        app, ref, "S1", "apprehended", "2024-09-03T09:00+09:00", reason="typed the wrong hour"
    )
    assert before == "2024-09-03T01:00:00Z"
    s1 = _s1(app, ref)
    assert s1.apprehended_at == "2024-09-03T00:00:00Z"  # type: ignore[attr-defined]
    again = correct_suspect_time(
        app, ref, "S1", "apprehended", "2024-09-03T00:00Z", reason="typed the wrong hour"
    )
    assert again is None
    (event,) = _updates(app, case_id, "corrected")
    assert event["corrected"] == "apprehended_at"
    assert (event["from"], event["to"]) == ("2024-09-03T01:00:00Z", "2024-09-03T00:00:00Z")
    assert event["reason"] == "typed the wrong hour"
    for which, at, reason, said in (
        ("apprehended", "2024-09-05T00:00Z", "later", "detained before being apprehended"),
        ("detained", "2024-09-02T00:00Z", "earlier", "detained before being apprehended"),
        ("released", "2024-09-05T00:00Z", "why", "released"),
        ("detained", "2024-09-04T10:00", "no zone", "no time zone"),
        ("detained", "2024-09-04T10:00Z", "  ", "reason"),
    ):
        with pytest.raises(CaseError, match=said):
            correct_suspect_time(app, ref, "S1", which, at, reason=reason)
    _case(app, "COR-2024-1b", status=None)
    with pytest.raises(CaseError, match="no recorded apprehension time"):
        correct_suspect_time(app, "COR-2024-1b", "S1", "apprehended", CAUGHT, reason="x")
    assert len(_updates(app, case_id, "corrected")) == 1


# -- the command line -----------------------------------------------------------------------
def test_the_command_line_adds_an_identifier_and_corrects_a_time(tmp_path: Path) -> None:
    home = tmp_path / "home"

    def ok(*args: str) -> str:
        proc = haechi_here("--operator", "Kim Officer", *args, home=home)
        assert proc.returncode == 0, f"{args}: {proc.stdout}\n{proc.stderr}"
        return proc.stdout

    ok("init", str(home))
    ok("case", "create", "CLI", "--ref", "CLI-1")
    ok("case", "suspect", "CLI-1", "--identifier", "telegram_id=42")
    ok("case", "suspect-status", "CLI-1", "S1", "apprehended", "--at", CAUGHT)
    assert "phone=010-0000-0000" in ok(
        "case", "suspect-identifier", "CLI-1", "S1", "phone=010-0000-0000", "telegram_id=42"
    )
    assert "already" in ok("case", "suspect-identifier", "CLI-1", "S1", "telegram_id=42")
    out = ok("case", "suspect-correct", "CLI-1", "S1", "apprehended", "2024-09-03T11:00+09:00",
             "--reason", "the arrest report says 11:00")  # fmt: skip
    assert "2024-09-03T01:00:00Z" in out
    refused = haechi_here("case", "suspect-correct", "CLI-1", "S1", "detained", CAUGHT,
                          "--reason", "x", home=home)  # fmt: skip
    assert refused.returncode == 2 and "no recorded detention time" in refused.stderr
    shown = json.loads(ok("case", "show", "CLI-1", "--json"))
    (s1,) = shown["suspects"]
    assert s1["apprehended_at"] == "2024-09-03T02:00:00Z"
    assert [list(p) for p in s1["identifiers"]] == [
        ["telegram_id", "42"],
        ["phone", "010-0000-0000"],
    ]
    ok("custody", "export", str(tmp_path / "log.jsonl"))
    lines = (tmp_path / "log.jsonl").read_text(encoding="utf-8").splitlines()
    bodies = [json.loads(json.loads(line)["body"]) for line in lines]
    (corrected,) = [b for b in bodies if "corrected" in b["data"]]
    assert corrected["actor"] == "Kim Officer"
    assert corrected["data"]["from"] == "2024-09-03T01:00:00Z"


# -- the page and the API -------------------------------------------------------------------
def test_anonymous_and_roles_outside_the_matrix_are_refused(web: TestClient) -> None:
    app, ref = _app(web), "COR-2024-2"
    case_id = _case(app, ref)
    changes = {
        f"/cases/{ref}/suspects/S1/identifiers": {"kind": "phone", "value": "010-1"},
        f"/cases/{ref}/suspects/S1/correct": {"which": "detained", "at": CAUGHT, "reason": "x"},
    }
    for path, form in changes.items():
        refused_outside(web, Perm.CASES_WRITE, "POST", path, form)
    refused_outside(web, Perm.CASES_WRITE, "POST", f"/api/cases/{ref}/suspects/S1/identifiers",
                    json={"identifiers": [["phone", "010-1"]]})  # fmt: skip
    fix = {"which": "detained", "at": "2024-09-05T00:00Z", "reason": "x"}
    refused_outside(web, Perm.CASES_WRITE, "POST", f"/api/cases/{ref}/suspects/S1/correct",
                    json=fix)  # fmt: skip
    s1 = _s1(app, ref)
    assert s1.identifiers == (("telegram_id", "123456789"),)  # type: ignore[attr-defined]
    assert s1.detained_at == "2024-09-04T01:00:00Z"  # type: ignore[attr-defined]
    assert not _updates(app, case_id, "corrected") and not _updates(
        app, case_id, "identifiers_added"
    )
    assert not audit.entries(app, action="case_change", subject=f"case:{ref}")


def test_the_page_adds_an_identifier_once_with_its_kind_in_korean(web: TestClient) -> None:
    app, ref = _app(web), "COR-2024-3"
    case_id = _case(app, ref)
    csrf = log_in(web, "u_investigator")
    page = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert f'action="/cases/{ref}/suspects/S1/identifiers"' in page
    assert "텔레그램 사용자 ID" in page and "식별자 추가" in page
    assert '<option value="crypto_wallet">가상자산 지갑</option>' in page
    assert "<code>telegram_username</code> 텔레그램 사용자명" in page  # the add form's kinds
    action = f"/cases/{ref}/suspects/S1/identifiers"
    form = {"csrf_token": csrf, "kind": "crypto_wallet", "value": "TQ1fictional<b>"}
    first, again = web.post(action, data=form), web.post(action, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"/cases/{ref}#suspect-S1"
    assert web.post(action, data={**form, "csrf_token": "forged"}).status_code == 403
    bad = web.post(action, data={**form, "kind": "shoe_size"})
    assert bad.status_code == 400 and bad.text.count('id="case-error"') == 1
    assert len(_s1(app, ref).identifiers) == 2  # type: ignore[attr-defined]
    assert len(_updates(app, case_id, "identifiers_added")) == 1
    (entry,) = audit.entries(app, action="case_change", subject=f"case:{ref}")
    assert entry.username == "u_investigator" and entry.detail["did"] == "suspect_identifier"
    shown = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert "가상자산 지갑" in shown and "TQ1fictional&lt;b&gt;" in shown
    assert '<code translate="no">crypto_wallet</code>' not in shown


def test_the_page_corrects_a_time_once_keeping_the_earlier_one(web: TestClient) -> None:
    app, ref = _app(web), "COR-2024-4"
    case_id = _case(app, ref)
    csrf = log_in(web, "u_support_worker")
    page = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert f'action="/cases/{ref}/suspects/S1/correct"' in page and "기록된 시각 정정" in page
    action = f"/cases/{ref}/suspects/S1/correct"
    form = {"csrf_token": csrf, "which": "detained", "at": "2024-09-04T09:30+09:00",
            "reason": "the warrant was served at 09:30"}  # fmt: skip
    first, again = web.post(action, data=form), web.post(action, data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == f"/cases/{ref}#suspect-S1"
    assert web.post(action, data={**form, "csrf_token": "forged"}).status_code == 403
    early = web.post(action, data={**form, "at": "2024-09-02T00:00Z"})
    assert early.status_code == 400 and early.text.count('id="case-error"') == 1
    blank = web.post(action, data={**form, "at": "2024-09-04T00:00Z", "reason": " "})
    assert blank.status_code == 400
    assert _s1(app, ref).detained_at == "2024-09-04T00:30:00Z"  # type: ignore[attr-defined]
    (event,) = _updates(app, case_id, "corrected")
    assert (event["from"], event["to"]) == ("2024-09-04T01:00:00Z", "2024-09-04T00:30:00Z")
    assert event["actor"] == "u_support_worker (web)"
    (entry,) = audit.entries(app, action="case_change", subject=f"case:{ref}")
    assert entry.username == "u_support_worker" and entry.detail["did"] == "suspect_time_corrected"
    assert entry.detail["previous"] == "2024-09-04T01:00:00Z"
    shown = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    assert "2024-09-04 00:30 UTC · 09:30 KST" in shown


def test_the_api_adds_identifiers_and_corrects_a_time(web: TestClient) -> None:
    app, ref = _app(web), "COR-2024-5"
    case_id = _case(app, ref, status="apprehended")
    web.cookies.clear()
    auth = bearer(app, "u_investigator")
    path = f"/api/cases/{ref}/suspects/S1"
    body = {"identifiers": [["email", "someone@example.org"], ["telegram_id", "123456789"]]}
    first = web.post(f"{path}/identifiers", json=body, headers=auth)
    again = web.post(f"{path}/identifiers", json=body, headers=auth)
    assert (first.status_code, again.status_code) == (201, 200), first.text
    assert first.json()["added"] == [{"kind": "email", "value": "someone@example.org"}]
    assert again.json()["added"] == []
    fix = {"which": "apprehended", "at": "2024-09-03T00:00Z", "reason": "clock was wrong"}
    done = web.post(f"{path}/correct", json=fix, headers=auth)
    assert done.status_code == 200 and done.json() == {
        "case": ref, "suspect": "S1", "which": "apprehended",
        "previous": "2024-09-03T01:00:00Z", "corrected": True,
    }  # fmt: skip
    repeat = web.post(f"{path}/correct", json=fix, headers=auth)
    assert repeat.status_code == 200 and repeat.json()["corrected"] is False
    none = web.post(f"{path}/correct", json={**fix, "which": "detained"}, headers=auth)
    assert none.status_code == 400 and "detention" in none.text
    assert len(_updates(app, case_id, "corrected")) == 1
    assert len(_updates(app, case_id, "identifiers_added")) == 1


def test_a_case_opened_from_the_shell_without_an_operator_reads_in_korean(
    web: TestClient,
) -> None:
    from haechi.cases.acting import acting_as, login_of
    from haechi.cases.service import add_note, create_case, get_summary
    from haechi.config import unnamed

    app, ref = _app(web), "COR-2024-6"
    shell = acting_as(app, unnamed("root"))
    create_case(shell, "From the shell", ref=ref)
    add_note(shell, ref, "opened from the shell")
    assert login_of(unnamed("root")) == "root" and login_of("Kim Officer") is None
    assert login_of(unnamed("")) is None
    log_in(web, "u_investigator")
    page = web.get(f"/cases/{ref}", headers={"accept-language": "ko"}).text
    shown = '<bdi translate="no">root</bdi> (로그인 계정 이름, 지정된 운영자 없음)'
    facts, notes = page.split('class="facts"')[1].split("</dl>")[0], page.split('id="note-')[1]
    assert shown in facts and shown in notes.split("</li>")[0]
    assert "no operator named" not in facts + notes.split("</li>")[0]
    trail = page.split('class="custody"')[1].split("</table>")[0]  # the case's custody trail
    assert shown in trail and "no operator named" not in trail
    english = web.get(f"/cases/{ref}", headers={"accept-language": "en"}).text
    assert '<bdi translate="no">root</bdi> (login name; no operator named)' in english
    from haechi.cases.detail import case_detail

    assert case_detail(app, ref).created_by == unnamed("root")  # the stored value stays
    assert get_summary(app, ref).ref == ref
