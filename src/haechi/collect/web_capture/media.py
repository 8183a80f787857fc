"""The files a captured page shows: the posts' media (into the vault, linked to their
messages), the page's own pictures and videos (into the vault as the source's files) and
its stylesheets (WARC only); all of them are in the WARC, so the page replays as it looked.

Bounded: at most ``max_media`` URLs, each within ``max_media_mb`` (``max_page_mb`` for a
stylesheet), all within ``max_total_mb``. A URL that fails (too large, gone, slow, a
redirect off its host, an internal address) is recorded with the reason and the capture
goes on. A file's type is sniffed from its bytes, never taken from the server's word.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any
from urllib.parse import urldefrag

from haechi.analyze.sniff import HEAD_BYTES, sniff
from haechi.collect.web_capture.collector import FetchedMedia
from haechi.collect.web_capture.errors import CaptureError, TooLarge
from haechi.collect.web_capture.fetch import Exchange
from haechi.collect.web_capture.screenshot import Recorded
from haechi.collect.web_capture.tme import Post, PreviewPage
from haechi.domain import MediaStatus, SourceFile

if TYPE_CHECKING:
    from haechi.collect.web_capture.service import _Run

REPLAY_MAX = 8 * 1024 * 1024  # bodies kept in memory for the screenshot's replay
_REPLAY_TYPES = ("text/", "image/", "font/", "application/xhtml", "application/javascript")


def _wanted(page: PreviewPage | None, posts: Iterable[Post]) -> list[tuple[str, str, bool]]:
    """(role, url, is a post's media) in page order, each URL once."""
    seen: set[str] = set()
    out: list[tuple[str, str, bool]] = []
    for post in posts:
        for m in post.media:
            if m.url not in seen:
                seen.add(m.url)
                out.append((m.role, m.url, True))
    for role, url in page.resources if page is not None else []:
        url = urldefrag(url)[0]
        if url not in seen and url.startswith(("http://", "https://")):
            seen.add(url)
            out.append((role, url, False))
    return out


def fetch_media(
    run: _Run, page: PreviewPage | None, posts: list[Post]
) -> tuple[dict[str, FetchedMedia], list[SourceFile]]:
    """The posts' media by URL, and the page's own pictures and videos as source files (into
    the vault as well, so they are analysed and matched like any other file)."""
    limits = run.conf.limits
    out: dict[str, FetchedMedia] = {}
    page_files: list[SourceFile] = []
    wanted = _wanted(page, posts)
    if len(wanted) > limits.max_media:
        run.warn(
            f"the page shows {len(wanted)} files; only the first {limits.max_media} were "
            "fetched ([capture] max_media)"
        )
    for n, (role, url, evidence) in enumerate(wanted):
        if n >= limits.max_media:
            if evidence:
                out[url] = FetchedMedia(
                    url, MediaStatus.UNAVAILABLE, note="over [capture] max_media"
                )
            continue
        limit = limits.page_bytes if role == "stylesheet" else limits.media_bytes
        try:
            ex = run.fetcher.fetch(url, limit=limit)
        except TooLarge as exc:
            _failed(run, out, url, MediaStatus.TOO_LARGE, str(exc), evidence)
            continue
        except CaptureError as exc:
            _failed(run, out, url, MediaStatus.UNAVAILABLE, str(exc), evidence)
            continue
        if ex.status != 200:
            _failed(
                run, out, url, MediaStatus.UNAVAILABLE, f"{url} answered HTTP {ex.status}", evidence
            )
            continue
        if role == "stylesheet":
            continue
        path = run.work / "bodies" / f"{n:05d}"
        path.write_bytes(ex.body)
        if not evidence:
            page_files.append(SourceFile(url, path, f"page_{role}"))
            if len(ex.body) > REPLAY_MAX:
                ex.body = b""
            continue
        _kind, mime = sniff(ex.body[:HEAD_BYTES])
        if mime in (None, "text/html") and role in ("photo", "video", "sticker", "voice"):
            run.warn(
                f"{url} is not a picture or video (it looks like {mime or 'unknown data'}); "
                "kept as it is"
            )
        out[url] = FetchedMedia(
            url, MediaStatus.PRESENT, path, mime or ex.content_type or None, len(ex.body)
        )
        if len(ex.body) > REPLAY_MAX:
            ex.body = b""  # on disk now; too large to hold for the screenshot
    return out, page_files


def _failed(
    run: _Run, out: dict[str, FetchedMedia], url: str, status: MediaStatus, why: str, evidence: bool
) -> None:
    run.warn(why)
    if evidence:
        out[url] = FetchedMedia(url, status, note=why[:500])


def recorded_for_replay(exchanges: list[Exchange]) -> dict[str, Recorded]:
    """What Chromium may load: every recorded answer by URL (a redirected URL answers with
    where it led)."""
    out: dict[str, Recorded] = {}
    pending: list[str] = []
    for ex in exchanges:
        if not ex.final:
            pending.append(ex.url)
            continue
        ctype = ex.content_type or "application/octet-stream"
        if ex.body and len(ex.body) <= REPLAY_MAX and ctype.startswith(_REPLAY_TYPES):
            hit = Recorded(ex.status, ctype, ex.body)
            for url in [*pending, ex.url]:
                out[urldefrag(url)[0]] = hit
        pending = []
    return out


__all__: list[Any] = ["fetch_media", "recorded_for_replay"]
