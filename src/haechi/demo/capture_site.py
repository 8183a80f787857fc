# ruff: noqa: E501  (HTML markup kept on one line per element, as t.me serves it)
"""A local stand-in for t.me's public preview pages, with benign content only.

The markup follows real t.me/s pages element for element (as recorded in the tchan
project's test suite of its public test channel, and in ``../shared/specs/telegram-
formats.md`` §1e): ``tgme_widget_message_wrap`` > ``tgme_widget_message[data-post]``,
``tgme_widget_message_text js-message_text``, ``tgme_widget_message_photo_wrap`` with its
picture in ``style="background-image:url('…')"``, grouped albums with ``?single`` links,
``tgme_widget_message_video_player`` with ``<video src>`` and a thumbnail, ``forwarded_from``,
``tgme_widget_message_views``, ``tgme_widget_message_meta`` with "edited" and the author
signature, ``time[datetime]`` with an explicit offset, service posts, replies, link
previews, ``tme_messages_more[data-before]``, and a single-post page whose widget script
names its ``?embed=1`` frame. The texts are our own; the pictures are scikit-image's bundled
photographs (a coffee cup, a cat, a rocket); the video is made here with PyAV.

Used by the capture tests, the demo and the capture benchmark. ``routes`` lets a test add
hostile answers (redirect loops, truncated pages, slow servers, huge files).
"""

from __future__ import annotations

import html
import io
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import urlsplit

from haechi.collect.web_capture.local_server import LocalServer

CHANNEL = "haechi_demo_news"
TITLE = "해치 데모 소식 · haechi demo news"
Handler = Callable[[BaseHTTPRequestHandler], None]


@cache
def jpeg(name: str, size: int = 320) -> bytes:
    """A bundled benign photograph as JPEG bytes."""
    from PIL import Image
    from skimage import data

    picture = {"coffee": data.coffee, "cat": data.chelsea, "rocket": data.rocket}[name]()
    img = Image.fromarray(picture).convert("RGB")
    img.thumbnail((size, size))
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=85)
    return buf.getvalue()


@cache
def mp4(frames: int = 12) -> bytes:
    """A short benign H.264 clip (the cat photo panning), made with PyAV."""
    import av
    import numpy as np
    from PIL import Image

    base = np.asarray(Image.open(io.BytesIO(jpeg("cat", 320))).convert("RGB").resize((128, 96)))
    buf = io.BytesIO()
    with av.open(buf, "w", format="mp4") as box:
        stream = box.add_stream("libx264", rate=6)
        stream.width, stream.height, stream.pix_fmt = 128, 96, "yuv420p"
        for i in range(frames):
            frame = av.VideoFrame.from_ndarray(np.roll(base, i * 4, axis=1).copy(), format="rgb24")
            for packet in stream.encode(frame):
                box.mux(packet)
        for packet in stream.encode():
            box.mux(packet)
    return buf.getvalue()


@dataclass
class DemoPost:
    id: int
    when: str  # ISO 8601 with offset, as t.me writes it
    text: str = ""
    photos: list[str] = field(default_factory=list)  # names for jpeg()
    video: bool = False
    views: str | None = "1.2K"
    forwarded: tuple[str, str] | None = None  # (name, href)
    author: str | None = None
    edited: bool = False
    service: bool = False
    reply_to: int | None = None
    link: str | None = None


