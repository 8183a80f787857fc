"""`haechi capture URL` and `haechi capture verify` from the shell, with the real Chromium."""

from __future__ import annotations

import io
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from haechi.app import App
from haechi.cli.main import main
from haechi.collect.web_capture.screenshot import chromium_path

CHROMIUM = chromium_path()


def _run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = 0
    try:
        main(list(args))
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.mark.skipif(CHROMIUM is None, reason="no Chromium at /usr/bin/chromium")
def test_capture_with_screenshot_then_verify(
    sqlite_app: App, site, tsa, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home, out = str(sqlite_app.settings.home), tmp_path / "out"
    code, stdout, stderr = _run(
        capsys, "capture", site.url("/s/haechi_demo_news"), "--home", home, "--tsa", tsa.url,
        "--tsa-ca", str(tsa.ca_path), "--out", str(out), "--no-analyze", "--json",
    )  # fmt: skip
    assert code == 0, stderr
    report = json.loads(stdout)
    assert report["screenshot_sha256"] and report["timestamp"]["verified"]
    fetched = list(site.hits)
    png = next(out.glob("*-screenshot.png")).read_bytes()
    picture = np.asarray(Image.open(io.BytesIO(png)).convert("L"))
    assert picture.shape[1] == 1280 and picture.shape[0] > 900 and picture.std() > 10  # not blank
    # the screenshot was replayed from the capture: Chromium sent nothing to the site
    assert site.hits == fetched
    wacz = next(out.glob("*-capture.wacz"))
    with zipfile.ZipFile(wacz) as zf:
        index = zf.read("indexes/index.cdx").decode()
    assert "urn:screenshot:" in index and '"mime": "image/png"' in index
    code, stdout, _ = _run(
        capsys, "capture", "verify", str(wacz), "--home", home, "--tsa-ca", str(tsa.ca_path)
    )
    assert code == 0 and stdout.count("✓") == 5
    wacz.write_bytes(wacz.read_bytes()[:-100] + b"\0" * 100)  # damage the central directory
    code, stdout, _ = _run(capsys, "capture", "verify", str(wacz), "--home", home)
    assert code == 1 and "✗" in stdout


def test_cli_errors_are_sentences(
    sqlite_app: App, site, capsys: pytest.CaptureFixture[str]
) -> None:
    home = str(sqlite_app.settings.home)

    def loop(h: object) -> None:
        h.send_response(302)  # type: ignore[attr-defined]
        h.send_header("Location", "/loop")  # type: ignore[attr-defined]
        h.send_header("Content-Length", "0")  # type: ignore[attr-defined]
        h.end_headers()  # type: ignore[attr-defined]

    site.routes["/loop"] = loop
    code, _, stderr = _run(capsys, "capture", site.url("/loop"), "--home", home, "--no-screenshot")
    assert code == 3 and "redirects in a loop" in stderr and "Traceback" not in stderr
    code, _, stderr = _run(capsys, "capture", "ftp://example.org/", "--home", home)
    assert code == 3 and "http(s)" in stderr
    code, stdout, _ = _run(
        capsys, "capture", site.url("/s/gone_room"), "--home", home, "--no-screenshot"
    )
    assert code == 0 and "GONE" in stdout
