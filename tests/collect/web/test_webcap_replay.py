"""The signed WACZ opens and replays in ReplayWeb.page (the Webrecorder viewer courts and
archivists use), run in the real Chromium from its npm package."""

from __future__ import annotations

import functools
import os
import shutil
import threading
import time
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from haechi.app import App
from haechi.collect.web_capture.screenshot import FLAGS, chromium_path
from haechi.collect.web_capture.service import CaptureOptions, capture

VERSION = "2.5.3"
# Unpacked by `make` (.ci/replay-viewer, the release pinned by its SHA-256): never fetched here.
INSTALLED = Path(__file__).resolve().parents[3] / ".venv" / "replaywebpage" / "package"


@pytest.fixture(scope="session")
def replaywebpage() -> Path:
    """ReplayWeb.page's built viewer (ui.js, sw.js): $HAECHI_TEST_REPLAYWEBPAGE, or the
    release `make` installed (skipped with the reason when neither is there)."""
    given = os.environ.get("HAECHI_TEST_REPLAYWEBPAGE")
    folder = Path(given) if given else INSTALLED
    if not (folder / "sw.js").is_file():
        pytest.skip(f"no ReplayWeb.page {VERSION} build (sw.js) in {folder}: run .ci/replay-viewer")
    return folder


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture
def viewer(replaywebpage: Path, tmp_path: Path) -> Iterator[tuple[Path, str]]:
    root = tmp_path / "viewer"
    shutil.copytree(replaywebpage, root)
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _replayed_text(base: str, wait_for: str) -> str | None:
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    assert exe is not None
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=exe, args=FLAGS)
        try:
            page = browser.new_page()
            page.goto(f"{base}/replay.html")
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                for frame in page.frames:
                    try:
                        text = frame.evaluate("() => document.body ? document.body.innerText : ''")
                    except Exception:  # a frame navigating away
                        continue
                    if wait_for in text:
                        return str(frame.url)
                time.sleep(0.5)
            return None
        finally:
            browser.close()


@pytest.mark.slow
@pytest.mark.skipif(chromium_path() is None, reason="no Chromium at /usr/bin/chromium")
def test_signed_wacz_replays_in_replaywebpage(
    sqlite_app: App, site, tsa, viewer: tuple[Path, str], tmp_path: Path
) -> None:
    root, base = viewer
    opts = CaptureOptions(tsa_url=tsa.url, out_dir=tmp_path / "out", screenshot=False)
    report = capture(sqlite_app, site.url("/s/haechi_demo_news"), opts)
    shutil.copyfile(next((tmp_path / "out").glob("*.wacz")), root / "capture.wacz")
    (root / "replay.html").write_text(
        '<!doctype html><html><head><script src="./ui.js"></script></head><body>'
        f'<replay-web-page style="height:900px;width:1280px;display:block" source="capture.wacz" '
        f'url="{report.final_url}" replayBase="./"></replay-web-page></body></html>',
        encoding="utf-8",
    )
    site.close()  # the viewer must replay from the file, not from the live site
    frame = _replayed_text(base, "Library hours changed today")
    assert frame is not None, "ReplayWeb.page did not show the captured page"
    assert report.final_url in frame  # the archived URL, replayed through the viewer
