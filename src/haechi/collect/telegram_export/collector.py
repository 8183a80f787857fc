"""``TelegramExportCollector``: a Telegram Desktop "Machine-readable JSON" export as captures.

Reads a single-chat export (the root object is one chat) or a full-account export
(``about``, ``personal_information``, ..., ``chats: {about, list}``, ``left_chats``) in one
streaming pass. Sections that are not message arrays are decoded whole and exposed as
``sections``; messages are streamed, so memory stays flat for multi-GB files.

Yield order per chat: ``Capture(chat, None)`` once, then ``Capture(chat, message)`` for each
message in file order. A chat whose ``id`` is >= 2^32 may be bare (v2.7.2+) or shifted
(older): its first messages are held back until they show which era the file is from.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from haechi import __version__
from haechi.collect.base import Collector
from haechi.collect.telegram_export.batch import parse_batch
from haechi.collect.telegram_export.jsonstream import CHUNK_SIZE, JsonStream
from haechi.collect.telegram_export.locate import locate_export
from haechi.collect.telegram_export.normalize import CHAT_KEYS, USER_SHIFT, Normalizer
from haechi.collect.telegram_export.unreferenced import unreferenced_files
from haechi.domain import (
    Capture,
    ChatRecord,
    NotAnExportError,
    SourceDescriptor,
    SourceFile,
    UsageError,
)
from haechi.i18n import t_
from haechi.store.beneath import ChangedAfterCheck, open_beneath
from haechi.store.textsafe import lossless, searchable

# fmt: off
ACCOUNT_SECTIONS = frozenset(
    (
        "about", "personal_information", "profile_pictures", "stories", "contacts",
        "frequent_contacts", "sessions", "web_sessions", "other_data", "chats", "left_chats",
        "profile_music",
    )
)
# fmt: on
CHAT_LISTS = ("chats", "left_chats")
ERA_WINDOW = 100  # messages held back at most while learning a chat's id era


class TelegramExportCollector(Collector):
    """Streams a Telegram Desktop JSON export (``result.json`` plus its media folders)."""

    name = "telegram-desktop-export"
    version = __version__
    chunk_size = CHUNK_SIZE  # bytes read at a time; tests lower it to exercise refills

    def __init__(
        self,
        path: str | os.PathLike[str],
        *,
        assume_timezone: str | None = None,
        fallback_key_prefix: str | None = None,
        confine: str | os.PathLike[str] | None = None,
    ) -> None:
        """``fallback_key_prefix`` keys the chats that have no usable id; by default it is
        ``export:<SHA-256 of result.json>`` once the ingest calls :meth:`bind_source`.
        ``confine``: a folder (a drop root) every file of the export is opened from beneath
        only — ``result.json`` here, the media and other files by the ingest's vault copy —
        so a folder or file swapped for a link out after its check is never read
        (:func:`haechi.store.beneath.open_beneath`)."""
        self.path = Path(path)
        self.confine = os.path.realpath(confine) if confine is not None else None
        self.json_path, self.root = locate_export(self.path)
        self.zone: ZoneInfo | None = None
        if assume_timezone:
            try:
                self.zone = ZoneInfo(assume_timezone)
            except (ZoneInfoNotFoundError, ValueError, OSError):
                raise UsageError(
                    t_(
                        "{assume_timezone!r} is not a known IANA time zone (e.g. Asia/Seoul).",
                        assume_timezone=assume_timezone,
                    )
                ) from None
        self._explicit_prefix = fallback_key_prefix
        self.fallback_key_prefix = fallback_key_prefix or "export"
        try:
            self.total_bytes = self.json_path.stat().st_size
        except OSError as exc:
            raise self._unreadable(exc) from None
        self.progress_bytes = 0
        self.sections: dict[str, Any] = {}
        self.layout: str | None = None
        self._reset()

    def _reset(self) -> None:
        self._norm = Normalizer(
            self.root, zone=self.zone, fallback_key_prefix=self.fallback_key_prefix
        )
        self._warnings = self._norm.warnings
        self._unknown = self._norm.unknown_fields
        self._era: str | None = None  # the file's id era, once any chat revealed it
        self.sections = {}
        self.progress_bytes = 0

    # -- Collector API ----------------------------------------------------------------------
    def bind_source(self, root_sha256: str | None) -> None:
        if self._explicit_prefix is None and root_sha256 is not None:
            self.fallback_key_prefix = f"export:{root_sha256}"
            self._reset()

    @property
    def warnings(self) -> list[str]:
        return self._warnings.lines()

    @property
    def unknown_fields(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for key, n in self._unknown.items():  # keys come from the export: made storable
            name = searchable(key) or ""
            counts[name] = counts.get(name, 0) + n
        return counts

    def describe(self) -> SourceDescriptor:
        """Identify the export from its first keys (no full parse)."""
        with self._open() as f:
            layout, header = self._peek(self._stream(f))
        self.layout = layout
        folder = self.root.name or str(self.root)
        name = header.get("name")
        if layout == "full_account":
            label = f"Telegram Desktop full-account export ({folder})"
        elif isinstance(name, str) and name:
            label = f"Telegram Desktop export of {name!r} ({folder})"
        else:
            label = f"Telegram Desktop export of a {header.get('type') or 'chat'} ({folder})"
        rel = self.json_path.relative_to(self.root).as_posix()
        return SourceDescriptor(
            kind="telegram_desktop_export",
            uri=lossless(str(self.root)),  # a folder name need not be valid UTF-8
            label=searchable(label) or "",
            layout=layout,
            root_files=[SourceFile(lossless(rel), self.json_path, "export_json")],
        )

    def captures(self) -> Iterator[Capture]:
        self._reset()
        with self._open() as f:
            js = self._stream(f)
            self.layout, _ = self._peek(js)
            js.seek(0)
            js.skip_bom()
            # Internal generators yield lists of captures (one per batch), so each message
            # costs a C-level list step here instead of a trip through nested generators.
            for group in self._chat_keys(js, js.object_keys(), "", root=True):
                yield from group
            if js.peek() is not None:
                js.error(js.offset, "more data follows the end of the export's JSON object")
        self.progress_bytes = self.total_bytes

    def extra_files(self) -> Iterator[SourceFile]:
        """Regular files in the folder that no message referenced (call after captures)."""
        yield from unreferenced_files(
            self.root, self.json_path, self._norm.referenced, self._warnings
        )

    # -- reading ------------------------------------------------------------------------------
    def _unreadable(self, exc: OSError) -> UsageError:
        return UsageError(
            t_(
                "{json_path} cannot be read ({strerror}).",
                json_path=self.json_path,
                strerror=exc.strerror,
            )
        )

    def _open(self) -> BinaryIO:
        try:
            if self.confine is None:
                return open(self.json_path, "rb")
            fd = open_beneath(self.confine, self.json_path, os.O_RDONLY)
            return os.fdopen(fd, "rb")
        except ChangedAfterCheck as exc:
            raise UsageError(exc.sentence) from None
        except OSError as exc:
            raise self._unreadable(exc) from None

    def _stream(self, f: BinaryIO) -> JsonStream:
        return JsonStream(
            f, name=self.json_path.name, path=str(self.json_path), chunk_size=self.chunk_size
        )

    def _peek(self, js: JsonStream) -> tuple[str, dict[str, Any]]:
        """Layout from the root's first keys; refuses JSON that is not an export."""
        js.skip_bom()
        first = js.peek()
        name = self.json_path.name
        if first is None:
            raise NotAnExportError(
                t_("{name} is empty, so it is not a Telegram Desktop export.", name=name)
            )
        if first != ord("{"):
            raise NotAnExportError(
                t_(
                    "{name} does not hold a JSON object, so it is not a Telegram Desktop export.",
                    name=name,
                )
            )
        header: dict[str, Any] = {}
        for key in js.object_keys():
            if key == "messages":
                return "single_chat", header
            if key in ACCOUNT_SECTIONS and key != "about":
                return "full_account", header
            if key in CHAT_KEYS:
                header[key] = js.read_value()
            else:
                js.skip_value()
        raise NotAnExportError(
            t_(
                "{name} is JSON but not a Telegram Desktop export: it has "
                "neither a 'messages' list nor a 'chats' section.",
                name=name,
            )
        )

    def _chat_keys(
        self, js: JsonStream, keys: Iterator[str], location: str, *, root: bool
    ) -> Iterator[list[Capture]]:
        """Walk one chat object (or the root); stream its messages when they come."""
        header: dict[str, Any] = {}
        pending: int | None = None  # offset of a messages array that preceded 'type'
        had_messages = False
        for key in keys:
            if key == "messages":
                if js.peek() != ord("["):
                    js.error(js.offset, "'messages' is not a list")
                had_messages = True
                if "type" in header:  # tdesktop's order: name, type, id, messages
                    yield from self._messages(js, header, location)
                else:  # keys in another order (e.g. sorted): come back once the header is read
                    pending = js.offset
                    js.skip_value()
            elif root and key in CHAT_LISTS:
                if js.peek() != ord("{"):
                    js.error(js.offset, f"'{key}' is not an object")
                yield from self._chat_list(js, key)
            elif root and key not in CHAT_KEYS and (self.layout != "single_chat" or had_messages):
                # Full-account sections; or, in a single-chat export, a key that came after
                # the messages (too late for the chat record): kept here, not lost.
                self.sections[key] = js.read_value()
                if key not in ACCOUNT_SECTIONS:
                    self._unknown[f"section.{key}"] += 1
            else:
                header[key] = js.read_value()
        if pending is not None:
            resume = js.offset
            js.seek(pending)
            yield from self._messages(js, header, location)
            js.seek(resume)
        elif not had_messages and (header or not root):
            where = location or "the export's root"
            self._warnings.add(f"nomsgs:{location}", f"The chat at {where} has no messages list.")
            self._norm.start_chat(header)
            yield [Capture(self._norm.chat(header, location, self._era), None)]

    def _chat_list(self, js: JsonStream, section: str) -> Iterator[list[Capture]]:
        kept: dict[str, Any] = {}
        for sub in js.object_keys():
            if sub != "list":
                kept[sub] = js.read_value()
                continue
            if js.peek() != ord("["):
                js.error(js.offset, f"'{section}.list' is not a list")
            for index in js.array_items():
                if js.peek() != ord("{"):
                    js.error(js.offset, f"the chat {section}.list[{index}] is not an object")
                location = f"{section}.list[{index}]"
                yield from self._chat_keys(js, js.object_keys(), location, root=False)
        self.sections[section] = kept

    def _messages(
        self, js: JsonStream, header: dict[str, Any], location: str
    ) -> Iterator[list[Capture]]:
        norm = self._norm
        norm.start_chat(header)
        raw_id = header.get("id")
        chat: ChatRecord | None = None
        if not (type(raw_id) is int and raw_id >= USER_SHIFT and self._era is None):
            chat = norm.chat(header, location, self._era)
            yield [Capture(chat, None)]
        held: list[Capture] = []  # messages read before the chat could be announced
        clues: set[str] = set()
        elements = js.iter_array()
        finished = False
        while not finished:
            group, failure, finished = parse_batch(
                js, elements, norm, chat, clues if self._era is None else None
            )
            self.progress_bytes = js.offset
            if self._era is None and len(clues) == 1:
                self._era = next(iter(clues))
            if chat is None:
                held.extend(group)
                if not (len(clues) == 1 or len(held) >= ERA_WINDOW or finished):
                    continue
                if len(clues) > 1:
                    self._warnings.add(
                        f"era:{location}",
                        f"The messages of the chat at {location or 'the root'} mix id "
                        "formats of different tdesktop versions.",
                    )
                chat = norm.chat(header, location, next(iter(clues)) if len(clues) == 1 else None)
                for capture in held:
                    capture.chat = chat
                group, held = [Capture(chat, None), *held], []
            yield group
            if failure is not None:
                raise failure


__all__ = ["TelegramExportCollector"]
