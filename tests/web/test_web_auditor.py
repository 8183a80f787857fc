"""The auditor's home is the audit trail, exportable as CSV (the export itself audited, with
its custody event; cells that look like formulas are neutralised); navigation highlights
the page's own item and offers each role only what it may open."""

from __future__ import annotations

import csv
import io
import re

from fastapi.testclient import TestClient
from tests.web.conftest import ROLE_USERS, log_in

from haechi.app import App
from haechi.auth import audit
from haechi.auth.roles import Role
from haechi.auth.types import Actor


def _active(html: str) -> list[str]:
    return re.findall(r'<a href="([^"]+)" class="active" aria-current="page">', html)


def test_the_auditor_lands_on_the_audit_trail_and_exports_it(web: TestClient, loaded: App) -> None:
    # An entry whose subject a spreadsheet would run as a formula.
    audit.record(loaded, Actor(None, "someone", "investigator", "web"), audit.SEARCH, "=2+3")
    log_in(web, ROLE_USERS[Role.AUDITOR])
    home = web.get("/", follow_redirects=True)
    assert home.status_code == 200 and home.url.path == "/audit"
    assert _active(home.text) == ["/audit"]
    nav = re.findall(r'<nav class="main-nav">(.*?)</nav>', home.text, re.S)[0]
    assert "/chats" not in nav and "/media" not in nav and "/custody" in nav
    assert 'id="audit-csv"' in home.text
    r = web.get("/audit.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0][:4] == ["id", "at_utc", "at_kst", "user"]
    first = rows[1]
    # Newest first: the export is on the trail it exported.
    assert first[5] == "export" and first[3] == ROLE_USERS[Role.AUDITOR] and first[10]
    subjects = [row[6] for row in rows[1:] if row[5] == "search"]
    assert subjects == ["'=2+3"]  # shown as text, never evaluated
    entry = audit.entries(loaded, action="export", limit=1)[0]
    assert entry.subject == "audit" and entry.custody_seq is not None
    filtered = web.get("/audit.csv?action=search")
    assert {row[5] for row in list(csv.reader(io.StringIO(filtered.text)))[1:]} == {"search"}


def test_navigation_highlights_the_pages_own_item(web: TestClient, loaded: App) -> None:
    log_in(web, ROLE_USERS[Role.INVESTIGATOR])
    assert _active(web.get("/media").text) == ["/media"]  # not "/me" as well
    assert _active(web.get("/me").text) == ["/me"]
    assert _active(web.get("/messages/1").text) == ["/chats"]
    assert _active(web.get("/chats/1").text) == ["/chats"]
    assert _active(web.get("/").text) == ["/"]
    triage = web.get("/triage")
    sha = re.search(r'data-sha="([0-9a-f]{64})"', triage.text)
    assert sha and _active(web.get(f"/triage/{sha.group(1)}").text) == ["/triage"]


def test_other_roles_land_on_their_first_page(web: TestClient, loaded: App) -> None:
    for role in (Role.ADMIN, Role.SUPPORT_WORKER, Role.REVIEWER):
        with TestClient(web.app, follow_redirects=False) as client:
            log_in(client, ROLE_USERS[role])
            page = client.get("/", follow_redirects=True)
            assert page.status_code == 200 and page.url.path == "/", role
