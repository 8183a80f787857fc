"""End to end in headless Chromium (Debian's /usr/bin/chromium through Playwright): log in,
switch language, open a chat, reveal a media item, find the reveal in the audit trail and
the custody log as an auditor, run a face search. Screenshots are kept as test artifacts in
``test-artifacts/web-e2e/`` at the top of the checkout (git ignores it), or under
``$HAECHI_TEST_ARTIFACTS/web-e2e/``; each run replaces its test's folder."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from tests.web.conftest import PASSWORD, load_demo, previewed_images

from haechi.app import App
from haechi.auth.accounts import add_user
from haechi.auth.types import cli_actor
from haechi.services import integrations

CHROMIUM = Path("/usr/bin/chromium")
ROOT = Path(__file__).resolve().parents[2]
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
]


def artifacts(test: str) -> Path:
    """The folder that keeps one test's screenshots, emptied for this run."""
    base = Path(os.environ.get("HAECHI_TEST_ARTIFACTS") or ROOT / "test-artifacts")
    folder = base / "web-e2e" / test
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)
    return folder


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    load_demo(sqlite_app, tmp_path, monkeypatch)
    for name, role in (("lee", "investigator"), ("kim", "auditor"), ("park", "support_worker")):
        add_user(sqlite_app, name, PASSWORD, role, actor=cli_actor("test"), reason="test")
    if integrations.available("subjects"):
        from haechi.demo.faces_export import reference_photo
        from haechi.subjects.consent import ConsentRequest
        from haechi.subjects.service import enroll_subject

        enroll_subject(
            sqlite_app, label="V-E2E-1", photos=[("ref.png", reference_photo())], staff="test",
            consent=ConsentRequest(given_by="Jane Roe", scope="search", given_at="2024-09-01"),
        )  # fmt: skip
    if integrations.available("matches"):
        # One picture in a bank: its pages must show a match card, never the picture.
        from haechi.match.bank_sources import add_blobs
        from haechi.match.banks import create_bank
        from haechi.match.matching import run_matching

        create_bank(sqlite_app, "e2e-bank", description="benign test bank")
        add_blobs(sqlite_app, "e2e-bank", previewed_images(sqlite_app)[:1], labels=["e2e"])
        run_matching(sqlite_app)
    home = sqlite_app.settings.home
    sqlite_app.close()
    with serving(home, tmp_path / "serve.log") as url:
        yield url


