"""Older pages of a channel's public preview (``t.me/s/<channel>?before=<id>``).

A preview page shows about twenty posts, the newest; its ``a.tme_messages_more[data-before]``
names the page of older ones (``../shared/specs/telegram-formats.md`` §1e). A capture asked
for ``pages`` > 1 follows that link page after page through the capture's own fetcher, so
every older page is a WARC record exactly like the first one (same limits, same redirect and
address checks) and each post keeps its byte offset in *its* page's body.

Politeness and bounds: a pause between pages (``[capture] page_delay_seconds``), an HTTP 429
or 503 (on the first page too: :func:`fetch_polite`) is waited for as its ``Retry-After``
asks, but never longer than ``[capture] retry_after_max_seconds`` (a longer wait stops the
paging instead; on the first page the throttled answer is what is kept), at most
:data:`MAX_PAGES` pages. Paging stops, keeping everything fetched so far, when a page has no
older link (some pages lack it: nothing is guessed), when a page brings no post not seen
already or points back at itself (a loop), at ``pages``, at ``back_to``, or on an error,
and the report says which.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from haechi.collect.web_capture.errors import CaptureError
from haechi.collect.web_capture.fetch import Exchange
from haechi.collect.web_capture.tme import Post, PreviewPage, parse_page
from haechi.collect.web_capture.wacz import PageEntry
from haechi.i18n import t_

if TYPE_CHECKING:
    from haechi.collect.web_capture.service import _Run

MAX_PAGES = 200  # 200 pages of about 20 posts: some 4,000 posts, hours of polite fetching
RETRIES = 3  # answers of 429/503 waited for on one page before paging stops
THROTTLED = (429, 503)
HTML_ACCEPT = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.5"
# Why paging stopped (the report's and custody event's ``pages_stopped``).
LIMIT, NO_OLDER, NO_NEW, LOOP, BACK_TO, ERROR, THROTTLED_TOO_LONG = (
    "limit", "no_older_page", "no_new_posts", "loop", "back_to", "error", "rate_limited",
)  # fmt: skip


class TooManyPages(CaptureError):
    """``--pages`` or ``--back-to`` out of bounds: refused before anything is fetched."""

    kind = "bad_option"


def check_pages(pages: int) -> int:
    """``pages`` if it is within 1..MAX_PAGES; otherwise one sentence saying the bound."""
    if isinstance(pages, bool) or not isinstance(pages, int) or pages < 1:
        raise TooManyPages(
            t_("The number of pages to capture must be a whole number of at least 1.")
        )
    if pages > MAX_PAGES:
        raise TooManyPages(
            t_(
                "A capture follows at most {max} pages of a channel's history; {pages} were "
                "asked for. Capture in several runs with --back-to if more is needed.",
                max=MAX_PAGES,
                pages=pages,
            )
        )
    return pages


def check_back_to(message_id: int) -> int:
    """``message_id`` if it can be a post's id (1 to 2^63 - 1); otherwise one sentence."""
    if isinstance(message_id, bool) or not isinstance(message_id, int):
        message_id = 0
    if not 1 <= message_id < 2**63:
        raise TooManyPages(
            t_("Capture back to: the message id must be a whole number of at least 1.")
        )
    return message_id


@dataclass
class OlderPage:
    number: int  # 2 for the first older page
    page: PreviewPage  # its ``posts``: only those not seen on a newer page
    exchange: Exchange


@dataclass
class History:
    older: list[OlderPage] = field(default_factory=list)
    stopped: str = LIMIT
    error: str | None = None
    waited: float = 0.0  # seconds spent waiting for Retry-After


def page_url(url: str, before: int) -> str:
    """``url`` asking for the posts before ``before`` (other query parameters kept)."""
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query) if k not in ("before", "after")]
    query.append(("before", str(before)))
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), ""))


def retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds a ``Retry-After`` header asks for (delta-seconds or an HTTP date)."""
    if not value:
        return None
    value = value.strip()
    if value.isascii() and value.isdigit():  # str.isdigit alone takes "²", float() does not
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def _key(post: Post) -> tuple[str, int]:
    return post.channel.lower(), post.message_id


def follow_older(
    run: _Run,
    first: PreviewPage,
    pages: int,
    back_to: int | None,
    sleep: Callable[[float], None] = time.sleep,
) -> History:
    """Fetch up to ``pages - 1`` older pages after ``first`` (already fetched, parsed)."""
    history = History()
    seen = {_key(p) for p in first.posts}
    base = run.report.final_url or run.report.url
    current, before, number = first, first.before, 1
    while True:
        ids = [p.message_id for p in current.posts]
        if number >= pages:
            history.stopped = LIMIT
            break
        if back_to is not None and ids and min(ids) <= back_to:
            history.stopped = BACK_TO
            break
        if before is None or before <= 1:
            history.stopped = NO_OLDER
            break
        number += 1
        url = page_url(base, before)
        sleep(run.conf.page_delay)
        try:
            ex, waited, too_long = fetch_polite(run, url, sleep)
        except CaptureError as exc:
            history.stopped, history.error = ERROR, str(exc)
            run.warn(
                f"older page {number} ({url}) could not be fetched: {exc} The "
                f"{number - 1} page(s) fetched before it are kept."
            )
            break
        history.waited += waited
        if too_long:  # asked to wait longer than the bound
            history.stopped = THROTTLED_TOO_LONG
            run.warn(
                f"paging stopped at older page {number}; the {number - 1} page(s) fetched "
                "before it are kept."
            )
            break
        if ex.status >= 400:
            history.stopped, history.error = ERROR, f"HTTP {ex.status} {ex.reason}".strip()
            run.warn(
                f"older page {number} ({ex.url}) answered HTTP {ex.status}; paging stopped, "
                f"the {number - 1} page(s) fetched before it are kept (the answer is in the WARC)."
            )
            break
        page = parse_page(ex.body, ex.url)
        for w in page.warnings:
            run.warn(f"older page {number}: {w}")
        fresh = [p for p in page.posts if _key(p) not in seen]
        if not fresh:
            history.stopped = NO_NEW
            run.warn(
                f"older page {number} ({ex.url}) brought no post not seen already; paging "
                "stopped (the page is in the WARC)."
            )
            break
        seen.update(_key(p) for p in fresh)
        page.posts = fresh
        history.older.append(OlderPage(number, page, ex))
        if page.before is not None and page.before >= before:  # points at itself or newer
            history.stopped = LOOP
            run.warn(
                f"older page {number} ({ex.url}) points back to ?before={page.before}; "
                "paging stopped."
            )
            break
        current, before = page, page.before
    return history


def older_pages(
    run: _Run, page: PreviewPage, posts_page: list[tuple[PreviewPage, Exchange]]
) -> History:
    """A channel's older pages, when more than one page is asked for (:mod:`.history`)."""
    r, wanted = run.report, run.opts.pages or 1
    history = History()
    if wanted > 1 and page.kind == "channel" and posts_page:
        history = follow_older(run, page, wanted, run.opts.back_to)
    elif wanted > 1:
        history.stopped = NO_OLDER
        run.warn("only a channel's preview page with posts has older pages; one page was kept")
    for older in history.older:  # listed in the WACZ's pages.jsonl like the first page
        run.more_pages.append(PageEntry(older.exchange.url, older.exchange.date, older.page.title))
    r.page_urls = [url for url in [r.final_url] if url] + [o.exchange.url for o in history.older]
    r.pages, r.pages_stopped = len(r.page_urls), history.stopped if wanted > 1 else None
    ids = [p.message_id for p in (posts_page[0][0].posts if posts_page else [])]
    ids += [p.message_id for older in history.older for p in older.page.posts]
    r.oldest_id, r.newest_id = (min(ids), max(ids)) if ids else (None, None)
    return history


def fetch_polite(
    run: _Run, url: str, sleep: Callable[[float], None] = time.sleep
) -> tuple[Exchange, float, bool]:
    """GET one page (the first or an older one); a 429/503 is waited for as asked, within
    the bound, then retried, up to :data:`RETRIES` times; every answer is recorded in the
    WARC. Returns the last answer, the seconds waited, and whether the server asked for a
    longer wait than the bound (the answer is then that throttled one)."""
    limit, waited = run.conf.retry_wait_max, 0.0
    for attempt in range(RETRIES + 1):
        ex = run.fetcher.fetch(url, limit=run.conf.limits.page_bytes, accept=HTML_ACCEPT)
        if ex.status not in THROTTLED or attempt == RETRIES:
            return ex, waited, False
        asked = retry_after(ex.header("retry-after"))
        wait = asked if asked is not None else max(run.conf.page_delay, 1.0) * 2**attempt
        if wait > limit:
            run.warn(
                f"{url} answered HTTP {ex.status} asking to wait {wait:g} seconds, more than "
                f"[capture] retry_after_max_seconds ({limit:g}); not waited for, the answer "
                "is kept as it came."
            )
            return ex, waited, True
        run.warn(f"{url} answered HTTP {ex.status}; waited {wait:g} seconds as asked, then retried")
        waited += wait
        sleep(wait)
    raise AssertionError("not reached: the last attempt returns")
