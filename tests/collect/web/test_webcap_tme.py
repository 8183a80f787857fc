"""The t.me preview parser on pages built like real t.me/s pages (benign text of our own)."""

from __future__ import annotations

from haechi.collect.web_capture.collector import CaptureBundle, WebPreviewCollector
from haechi.collect.web_capture.tme import parse_page
from haechi.demo.capture_site import POSTS, channel_page, embed_page, post_page
from haechi.store.textsafe import raw_bytes

URL = "https://t.me/s/haechi_demo_news"


def _page() -> tuple[bytes, object]:
    body = channel_page().encode()
    return body, parse_page(body, URL)


def test_channel_page_posts_and_fields() -> None:
    body, page = _page()
    assert page.kind == "channel" and page.channel == "haechi_demo_news"
    assert page.title.startswith("해치 데모 소식")
    assert page.counters == {"subscribers": "1.5K", "photos": "3"}
    assert page.before == POSTS[0].id
    by_id = {p.message_id: p for p in page.posts}
    assert sorted(by_id) == [p.id for p in POSTS]
    assert by_id[11].service and by_id[11].text == "Channel created" and by_id[11].views is None
    notice = by_id[12]
    assert (
        notice.text == "오늘의 공지: 도서관 운영 시간이 바뀌었습니다.\nLibrary hours changed today."
    )
    assert notice.date_raw == "2026-03-02T08:05:10+00:00" and notice.date_unix == 1772438710
    assert (by_id[13].views_raw, by_id[13].views) == ("3.1M", 3_100_000)
    assert (by_id[14].views_raw, by_id[14].views) == ("436.6K", 436_600)
    assert [(m.role, m.url.rsplit("/", 1)[1]) for m in by_id[14].media] == [
        ("photo", "cat.jpg"),
        ("photo", "rocket.jpg"),
    ]
    assert by_id[14].media[1].single == "https://t.me/haechi_demo_news/15?single"
    assert [m.role for m in by_id[18].media] == ["video", "thumbnail"]
    assert by_id[18].media[0].duration == "0:02"
    assert by_id[19].forwarded_from == "Partner Notes"
    assert by_id[19].forwarded_from_url == "/partner_notes/7"
    signed = by_id[20]
    assert signed.author == "Kim Haechi" and signed.edited and not by_id[12].edited
    assert by_id[21].reply_to_message_id == 12
    assert by_id[21].text == "Replying to the notice above"  # the reply's snippet is not the text
    assert {"type": "hashtag", "text": "#notice"} in by_id[22].entities
    assert any(e.get("href") == "https://example.org/notice" for e in by_id[22].entities)
    for post in page.posts:  # the raw slice is the page's bytes at its offset
        assert body[post.offset : post.offset + len(post.raw)] == post.raw
        assert post.raw.startswith(b'<div class="tgme_widget_message ') and post.raw.endswith(
            b"</div>"
        )
        assert not post.truncated


def test_truncated_page_keeps_what_it_shows() -> None:
    body = channel_page().encode()
    cut = body[: body.index(b'data-post="haechi_demo_news/20"') + 400]
    page = parse_page(cut, URL)
    assert [p.message_id for p in page.posts][-1] == 20
    assert page.posts[-1].truncated and not page.posts[-2].truncated
    assert any("cut off" in w for w in page.warnings)


def test_not_html_and_empty_pages_do_not_crash() -> None:
    for junk in (b"", b"\x00\xff\xfe garbage \x89PNG", b"<html><body><div class=", b"{}" * 1000):
        page = parse_page(junk, URL)
        assert page.posts == []
        assert page.warnings  # says why there is nothing


def test_channel_without_post_list_is_reported() -> None:
    html = b"<html><body><div class='tgme_page'>If you have Telegram, you can contact</div></html>"
    page = parse_page(html, URL)
    assert page.posts == [] and any("no public post list" in w for w in page.warnings)


def test_single_post_page_names_its_embed_frame() -> None:
    page = parse_page(post_page(13).encode(), "https://t.me/haechi_demo_news/13")
    assert page.kind == "post" and page.posts == []
    assert page.embed_url == "https://t.me/haechi_demo_news/13?embed=1"
    embed = parse_page(embed_page(POSTS[2]).encode(), page.embed_url)
    assert [p.message_id for p in embed.posts] == [13]
    assert embed.posts[0].media[0].role == "photo"


def test_collector_keeps_raw_bytes_and_numbers_album_roles() -> None:
    body, page = _page()
    bundle = CaptureBundle(URL, "cid", "channel", page.channel, page.title, [], page.posts)
    caps = list(WebPreviewCollector(bundle).captures())
    assert caps[0].message is None and caps[0].chat.key == "tme:haechi_demo_news"
    assert caps[0].chat.peer.id is None and caps[0].chat.username == "haechi_demo_news"
    messages = {c.message.message_id: c.message for c in caps[1:]}
    album = messages[14]
    assert [f.role for f in album.files] == ["photo", "photo_2"]
    assert all(f.status.value == "unavailable" for f in album.files)  # nothing fetched here
    for m in messages.values():
        assert body[m.raw_offset : m.raw_offset + len(raw_bytes(m.raw))] == raw_bytes(m.raw)
    assert messages[11].kind == "service" and messages[20].edited_raw
