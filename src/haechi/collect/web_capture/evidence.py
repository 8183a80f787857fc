"""What a capture writes as evidence besides the posts: the screenshot (rendered from the
recorded bytes), the WACZ signed with the data directory's key, its RFC 3161 timestamp, and
the root files that carry them (with the parsed posts) into the vault. Each step adds to the
run's report; a screenshot or timestamp that fails is a warning, never the end of a capture.
Used by :mod:`haechi.collect.web_capture.service`."""

from __future__ import annotations

import hashlib
import json
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from haechi.collect.web_capture import screenshot as shots
from haechi.collect.web_capture import signing
from haechi.collect.web_capture import timestamp as tsa
from haechi.collect.web_capture.errors import ScreenshotFailed, TimestampFailed
from haechi.collect.web_capture.fetch import Exchange
from haechi.collect.web_capture.media import recorded_for_replay
from haechi.collect.web_capture.tme import PreviewPage
from haechi.collect.web_capture.wacz import PageEntry, WaczResult, write_wacz
from haechi.domain import SourceFile

if TYPE_CHECKING:
    from haechi.collect.web_capture.service import _Run as Run


def save(run: Run, name: str, data: bytes) -> Path:
    path = run.work / name
    path.write_bytes(data)
    return path


def screenshot_of(run: Run, main: Exchange | None) -> bytes | None:
    wanted = run.opts.screenshot if run.opts.screenshot is not None else run.conf.screenshot
    if not wanted or main is None or main.status >= 400:
        return None
    exe = shots.chromium_path(run.conf.chromium)
    if exe is None:
        run.warn("no screenshot: Chromium was not found (install it or set [capture] chromium)")
        return None
    try:
        png = shots.render(main.url, recorded_for_replay(run.exchanges), executable=exe)
    except ScreenshotFailed as exc:
        run.warn(str(exc))
        return None
    run.warc.resource(f"urn:screenshot:{main.url}", datetime.now(UTC), "image/png", png)
    run.report.screenshot_sha256 = hashlib.sha256(png).hexdigest()
    return png


def _wacz_key(run: Run) -> Any:
    """The data directory's ECDSA key for the WACZ spec's signature; its creation is a
    signed custody event (what binds it to the custody key)."""
    key, created = signing.load_or_create(run.app.settings.keys_dir)
    if created:
        data = signing.key_event_data(key, run.app.signer)
        with run.app.db.begin() as conn:
            run.app.custody.append(conn, signing.KEY_EVENT, f"key:{data['spki_sha256']}", data)
    return key


def package(run: Run, main: Exchange | None, page: PreviewPage | None) -> WaczResult:
    entries = [PageEntry(main.url, main.date, page.title if page else None)] if main else []
    entries += run.more_pages
    wacz = write_wacz(
        run.work / "capture.wacz",
        run.warc.path,
        run.warc.index,
        entries,
        signer=run.app.signer,
        wacz_key=_wacz_key(run),
        created=datetime.now(UTC),
        title=(page.title if page else None) or run.report.url,
        main_url=main.url if main else run.report.url,
    )
    r = run.report
    r.wacz_sha256, r.wacz_size, r.datapackage_sha256 = (
        wacz.sha256,
        wacz.size,
        wacz.datapackage_sha256,
    )
    r.signature, r.key_id = wacz.signature, wacz.key_id
    return wacz


def timestamp_of(run: Run, wacz: WaczResult) -> bytes | None:
    url = run.opts.tsa_url or run.conf.tsa_url
    if not url:
        run.warn(
            "no RFC 3161 timestamp: no timestamp authority is set ([capture] tsa_url or --tsa)"
        )
        return None
    digest = bytes.fromhex(wacz.sha256)
    try:
        reply, info = tsa.obtain(url, digest, timeout=run.conf.limits.timeout)
    except TimestampFailed as exc:
        run.warn(f"no RFC 3161 timestamp: {exc}")
        return None
    run.report.timestamp = {**info.as_dict(), "tsa_url": url}
    check = tsa.verify_token(reply, digest, run.opts.tsa_ca or run.conf.tsa_ca_file)
    run.report.timestamp_check = check.detail
    run.report.timestamp["verified"] = check.ok
    if not check.ok:
        run.warn(f"the timestamp was not verified: {check.detail}")
    return reply


def write_sidecars(
    run: Run,
    wacz: WaczResult,
    token: bytes | None,
    shot: bytes | None,
    posts: list[tuple[int, Any]],
) -> list[SourceFile]:
    """The WACZ, its timestamp token, the screenshot and the parsed posts, as root files."""
    cid = run.report.capture_id
    files = [SourceFile(f"{cid}/capture.wacz", wacz.path, "wacz")]
    if token is not None:
        files.append(
            SourceFile(
                f"{cid}/capture.wacz.tsr", save(run, "capture.wacz.tsr", token), "rfc3161_token"
            )
        )
    if shot is not None:
        files.append(
            SourceFile(f"{cid}/screenshot.png", save(run, "screenshot.png", shot), "screenshot")
        )
    if posts:
        parsed = [{"page": n, **post_summary(p)} for n, p in posts]
        data = json.dumps(parsed, ensure_ascii=False, indent=1).encode("utf-8")
        files.append(SourceFile(f"{cid}/posts.json", save(run, "posts.json", data), "parsed_posts"))
    if run.opts.out_dir is not None:
        out = run.opts.out_dir
        out.mkdir(parents=True, exist_ok=True)
        for sf in files:
            if sf.role in ("wacz", "rfc3161_token", "screenshot"):
                dest = out / f"{cid}-{sf.local_path.name}"
                shutil.copyfile(sf.local_path, dest)
                run.report.files_written.append(str(dest))
    return files


def post_summary(post: Any) -> dict[str, Any]:
    return {
        "channel": post.channel, "message_id": post.message_id, "date": post.date_raw,
        "text": post.text, "views": post.views_raw, "views_approx": post.views,
        "forwarded_from": post.forwarded_from, "forwarded_from_url": post.forwarded_from_url,
        "author": post.author, "edited": post.edited, "service": post.service,
        "reply_to": post.reply_to_message_id, "via_bot": post.via_bot,
        "media": [{"role": m.role, "url": m.url} for m in post.media],
        "raw_offset": post.offset, "raw_sha256": hashlib.sha256(post.raw).hexdigest(),
        "truncated": post.truncated,
    }  # fmt: skip
