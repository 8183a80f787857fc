"""End to end in Debian's Chromium (Playwright): the investigator triages from the keyboard
(a category key records the decision and moves on, n moves without deciding, c adds the
file to the chosen case) and adds messages to a case from a chat's timeline and from search
results; the auditor lands on the audit trail and downloads it as CSV. In Korean and in
English, with a screenshot of every step in ``test-artifacts/web-e2e/`` (see test_web_e2e)."""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from tests.web.conftest import PASSWORD, load_demo
from tests.web.test_web_e2e import ARGS, CHROMIUM, _free_port, artifacts

from haechi.app import App
from haechi.auth.accounts import add_user
from haechi.auth.types import cli_actor

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]
CASE_REF = "E2E-TRIAGE-1"


@pytest.fixture
def served(sqlite_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from haechi.cases.service import create_case

    load_demo(sqlite_app, tmp_path, monkeypatch)
    actor = cli_actor("test")
    add_user(sqlite_app, "lee", PASSWORD, "investigator", actor=actor, reason="e2e test")
    add_user(sqlite_app, "kim", PASSWORD, "auditor", actor=actor)
    create_case(sqlite_app, "triage e2e", ref=CASE_REF)
    home = sqlite_app.settings.home
    sqlite_app.close()
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    log = (tmp_path / "serve.log").open("w")
    cmd = [sys.executable, "-m", "haechi.cli.main", "serve", "--home", str(home)]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            try:
                if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("haechi serve did not start")
        yield url, home
    finally:
        proc.terminate()
        proc.wait(timeout=20)
        log.close()


def _query(home: Path, sql: str, *args: Any) -> list[Any]:
    with sqlite3.connect(home / "haechi.db") as conn:
        return conn.execute(sql, args).fetchall()


def _log_in(page: Any, url: str, user: str) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", user)
    page.fill("#password", PASSWORD)
    page.click("#login-submit")
    page.wait_for_load_state("networkidle")


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_investigator_triages_from_the_keyboard_and_adds_to_a_case(served: Any, lang: str) -> None:
    from playwright.sync_api import sync_playwright

    url, home = served
    shots = artifacts(f"investigator-triage-{lang}")
    words = {"ko": ("미분류", "사건 {ref}에"), "en": ("Not yet categorised", "to case {ref}")}[lang]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(locale="ko-KR" if lang == "ko" else "en-US")
        errors: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        _log_in(page, url, "lee")
        page.goto(f"{url}/triage")
        page.wait_for_selector("#current[data-sha]")
        assert words[0] in page.inner_text("nav.tabs")
        page.screenshot(path=str(shots / "01-triage.png"), full_page=True)
        first = page.get_attribute("#current", "data-sha")

        # "1": the first category, recorded, and the next file comes up.
        page.keyboard.press("1")
        page.wait_for_function(
            f"() => document.querySelector('#current').dataset.sha !== '{first}'"
        )
        second = page.get_attribute("#current", "data-sha")
        page.screenshot(path=str(shots / "02-after-key-1.png"), full_page=True)
        decided = _query(
            home, "SELECT value, decided_by FROM review_decisions WHERE target = ?",
            f"file:{first}",
        )  # fmt: skip
        assert decided == [("synthetic_sexual", "lee (web)")]

        # "n": the next file without a decision.
        page.keyboard.press("n")
        page.wait_for_function(
            f"() => document.querySelector('#current').dataset.sha !== '{second}'"
        )
        third = page.get_attribute("#current", "data-sha")
        assert not _query(home, "SELECT 1 FROM review_decisions WHERE target = ?", f"file:{second}")
        page.screenshot(path=str(shots / "03-after-key-n.png"), full_page=True)

        # "c": this file into the case chosen in the bar (htmx, the page stays).
        page.keyboard.press("c")
        page.wait_for_selector(f"#collect-result:has-text('{CASE_REF}')")
        assert words[1].format(ref=CASE_REF) in page.inner_text("#collect-result")
        page.screenshot(path=str(shots / "04-after-key-c.png"), full_page=True)
        items = _query(
            home, "SELECT i.added_by FROM case_items i JOIN cases c ON c.id = i.case_id "
            "WHERE c.ref = ? AND i.blob_sha256 = ?", CASE_REF, third,
        )  # fmt: skip
        assert items and {who for (who,) in items} == {"lee (web)"}

        # "6": the victim group's category, kept beside the content category.
        page.keyboard.press("6")
        page.wait_for_function(
            f"() => document.querySelector('#current').dataset.sha !== '{third}'"
        )

        # Two messages of a chat's timeline, ticked, then "add selected to case".
        page.goto(f"{url}/chats/1")
        boxes = page.locator("article.msg input.pick")
        boxes.nth(0).check()
        boxes.nth(1).check()
        page.screenshot(path=str(shots / "05-timeline-selected.png"), full_page=True)
        page.click("#collect-add")
        page.wait_for_selector(f"#collect-result:has-text('{CASE_REF}')")
        page.screenshot(path=str(shots / "06-timeline-added.png"), full_page=True)

        # Every result of a search.
        page.goto(f"{url}/search?q=coffee")
        page.wait_for_selector("ol.hits li.hit")
        page.check("#all-results")
        page.click("#collect-add")
        page.wait_for_selector(f"#collect-result:has-text('{CASE_REF}')")
        page.screenshot(path=str(shots / "07-search-all-added.png"), full_page=True)
        browser.close()
    refs = {r for (r,) in _query(
        home, "SELECT i.ref FROM case_items i JOIN cases c ON c.id = i.case_id WHERE c.ref = ?",
        CASE_REF,
    )}  # fmt: skip
    assert sum(r.startswith("message:") for r in refs) >= 3
    assert not [e for e in errors if "Content Security" in e]
    assert len(list(shots.glob("*.png"))) == 7


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_auditor_lands_on_the_trail_and_downloads_it(served: Any, lang: str) -> None:
    from playwright.sync_api import sync_playwright

    url, _home = served
    shots = artifacts(f"auditor-{lang}")
    title = {"ko": "감사 기록", "en": "Audit trail"}[lang]
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        context = browser.new_context(locale="ko-KR" if lang == "ko" else "en-US",
                                      accept_downloads=True)  # fmt: skip
        page = context.new_page()
        page.goto(f"{url}/login")
        page.screenshot(path=str(shots / "01-login.png"))
        _log_in(page, url, "kim")
        assert page.url.endswith("/audit")  # the auditor's home, not "no permission"
        assert page.inner_text("h1") == title
        assert page.locator("nav.main-nav a.active").inner_text() == title
        page.screenshot(path=str(shots / "02-landing.png"), full_page=True)
        with page.expect_download() as got:
            page.click("#audit-csv")
        path = got.value.path()
        rows = list(csv.reader(io.StringIO(Path(path).read_text(encoding="utf-8"))))
        assert rows[0][:3] == ["id", "at_utc", "at_kst"]
        assert rows[1][3] == "kim" and rows[1][5] == "export"
        page.reload()
        page.wait_for_selector("tr.audit-export")
        page.screenshot(path=str(shots / "03-export-on-the-trail.png"), full_page=True)
        browser.close()
