"""Small, exact pieces of Telegram Desktop's JSON export format, for building sample exports.

They follow tdesktop's own writer (``export_output_json.cpp``, ``export_data_types.cpp``):
key order, which keys are left out when empty, how ``text`` collapses to a string, how
media are named and placed. Used by the demo builder; the field-level description is in
``shared/specs/telegram-formats.md`` section 1a.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

# The demo "investigator PC" runs on Korean time. KST has no daylight saving, so local
# times are never ambiguous, which keeps the sample simple to reason about.
KST = timezone(timedelta(hours=9))

NOT_INCLUDED = "(File not included. Change data exporting settings to download.)"
TOO_LARGE = "(File exceeds maximum size. Change data exporting settings to download.)"
UNAVAILABLE = "(File unavailable, please try again later)"

ABOUT_TELEGRAM = (
    "Here is the data you requested. Remember: Telegram is ad free, it doesn't use your data"
    " for ad targeting and doesn't sell it to others. Telegram only keeps the information it"
    " needs to function as a secure and feature-rich cloud service.\n\nCheck out Settings >"
    " Privacy & Security on Telegram's mobile apps for the relevant settings."
)
ABOUT_CHATS = "This page lists all chats from this export and where to look for their data."
ABOUT_LEFT_CHATS = (
    "This page lists all supergroups and channels from this export that you've left and"
    " where to look for their data."
)

# A text part: a plain string, or (entity type, text) / (entity type, text, extra value).
Part = str | tuple[str, str] | tuple[str, str, Any]

# The one extra key some entity types carry (SerializeText).
_ENTITY_EXTRA = {
    "text_link": "href",
    "mention_name": "user_id",
    "pre": "language",
    "custom_emoji": "document_id",
}


def text_fields(parts: Sequence[Part] | str) -> tuple[str | list[Any], list[Any]]:
    """``text`` and ``text_entities`` exactly as tdesktop writes them.

    One plain part collapses ``text`` to a string, no parts give ``""`` and ``[]``; otherwise
    ``text`` mixes plain strings with entity objects while ``text_entities`` spells every
    run out as an object, plain ones included.
    """
    if isinstance(parts, str):
        parts = [parts] if parts else []
    objects: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, str):
            objects.append({"type": "plain", "text": part})
            continue
        kind, text, *extra = part
        obj: dict[str, Any] = {"type": kind, "text": text}
        if extra:
            obj[_ENTITY_EXTRA[kind]] = extra[0]
        objects.append(obj)
    if not objects:
        return "", []
    if len(objects) == 1 and objects[0]["type"] == "plain":
        return objects[0]["text"], objects
    mixed = [o["text"] if o["type"] == "plain" else o for o in objects]
    return mixed, objects


def local_iso(unix: int, tz: timezone = KST) -> str:
    """``date``: Qt ISO format in the exporting PC's zone, without an offset."""
    return datetime.fromtimestamp(unix, tz).strftime("%Y-%m-%dT%H:%M:%S")


def file_date(unix: int, tz: timezone = KST) -> str:
    """Date part of media file names: ``DD-MM-YYYY_HH-MM-SS`` in local time."""
    return datetime.fromtimestamp(unix, tz).strftime("%d-%m-%Y_%H-%M-%S")


def unix_at(local: str, tz: timezone = KST) -> int:
    """Epoch seconds of a local wall time written ``YYYY-MM-DD HH:MM:SS``."""
    return int(datetime.strptime(local, "%Y-%m-%d %H:%M:%S").replace(tzinfo=tz).timestamp())


def chat_folder(index: int, total: int) -> str:
    """``chats/chat_N/`` of a full-account export.

    tdesktop pads N with zeros to the number of digits of ``total - 1`` (chats and left chats
    together), so an account with 5 dialogs gets ``chat_1`` .. ``chat_5`` and one with 150
    gets ``chat_001`` .. ``chat_150``.
    """
    digits = len(str(max(total - 1, 0)))
    return f"chats/chat_{index:0{digits}d}/"


def dedupe_name(name: str, taken: set[str]) -> str:
    """tdesktop's clash rule: insert `` (N)`` before the *first* dot of the file name."""
    if name not in taken:
        taken.add(name)
        return name
    stem, dot, rest = name.partition(".")
    n = 1
    while f"{stem} ({n}){dot}{rest}" in taken:
        n += 1
    unique = f"{stem} ({n}){dot}{rest}"
    taken.add(unique)
    return unique


@dataclass(frozen=True, slots=True)
class Peer:
    """A sender or actor: display name at export time (None for deleted) and prefixed id."""

    name: str | None
    id: str  # "user123", "channel123" or "chat123"


def dumps(root: dict[str, Any]) -> str:
    """The whole ``result.json`` text: one space per level, ``": "``, no trailing newline.

    tdesktop writes an empty *member list* as ``[`` newline ``]``; the demo has none, and
    ``text_entities: []`` is written flat by tdesktop too, so ``json.dumps`` matches it.
    Non-ASCII stays as UTF-8 (tdesktop never uses ``\\u`` escapes except U+2028/U+2029).
    """
    text = json.dumps(root, ensure_ascii=False, indent=1)
    if "\u2028" in text or "\u2029" in text:
        raise ValueError("U+2028/U+2029 would need tdesktop's \\u escapes; keep them out")
    return text