POSTS = [
    DemoPost(11, "2026-03-02T08:00:00+00:00", service=True, text="Channel created", views=None),
    DemoPost(12, "2026-03-02T08:05:10+00:00", "오늘의 공지: 도서관 운영 시간이 바뀌었습니다.<br/>Library hours changed today."),
    DemoPost(13, "2026-03-02T09:15:33+00:00", "A cup of coffee for the volunteers", photos=["coffee"], views="3.1M"),
    DemoPost(14, "2026-03-02T10:20:00+00:00", "Two pictures from the open day", photos=["cat", "rocket"], views="436.6K"),
    DemoPost(18, "2026-03-02T11:01:46+00:00", "A short clip of the cat", video=True, views="987"),
    DemoPost(19, "2026-03-02T12:30:00+00:00", "Shared from our partner", forwarded=("Partner Notes", "/partner_notes/7")),
    DemoPost(20, "2026-03-02T13:47:38+00:00", "Signed and later corrected", author="Kim Haechi", edited=True, views="2"),
    DemoPost(21, "2026-03-02T14:00:00+00:00", "Replying to the notice above", reply_to=12, views="45"),
    DemoPost(22, "2026-03-02T15:10:00+00:00", 'Read more: <a href="https://example.org/notice" target="_blank" rel="noopener">https://example.org/notice</a> <a href="?q=%23notice">#notice</a>', link="https://example.org/notice", views="1"),
]  # fmt: skip


def _bubble_head(ch: str) -> str:
    return (
        f'<div class="tgme_widget_message_author accent_color"><a class="tgme_widget_message_owner_name" '
        f'href="https://t.me/{ch}"><span dir="auto">{html.escape(TITLE)}</span></a>\n              </div>'
    )


def _media(p: DemoPost, ch: str) -> str:
    if p.video:
        return (
            f'<a class="tgme_widget_message_video_player js-message_video_player" href="https://t.me/{ch}/{p.id}">'
            '<i class="tgme_widget_message_video_thumb" style="background-image:url(\'/file/thumb_cat.jpg\')"></i>'
            '<div class="tgme_widget_message_video_wrap"><video src="/file/clip.mp4" class="tgme_widget_message_video js-message_video" width="100%" height="100%"></video></div>'
            '<time class="message_video_duration js-message_video_duration">0:02</time></a>'
        )
    if len(p.photos) == 1:
        return (
            f'<a class="tgme_widget_message_photo_wrap blured js-message_photo" style="width:320px;'
            f'background-image:url(\'/file/{p.photos[0]}.jpg\')" data-ratio="1.5" href="https://t.me/{ch}/{p.id}">'
            '<div class="tgme_widget_message_photo" style="padding-top:66.6%"></div></a>'
        )
    if p.photos:
        items = "".join(
            f'<a class="tgme_widget_message_photo_wrap grouped_media_wrap blured js-message_photo" '
            f"style=\"left:0px;top:{i * 170}px;width:320px;height:168px;background-image:url('/file/{name}.jpg')\" "
            f'href="https://t.me/{ch}/{p.id + i}?single"><div class="tgme_widget_message_photo grouped_media"></div></a>'
            for i, name in enumerate(p.photos)
        )
        return (
            '<div class="tgme_widget_message_grouped_wrap js-message_grouped_wrap" data-margin-w="2" data-margin-h="2">'
            f'<div class="tgme_widget_message_grouped js-message_grouped"><div class="tgme_widget_message_grouped_layer js-message_grouped_layer">{items}</div></div></div>'
        )
    return ""