@contextmanager
def serving(home: Path, log_path: Path) -> Iterator[str]:
    """``haechi serve`` over ``home`` in a child process on a free port; yields its URL."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HAECHI_")}
    log = log_path.open("w")
    cmd = [sys.executable, "-m", "haechi.cli.main", "serve", "--home", str(home)]
    proc = subprocess.Popen([*cmd, "--port", str(port)], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(200):
            try:
                if httpx.get(f"{url}/login", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        else:
            raise AssertionError("haechi serve did not start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def test_investigator_and_auditor_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    shots = artifacts("investigator-auditor")
    print(f"\nscreenshots: {shots}")
    csp_errors: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(locale="en-US")
        page.on(
            "console",
            lambda m: (
                csp_errors.append(page.url + " " + m.text) if "Content Security" in m.text else None
            ),
        )
        page.on("dialog", lambda d: d.accept())

        page.goto(f"{server}/chats")
        assert page.url.startswith(f"{server}/login")
        page.screenshot(path=str(shots / "01-login.png"))
        page.click("#lang-ko")
        page.wait_for_selector("text=로그인")
        page.screenshot(path=str(shots / "02-login-ko.png"))
        page.click("#lang-en")
        page.wait_for_selector("h1:has-text('Log in')")

        page.fill("#username", "lee")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_selector("h1:has-text('Dashboard')")
        page.screenshot(path=str(shots / "03-dashboard.png"))

        page.click("#nav-archive > summary")  # the Archive menu (a <details>)
        page.click("#nav-archive >> text=Chats")
        page.click("a.chat-link >> text=Coffee Photos")
        page.wait_for_selector("#chat-title")
        assert page.locator("article.msg").count() > 3
        page.screenshot(path=str(shots / "04-timeline.png"), full_page=True)

        # Reveal the first picture that has a safe preview; nothing original was shown before.
        assert page.locator("img.original").count() == 0
        figure = page.locator("figure.media:has(img.preview)").first
        sha = figure.get_attribute("data-sha")
        figure.locator("button.reveal").click()
        original = page.locator(f"figure.revealed[data-sha='{sha}'] img.original")
        original.wait_for()
        page.wait_for_function("() => document.querySelector('img.original').naturalWidth > 0")
        assert "Today: " in page.locator("#exposure").inner_text()
        page.screenshot(path=str(shots / "05-revealed.png"), full_page=True)

        # Videos start muted and paused, also after a reveal.
        page.goto(f"{server}/media?kind=video")
        video_fig = page.locator("figure.media").first
        if video_fig.count():
            video_fig.locator("button.reveal").click()
            page.wait_for_selector("video.original")
            state = page.eval_on_selector("video.original", "v => [v.muted, v.paused]")
            assert state == [True, True]

        # The network graph draws with the vendored Cytoscape.js, within the CSP.
        if integrations.available("graph"):
            page.goto(f"{server}/graph")
            page.wait_for_function(
                "() => window.haechiGraph && window.haechiGraph.nodes().length > 0"
            )
            page.screenshot(path=str(shots / "05b-graph.png"))

        # Banks and matches: match cards and hashes, not one picture (groups load after).
        if integrations.available("matches"):
            page.goto(f"{server}/matches")
            page.wait_for_selector("#groups ol.dup-groups")
            assert page.locator("tr.match-bank .match-card").count() >= 1
            assert page.locator("main img").count() == 0
            page.screenshot(path=str(shots / "05c-matches.png"), full_page=True)
        if integrations.available("stats"):
            page.goto(f"{server}/stats")
            page.wait_for_selector("img.chart")
            page.screenshot(path=str(shots / "05d-stats.png"), full_page=True)

        # Switch language while logged in.
        page.goto(f"{server}/chats")
        page.click("#lang-ko")
        page.wait_for_selector("#nav-archive > summary >> text=자료")
        page.screenshot(path=str(shots / "06-korean.png"))
        page.click("#lang-en")

        page.click("button:has-text('Log out')")
        page.wait_for_selector("h1:has-text('Log in')")
        page.fill("#username", "kim")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{server}/**")
        page.goto(f"{server}/audit?action=reveal")
        row = page.locator(f"tr.audit-reveal:has-text('{sha}')")
        row.wait_for()
        assert "lee" in row.inner_text()
        page.screenshot(path=str(shots / "07-audit.png"), full_page=True)
        # From the audit entry to the signed access event in the custody log.
        row.locator(f"a[href^='/custody?subject={sha}']").click()
        page.locator("tr.custody-access").first.wait_for()
        assert "lee" in page.locator("tr.custody-access").first.inner_text()
        page.screenshot(path=str(shots / "08-custody.png"), full_page=True)
        assert page.goto(f"{server}/chats").status == 403  # auditors never see the archive
        browser.close()
    assert csp_errors == []
    assert len(list(shots.glob("*.png"))) >= 8


@pytest.mark.skipif(
    not integrations.available("subjects"),
    reason="the faces capability's service (haechi.subjects.service) is not installed",
)
def test_face_search_in_chromium(server: str) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(locale="en-US")
        page.goto(f"{server}/login")
        page.fill("#username", "park")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{server}/**")
        page.goto(f"{server}/subjects")
        assert page.locator("#unavailable").count() == 0
        assert "Jane" not in page.content()  # consents show relation and scope, not names
        form = page.locator("tr:has-text('V-E2E-1') form.face-search")
        form.locator("input[name=reason]").fill("victim asked us to find her photos")
        form.locator("button").click()
        page.wait_for_selector("#face-results")
        page.screenshot(path=str(artifacts("face-search") / "face-search.png"), full_page=True)
        page.click("button:has-text('Log out')")
        page.fill("#username", "kim")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{server}/**")
        page.goto(f"{server}/audit?action=face_search")
        row = page.locator("tr.audit-face_search:has-text('subject:')")
        row.wait_for()
        assert "park" in row.inner_text()
        browser.close()
