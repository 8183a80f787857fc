"""Hostile and broken sites: each ends in one sentence, never a crash, nothing lost."""

from __future__ import annotations

import json
import time
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import select

from haechi.app import App
from haechi.collect.web_capture.errors import (
    BadResponse,
    BadUrl,
    OffHostRedirect,
    RedirectLoop,
    RefusedAddress,
    TimedOut,
    TlsFailed,
    TooLarge,
)
from haechi.collect.web_capture.service import (
    WEB_CAPTURE_FAILED,
    WEB_CAPTURE_GONE,
    CaptureOptions,
    capture,
)
from haechi.run.verify import verify
from haechi.store.custody import iter_db_events
from haechi.store.models import Media, Message

NO_SHOT = CaptureOptions(screenshot=False)


def _events(app: App, kind: str) -> list[dict]:
    with app.db.connect() as conn:
        bodies = [json.loads(e.body) for e in iter_db_events(conn)]
    return [b for b in bodies if b["type"] == kind]


def _settings(app: App, **values: int) -> None:
    lines = "".join(f"{k} = {v}\n" for k, v in values.items())
    path = app.settings.config_path
    path.write_text(path.read_text() + f"\n[capture]\n{lines}")


def _redirect(to: str):
    def handler(h: BaseHTTPRequestHandler) -> None:
        h.send_response(302)
        h.send_header("Location", to)
        h.send_header("Content-Length", "0")
        h.end_headers()

    return handler


def _one_sentence(exc: BaseException) -> str:
    text = str(exc)
    assert text.endswith(".") and "\n" not in text and "Traceback" not in text
    return text


def test_gone_channel_is_an_event_not_a_crash(app: App, site) -> None:
    site.routes["/s/vanished_room"] = lambda h: h.send_body(
        404, "text/html", b"<html>Not found</html>"
    )
    report = capture(app, site.url("/s/vanished_room"), NO_SHOT)
    assert report.outcome == "gone" and report.status == 404
    gone = _events(app, WEB_CAPTURE_GONE)
    assert len(gone) == 1 and gone[0]["subject"] == "chat:tme:vanished_room"
    assert gone[0]["data"]["wacz_sha256"] == report.wacz_sha256  # the 404 itself is preserved
    assert app.vault.exists(report.wacz_sha256)
    site.routes["/s/old_room"] = lambda h: h.send_body(410, "text/html", b"Gone")
    assert capture(app, site.url("/s/old_room"), NO_SHOT).outcome == "gone"


def test_redirect_loop_is_refused_and_recorded(app: App, site) -> None:
    site.routes["/a"] = _redirect("/b")
    site.routes["/b"] = _redirect("/a")
    with pytest.raises(RedirectLoop) as info:
        capture(app, site.url("/a"), NO_SHOT)
    assert "loop" in _one_sentence(info.value)
    failed = _events(app, WEB_CAPTURE_FAILED)[-1]["data"]
    assert failed["reason_kind"] == "redirect_loop" and len(failed["redirects"]) == 2
    assert app.vault.exists(failed["wacz_sha256"])  # the redirects are kept as evidence


def test_offhost_redirect_not_followed_without_the_flag(app: App, site) -> None:
    port = site.url("/").rsplit(":", 1)[1].split("/")[0]
    site.routes["/s/moved"] = _redirect(f"http://localhost:{port}/s/haechi_demo_news")
    with pytest.raises(OffHostRedirect) as info:
        capture(app, site.url("/s/moved"), NO_SHOT)
    assert "--follow-offhost" in _one_sentence(info.value)
    assert "/s/haechi_demo_news" not in site.hits
    # with the flag the hop is allowed, but another host on this machine is still refused
    with pytest.raises(RefusedAddress):
        capture(app, site.url("/s/moved"), CaptureOptions(screenshot=False, follow_offhost=True))


def test_huge_media_is_recorded_not_stored(app: App, site) -> None:
    _settings(app, max_media_mb=1)

    def huge(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "video/mp4")
        h.send_header("Content-Length", str(3 * 1024 * 1024))
        h.end_headers()  # the body never needs to be sent: it is refused by its length

    site.routes["/file/clip.mp4"] = huge
    report = capture(app, site.url("/s/haechi_demo_news"), NO_SHOT)
    assert report.outcome == "captured" and report.media_failed == 1
    assert any("larger than the limit" in w for w in report.warnings)
    with app.db.connect() as conn:
        statuses = {m.export_path.rsplit("/", 1)[1]: m.status for m in conn.execute(select(Media))}
    assert statuses["clip.mp4"] == "too_large" and statuses["coffee.jpg"] == "present"