def post_html(p: DemoPost, ch: str = CHANNEL) -> str:
    service = " service_message" if p.service else ""
    fwd = ""
    if p.forwarded:
        fwd = (
            '<div class="tgme_widget_message_forwarded_from accent_color">Forwarded from&nbsp;'
            f'<a class="tgme_widget_message_forwarded_from_name" href="{p.forwarded[1]}"><span dir="auto">'
            f"{html.escape(p.forwarded[0])}</span></a>\n              </div>"
        )
    reply = ""
    if p.reply_to:
        reply = (
            f'<a class="tgme_widget_message_reply" href="https://t.me/{ch}/{p.reply_to}"><div class="tgme_widget_message_author">'
            f'<span class="tgme_widget_message_author_name" dir="auto">{html.escape(TITLE)}</span></div>'
            '<div class="tgme_widget_message_text js-message_reply_text" dir="auto">the earlier notice</div></a>'
        )
    preview = ""
    if p.link:
        preview = (
            f'<a class="tgme_widget_message_link_preview" href="{p.link}"><div class="link_preview_site_name accent_color" dir="auto">example.org</div>'
            '<div class="link_preview_title" dir="auto">A public notice</div></a>'
        )
    views = (
        f'<span class="tgme_widget_message_views">{p.views}</span><span class="copyonly"> views</span>'
        if p.views else ""
    )  # fmt: skip
    sig = (
        f'<span class="tgme_widget_message_from_author" dir="auto">{html.escape(p.author)}</span>,&nbsp;'
        if p.author
        else ""
    )
    edited = "edited &nbsp;" if p.edited else ""
    return (
        '<div class="tgme_widget_message_wrap js-widget_message_wrap">\n'
        f'  <div class="tgme_widget_message text_not_supported_wrap{service} js-widget_message" data-post="{ch}/{p.id}" data-view="eyJjIjotMTAwfQ">\n'
        f'    <div class="tgme_widget_message_user"><a href="https://t.me/{ch}"><i class="tgme_widget_message_user_photo bgcolor6" data-content="h"><img src="/file/avatar.jpg"></i></a>\n    </div>\n'
        '    <div class="tgme_widget_message_bubble">\n'
        f"      {_bubble_head(ch)}\n      {fwd}{reply}{_media(p, ch)}\n"
        f'      <div class="tgme_widget_message_text js-message_text" dir="auto">{p.text}\n      </div>\n'
        f"      {preview}\n"
        '      <div class="tgme_widget_message_footer compact js-message_footer">\n'
        '        <div class="tgme_widget_message_info short js-message_info">\n'
        f'          {views}<span class="tgme_widget_message_meta">{sig}{edited}<a class="tgme_widget_message_date" href="https://t.me/{ch}/{p.id}">'
        f'<time datetime="{p.when}" class="time">{p.when[11:16]}</time></a></span>\n'
        "        </div>\n      </div>\n    </div>\n  </div>\n</div>\n"
    )


def _head(title: str, description: str) -> str:
    return (
        '<!DOCTYPE html>\n<html>\n  <head>\n    <meta charset="utf-8">\n'
        f"    <title>{html.escape(title)} – Telegram</title>\n"
        f'    <meta property="og:title" content="{html.escape(title)}">\n'
        f'    <meta property="og:description" content="{html.escape(description)}">\n'
        '    <meta property="og:site_name" content="Telegram">\n'
        '    <link href="/css/widget-frame.css" rel="stylesheet">\n  </head>\n'
    )


def channel_page(posts: list[DemoPost] = POSTS, ch: str = CHANNEL) -> str:
    body = "".join(post_html(p, ch) for p in posts)
    return (
        _head(TITLE, "Benign notices for the haechi demo")
        + '  <body class="widget_frame_base tgme_webpreview_body">\n'
        '    <header class="tgme_header"><div class="tgme_channel_info">\n'
        f'      <div class="tgme_channel_info_header"><div class="tgme_channel_info_header_title"><span dir="auto">{html.escape(TITLE)}</span></div>\n'
        f'      <div class="tgme_channel_info_header_username"><a href="https://t.me/{ch}">@{ch}</a></div></div>\n'
        '      <div class="tgme_channel_info_description">Benign notices for the haechi demo</div>\n'
        '      <div class="tgme_channel_info_counters"><div class="tgme_channel_info_counter"><span class="counter_value">1.5K</span> <span class="counter_type">subscribers</span></div>'
        '<div class="tgme_channel_info_counter"><span class="counter_value">3</span> <span class="counter_type">photos</span></div></div>\n'
        "    </div></header>\n"
        '    <main class="tgme_main"><section class="tgme_channel_history js-message_history">\n'
        '      <div class="tgme_widget_message_centered js-messages_more_wrap">'
        f'<a href="/s/{ch}?before={posts[0].id if posts else 1}" class="tme_messages_more js-messages_more" data-before="{posts[0].id if posts else 1}"></a></div>\n'
        f"{body}    </section></main>\n  </body>\n</html>\n"
    )


