"""t.me links: building them from stored ids, and checking the ones people type.

Telegram's abuse desk acts on links (t.me/... or @...). A message has a link only when its
chat can be named: a public username (``t.me/name/123``) or, for channels and supergroups,
the bare channel id (``t.me/c/<id>/123``, which opens for members). Private chats, bot
chats and legacy basic groups have no message links; nor does the history a supergroup
imported from its basic group (negative ids in Desktop exports). We never invent one.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlsplit

from haechi.cases.model import CaseError
from haechi.i18n import t_

TME_HOSTS = {"t.me", "telegram.me", "www.t.me", "telegram.dog"}
_USERNAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{3,31}")
MAX_URL = 2048


@dataclass(frozen=True)
class TmeLink:
    """What a t.me link names."""

    username: str | None = None  # public chat or account
    channel_id: int | None = None  # t.me/c/<id>
    message_id: int | None = None
    invite: str | None = None  # t.me/+hash or t.me/joinchat/hash

    @property
    def is_message(self) -> bool:
        return self.message_id is not None


def message_url(
    username: str | None, peer_kind: str | None, tg_id: int | None, message_id: int | None
) -> str | None:
    if message_id is None or message_id <= 0:
        return None
    if username and _USERNAME.fullmatch(username):
        return f"https://t.me/{username}/{message_id}"
    if peer_kind == "channel" and tg_id:
        return f"https://t.me/c/{tg_id}/{message_id}"
    return None


def chat_url(username: str | None) -> str | None:
    return f"https://t.me/{username}" if username and _USERNAME.fullmatch(username) else None


def check_url(url: str) -> str:
    """A URL a person typed, accepted only if it is a plain http(s) address."""
    url = url.strip()
    if len(url) > MAX_URL:
        raise CaseError(t_("The URL is longer than {max_url} characters.", max_url=MAX_URL))
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise CaseError(t_("A URL cannot contain spaces or control characters."))
    if url.startswith("t.me/") or url.startswith("telegram.me/"):
        url = "https://" + url
    elif url.startswith("@") and _USERNAME.fullmatch(url[1:]):
        url = f"https://t.me/{url[1:]}"
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.netloc:
        raise CaseError(t_("{url!r} is not an http(s) URL.", url=url))
    if parts.hostname in TME_HOSTS:
        parse_tme(url)  # refuses malformed t.me links
    return url


def parse_tme(url: str) -> TmeLink:
    parts = urlsplit(url)
    if parts.hostname not in TME_HOSTS:
        raise CaseError(t_("{url!r} is not a t.me link.", url=url))
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[0] == "s":  # the web preview t.me/s/name/123
        segments = segments[1:]
    if not segments:
        raise CaseError(t_("{url!r} names no chat.", url=url))
    head = segments[0]
    if head.startswith("+") and len(head) > 1:
        return TmeLink(invite=head[1:])
    if head == "joinchat" and len(segments) > 1:
        return TmeLink(invite=segments[1])
    if head == "c" and len(segments) >= 2 and segments[1].isdigit():
        msg = _message_id(segments, 2, url)
        return TmeLink(channel_id=int(segments[1]), message_id=msg)
    if _USERNAME.fullmatch(head):
        return TmeLink(username=head, message_id=_message_id(segments, 1, url))
    raise CaseError(t_("{url!r} is not a t.me link haechi understands.", url=url))


def _message_id(segments: list[str], index: int, url: str) -> int | None:
    if len(segments) <= index:
        return None
    if not segments[index].isdigit():
        raise CaseError(
            t_("{url!r}: {segments!r} is not a message id.", url=url, segments=segments[index])
        )
    return int(segments[index])
