"""``haechi capture URL``: preserve a public page as signed, timestamped WARC/WACZ evidence.

Steps: fetch the page (and, for a single post, its ``?embed=1`` frame) recording every
exchange into a WARC; read the Telegram posts on it; fetch their media and the page's own
images and stylesheets (bounded); render a screenshot from the recorded bytes; package the
WARC as a WACZ signed with the data directory's key; obtain an RFC 3161 timestamp over the
WACZ (those three: :mod:`.evidence`); then hand everything to the ingest service through
:class:`WebPreviewCollector` (vault, capture events, messages), and write one custody event
that records the signed digest and the timestamp.

Whatever fails, what was recorded is kept: a page that answers 404/410 is preserved as a
``web_capture_gone`` event with its WACZ; a fetch that fails after some exchanges (a
redirect off the host, a page over the limit) still yields a WACZ of those exchanges and a
``web_capture_failed`` event; a failure before any byte arrived records the event alone.
"""

from __future__ import annotations

import logging
import re
import shutil
import time
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from haechi.app import App
from haechi.collect.web_capture.collector import (
    CaptureBundle,
    FetchedMedia,
    WebPreviewCollector,
    chat_key,
)
from haechi.collect.web_capture.errors import CaptureError
from haechi.collect.web_capture.evidence import (
    package,
    save,
    screenshot_of,
    timestamp_of,
    write_sidecars,
)
from haechi.collect.web_capture.fetch import Exchange, Fetcher, check_url, host_of
from haechi.collect.web_capture.history import (
    MAX_PAGES,
    History,
    check_back_to,
    check_pages,
    fetch_polite,
    older_pages,
)
from haechi.collect.web_capture.media import fetch_media
from haechi.collect.web_capture.settings import CaptureSettings, load
from haechi.collect.web_capture.tme import PreviewPage, parse_page
from haechi.collect.web_capture.wacz import PageEntry, WaczResult
from haechi.collect.web_capture.warc import WarcBuilder, warcinfo_fields
from haechi.domain import SourceFile
from haechi.run.ingest import Ingestor, IngestReport

log = logging.getLogger("haechi.capture")
WEB_CAPTURE = "web_capture"
WEB_CAPTURE_GONE = "web_capture_gone"
WEB_CAPTURE_FAILED = "web_capture_failed"
GONE = (404, 410)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"


@dataclass
class CaptureOptions:
    case: str | None = None
    follow_offhost: bool = False
    tsa_url: str | None = None  # overrides [capture] tsa_url
    tsa_ca: Path | None = None  # overrides [capture] tsa_ca_file
    screenshot: bool | None = None  # None: [capture] screenshot
    out_dir: Path | None = None  # also write the WACZ, its token and screenshot here
    pages: int | None = None  # a channel's preview pages to follow; None: [capture] pages
    back_to: int | None = None  # stop paging once a page reaches this message id


@dataclass
class CaptureReport:
    url: str
    capture_id: str
    final_url: str | None = None
    status: int | None = None
    outcome: str = "captured"  # captured, gone, failed
    kind: str | None = None
    channel: str | None = None
    posts: int = 0
    messages_new: int = 0
    pages: int = 0  # preview pages the posts come from (1 + older pages followed)
    page_urls: list[str] = field(default_factory=list)
    pages_stopped: str | None = None  # why paging stopped (history.LIMIT, NO_OLDER, ...)
    oldest_id: int | None = None
    newest_id: int | None = None
    source_ids: list[int] = field(default_factory=list)  # one source per page with posts
    media_fetched: int = 0
    media_failed: int = 0
    page_files: int = 0  # the page's own pictures and videos, kept as the source's files
    files_new: int = 0  # new in the vault
    wacz_sha256: str | None = None
    wacz_size: int | None = None
    datapackage_sha256: str | None = None
    signature: str | None = None
    key_id: str | None = None
    timestamp: dict[str, Any] | None = None
    timestamp_check: str | None = None
    screenshot_sha256: str | None = None
    source_id: int | None = None
    custody_seq: int | None = None
    files_written: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


class _Run:
    """One capture: the work folder, the WARC being written and what was found."""

    def __init__(self, app: App, url: str, opts: CaptureOptions, conf: CaptureSettings) -> None:
        self.app, self.opts, self.conf = app, opts, conf
        now = datetime.now(UTC)
        self.started = now
        self.report = CaptureReport(url=url, capture_id=now.strftime("%Y%m%dT%H%M%S%fZ"))
        self.work = app.settings.tmp_dir / f"capture-{self.report.capture_id}"
        self.work.mkdir(parents=True, mode=0o700)
        (self.work / "bodies").mkdir()
        self.warc = WarcBuilder(self.work / "data.warc.gz")
        self.warc.warcinfo(warcinfo_fields(url, app.settings.operator))
        self.exchanges: list[Exchange] = []
        self.more_pages: list[PageEntry] = []  # a single post's embed frame
        self.fetcher = Fetcher(
            host_of(url), self._record, conf.limits, follow_offhost=opts.follow_offhost
        )

    def _record(self, ex: Exchange) -> None:
        self.warc.exchange(ex)
        ex.request = ex.response = b""  # in the WARC now; only the decoded body is kept
        self.exchanges.append(ex)

    def warn(self, sentence: str) -> None:
        log.warning("%s: %s", self.report.url, sentence)
        self.report.warnings.append(sentence)


