"""A channel's older preview pages (``--pages N``, ``?before=<id>``): every page is a WARC
record, every post is kept once with its offset in its own page's stored body; paging stops
at N, at a page without a "more" link, at a page with nothing new or pointing to itself, on
an error (keeping what came), waits for a 429's Retry-After within its bound, and an
over-limit N is refused before anything is fetched. Pages are synthetic, benign, and follow
the markup of ../shared/specs/telegram-formats.md §1e."""

from __future__ import annotations

import io
import json
import re
import time
import zipfile
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import pytest
from sqlalchemy import select
from warcio.archiveiterator import ArchiveIterator

from haechi.app import App
from haechi.cli.main import main
from haechi.collect.web_capture.history import MAX_PAGES, TooManyPages, page_url, retry_after
from haechi.collect.web_capture.service import WEB_CAPTURE, CaptureOptions, capture
from haechi.demo.capture_site import CaptureSite, DemoPost, channel_page
from haechi.run.verify import verify
from haechi.store.custody import iter_db_events
from haechi.store.models import Chat, Message, Source
from haechi.store.textsafe import raw_bytes

CH = "haechi_demo_news"
HTML = "text/html; charset=utf-8"


def _posts(first: int, last: int) -> list[DemoPost]:
    return [
        DemoPost(i, f"2026-03-{i - 20:02d}T09:00:00+00:00", f"Notice number {i} about the library")
        for i in range(first, last + 1)
    ]


def _page(posts: list[DemoPost], before: int | str | None = "auto") -> bytes:
    """A preview page; its "more" link names ``before`` (the oldest post by default), or
    is left out (None), as some real pages do."""
    html = channel_page(posts, CH)
    link = re.compile(r'<a href="/s/[^"]*" class="tme_messages_more[^>]*></a>')
    assert link.search(html)
    if before is None:
        html = link.sub("", html)
    elif before != "auto":
        html = link.sub(
            f'<a href="/s/{CH}?before={before}" class="tme_messages_more js-messages_more" '
            f'data-before="{before}"></a>',
            html,
        )
    return html.encode()


def _serve(body: bytes) -> Callable[[BaseHTTPRequestHandler], None]:
    return lambda h: h.send_body(200, HTML, body)  # type: ignore[attr-defined]


def _settings(app: App, **values: object) -> None:
    lines = "".join(f"{k} = {v}\n" for k, v in values.items())
    path = app.settings.config_path
    path.write_text(path.read_text() + f"\n[capture]\n{lines}")


@pytest.fixture
def three() -> Iterator[CaptureSite]:
    """Page 1: posts 41-45; ?before=41: 36-41 (41 again: seen already); ?before=36: 31-35
    and no "more" link."""
    site = CaptureSite(posts=_posts(41, 45))
    site.routes[f"/s/{CH}?before=41"] = _serve(_page(_posts(36, 41), before=36))
    site.routes[f"/s/{CH}?before=36"] = _serve(_page(_posts(31, 35), before=None))
    with site:
        yield site


def _opts(**kw: object) -> CaptureOptions:
    return CaptureOptions(screenshot=False, **kw)  # type: ignore[arg-type]


def _event(app: App) -> dict:
    with app.db.connect() as conn:
        bodies = [json.loads(e.body) for e in iter_db_events(conn)]
    return [b for b in bodies if b["type"] == WEB_CAPTURE][-1]["data"]


def _warc_bodies(app: App, wacz_sha256: str) -> dict[str, list[tuple[int, bytes]]]:
    """URL -> [(HTTP status, payload)] of every response record in the stored WACZ."""
    with zipfile.ZipFile(io.BytesIO(app.vault.read_bytes(wacz_sha256))) as zf:
        warc = zf.read("archive/data.warc.gz")
    out: dict[str, list[tuple[int, bytes]]] = {}
    for rec in ArchiveIterator(io.BytesIO(warc)):
        if rec.rec_type == "response":
            status = int(rec.http_headers.get_statuscode())
            url = rec.rec_headers.get_header("WARC-Target-URI")
            out.setdefault(url, []).append((status, rec.content_stream().read()))
    return out


