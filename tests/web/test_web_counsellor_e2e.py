"""The counsellor's whole flow in headless Chromium (Debian's /usr/bin/chromium through
Playwright) against a real ``haechi serve``: log in, enrol a consenting subject from a
reference photo, search, look at each candidate's face and confirm it, open her case,
draft the Telegram notice, download the .eml, mark it sent and removed, and see the
re-upload of a re-posted, cropped copy on the case page after a background scan.

The pictures are benign portraits of a public figure from ../shared/data/faces (LFW, as an
evaluation fixture, copied into a temporary export only); the test is skipped when that
folder is absent. Screenshots of each step, in English and then in Korean, are kept in
``test-artifacts/web-e2e/counsellor/``."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from PIL import Image
from skimage import data
from tests.conftest import SHARED_DATA
from tests.web.conftest import PASSWORD
from tests.web.counsellor_kit import add_staff
from tests.web.test_web_e2e import ARGS, CHROMIUM, artifacts, serving

from haechi.app import App, open_app
from haechi.services import integrations

FACES = SHARED_DATA / "faces" / "lfw_subset"
PERSON = "Colin_Powell"

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed"),
    pytest.mark.skipif(not (FACES / PERSON).is_dir(), reason="../shared/data/faces is absent"),
    pytest.mark.skipif(
        not (integrations.available("subjects") and integrations.available("cases")),
        reason="the faces and cases capabilities are not installed",
    ),
]


def photo(name: str) -> bytes:
    return (FACES / name.rsplit("_", 1)[0] / f"{name}.jpg").read_bytes()


def jpeg(img: Image.Image, quality: int = 85) -> bytes:
    buf = io.BytesIO()
    img.convert("RGB").save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def export(dest: Path, room_name: str, bare_id: int, posts: list[tuple[str, bytes]]) -> Path:
    from tests.text.kit import room, write_export

    from haechi.demo.tdesktop_format import Peer, unix_at

    chat = room(room_name, bare_id, "public_channel")
    who = Peer(room_name, f"channel{bare_id}")
    for when, picture in posts:
        unix = unix_at(when)
        size = Image.open(io.BytesIO(picture)).size
        chat.message(unix, who, "photo", media=chat.photo(unix, picture, *size))
    return write_export(dest, [chat])


def first_posts() -> list[tuple[str, bytes]]:
    return [
        ("2024-08-01 10:00:00", photo(f"{PERSON}_0002")),
        ("2024-08-01 10:05:00", photo(f"{PERSON}_0004")),
        ("2024-08-01 10:10:00", photo("Tony_Blair_0001")),  # someone else
        ("2024-08-01 10:15:00", jpeg(Image.fromarray(data.coffee()))),  # no one
    ]


def repost() -> list[tuple[str, bytes]]:
    """Weeks later: her photo cropped and recompressed (new bytes, same face)."""
    cropped = Image.open(io.BytesIO(photo(f"{PERSON}_0002"))).crop((3, 8, 122, 125))
    return [("2024-09-25 21:00:00", jpeg(cropped.resize((238, 234)), 80))]


def analyse_and_hook(app: App, folder: Path) -> None:
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.hooks import run_ingest_hooks

    report = run_ingest(app, folder, quiet=True)
    run_analysis(app, ["faces"], quiet=True, workers=1)
    run_ingest_hooks(app, report)


@pytest.fixture
def server(sqlite_app: App, tmp_path: Path) -> Iterator[tuple[str, Path]]:
    pytest.importorskip("dlib")
    analyse_and_hook(
        sqlite_app, export(tmp_path / "first", "Photo Channel", 2087659001, first_posts())
    )
    add_staff(sqlite_app, "park", "support_worker")
    home = sqlite_app.settings.home
    sqlite_app.close()
    with serving(home, tmp_path / "serve.log") as url:
        yield url, home


def test_the_counsellors_flow_in_chromium(server: tuple[str, Path], tmp_path: Path) -> None:
    from playwright.sync_api import sync_playwright

    url, home = server
    shots = artifacts("counsellor")
    print(f"\nscreenshots: {shots}")
    reference = tmp_path / "reference.jpg"
    reference.write_bytes(photo(f"{PERSON}_0001"))
    csp_errors: list[str] = []
    visited: dict[str, str] = {}

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=ARGS, headless=True)
        page = browser.new_page(locale="en-US", accept_downloads=True)
        page.on(
            "console", lambda m: csp_errors.append(m.text) if "Content Security" in m.text else None
        )
        page.on("dialog", lambda d: d.accept())

        def shot(name: str) -> None:
            visited[name] = page.url
            page.screenshot(path=str(shots / f"en-{name}.png"), full_page=True)

        page.goto(f"{url}/login")
        page.click("#lang-en")
        page.fill("#username", "park")
        page.fill("#password", PASSWORD)
        page.click("#login-submit")
        page.wait_for_url(f"{url}/**")

        # 1. enrol her from a reference photo, with her consent
        page.goto(f"{url}/subjects")
        page.click("#enrol-link")
        page.fill("#enrol-label", "V-2024-017")
        page.set_input_files("#enrol-photos", str(reference))
        page.fill("#enrol-given-by", "Demo Person (fictional)")
        page.fill("#enrol-given-at", "2024-09-01")
        page.fill("input[name=reference]", "FORM-0917")
        shot("01-enrol")
        page.click("#enrol-submit")
        # the face work is a job: its page shows the progress, then the way to her record
        page.wait_for_url(f"{url}/jobs/**")
        page.wait_for_selector("#enrol-subject-link", timeout=120_000)
        assert "Demo Person" not in page.content()
        shot("02-enrol-job")
        page.click("#enrol-subject-link")
        page.wait_for_selector("#subject-title")
        assert "Demo Person" not in page.content()
        shot("02-subject")

        # 2. a logged face search, with a reason
        page.fill("#search-reason", "she asked us to find and remove her photos")
        page.click("#search-submit")
        page.wait_for_selector("#face-results")
        cards = page.locator("article.candidate")
        assert cards.count() == 2, page.content()  # her two photos; not the other man
        assert page.locator("img.face-crop").count() == 0  # nothing shown until asked
        shot("03-candidates")

        # 3. each face is one logged look, greyscale, the face only; confirm each
        for i in range(2):
            card = page.locator("article.candidate").nth(i)
            card.locator("button.show").click()
            img = page.locator("article.candidate").nth(i).locator("img.face-crop.grey")
            img.wait_for()
            page.wait_for_function(
                "(i) => { const im = document.querySelectorAll('article.candidate')[i]"
                ".querySelector('img.face-crop'); return im && im.naturalWidth > 0; }",
                arg=i,
            )
            if i == 0:
                shot("04-face-shown")
            page.locator("article.candidate").nth(i).locator("button.confirm").click()
            page.locator("article.candidate.decided-confirmed").nth(i).wait_for()
        shot("05-confirmed")

        # 4. her case from the confirmed files
        page.fill("input[name=age]", "24")
        page.click("#to-case-submit")
        page.wait_for_selector("#case-title")
        assert page.locator("tr.case-item").count() == 2
        assert page.locator("tr.victim").count() == 1 and "Demo Person" not in page.content()
        shot("06-case")

        # 5. the takedown notice to Telegram, in Korean; the .eml downloaded
        page.select_option("#draft-recipient", "telegram")
        page.select_option("#draft-language", "ko")
        page.click("#draft-submit")
        page.wait_for_selector("#notice-title")
        assert page.inner_text("#notice-address") == "abuse@telegram.org"
        with page.expect_download() as got:
            page.click("#download-eml")
        eml = Path(got.value.path()).read_bytes()
        assert b"X-Unsent: 1" in eml and b"t.me/c/2087659001/" in eml
        shot("07-notice")

        # 6. sent, then removed (times in KST)
        for status, day, at in (
            ("sent", "2024-09-03", "10:00"),
            ("removed", "2024-09-04", "16:30"),
        ):
            page.select_option("#mark-status", status)
            page.fill("#mark-day", day)
            page.fill("#mark-time", at)
            page.select_option("#mark-zone", "KST")
            page.click("#mark-submit")
            page.wait_for_selector(
                f"#notice-status:has-text('{'removed' if status == 'removed' else 'sent'}')"
            )
        assert "30.5" in page.content()  # hours to removal
        shot("08-removed")

        # 7. a cropped copy is re-posted elsewhere and ingested; a scan from the case page
        app = open_app(home)
        try:
            analyse_and_hook(app, export(tmp_path / "later", "Other Channel", 2087659002, repost()))
        finally:
            app.close()
        page.click("a[href^='/cases/']")
        page.wait_for_selector("#case-title")
        page.click("#scan-submit")
        page.wait_for_selector(".job.job-done", timeout=120_000)
        shot("09-scan-job")
        page.click("a[href*='#jobs']")
        page.wait_for_selector("#case-title")
        hit = page.locator("tr.reupload-hit.hit-reupload")
        assert hit.count() == 1, page.content()
        assert "same face" in hit.inner_text()
        shot("10-reupload")

        # The same pages in Korean.
        page.click("#lang-ko")
        page.wait_for_selector("nav.main-nav >> text=사건")
        for name, address in visited.items():
            if name in ("01-enrol", "09-scan-job"):
                page.goto(address if name != "01-enrol" else f"{url}/subjects/new")
            else:
                page.goto(address)
            page.wait_for_load_state()
            page.screenshot(path=str(shots / f"ko-{name}.png"), full_page=True)
        assert "재유포" in page.content()  # the case page, in Korean
        browser.close()
    assert csp_errors == []
    assert len(list(shots.glob("en-*.png"))) == 11 and len(list(shots.glob("ko-*.png"))) == 11
