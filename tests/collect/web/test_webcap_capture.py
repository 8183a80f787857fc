"""A whole capture against the local site: WARC/WACZ, signature, timestamp, ingest, custody
(SQLite and PostgreSQL)."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

from sqlalchemy import select

from haechi.app import App
from haechi.collect.web_capture.service import (
    WEB_CAPTURE,
    CaptureOptions,
    capture,
)
from haechi.collect.web_capture.verify import verify_wacz
from haechi.run.verify import verify
from haechi.store.custody import iter_db_events
from haechi.store.models import Chat, Media, Message, Source, SourceFile
from haechi.store.textsafe import raw_bytes

WACZ_CLI = Path(sys.executable).with_name("wacz")


def _events(app: App, kind: str) -> list[dict]:
    with app.db.connect() as conn:
        bodies = [json.loads(e.body) for e in iter_db_events(conn)]
    return [b for b in bodies if b["type"] == kind]


def test_channel_capture_end_to_end(app: App, site, tsa, tmp_path: Path) -> None:
    out = tmp_path / "out"
    opts = CaptureOptions(tsa_url=tsa.url, tsa_ca=tsa.ca_path, out_dir=out, screenshot=False)
    report = capture(app, site.url("/s/haechi_demo_news"), opts)
    assert report.outcome == "captured" and report.status == 200 and report.kind == "channel"
    assert report.posts == 9 and report.messages_new == 9
    assert report.media_fetched == 5 and report.media_failed == 0  # 4 photos, video, thumb
    assert report.timestamp["verified"] is True and report.warnings == []

    wacz = next(out.glob("*-capture.wacz"))
    # the reference validator accepts it (the same check `wacz validate` runs)
    done = subprocess.run(
        [str(WACZ_CLI), "validate", "-f", str(wacz)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout
    check = verify_wacz(wacz, trusted=app.verifier(), token=None, tsa_ca=tsa.ca_path)
    assert check.ok, check.checks
    with zipfile.ZipFile(wacz) as zf:
        assert zf.getinfo("archive/data.warc.gz").compress_type == zipfile.ZIP_STORED
        index = zf.read("indexes/index.cdx").decode().splitlines()
        assert any('"url": "' + site.url("/file/clip.mp4") in line for line in index)

    with app.db.connect() as conn:
        chat = conn.execute(select(Chat).where(Chat.key == "tme:haechi_demo_news")).one()
        assert chat.tg_id is None and chat.username == "haechi_demo_news"
        messages = conn.execute(select(Message).where(Message.chat_id == chat.id)).all()
        assert len(messages) == 9
        source = conn.execute(select(Source).where(Source.id == report.source_id)).one()
        assert source.kind == "web_preview" and source.status == "finished"
        roles = {
            f.role
            for f in conn.execute(select(SourceFile).where(SourceFile.source_id == source.id))
        }
        assert {"web_page", "wacz", "rfc3161_token", "parsed_posts", "page_image"} <= roles
        media = conn.execute(select(Media).where(Media.source_id == source.id)).all()
        assert {m.role for m in media} >= {"photo", "photo_2", "file", "thumbnail"}
        assert all(m.blob_sha256 for m in media if m.status == "present")
    # each post's raw HTML is byte for byte in the stored page at its offset
    page = app.vault.read_bytes(source.root_sha256)
    for m in messages:
        raw = raw_bytes(m.raw)
        assert page[m.raw_offset : m.raw_offset + len(raw)] == raw
    # the vault holds the WACZ that was signed and timestamped
    assert app.vault.read_bytes(report.wacz_sha256) == wacz.read_bytes()
    event = _events(app, WEB_CAPTURE)[-1]
    assert event["subject"] == report.wacz_sha256
    assert event["data"]["datapackage_sha256"] == report.datapackage_sha256
    assert event["data"]["timestamp"]["imprint"] == report.wacz_sha256
    assert event["data"]["signature"] == report.signature
    assert verify(app).ok


def test_recapture_adds_evidence_but_no_duplicates(app: App, site, tsa) -> None:
    opts = CaptureOptions(tsa_url=tsa.url, screenshot=False)
    first = capture(app, site.url("/s/haechi_demo_news"), opts)
    second = capture(app, site.url("/s/haechi_demo_news"), opts)
    assert second.messages_new == 0 and second.posts == first.posts
    assert second.wacz_sha256 != first.wacz_sha256  # another act, another package
    assert len(_events(app, WEB_CAPTURE)) == 2
    with app.db.connect() as conn:
        assert len(conn.execute(select(Message)).all()) == 9


def test_single_post_page_reads_its_embed(app: App, site, tsa) -> None:
    report = capture(app, site.url("/haechi_demo_news/14"), CaptureOptions(screenshot=False))
    assert report.kind == "post" and report.posts == 1 and report.media_fetched == 2
    assert any("no RFC 3161 timestamp" in w for w in report.warnings)  # none configured
    with app.db.connect() as conn:
        row = conn.execute(select(Message)).one()
    assert row.message_id == 14 and "open day" in row.text


def test_case_gets_the_wacz_and_the_chat(sqlite_app: App, site) -> None:
    from haechi.cases.detail import case_detail
    from haechi.cases.service import create_case

    create_case(sqlite_app, "web capture test", ref="WEB-1")
    opts = CaptureOptions(case="WEB-1", screenshot=False)
    capture(sqlite_app, site.url("/s/haechi_demo_news"), opts)
    detail = case_detail(sqlite_app, "WEB-1")
    kinds = sorted(item.kind for item in detail.items)
    assert "chat" in kinds and "media" in kinds


def test_plain_page_keeps_its_pictures_and_video(app: App, site) -> None:
    from haechi.demo.capture_site import jpeg, mp4

    html = (
        b"<html><head><title>A public notice</title>"
        b"<link rel=stylesheet href=/css/widget-frame.css></head>"
        b"<body><h1>Notice</h1><img src='/file/rocket.jpg'><video src='/file/clip.mp4'>"
        b"</video><img src='data:image/png;base64,AAAA'></body></html>"
    )
    site.routes["/notice"] = lambda h: h.send_body(200, "text/html; charset=utf-8", html)
    report = capture(app, site.url("/notice"), CaptureOptions(screenshot=False))
    assert report.kind == "other" and report.posts == 0 and report.page_files == 2
    with app.db.connect() as conn:
        rows = conn.execute(
            select(SourceFile).where(SourceFile.source_id == report.source_id)
        ).all()
    by_role = {r.role: r for r in rows}
    assert by_role["page_image"].path == site.url("/file/rocket.jpg")
    assert app.vault.read_bytes(by_role["page_image"].blob_sha256) == jpeg("rocket")
    assert app.vault.read_bytes(by_role["page_video"].blob_sha256) == mp4()
    assert "page_stylesheet" not in by_role  # in the WARC only


def test_a_package_proves_captured_posts_against_their_pages(
    sqlite_app: App, site, tmp_path: Path
) -> None:
    """The page bodies the posts were sliced from go into the package with --source-json
    (role web_page; only result.json files went in before), so the package's own verifier
    checks each post against the very bytes at its offset in its page, page 2 included."""
    from tests.report.test_package import standalone

    from haechi.cases import items
    from haechi.cases.service import create_case
    from haechi.report.package import PackageOptions, create_package

    case = create_case(sqlite_app, "captured posts", ref="WEB-2")
    report = capture(sqlite_app, site.url("/s/haechi_demo_news"), CaptureOptions(screenshot=False))
    with sqlite_app.db.connect() as conn:
        mids = sorted(conn.execute(select(Message.message_id)).scalars())
    assert report.posts == len(mids) >= 3
    for mid in mids[:3]:
        items.add_message(sqlite_app, case.ref, chat="tme:haechi_demo_news", message_id=mid)
    out = tmp_path / "pkg"
    pkg = create_package(
        sqlite_app, case.ref, out, PackageOptions(pdf=False, source_json=True)
    ).path
    pages = [f for f in json.loads((pkg / "manifest.json").read_text())["files"]
             if f["role"] == "original_source_page"]  # fmt: skip
    assert len(pages) == 1 and pages[0]["path"].endswith(".html")
    verdict = json.loads(standalone(pkg, "--json").stdout)
    assert verdict["ok"], verdict["problems"]
    assert verdict["messages"] == verdict["messages_checked_in_source"] == 3
    # a page altered after the package was made: the posts no longer match it
    page = pkg / pages[0]["path"]
    page.chmod(0o644)
    body = bytearray(page.read_bytes())
    start = body.index(b"data-post=")
    body[start + 20 : start + 21] = b"#"
    page.write_bytes(bytes(body))
    problems = json.loads(standalone(pkg, "--json").stdout)["problems"]
    assert problems and any(pages[0]["path"] in p for p in problems), problems
