"""Records that collectors produce and the store persists.

These are plain dataclasses with ``slots`` because an ingest creates millions of them:
attribute access and construction must stay cheap. Nothing here imports the rest of
haechi, so every layer (collect, store, analyze, web) can share them.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


class PeerKind(enum.StrEnum):
    """Telegram's three peer types, plus ``unknown`` when the source does not say.

    We never guess: a bare id without a kind stays ``unknown``.
    """

    USER = "user"
    CHAT = "chat"  # a legacy basic group
    CHANNEL = "channel"  # channels and supergroups
    UNKNOWN = "unknown"


class MediaStatus(enum.StrEnum):
    """What happened to a file a message refers to."""

    PRESENT = "present"  # the collector has the bytes (to be stored in the vault)
    MISSING = "missing"  # a path was given but no file is there
    NOT_INCLUDED = "not_included"  # "(File not included. ...)": type deselected at export
    TOO_LARGE = "too_large"  # "(File exceeds maximum size. ...)"
    UNAVAILABLE = "unavailable"  # "(File unavailable, please try again later)"
    REFUSED = "refused"  # the path escapes the export folder, is absolute, or is a symlink out
    NOT_A_FILE = "not_a_file"  # the path names a directory, device or other non-regular file
    PLACEHOLDER = "placeholder"  # some other parenthesised placeholder we do not know yet


@dataclass(slots=True, frozen=True)
class PeerRef:
    """A Telegram peer as the source gave it.

    ``id`` is the *bare* id (no -100 prefix, no tdesktop shift) when it could be derived
    without guessing; ``raw`` keeps the value exactly as written in the source.
    """

    kind: PeerKind
    id: int | None
    raw: str | None = None

    @property
    def key(self) -> str | None:
        """A stable key such as ``user:123``; None when the id is unknown."""
        if self.id is None:
            return None
        return f"{self.kind.value}:{self.id}"


@dataclass(slots=True)
class FileRef:
    """A file a message refers to (photo, document, thumbnail, vCard, ...)."""

    role: str  # "photo", "file", "thumbnail", "contact_vcard", "action_photo", ...
    export_path: str | None  # the string exactly as the source wrote it (path or placeholder)
    status: MediaStatus
    local_path: Path | None = None  # resolved, checked path when status is PRESENT
    media_type: str | None = None  # tdesktop media_type (sticker, video_file, ...)
    mime_type: str | None = None
    file_name: str | None = None
    declared_size: int | None = None
    width: int | None = None
    height: int | None = None
    duration_seconds: int | None = None
    note: str | None = None  # why a path was refused, for the warning list


@dataclass(slots=True)
class ChatRecord:
    """One chat (dialog) of an export, a live channel or a bot conversation."""

    key: str  # unique across sources: "channel:1098030726", or "source:<sha>:<n>" with no id
    peer: PeerRef
    dialog_type: str | None  # tdesktop dialog type: personal_chat, public_channel, ...
    title: str | None
    username: str | None = None
    location: str = ""  # where in the source: "" (root) or "chats.list[3]"
    extra: dict[str, Any] = field(default_factory=dict)  # header keys we do not model


@dataclass(slots=True)
class MessageRecord:
    """One message exactly as the source gave it, plus the fields we normalise."""

    message_id: int  # as Telegram gives it (negative for migrated basic-group history)
    kind: str  # "message", "service", "unsupported"
    date_unix: int | None  # UTC epoch seconds when known (date_unixtime, or a stated zone)
    date_raw: str | None  # the source's own value, verbatim
    edited_unix: int | None = None
    edited_raw: str | None = None
    sender: PeerRef | None = None  # from_id, or actor_id for service messages
    sender_name: str | None = None  # from / actor: display name at export time
    author: str | None = None  # channel post signature
    forwarded_from: str | None = None
    saved_from: str | None = None
    reply_to_message_id: int | None = None
    reply_to_peer: str | None = None  # raw, e.g. "channel123"
    via_bot: str | None = None  # raw, e.g. "@gif"
    text: str = ""  # plain text, entity texts concatenated without changes
    entities: list[dict[str, Any]] = field(default_factory=list)
    action: str | None = None  # service action
    media_type: str | None = None
    files: list[FileRef] = field(default_factory=list)
    raw: str = ""  # the message's JSON text exactly as it stands in the source file
    raw_offset: int | None = None  # byte offset of ``raw`` in the source file
    repaired_escapes: int = 0  # how many tdesktop \xHH escapes had to be repaired to parse it
    unknown_keys: tuple[str, ...] = ()


@dataclass(slots=True)
class Capture:
    """One unit a collector hands to the ingest service.

    A capture with ``message=None`` announces a chat (so chats without messages are kept).
    """

    chat: ChatRecord
    message: MessageRecord | None = None


@dataclass(slots=True)
class SourceFile:
    """A file of the source that must be preserved as a whole (result.json, unreferenced files)."""

    path_in_source: str  # relative, POSIX separators
    local_path: Path
    role: str  # "export_json", "unreferenced", ...


@dataclass(slots=True)
class SourceDescriptor:
    """What a collector is reading, for the sources table and the custody log."""

    kind: str  # "telegram_desktop_export", "telethon_live", ...
    uri: str  # folder path, channel URL, bot name
    label: str
    layout: str | None = None  # "single_chat" / "full_account" for exports
    root_files: list[SourceFile] = field(default_factory=list)
    # What else the custody log must say about where this came from (a live capture's
    # account, session and targets); goes into the ingest_started event when not empty.
    details: dict[str, Any] = field(default_factory=dict)
