"""The record of what was collected and whether it holds, in the browser and the API as on
the command line: the sources (``haechi sources``), the custody log as JSON Lines and its
public key (``haechi custody export`` / ``public-key``: logged exports, checkable offline),
and the integrity check (``haechi verify``) as a background job started from ``/custody``.
Each is refused to anonymous visitors and to every role outside the permission matrix; a
double submit starts one check; times show in UTC with KST beside them."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from tests.test_ingest_incomplete import _ingest, _write_export
from tests.web.analyst_kit import app_of, staffed_web
from tests.web.conftest import log_in
from tests.web.counsellor_kit import custody_events, form_key

from haechi.app import App
from haechi.auth import audit
from haechi.auth.accounts import find_user
from haechi.auth.roles import MATRIX, Perm, Role
from haechi.auth.sessions import create_token
from haechi.auth.types import cli_actor
from haechi.domain import ExportParseError
from haechi.jobs.worker import run_job
from haechi.run.sources import list_sources
from haechi.store.custody import iter_jsonl_events, verify_chain
from haechi.store.keys import load_verifier

# (page, API route, permission): every download and list of this module
READS = [
    ("/sources", "/api/sources", Perm.ARCHIVE_READ),
    ("/custody/log.jsonl", "/api/custody/log.jsonl", Perm.AUDIT_READ),
    ("/custody/public-key.pem", "/api/custody/public-key", Perm.CUSTODY_READ),
]


@pytest.fixture(scope="module")
def web(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """One data directory for the module (SQLite): an export refused part-way, then the
    corrected one; one account per role."""
    from haechi.app import init_home

    tmp = tmp_path_factory.mktemp("records")
    app = init_home(tmp / "home")
    try:
        with pytest.raises(ExportParseError):
            _ingest(app, _write_export(tmp / "broken", cut_at=0.5))
        _ingest(app, _write_export(tmp / "fixed"))
        with staffed_web(app) as client:
            yield client
    finally:
        app.close()


@pytest.fixture(scope="module")
def tokens(web: TestClient) -> dict[Role, dict[str, str]]:
    """An API token's header per role, made once for the module."""
    app, made = app_of(web), {}
    for role in Role:
        user = find_user(app, f"u_{role.value}")
        made[role] = {
            "authorization": "Bearer "
            + create_token(app, user, "t", days=1, actor=cli_actor("test"))[0]
        }
    return made


def _exports(app: App, what: str) -> list[audit.AuditRecord]:
    return [e for e in audit.entries(app, action=audit.EXPORT) if e.detail.get("what") == what]


@pytest.mark.parametrize(("page", "api", "perm"), READS)
def test_anonymous_and_roles_outside_the_matrix_are_refused(
    web: TestClient, tokens: dict[Role, dict[str, str]], page: str, api: str, perm: Perm
) -> None:
    app = app_of(web)
    before = len(audit.entries(app, action=audit.EXPORT))
    web.cookies.clear()
    anonymous = web.get(page)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert web.get(api).status_code == 401
    for role in Role:
        if role in MATRIX[perm]:
            continue
        assert web.get(api, headers=tokens[role]).status_code == 403, role
        csrf = log_in(web, f"u_{role.value}")
        assert web.get(page).status_code == 403, role
        assert f'href="{page}"' not in web.get("/me").text  # no link to a refused page
        web.post("/logout", data={"csrf_token": csrf})
    assert len(audit.entries(app, action=audit.EXPORT)) == before  # nothing went out


def test_sources_complete_or_incomplete_and_why_in_both_languages(
    web: TestClient, tokens: dict[Role, dict[str, str]]
) -> None:
    app = app_of(web)
    failed, fixed = list_sources(app)
    assert failed.status == "failed" and failed.failure_offset and fixed.complete
    log_in(web, "u_support_worker")
    page = web.get("/sources").text
    assert 'href="/sources"' in page  # in the navigation of the roles that read the archive
    row = page[page.index(f'id="source-{failed.id}"') :].split("</tr>")[0]
    assert "incomplete" in row and f"Stopped at byte {failed.failure_offset:,}:" in row
    assert failed.failure_reason and failed.failure_reason[:20] in row
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC · [\d: -]+ KST", row)
    done = page[page.index(f'id="source-{fixed.id}"') :].split("</tr>")[0]
    assert ">complete<" in done and f">{fixed.files:,}<" in done
    assert page.index(f'id="source-{fixed.id}"') < page.index(f'id="source-{failed.id}"')
    korean = web.get("/sources", headers={"accept-language": "ko"}).text
    assert "수집 출처" in korean and "불완전" in korean and "바이트에서 멈춤" in korean
    api = web.get("/api/sources", headers=tokens[Role.INVESTIGATOR]).json()
    assert api == [s.as_dict() for s in list_sources(app)]  # as `haechi sources --json`