def capture(app: App, url: str, opts: CaptureOptions | None = None) -> CaptureReport:
    """Capture ``url``; raises :class:`CaptureError` (after recording it) when it failed."""
    opts = opts or CaptureOptions()
    url = check_url(url)
    conf = load(app.settings)
    # Refused before anything is fetched. A back-to alone reads up to MAX_PAGES pages.
    back_to = None if opts.back_to is None else check_back_to(opts.back_to)
    pages = opts.pages
    if pages is None:
        pages = MAX_PAGES if back_to is not None else conf.pages
    opts = replace(opts, pages=check_pages(pages), back_to=back_to)
    run = _Run(app, url, opts, conf)
    started = time.monotonic()
    try:
        return _capture(run, url)
    finally:
        run.report.seconds = round(time.monotonic() - started, 3)
        shutil.rmtree(run.work, ignore_errors=True)  # the vault holds what was kept


def _capture(run: _Run, url: str) -> CaptureReport:
    report = run.report
    failure: CaptureError | None = None
    page: PreviewPage | None = None
    main: Exchange | None = None
    try:
        # The first page waits out a 429/503 as the older ones do: a room about to be
        # deleted is worth a minute's wait; a longer ask keeps the throttled answer.
        main, _, _ = fetch_polite(run, url)
    except CaptureError as exc:
        failure = exc
    if failure is not None and not run.exchanges:  # nothing came back: only the event
        report.outcome, report.error = "failed", str(failure)
        _event(run, WEB_CAPTURE_FAILED, f"url:{url}", {"reason_kind": failure.kind}, None)
        raise failure
    page_files: list[SourceFile] = []
    bundle_posts: list[Any] = []
    history = History()
    if main is not None:
        report.final_url, report.status = main.url, main.status
        page, posts_page = _read_pages(run, main)
        report.kind, report.channel = page.kind, page.channel
        bundle_posts = posts_page[0][0].posts if posts_page else []
        page_files = _page_files(run, main, posts_page)
        history = older_pages(run, page, posts_page)
    older_posts = [p for older in history.older for p in older.page.posts]
    media: dict[str, FetchedMedia] = {}
    page_media: list[SourceFile] = []
    if main is not None and main.status < 400:
        media, page_media = fetch_media(run, page, [*bundle_posts, *older_posts])
    report.media_fetched = sum(1 for m in media.values() if m.local_path is not None)
    report.media_failed = len(media) - report.media_fetched
    shot = screenshot_of(run, main)
    run.warc.close()
    wacz = package(run, main, page)
    token = timestamp_of(run, wacz)
    numbered = [(1, p) for p in bundle_posts]
    numbered += [(older.number, p) for older in history.older for p in older.page.posts]
    extra = write_sidecars(run, wacz, token, shot, numbered)
    bundle = CaptureBundle(
        url=url,
        capture_id=report.capture_id,
        kind=report.kind or "other",
        channel=page.channel if page else None,
        title=page.title if page else None,
        root_files=[*page_files, *extra],
        posts=bundle_posts,
        media=media,
        chat_extra=_chat_extra(page, main),
        page_files=page_media,
    )
    ingest = _ingest(run, bundle)
    report.posts, report.messages_new = len(bundle_posts), ingest.messages_new
    report.page_files, report.files_new = len(page_media), ingest.files_captured_new
    report.source_id = ingest.source_id
    report.source_ids = [ingest.source_id] if ingest.source_id is not None else []
    _ingest_older(run, bundle, history)
    if failure is not None:
        report.outcome, report.error = "failed", str(failure)
        _event(run, WEB_CAPTURE_FAILED, f"url:{url}", {"reason_kind": failure.kind}, wacz)
        raise failure
    if main is not None and main.status in GONE:
        report.outcome = "gone"
        subject = f"chat:{chat_key(page.channel)}" if page and page.channel else f"url:{url}"
        _event(run, WEB_CAPTURE_GONE, subject, {}, wacz)
    else:
        _event(run, WEB_CAPTURE, wacz.sha256, {}, wacz)
    _add_to_case(run, page)
    return report


