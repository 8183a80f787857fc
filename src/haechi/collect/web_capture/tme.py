"""Read Telegram's public preview pages (t.me/s/<channel>, t.me/<channel>/<id>?embed=1).

The markup (see ``../shared/specs/telegram-formats.md`` §1e) changes without notice, so
every post keeps its HTML **exactly as served**: the bytes of its ``data-post`` element are
sliced from the page body (a balanced scan of ``<div>`` tags, on bytes, so the slice's byte
offset in the stored page proves it), and the fields below are read from that slice alone.
Nothing is guessed: no numeric ids (the page has none), views kept as shown ("1.2K") with an
approximate number beside, a post whose markup is cut off is kept with a warning.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urljoin, urlsplit

import lxml.html
from lxml.etree import ParserError

_POST_START = re.compile(rb"<div\b[^>]*\bdata-post\s*=\s*\"([^\"/]{1,64})/(\d{1,18})\"[^>]*>", re.I)
_DIV_TAG = re.compile(rb"<(/?)div\b", re.I)
_CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+?)['\"]?\s*\)")
_VIEWS = re.compile(r"^\s*([\d.,]+)\s*([KkMmBb]?)\s*$")
_USERNAME = re.compile(r"^[A-Za-z][A-Za-z0-9_]{2,63}$")
_MULT = {"": 1, "k": 1_000, "m": 1_000_000, "b": 1_000_000_000}
MAX_POSTS = 1000  # a preview page shows about 20; more means the page is not what it seems


@dataclass
class MediaLink:
    role: str  # photo, video, thumbnail, voice, sticker, round_video, link_preview
    url: str
    single: str | None = None  # the t.me/<ch>/<id>?single link of one album item
    duration: str | None = None


@dataclass
class Post:
    channel: str
    message_id: int
    raw: bytes  # the post's element, byte for byte as served
    offset: int  # of ``raw`` in the page body
    date_raw: str | None = None
    date_unix: int | None = None
    text: str = ""
    entities: list[dict[str, Any]] = field(default_factory=list)
    views_raw: str | None = None
    views: int | None = None  # approximate when abbreviated ("1.2K")
    owner_name: str | None = None  # the channel title shown on the post
    author: str | None = None  # post signature
    forwarded_from: str | None = None
    forwarded_from_url: str | None = None
    via_bot: str | None = None
    reply_to_message_id: int | None = None
    edited: bool = False
    service: bool = False
    media: list[MediaLink] = field(default_factory=list)
    truncated: bool = False  # the page ended inside this post


@dataclass
class PreviewPage:
    kind: str  # channel, post, embed, other
    channel: str | None = None
    title: str | None = None
    description: str | None = None
    counters: dict[str, str] = field(default_factory=dict)
    posts: list[Post] = field(default_factory=list)
    before: int | None = None  # the older page's id (a.tme_messages_more[data-before])
    embed_url: str | None = None  # a single-post page's widget frame, to fetch as well
    resources: list[tuple[str, str]] = field(default_factory=list)  # (role, url) of the page
    warnings: list[str] = field(default_factory=list)


def _classes(el: Any) -> set[str]:
    return set((el.get("class") or "").split())


def _first(el: Any, cls: str) -> Any | None:
    for node in el.iter():
        if isinstance(node.tag, str) and cls in _classes(node):
            return node
    return None


def _all(el: Any, cls: str) -> list[Any]:
    return [n for n in el.iter() if isinstance(n.tag, str) and cls in _classes(n)]


def _text(el: Any | None) -> str | None:
    if el is None:
        return None
    value = " ".join(el.text_content().split())
    return value or None


def _style_urls(el: Any, base: str) -> list[str]:
    return [urljoin(base, u.strip()) for u in _CSS_URL.findall(el.get("style") or "")]


def _views(raw: str | None) -> int | None:
    m = _VIEWS.match(raw or "")
    if not m:
        return None
    try:
        number = float(m.group(1).replace(",", ""))
    except ValueError:
        return None
    return round(number * _MULT[m.group(2).lower()])


def _date(raw: str | None) -> int | None:
    if not raw:
        return None
    try:
        when = datetime.fromisoformat(raw)
    except ValueError:
        return None
    return int(when.timestamp()) if when.tzinfo is not None else None  # no zone: never guess


def _message_text(node: Any) -> tuple[str, list[dict[str, Any]]]:
    """Plain text with line breaks kept, and the links in it as entities."""
    for br in node.iter("br"):
        br.tail = "\n" + (br.tail or "")
    entities: list[dict[str, Any]] = []
    for a in node.iter("a"):
        href = a.get("href") or ""
        label = a.text_content()
        if "?q=%23" in href:
            entities.append({"type": "hashtag", "text": label})
        elif href:
            entities.append({"type": "text_link", "text": label, "href": href})
    lines = [ln.strip() for ln in node.text_content().split("\n")]
    return "\n".join(ln for ln in lines if ln), entities


def _post_end(body: bytes, start: int) -> int | None:
    """End of the ``<div>`` opened at ``start`` (None when the page ends first)."""
    depth = 0
    for m in _DIV_TAG.finditer(body, start):
        depth += -1 if m.group(1) else 1
        if depth == 0:
            close = body.find(b">", m.end())
            return None if close < 0 else close + 1
    return None


def _media(el: Any, base: str) -> list[MediaLink]:
    found: list[MediaLink] = []
    for wrap in _all(el, "tgme_widget_message_photo_wrap"):
        for url in _style_urls(wrap, base):
            found.append(MediaLink("photo", url, wrap.get("href")))
    for player in _all(el, "tgme_widget_message_video_player") + _all(
        el, "tgme_widget_message_roundvideo_player"
    ):
        role = (
            "round_video"
            if "tgme_widget_message_roundvideo_player" in _classes(player)
            else "video"
        )
        duration = _text(_first(player, "message_video_duration"))
        for video in player.iter("video"):
            if video.get("src"):
                found.append(
                    MediaLink(role, urljoin(base, video.get("src")), player.get("href"), duration)
                )
        for thumb in _all(player, "tgme_widget_message_video_thumb") + _all(
            player, "tgme_widget_message_roundvideo_thumb"
        ):
            for url in _style_urls(thumb, base):
                found.append(MediaLink("thumbnail", url, player.get("href")))
    for audio in el.iter("audio"):
        if audio.get("src"):
            found.append(MediaLink("voice", urljoin(base, audio.get("src"))))
    for sticker in _all(el, "tgme_widget_message_sticker"):
        webp: str | None = sticker.get("data-webp") or next(iter(_style_urls(sticker, base)), None)
        if webp:
            found.append(MediaLink("sticker", urljoin(base, webp)))
    for image in _all(el, "link_preview_image") + _all(el, "link_preview_right_image"):
        for url in _style_urls(image, base):
            found.append(MediaLink("link_preview", url))
    seen: set[tuple[str, str]] = set()
    unique = []
    for m in found:
        if (m.role, m.url) not in seen and m.url.startswith(("http://", "https://")):
            seen.add((m.role, m.url))
            unique.append(m)
    return unique


def parse_post(channel: str, message_id: int, raw: bytes, offset: int, base: str) -> Post:
    post = Post(channel=channel, message_id=message_id, raw=raw, offset=offset)
    try:
        el = lxml.html.fragment_fromstring(raw.decode("utf-8", "replace"), create_parent="div")
    except (ParserError, ValueError):
        return post
    node = _first(el, "tgme_widget_message") if "tgme_widget_message" not in _classes(el) else el
    node = node if node is not None else el
    post.service = "service_message" in _classes(node)
    text_node = None
    for cand in _all(node, "js-message_text"):
        if not any("tgme_widget_message_reply" in _classes(p) for p in cand.iterancestors()):
            text_node = cand
            break
    if text_node is not None:
        post.text, post.entities = _message_text(text_node)
    meta = _first(node, "tgme_widget_message_meta")
    if meta is not None:
        post.edited = "edited" in meta.text_content().lower()
        post.author = _text(_first(meta, "tgme_widget_message_from_author"))
    for time_el in node.iter("time"):
        if time_el.get("datetime") and "message_video_duration" not in _classes(time_el):
            post.date_raw = time_el.get("datetime")[:40]
            post.date_unix = _date(post.date_raw)
            break
    post.views_raw = _text(_first(node, "tgme_widget_message_views"))
    post.views = _views(post.views_raw)
    post.owner_name = _text(_first(node, "tgme_widget_message_owner_name"))
    fwd = _first(node, "tgme_widget_message_forwarded_from_name")
    if fwd is not None:
        post.forwarded_from = _text(fwd)
        post.forwarded_from_url = fwd.get("href")
    via = _first(node, "tgme_widget_message_via_bot")
    if via is not None:
        post.via_bot = _text(via)
    reply = _first(node, "tgme_widget_message_reply")
    if reply is not None and reply.get("href"):
        tail = urlsplit(reply.get("href")).path.rstrip("/").rsplit("/", 1)[-1]
        post.reply_to_message_id = int(tail) if tail.isdigit() and len(tail) < 19 else None
    post.media = _media(node, base)
    return post


def _page_info(doc: Any, page: PreviewPage, base: str) -> None:
    title = _first(doc, "tgme_channel_info_header_title")
    page.title = _text(title)
    if page.title is None:
        for meta in doc.iter("meta"):
            if meta.get("property") == "og:title":
                page.title = (meta.get("content") or "").strip() or None
    page.description = _text(_first(doc, "tgme_channel_info_description"))
    for counter in _all(doc, "tgme_channel_info_counter"):
        kind, value = (
            _text(_first(counter, "counter_type")),
            _text(_first(counter, "counter_value")),
        )
        if kind and value:
            page.counters[kind[:32]] = value[:32]
    user = _first(doc, "tgme_channel_info_header_username")
    name = (_text(user) or "").lstrip("@")
    if _USERNAME.match(name):
        page.channel = name
    more = _first(doc, "tme_messages_more")
    if more is not None and (more.get("data-before") or "").isdigit():
        page.before = int(more.get("data-before"))
    for script in doc.iter("script"):
        post_ref = script.get("data-telegram-post") or ""
        if re.fullmatch(r"[A-Za-z0-9_]{3,64}/\d{1,18}", post_ref):
            page.embed_url = urljoin(base, f"/{post_ref}?embed=1")
    for link in doc.iter("link"):
        rel = (link.get("rel") or "").lower().split()
        if "stylesheet" in rel and link.get("href"):
            page.resources.append(("stylesheet", urljoin(base, link.get("href"))))
    for img in doc.iter("img"):
        if img.get("src"):
            page.resources.append(("image", urljoin(base, img.get("src"))))
    for video in doc.iter("video", "source"):
        if video.get("src"):
            page.resources.append(("video", urljoin(base, video.get("src"))))


def parse_page(body: bytes, url: str) -> PreviewPage:
    """Everything a preview page (or any page) shows that haechi keeps; never raises."""
    path = urlsplit(url).path
    page = PreviewPage(kind="other")
    if "embed=1" in (urlsplit(url).query or ""):
        page.kind = "embed"
    elif re.fullmatch(r"/s/[A-Za-z0-9_]+/?", path):
        page.kind = "channel"
    elif re.fullmatch(r"/[A-Za-z0-9_]+/\d+/?", path):
        page.kind = "post"
    try:
        doc = lxml.html.document_fromstring(body) if body.strip() else None
    except (ParserError, ValueError):
        doc = None
    if doc is None:
        page.warnings.append(f"{url} is empty or not HTML: no posts could be read from it")
        return page
    _page_info(doc, page, url)
    seen: set[int] = set()
    inside = 0  # end of the last post: an element within it is not another post
    for m in _POST_START.finditer(body):
        if m.start() < inside:
            continue
        if len(page.posts) >= MAX_POSTS:
            page.warnings.append(f"{url} holds more than {MAX_POSTS} posts; the rest were not read")
            break
        channel, message_id = m.group(1).decode("ascii", "replace"), int(m.group(2))
        if message_id in seen:  # an element nested in a post repeating its data-post
            continue
        seen.add(message_id)
        end = _post_end(body, m.start())
        inside = end if end is not None else len(body)
        raw = body[m.start() : inside]
        post = parse_post(channel, message_id, raw, m.start(), url)
        if end is None:
            post.truncated = True
            page.warnings.append(
                f"post {channel}/{message_id} is cut off (the page ends inside it); "
                "what it shows was kept"
            )
        page.posts.append(post)
    if page.posts:
        if page.kind == "other":
            page.kind = "channel" if len(page.posts) > 1 else "embed"
        page.channel = page.channel or page.posts[0].channel
        if page.channel and not _USERNAME.match(page.channel):
            page.warnings.append(f"the channel name {page.channel!r} is not a Telegram username")
    elif page.kind == "channel":
        page.warnings.append(
            f"{url} shows no public post list (the channel may be private, renamed or "
            "deleted, or its preview is switched off)"
        )
    return page