def test_three_pages_every_post_once_each_offset_in_its_own_page(app: App, three) -> None:
    _settings(app, page_delay_seconds=0)
    report = capture(app, three.url(f"/s/{CH}"), _opts(pages=10))
    assert report.outcome == "captured" and report.pages == 3
    assert report.pages_stopped == "no_older_page"
    assert report.page_urls == [
        three.url(f"/s/{CH}"), three.url(f"/s/{CH}?before=41"), three.url(f"/s/{CH}?before=36")
    ]  # fmt: skip
    assert report.posts == 15 and report.messages_new == 15
    assert (report.oldest_id, report.newest_id) == (31, 45)
    assert len(report.source_ids) == 3 and report.source_ids[0] == report.source_id
    pages = [p for p in three.hits if p.startswith(f"/s/{CH}")]
    assert pages == [f"/s/{CH}", f"/s/{CH}?before=41", f"/s/{CH}?before=36"]  # in order, once

    warc = _warc_bodies(app, report.wacz_sha256)
    with app.db.connect() as conn:
        chat = conn.execute(select(Chat).where(Chat.key == f"tme:{CH}")).one()
        rows = conn.execute(select(Message).where(Message.chat_id == chat.id)).all()
        assert sorted(m.message_id for m in rows) == list(range(31, 46))  # each once
        pairs = zip(report.source_ids, report.page_urls, strict=True)
        for number, (source_id, url) in enumerate(pairs, 1):
            source = conn.execute(select(Source).where(Source.id == source_id)).one()
            body = app.vault.read_bytes(source.root_sha256)
            assert warc[url] == [(200, body)]  # the stored page is the WARC's record
            mine = [m for m in rows if m.source_id == source_id]
            want = {1: range(41, 46), 2: range(36, 41), 3: range(31, 36)}[number]
            assert sorted(m.message_id for m in mine) == list(want)
            for m in mine:  # the offset proves the slice in this page's own body
                raw = raw_bytes(m.raw)
                assert body[m.raw_offset : m.raw_offset + len(raw)] == raw
                assert f'data-post="{CH}/{m.message_id}"'.encode() in raw
    data = _event(app)
    assert data["pages"]["fetched"] == 3 and data["pages"]["stopped"] == "no_older_page"
    assert (data["pages"]["oldest_id"], data["pages"]["newest_id"]) == (31, 45)
    assert data["posts"] == 15 and data["source_ids"] == report.source_ids
    with zipfile.ZipFile(io.BytesIO(app.vault.read_bytes(report.wacz_sha256))) as zf:
        listed = [json.loads(x) for x in zf.read("pages/pages.jsonl").splitlines()[1:]]
    assert [p["url"] for p in listed] == report.page_urls
    assert verify(app).ok


def test_n_bounds_the_pages_and_back_to_stops_early(sqlite_app: App, three) -> None:
    _settings(sqlite_app, page_delay_seconds=0)
    two = capture(sqlite_app, three.url(f"/s/{CH}"), _opts(pages=2))
    assert two.pages == 2 and two.pages_stopped == "limit" and two.posts == 10
    assert f"/s/{CH}?before=36" not in three.hits
    three.hits.clear()
    back = capture(sqlite_app, three.url(f"/s/{CH}"), _opts(back_to=38))
    assert back.pages == 2 and back.pages_stopped == "back_to" and back.oldest_id == 36
    assert f"/s/{CH}?before=36" not in three.hits


def test_default_is_one_page_and_the_settings_default_applies(sqlite_app: App, three) -> None:
    one = capture(sqlite_app, three.url(f"/s/{CH}"), _opts())
    assert one.pages == 1 and one.pages_stopped is None and one.posts == 5
    assert three.hits.count(f"/s/{CH}?before=41") == 0
    _settings(sqlite_app, pages=3, page_delay_seconds=0)
    many = capture(sqlite_app, three.url(f"/s/{CH}"), _opts())
    assert many.pages == 3 and many.posts == 15 and many.messages_new == 10