def post_page(post_id: int, ch: str = CHANNEL) -> str:
    """The t.me/<channel>/<id> page: og tags and the widget script naming the embed frame."""
    return (
        _head(TITLE, "A post of the haechi demo channel")
        + '  <body><div class="tgme_page_wrap"><div class="tgme_page tgme_page_post"><div class="tgme_page_widget">'
        f'<script async src="https://telegram.org/js/telegram-widget.js?22" data-telegram-post="{ch}/{post_id}" data-width="100%"></script>'
        "</div></div></div></body>\n</html>\n"
    )


def embed_page(post: DemoPost, ch: str = CHANNEL) -> str:
    return (
        _head(TITLE, "embed")
        + '  <body class="body_widget_post emoji_image nodark">\n'
        + post_html(post, ch).split("\n", 1)[1].rsplit("</div>\n", 1)[0]  # no wrap in a frame
        + "\n  </body>\n</html>\n"
    )


CSS = b".tgme_widget_message_user img{width:40px;height:40px;border-radius:20px}\n.tgme_widget_message{font-family:sans-serif;border:1px solid #d7e3ec;border-radius:8px;margin:8px;padding:8px;max-width:480px}\n.tgme_widget_message_photo_wrap{display:block;width:320px;height:200px;background-size:cover}\n"


class _Handler(BaseHTTPRequestHandler):
    server: Any
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args: Any) -> None:
        return

    def send_body(
        self, status: int, ctype: str, body: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(body)

    def do_POST(self) -> None:  # a test's stand-in service (a timestamp authority) may use it
        self.rfile.read(min(int(self.headers.get("Content-Length") or 0), 1 << 20))
        self.do_GET()

    def do_GET(self) -> None:
        site: CaptureSite = self.server.owner
        parts = urlsplit(self.path)
        site.hits.append(self.path)
        route = site.routes.get(self.path) or site.routes.get(parts.path)
        if route is not None:
            route(self)
            return
        answer = site.answer(parts.path, parts.query)
        if answer is None:
            self.send_body(404, "text/html; charset=utf-8", b"<html><body>Not found</body></html>")
        else:
            self.send_body(200, *answer)


class CaptureSite(LocalServer):
    """``with CaptureSite() as site: site.url("/s/haechi_demo_news")``."""

    def __init__(self, posts: list[DemoPost] | None = None, channel: str = CHANNEL) -> None:
        self.posts = list(POSTS if posts is None else posts)
        self.channel = channel
        self.routes: dict[str, Handler] = {}
        self.hits: list[str] = []
        super().__init__(_Handler)

    def url(self, path: str) -> str:
        return self.base_url() + path

    def answer(self, path: str, query: str) -> tuple[str, bytes] | None:
        ch = self.channel
        if path == f"/s/{ch}":
            return "text/html; charset=utf-8", channel_page(self.posts, ch).encode()
        by_id = {p.id: p for p in self.posts}
        head, _, tail = path.strip("/").partition("/")
        if head == ch and tail.isdigit() and int(tail) in by_id:
            if "embed=1" in query:
                return "text/html; charset=utf-8", embed_page(by_id[int(tail)], ch).encode()
            return "text/html; charset=utf-8", post_page(int(tail), ch).encode()
        if path == "/css/widget-frame.css":
            return "text/css", CSS
        if path == "/file/clip.mp4":
            return "video/mp4", mp4()
        if path.startswith("/file/") and path.endswith(".jpg"):
            name = path[6:-4].removeprefix("thumb_")
            name = "coffee" if name == "avatar" else name
            if name in ("coffee", "cat", "rocket"):
                return "image/jpeg", jpeg(name)
        return None
