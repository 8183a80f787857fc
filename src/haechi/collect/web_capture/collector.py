"""``WebPreviewCollector``: one finished page capture as captures for the ingest service.

The capture itself (fetching, WARC, WACZ, signature, timestamp) is done by
:mod:`haechi.collect.web_capture.service`; this collector only *reads* its results, like
every collector, so the posts reach the database, the vault and the custody log by the
same path as a Desktop export's messages (``source = web preview``).

The source's first root file is the page the posts were read from, so each post's raw
HTML sits at ``raw_offset`` in a file the vault holds (an evidence package proves it byte
for byte, as for an export's ``result.json``). A channel seen on a preview page has no
numeric id there: its chat key is ``tme:<username>``, never merged by guess with the chat
an export or a live session knows by id (the ``username`` column links them for a person).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from haechi.collect.base import Collector
from haechi.collect.web_capture.tme import Post
from haechi.domain import (
    Capture,
    ChatRecord,
    FileRef,
    MediaStatus,
    MessageRecord,
    PeerKind,
    PeerRef,
    SourceDescriptor,
    SourceFile,
)
from haechi.store.textsafe import fit, lossless, searchable

KIND = "web_preview"
_MEDIA_TYPES = {
    "photo": "photo",
    "video": "video_file",
    "round_video": "video_message",
    "voice": "voice_message",
    "sticker": "sticker",
}
_FILE_ROLES = {
    "photo": "photo",
    "video": "file",
    "round_video": "file",
    "voice": "file",
    "sticker": "file",
    "thumbnail": "thumbnail",
    "link_preview": "link_preview",
}


@dataclass
class FetchedMedia:
    """What became of one media URL: a local file, or why there is none."""

    url: str
    status: MediaStatus
    local_path: Path | None = None
    mime_type: str | None = None
    size: int | None = None
    note: str | None = None


@dataclass
class CaptureBundle:
    url: str
    capture_id: str
    kind: str  # channel, post, embed, other
    channel: str | None
    title: str | None
    root_files: list[SourceFile]
    posts: list[Post] = field(default_factory=list)
    media: dict[str, FetchedMedia] = field(default_factory=dict)
    chat_extra: dict[str, Any] = field(default_factory=dict)
    page_files: list[SourceFile] = field(default_factory=list)  # pictures no post carries


def chat_key(username: str) -> str:
    return f"tme:{username.lower()}"


def message_record(post: Post, media: dict[str, FetchedMedia]) -> MessageRecord:
    files: list[FileRef] = []
    used: dict[str, int] = {}
    for link in post.media:
        role = _FILE_ROLES.get(link.role, "file")
        used[role] = used.get(role, 0) + 1
        # One media row per (message, role, source): an album's second photo is photo_2.
        numbered = role if used[role] == 1 else f"{role}_{used[role]}"
        got = media.get(link.url) or FetchedMedia(
            link.url, MediaStatus.UNAVAILABLE, note="not fetched"
        )
        files.append(
            FileRef(
                role=numbered[:32],
                export_path=link.url,
                status=got.status,
                local_path=got.local_path if got.status is MediaStatus.PRESENT else None,
                media_type=_MEDIA_TYPES.get(link.role),
                mime_type=fit(got.mime_type, 128),
                declared_size=got.size,
                note=got.note,
            )
        )
    kinds = [m.role for m in post.media if m.role in _MEDIA_TYPES]
    text = post.raw.decode("utf-8", "surrogateescape")
    return MessageRecord(
        message_id=post.message_id,
        kind="service" if post.service else "message",
        date_unix=post.date_unix,
        date_raw=fit(post.date_raw, 40),
        edited_raw="edited (time not shown)" if post.edited else None,
        sender_name=searchable(post.owner_name),
        author=searchable(post.author),
        forwarded_from=searchable(post.forwarded_from),
        reply_to_message_id=post.reply_to_message_id,
        via_bot=fit(searchable(post.via_bot), 64),
        text=searchable(post.text) or "",
        entities=post.entities,
        action="web_preview_service" if post.service else None,
        media_type=_MEDIA_TYPES.get(kinds[0]) if kinds else None,
        files=files,
        raw=lossless(text),
        raw_offset=post.offset,
    )


class WebPreviewCollector(Collector):
    name = KIND
    version = "1"

    def __init__(self, bundle: CaptureBundle) -> None:
        self.bundle = bundle
        self._warnings: list[str] = []
        self.total_bytes = 0  # small: read in this process

    def describe(self) -> SourceDescriptor:
        b = self.bundle
        label = f"{b.title or b.url} (web capture {b.capture_id})"
        return SourceDescriptor(
            kind=KIND, uri=b.url, label=label, layout=b.kind, root_files=b.root_files
        )

    def _chat(self, username: str) -> ChatRecord:
        b = self.bundle
        own = username.lower() == (b.channel or "").lower()
        return ChatRecord(
            key=chat_key(username),
            peer=PeerRef(PeerKind.CHANNEL, None, raw=f"@{username}"),
            dialog_type="public_channel",
            title=searchable(b.title) if own else None,
            username=username[:64],
            extra={"web_preview": b.chat_extra} if own and b.chat_extra else {},
        )

    def captures(self) -> Iterator[Capture]:
        chats: dict[str, ChatRecord] = {}
        if self.bundle.channel and not self.bundle.posts:  # a channel page without posts
            yield Capture(self._chat(self.bundle.channel))
        for post in self.bundle.posts:
            chat = chats.get(post.channel.lower())
            if chat is None:
                chat = chats[post.channel.lower()] = self._chat(post.channel)
                yield Capture(chat)
            yield Capture(chat, message_record(post, self.bundle.media))

    def extra_files(self) -> Iterator[SourceFile]:
        return iter(self.bundle.page_files)

    @property
    def warnings(self) -> list[str]:
        return self._warnings