def test_huge_page_without_length_stops_at_the_limit(app: App, site) -> None:
    _settings(app, max_page_mb=1)

    def endless(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.end_headers()
        h.close_connection = True
        for _ in range(40):
            h.wfile.write(b"<p>" + b"x" * 65536 + b"</p>")

    site.routes["/big"] = endless
    with pytest.raises(TooLarge):
        capture(app, site.url("/big"), NO_SHOT)
    assert _events(app, WEB_CAPTURE_FAILED)[-1]["data"]["reason_kind"] == "too_large"


def test_tls_error_is_one_sentence(
    app: App, https_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("INFO", logger="haechi.capture"), pytest.raises(TlsFailed) as info:
        capture(app, https_url, NO_SHOT)
    assert "could not be verified" in _one_sentence(info.value)
    assert _events(app, WEB_CAPTURE_FAILED)[-1]["data"]["reason_kind"] == "tls"
    logged = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(logged) == 1 and "could not be verified" in logged[0].getMessage()


def test_slow_server_times_out(app: App, site) -> None:
    _settings(app, timeout_seconds=1)

    def slow(h: BaseHTTPRequestHandler) -> None:
        time.sleep(3)
        h.send_body(200, "text/html", b"late")

    site.routes["/slow"] = slow
    started = time.monotonic()
    with pytest.raises(TimedOut):
        capture(app, site.url("/slow"), NO_SHOT)
    assert time.monotonic() - started < 3


def test_malformed_and_truncated_answers(app: App, site) -> None:
    def garbage(h: BaseHTTPRequestHandler) -> None:
        h.wfile.write(b"\x00\x01 this is not HTTP\r\n\r\n")

    site.routes["/garbage"] = garbage
    with pytest.raises(BadResponse):
        capture(app, site.url("/garbage"), NO_SHOT)

    from haechi.demo.capture_site import channel_page

    body = channel_page().encode()

    def truncated(h: BaseHTTPRequestHandler) -> None:
        h.send_response(200)
        h.send_header("Content-Type", "text/html")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        h.wfile.write(body[: len(body) * 2 // 3])
        h.close_connection = True

    site.routes["/s/haechi_demo_news"] = truncated
    report = capture(app, site.url("/s/haechi_demo_news"), NO_SHOT)
    assert report.outcome == "captured" and 0 < report.posts < 9
    assert any("ended before" in w for w in report.warnings)
    assert any("cut off" in w for w in report.warnings)


def test_bad_urls_are_refused_before_any_request(app: App) -> None:
    for url in ("ftp://example.org/x", "https://user:pw@example.org/", "http://", "a b"):
        with pytest.raises(BadUrl):
            capture(app, url, NO_SHOT)


def test_failures_lose_nothing_already_stored(app: App, site, https_url: str) -> None:
    good = capture(app, site.url("/s/haechi_demo_news"), NO_SHOT)
    site.routes["/a"] = _redirect("/a")
    for url in (site.url("/a"), https_url, site.url("/nowhere/at/all/1")):
        try:
            capture(app, url, NO_SHOT)
        except Exception as exc:
            assert isinstance(exc, RedirectLoop | TlsFailed), exc
    with app.db.connect() as conn:
        assert len(conn.execute(select(Message)).all()) == good.posts
    assert app.vault.exists(good.wacz_sha256)
    assert verify(app).ok


def test_media_on_internal_addresses_of_other_hosts_is_refused(
    app: App, site, tmp_path: Path
) -> None:
    from haechi.demo.capture_site import DemoPost, post_html

    port = site.url("/").rsplit(":", 1)[1].split("/")[0]
    post = DemoPost(5, "2026-03-02T08:00:00+00:00", "x", photos=["coffee"])
    html = post_html(post).replace("/file/coffee.jpg", f"http://localhost:{port}/file/coffee.jpg")
    page = f"<html><body><section>{html}</section></body></html>".encode()
    site.routes["/s/internal_probe"] = lambda h: h.send_body(200, "text/html", page)
    report = capture(app, site.url("/s/internal_probe"), NO_SHOT)
    assert report.posts == 1 and report.media_fetched == 0
    assert any("internal address" in w for w in report.warnings)