def test_the_auditor_downloads_the_log_and_key_and_checks_them_offline(
    web: TestClient, tokens: dict[Role, dict[str, str]], tmp_path: Path
) -> None:
    app = app_of(web)
    log_in(web, "u_auditor")
    page = web.get("/custody").text
    assert 'id="custody-export"' in page and 'id="verify-form"' in page
    key = web.get("/custody/public-key.pem")
    assert key.status_code == 200 and key.content.startswith(b"-----BEGIN PUBLIC KEY-----")
    assert "attachment" in key.headers["content-disposition"]
    first, again = web.get("/custody/log.jsonl"), web.get("/custody/log.jsonl")
    assert first.status_code == again.status_code == 200
    digest = hashlib.sha256(first.content).hexdigest()
    assert first.headers["x-content-sha256"] == digest
    assert ".jsonl" in first.headers["content-disposition"]

    (tmp_path / "key.pem").write_bytes(key.content)
    lines = first.content.decode().splitlines()
    report = verify_chain(iter_jsonl_events(lines), load_verifier([tmp_path / "key.pem"]))
    assert report.ok and report.events == len(lines)
    # Each download is an export on the trail under the person's name, and the log's own
    # export event holds the file's digest; the next download holds that event.
    mine, second = custody_events(app, "export")[-2:]
    assert mine["data"]["sha256"] == digest
    assert mine["actor"] == second["actor"] == "u_auditor (web)"
    assert mine["data"]["events"] == len(lines) and mine["data"]["path"] is None
    assert json.loads(json.loads(again.content.decode().splitlines()[-1])["body"]) == mine
    logs = _exports(app, "custody_log")
    assert len(logs) == 2 and {e.username for e in logs} == {"u_auditor"}
    assert _exports(app, "custody_public_key")[0].username == "u_auditor"
    # The API: the same files for a bearer token.
    headers = tokens[Role.ADMIN]
    assert web.get("/api/custody/public-key", headers=headers).content == key.content
    api = web.get("/api/custody/log.jsonl", headers=headers)
    assert api.status_code == 200 and api.content.startswith(first.content)
    assert _exports(app, "custody_log")[0].username == "u_admin"


def test_the_integrity_check_runs_once_per_submit_and_names_what_is_broken(
    web: TestClient, tokens: dict[Role, dict[str, str]]
) -> None:
    app = app_of(web)
    for role in Role:  # the form's route, for every role outside the matrix
        if role in MATRIX[Perm.AUDIT_READ]:
            continue
        csrf = log_in(web, f"u_{role.value}")
        r = web.post("/custody/verify", data={"csrf_token": csrf, "key": "v" * 24})
        assert r.status_code == 403, role
        api = web.post("/api/jobs", json={"kind": "verify"}, headers=tokens[role])
        assert api.status_code == 403, role
        web.post("/logout", data={"csrf_token": csrf})
    web.cookies.clear()
    anonymous = web.post("/custody/verify", data={"key": "v" * 24})
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")

    csrf = log_in(web, "u_auditor")
    form = {"csrf_token": csrf, "key": form_key(web.get("/custody").text, "/custody/verify")}
    assert web.post("/custody/verify", data={**form, "csrf_token": "forged"}).status_code == 403
    first, again = web.post("/custody/verify", data=form), web.post("/custody/verify", data=form)
    assert first.status_code == again.status_code == 303
    assert first.headers["location"] == again.headers["location"]
    job_id = int(first.headers["location"].rsplit("/", 1)[1])
    assert [e.detail.get("job_id") for e in audit.entries(app, action="job_start")] == [job_id]
    queued = web.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
    assert "job-queued" in queued and 'hx-trigger="every 1s"' in queued  # followed on reload

    assert run_job(app, job_id)
    part = web.get(f"/jobs/{job_id}", headers={"hx-request": "true"}).text
    assert "job-done" in part and "Intact." in part and 'class="verify-problems"' not in part
    (event,) = custody_events(app, "verification")
    assert event["actor"] == "u_auditor (web)" and event["data"]["ok"] is True
    result = web.get(f"/jobs/{job_id}/result")
    assert result.status_code == 200 and json.loads(result.content)["ok"] is True
    assert "무결성 검사" in web.get(f"/jobs/{job_id}", headers={"accept-language": "ko"}).text
    assert f'id="job-{job_id}"' in web.get("/custody").text  # the newest checks, on /custody

    # A stored file altered behind the archive's back: the next check names it.
    sha = next(app.vault.iter_objects())
    path = app.vault.path_for(sha)
    kept = path.read_bytes()
    path.chmod(0o600)
    path.write_bytes(kept[:-1] + bytes([kept[-1] ^ 1]))
    try:
        made = web.post("/api/jobs", json={"kind": "verify"}, headers=tokens[Role.ADMIN])
        assert made.status_code == 201
        assert run_job(app, made.json()["id"])
        shown = web.get(f"/jobs/{made.json()['id']}", headers={"hx-request": "true"}).text
    finally:
        path.write_bytes(kept)
    assert "Problems found." in shown and sha in shown and 'class="verify-problems"' in shown
