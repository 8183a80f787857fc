"""A rendered screenshot of the captured page, from headless Chromium, *replayed* offline.

Chromium is not sent to the live site: every request it makes is answered from the bytes
this capture recorded (Playwright request routing), and anything not recorded is refused.
So the picture shows exactly what the WARC holds, nothing fetched later, and no second
visit reaches the site. Scripts are off: the capture keeps no scripts, and a page's script
must not run on an investigator's machine.
"""

from __future__ import annotations

import shutil
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag

from haechi.collect.web_capture.errors import ScreenshotFailed
from haechi.i18n import t_

CHROMIUM = "/usr/bin/chromium"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]  # fmt: skip
WIDTH, HEIGHT, MAX_HEIGHT = 1280, 900, 16_000


@dataclass(frozen=True)
class Recorded:
    status: int
    content_type: str
    body: bytes


def chromium_path(configured: str | None = None) -> str | None:
    for candidate in (configured, CHROMIUM, shutil.which("chromium")):
        if candidate and Path(candidate).is_file():
            return candidate
    return None


def render(
    url: str, recorded: Mapping[str, Recorded], *, executable: str, timeout_s: float = 30.0
) -> bytes:
    """PNG bytes of ``url`` as recorded; raises :class:`ScreenshotFailed` with a sentence."""
    try:
        from playwright.sync_api import Error as PlaywrightError
        from playwright.sync_api import Route, sync_playwright
    except ImportError:
        raise ScreenshotFailed(
            t_("No screenshot: the playwright package is not installed (pip install haechi[live]).")
        ) from None

    def answer(route: Route) -> None:
        hit = recorded.get(urldefrag(route.request.url)[0])
        if hit is None:
            route.abort("blockedbyclient")
            return
        route.fulfill(status=hit.status, content_type=hit.content_type, body=hit.body)

    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=executable, args=FLAGS)
            try:
                context = browser.new_context(
                    java_script_enabled=False,
                    viewport={"width": WIDTH, "height": HEIGHT},
                    service_workers="block",
                )
                page = context.new_page()
                page.route("**/*", answer)
                page.goto(url, wait_until="load", timeout=timeout_s * 1000)
                height = _height(page)
                clip = {"x": 0, "y": 0, "width": WIDTH, "height": min(height, MAX_HEIGHT)}
                return page.screenshot(full_page=True, clip=clip, timeout=timeout_s * 1000)  # type: ignore[arg-type]
            finally:
                browser.close()
    except PlaywrightError as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ScreenshotFailed(
            t_("No screenshot: Chromium could not render {url} ({first}).", url=url, first=first)
        ) from None


def _height(page: Any) -> int:
    try:
        value = page.evaluate("() => document.documentElement.scrollHeight")
        return max(HEIGHT, int(value))
    except Exception:  # a page without a document element is one screen high
        return HEIGHT