def test_a_page_with_nothing_new_or_pointing_to_itself_stops(sqlite_app: App) -> None:
    _settings(sqlite_app, page_delay_seconds=0)
    with CaptureSite(posts=_posts(41, 45)) as site:  # ?before=41 serves the same page again
        same = capture(sqlite_app, site.url(f"/s/{CH}"), _opts(pages=50))
        assert same.pages == 1 and same.pages_stopped == "no_new_posts" and same.posts == 5
        assert site.hits.count(f"/s/{CH}?before=41") == 1
        assert any("brought no post not seen already" in w for w in same.warnings)
    with CaptureSite(posts=_posts(41, 45)) as site:  # new posts, but it points to itself
        site.routes[f"/s/{CH}?before=41"] = _serve(_page(_posts(36, 40), before=41))
        loop = capture(sqlite_app, site.url(f"/s/{CH}"), _opts(pages=50))
        assert loop.pages == 2 and loop.pages_stopped == "loop" and loop.posts == 10
        assert site.hits.count(f"/s/{CH}?before=41") == 1


def test_a_429_is_waited_for_then_paging_goes_on(sqlite_app: App) -> None:
    _settings(sqlite_app, page_delay_seconds=0, retry_after_max_seconds=5)
    answers: list[int] = []
    older = _page(_posts(36, 40), before=None)

    def throttled(h: BaseHTTPRequestHandler) -> None:
        if not answers:
            answers.append(429)
            h.send_body(429, "text/plain", b"slow down", {"Retry-After": "1"})  # type: ignore[attr-defined]
        else:
            answers.append(200)
            h.send_body(200, HTML, older)  # type: ignore[attr-defined]

    with CaptureSite(posts=_posts(41, 45)) as site:
        site.routes[f"/s/{CH}?before=41"] = throttled
        started = time.monotonic()
        report = capture(sqlite_app, site.url(f"/s/{CH}"), _opts(pages=5))
        took = time.monotonic() - started
    assert answers == [429, 200] and took >= 1.0
    assert report.pages == 2 and report.posts == 10 and report.pages_stopped == "no_older_page"
    assert any("waited 1 seconds" in w for w in report.warnings)
    warc = _warc_bodies(sqlite_app, report.wacz_sha256)
    assert [s for s, _ in warc[site.url(f"/s/{CH}?before=41")]] == [429, 200]  # both kept


def _asks_for_an_hour(h: BaseHTTPRequestHandler) -> None:
    h.send_body(429, "text/plain", b"later", {"Retry-After": "3600"})  # type: ignore[attr-defined]


def test_a_retry_after_beyond_the_bound_stops_without_waiting(sqlite_app: App) -> None:
    _settings(sqlite_app, page_delay_seconds=0, retry_after_max_seconds=5)
    with CaptureSite(posts=_posts(41, 45)) as site:
        site.routes[f"/s/{CH}?before=41"] = _asks_for_an_hour
        started = time.monotonic()
        report = capture(sqlite_app, site.url(f"/s/{CH}"), _opts(pages=5))
        assert time.monotonic() - started < 5
    assert report.outcome == "captured" and report.pages == 1 and report.posts == 5
    assert report.pages_stopped == "rate_limited"
    assert any("asking to wait 3600 seconds" in w for w in report.warnings)


def test_an_error_on_an_older_page_keeps_what_came(sqlite_app: App, three) -> None:
    _settings(sqlite_app, page_delay_seconds=0)
    three.routes[f"/s/{CH}?before=36"] = lambda h: h.send_body(  # type: ignore[attr-defined]
        500, HTML, b"<html><body>oops</body></html>"
    )
    report = capture(sqlite_app, three.url(f"/s/{CH}"), _opts(pages=5))
    assert report.outcome == "captured" and report.pages == 2 and report.posts == 10
    assert report.pages_stopped == "error" and report.messages_new == 10
    assert any("answered HTTP 500" in w and "2 page(s)" in w for w in report.warnings)
    assert _event(sqlite_app)["pages"]["stopped"] == "error"