def _read_pages(
    run: _Run, main: Exchange
) -> tuple[PreviewPage, list[tuple[PreviewPage, Exchange]]]:
    """The main page, and the page the posts come from (itself, or a post's embed frame)."""
    report = run.report
    if main.status in GONE:
        run.warn(
            f"{main.url} answered HTTP {main.status}: the page is gone; the answer is preserved"
        )
        gone = parse_page(b"", main.url)
        name = re.fullmatch(
            r"/(?:s/)?([A-Za-z][A-Za-z0-9_]{2,63})(?:/\d+)?/?", urlsplit(main.url).path
        )
        gone.channel = name.group(1) if name else None
        return gone, []
    if main.status >= 400:
        run.warn(f"{main.url} answered HTTP {main.status} {main.reason}; the answer is preserved")
    if main.truncated == "disconnect":
        run.warn(f"{main.url} ended before its announced length; what arrived was kept")
    page = parse_page(main.body, main.url)
    for w in page.warnings:
        run.warn(w)
    if page.kind == "post" and not page.posts:
        embed_url = page.embed_url or main.url.split("?", 1)[0].rstrip("/") + "?embed=1"
        try:
            embed = run.fetcher.fetch(
                embed_url, limit=run.conf.limits.page_bytes, accept=HTML_ACCEPT
            )
        except CaptureError as exc:
            run.warn(f"the post's embedded view could not be fetched: {exc}")
            return page, []
        framed = parse_page(embed.body, embed.url)
        run.more_pages.append(PageEntry(embed.url, embed.date, framed.title))
        page.posts, page.channel = framed.posts, page.channel or framed.channel
        for w in framed.warnings:
            run.warn(w)
        report.channel = page.channel
        return page, [(framed, embed)]
    return page, [(page, main)] if page.posts else []


def _ingest_older(run: _Run, first: CaptureBundle, history: History) -> None:
    """Each older page is a source of its own whose first root file is that page's body, so
    every post's ``raw_offset`` points into the very page it was sliced from."""
    r = run.report
    for older in history.older:
        name = f"page-{older.number}.html"
        body = save(run, name, older.exchange.body)
        bundle = replace(
            first, url=older.exchange.url, root_files=[
                SourceFile(f"{r.capture_id}/{name}", body, "web_page")
            ], posts=older.page.posts, page_files=[],
        )  # fmt: skip
        ingest = _ingest(run, bundle)
        r.posts += len(older.page.posts)
        r.messages_new += ingest.messages_new
        r.files_new += ingest.files_captured_new
        if ingest.source_id is not None:
            r.source_ids.append(ingest.source_id)


def _page_files(
    run: _Run, main: Exchange, posts_page: list[tuple[PreviewPage, Exchange]]
) -> list[SourceFile]:
    """The page bodies as root files; the one the posts were read from first (raw_offset)."""
    cid = run.report.capture_id
    files: list[SourceFile] = []
    if posts_page and posts_page[0][1] is not main:
        embed = posts_page[0][1]
        files.append(
            SourceFile(f"{cid}/embed.html", save(run, "embed.html", embed.body), "web_page")
        )
    files.append(SourceFile(f"{cid}/page.html", save(run, "page.html", main.body), "web_page"))
    return files


def _chat_extra(page: PreviewPage | None, main: Exchange | None) -> dict[str, Any]:
    if page is None or main is None:
        return {}
    return {"url": main.url, "description": page.description, "counters": page.counters}


def _ingest(run: _Run, bundle: CaptureBundle) -> IngestReport:
    report = Ingestor(run.app, WebPreviewCollector(bundle)).run()
    for w in report.warnings:
        run.warn(w)
    return report


def _event(
    run: _Run, kind: str, subject: str, data: dict[str, Any], wacz: WaczResult | None
) -> None:
    r = run.report
    body: dict[str, Any] = {
        "url": r.url,
        "final_url": r.final_url,
        "http_status": r.status,
        "capture_id": r.capture_id,
        "page_kind": r.kind,
        "channel": r.channel,
        "redirects": [ex.url for ex in run.exchanges if not ex.final],
        "source_id": r.source_id,
        "posts": r.posts,
        "pages": {
            "fetched": r.pages,
            "urls": r.page_urls,
            "stopped": r.pages_stopped,
            "oldest_id": r.oldest_id,
            "newest_id": r.newest_id,
        },
        "source_ids": r.source_ids,
        "media": {"fetched": r.media_fetched, "not_fetched": r.media_failed},
        "page_files": r.page_files,
        "warnings": len(r.warnings),
        "error": r.error,
        **data,
    }
    if wacz is not None:
        body.update(
            wacz_sha256=wacz.sha256,
            wacz_size=wacz.size,
            datapackage_sha256=wacz.datapackage_sha256,
            signature=wacz.signature,
            signature_algorithm="Ed25519",
            key_id=wacz.key_id,
            ecdsa_key_spki_sha256=wacz.ecdsa_key,
            timestamp=r.timestamp,
            screenshot_sha256=r.screenshot_sha256,
        )
    with run.app.db.begin() as conn:
        r.custody_seq = run.app.custody.append(conn, kind, subject, body)
    (log.error if kind == WEB_CAPTURE_FAILED else log.info)(
        "%s: %s (custody event %s)%s", r.url, kind, r.custody_seq, f": {r.error}" if r.error else ""
    )


def _add_to_case(run: _Run, page: PreviewPage | None) -> None:
    case = run.opts.case
    if not case or run.report.wacz_sha256 is None:
        return
    from haechi.cases.items import add_chat, add_file, add_link
    from haechi.cases.links import chat_url

    add_file(run.app, case, run.report.wacz_sha256)
    if page is not None and page.channel and run.report.posts:
        add_chat(run.app, case, chat_key(page.channel), url=chat_url(page.channel))
    else:
        add_link(run.app, case, run.report.url)