class ChatBuilder:
    """Collects one chat's messages in tdesktop's key order and names its media files.

    Media bytes go into the shared ``files`` mapping (relative path -> bytes) so the caller
    decides what is written; leaving a path out of it makes a deliberately missing file.
    Counters advance for placeholders too, as tdesktop numbers files while parsing, before
    it knows whether it will download them.
    """

    def __init__(
        self,
        name: str,
        chat_type: str,
        bare_id: int,
        folder: str,
        files: dict[str, bytes],
        tz: timezone = KST,
    ) -> None:
        self.name, self.type, self.id, self.folder = name, chat_type, bare_id, folder
        self.files, self.tz = files, tz
        self.messages: list[dict[str, Any]] = []
        self.next_id = 1
        self._counters = {"photos": 0, "videos": 0, "files": 0, "audios": 0}
        self._taken: dict[str, set[str]] = {}

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "id": self.id, "messages": self.messages}

    def _head(self, mid: int | None, kind: str, unix: int, edited: int | None) -> dict[str, Any]:
        if mid is None:
            mid = self.next_id
        self.next_id = max(self.next_id, mid + 1)
        head: dict[str, Any] = {
            "id": mid,
            "type": kind,
            "date": local_iso(unix, self.tz),
            "date_unixtime": str(unix),
        }
        if edited is not None:
            head["edited"] = local_iso(edited, self.tz)
            head["edited_unixtime"] = str(edited)
        return head

    def message(
        self,
        unix: int,
        sender: Peer,
        parts: Sequence[Any] | str = (),  # of Part; Any because list literals mix types
        *,
        mid: int | None = None,
        edited: int | None = None,
        author: str | None = None,
        forwarded_from: str | None = None,
        reply_to: int | None = None,
        reply_peer: str | None = None,
        via_bot: str | None = None,
        media: dict[str, Any] | None = None,
        buttons: list[list[dict[str, Any]]] | None = None,
        reactions: list[dict[str, Any]] | None = None,
    ) -> int:
        msg = self._head(mid, "message", unix, edited)
        msg["from"] = sender.name
        msg["from_id"] = sender.id
        optional = (
            ("author", author),
            ("forwarded_from", forwarded_from),
            ("reply_to_message_id", reply_to),
            ("reply_to_peer_id", reply_peer if reply_to is not None else None),
            ("via_bot", via_bot),
        )
        msg.update((k, v) for k, v in optional if v is not None)
        msg.update(media or {})
        msg["text"], msg["text_entities"] = text_fields(parts)
        if buttons:
            msg["inline_bot_buttons"] = buttons
        if reactions:
            msg["reactions"] = reactions
        self.messages.append(msg)
        return int(msg["id"])

    def service(
        self, unix: int, actor: Peer | None, action: str, *, mid: int | None = None, **fields: Any
    ) -> int:
        msg = self._head(mid, "service", unix, None)
        if actor is not None:
            msg["actor"] = actor.name
            msg["actor_id"] = actor.id
        msg["action"] = action
        msg.update(fields)
        msg["text"], msg["text_entities"] = "", []
        self.messages.append(msg)
        return int(msg["id"])

    def unsupported(self, mid: int | None = None) -> int:
        """A message this client could not understand: tdesktop writes only id and type."""
        mid = self.next_id if mid is None else mid
        self.next_id = max(self.next_id, mid + 1)
        self.messages.append({"id": mid, "type": "unsupported"})
        return mid

    def photo(
        self,
        unix: int,
        data: bytes | None,
        width: int,
        height: int,
        *,
        placeholder: str | None = None,
        server_size: int = 0,
        write: bool = True,
    ) -> dict[str, Any]:
        """``photo`` media keys; ``write=False`` names a file that is then never written."""
        self._counters["photos"] += 1
        number = self._counters["photos"]
        path = f"{self.folder}photos/photo_{number}@{file_date(unix, self.tz)}.jpg"
        if data is not None and placeholder is None and write:
            self.files[path] = data
        size = len(data) if data is not None else server_size
        return {
            "photo": placeholder or path,
            "photo_file_size": size,
            "width": width,
            "height": height,
        }

    def document(
        self,
        unix: int,
        *,
        kind_folder: str,
        mime_type: str,
        data: bytes | None = None,
        file_name: str | None = None,
        extension: str = "",
        placeholder: str | None = None,
        server_size: int = 0,
        thumb: bytes | None = None,
        thumb_server_size: int = 0,
        media_type: str | None = None,
        sticker_emoji: str | None = None,
        duration: int | None = None,
        width: int | None = None,
        height: int | None = None,
    ) -> dict[str, Any]:
        """``file`` media keys in tdesktop's order; names as ``ComputeDocumentName`` does."""
        if file_name:
            name = file_name
        else:
            counter, prefix = {
                "voice_message": ("audios", "audio"),
                "video_file": ("videos", "video"),
            }.get(media_type or "", ("files", "file"))
            self._counters[counter] += 1
            name = f"{prefix}_{self._counters[counter]}@{file_date(unix, self.tz)}{extension}"
        name = dedupe_name(name, self._taken.setdefault(kind_folder, set()))
        path = f"{self.folder}{kind_folder}/{name}"
        out: dict[str, Any] = {"file": placeholder or path}
        if file_name:
            out["file_name"] = file_name
        out["file_size"] = len(data) if data is not None else server_size
        if thumb is not None or thumb_server_size:
            out["thumbnail"] = placeholder or f"{path}_thumb.jpg"
            out["thumbnail_file_size"] = len(thumb) if thumb is not None else thumb_server_size
        if placeholder is None:
            if data is not None:
                self.files[path] = data
            if thumb is not None:
                self.files[f"{path}_thumb.jpg"] = thumb
        if media_type:
            out["media_type"] = media_type
        if sticker_emoji:
            out["sticker_emoji"] = sticker_emoji
        out["mime_type"] = mime_type
        if duration:
            out["duration_seconds"] = duration
        if width and height:
            out["width"], out["height"] = width, height
        return out