def test_over_the_limit_is_refused_before_any_fetch(
    sqlite_app: App, three, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(TooManyPages, match=f"at most {MAX_PAGES} pages"):
        capture(sqlite_app, three.url(f"/s/{CH}"), _opts(pages=MAX_PAGES + 1))
    with pytest.raises(TooManyPages, match="at least 1"):
        capture(sqlite_app, three.url(f"/s/{CH}"), _opts(pages=0))
    for bad in (0, -5, 2**63):  # --back-to is checked by the capture itself, as --pages
        with pytest.raises(TooManyPages, match="message id must be a whole number"):
            capture(sqlite_app, three.url(f"/s/{CH}"), _opts(back_to=bad))
    code = 0
    try:
        main(["capture", three.url(f"/s/{CH}"), "--home", str(sqlite_app.settings.home),
              "--pages", "500", "--no-screenshot", "--no-analyze"])  # fmt: skip
    except SystemExit as exc:
        code = int(exc.code or 0)
    err = " ".join(capsys.readouterr().err.split())
    assert code == 3 and "A capture follows at most 200 pages" in err and "500" in err
    assert three.hits == []


def test_the_command_line_follows_pages(
    sqlite_app: App, three, capsys: pytest.CaptureFixture[str]
) -> None:
    _settings(sqlite_app, page_delay_seconds=0)
    try:
        main(["capture", three.url(f"/s/{CH}"), "--home", str(sqlite_app.settings.home),
              "--pages", "3", "--no-screenshot", "--no-analyze", "--json"])  # fmt: skip
    except SystemExit as exc:
        assert not exc.code
    report = json.loads(capsys.readouterr().out)
    assert report["pages"] == 3 and report["posts"] == 15 and report["oldest_id"] == 31


def test_older_page_urls_and_retry_after() -> None:
    assert page_url("https://t.me/s/x", 41) == "https://t.me/s/x?before=41"
    assert page_url("https://t.me/s/x?before=90&q=a", 41) == "https://t.me/s/x?q=a&before=41"
    assert retry_after("7") == 7.0 and retry_after(None) is None and retry_after("soon") is None
    from datetime import UTC, datetime

    now = datetime(2026, 12, 7, 12, 0, 0, tzinfo=UTC)
    assert retry_after("Mon, 07 Dec 2026 12:00:30 GMT", now) == 30.0
    # a hostile header: digits that are not ASCII, a date beyond any calendar
    assert retry_after("²") is None and retry_after("١٢") is None
    assert retry_after("Mon, 07 Dec 99999 12:00:30 GMT", now) is None


def test_the_first_page_waits_out_a_429_too(sqlite_app: App) -> None:
    """A single-page capture of a throttled channel used to keep the 429 answer and no post;
    the first page is waited for as the older ones are, and both answers are in the WARC."""
    _settings(sqlite_app, page_delay_seconds=0, retry_after_max_seconds=5)
    answers: list[int] = []
    first = _page(_posts(41, 45), before=None)

    def throttled(h: BaseHTTPRequestHandler) -> None:
        answers.append(429 if not answers else 200)
        if answers[-1] == 429:
            h.send_body(429, "text/plain", b"slow down", {"Retry-After": "1"})  # type: ignore[attr-defined]
        else:
            h.send_body(200, HTML, first)  # type: ignore[attr-defined]

    with CaptureSite(posts=_posts(41, 45)) as site:
        site.routes[f"/s/{CH}"] = throttled
        started = time.monotonic()
        report = capture(sqlite_app, site.url(f"/s/{CH}"), _opts())
        took = time.monotonic() - started
    assert answers == [429, 200] and took >= 1.0
    assert report.outcome == "captured" and report.status == 200 and report.posts == 5
    assert any("waited 1 seconds" in w for w in report.warnings)
    warc = _warc_bodies(sqlite_app, report.wacz_sha256)
    assert [s for s, _ in warc[site.url(f"/s/{CH}")]] == [429, 200]


def test_the_first_page_keeps_its_429_when_asked_to_wait_too_long(sqlite_app: App) -> None:
    _settings(sqlite_app, page_delay_seconds=0, retry_after_max_seconds=5)
    with CaptureSite(posts=_posts(41, 45)) as site:
        site.routes[f"/s/{CH}"] = _asks_for_an_hour
        started = time.monotonic()
        report = capture(sqlite_app, site.url(f"/s/{CH}"), _opts(pages=3))
        assert time.monotonic() - started < 5
        assert site.hits.count(f"/s/{CH}") == 1
    assert report.status == 429 and report.posts == 0
    said = " ".join(report.warnings)
    assert "asking to wait 3600 seconds" in said and "kept as it came" in said
