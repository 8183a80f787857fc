"""Live captures, written as *segments* and stored through the ingest service.

A segment is a JSON-lines file: a header naming the account, session, collector and host;
one line per chat (its TL entity as seen then); one line per captured message::

    {"op":"new","at":"2026-...Z","target":"@room","chat":"channel:1","message":{...TL...}}

Each segment becomes one ingest *source* whose root file (role ``export_json``, like an
export's ``result.json``) is the segment itself: it goes into the vault first, gets its
``capture`` custody event, and every message row points into it by byte offset
(``messages.raw_offset``), so the vault copy proves each message byte for byte exactly as
``result.json`` proves an exported one. Edits are new lines in a later segment and become
``message_versions`` of the same message (both kept, both in custody); the ingest service
does that for every collector.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar

import orjson

from haechi.collect.base import Collector
from haechi.domain import Capture, ChatRecord, MessageRecord, SourceDescriptor, SourceFile

COLLECTOR = "telegram_live"
COLLECTOR_VERSION = "1.0"
SEGMENT_KIND = "telegram_live"
FORMAT = "haechi-live-segment"


@dataclass(frozen=True)
class CaptureContext:
    """Who captures: the account and session (recorded in every segment and its events)."""

    account_id: int
    account_username: str | None
    session_id: str
    host: str

    def describe(self) -> dict[str, Any]:
        return {
            "account_id": self.account_id,
            "account_username": self.account_username,
            "session_id": self.session_id,
            "host": self.host,
        }


@dataclass
class Pending:
    """One message waiting for its segment; holds text and records, never Telethon
    objects (a following service must not keep what it has already written)."""

    target_id: int | None
    target: str  # the target's ref (@name, +invite, c/id) or "bot:<name>"
    chat: ChatRecord
    op: str  # new / edit / recheck
    raw: str  # the message's TL JSON, exactly as it goes into the segment
    record: MessageRecord
    fingerprint: str
    received_at: float
    spool: list[Path] = field(default_factory=list)  # downloaded files, removed after
    known: bool = False  # the message was stored before (this is a new version of it)

    @property
    def key(self) -> tuple[str, int]:
        return self.chat.key, self.record.message_id


def iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def write_segment(
    path: Path,
    ctx: CaptureContext,
    items: list[Pending],
    chats: dict[str, str],
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Write the segment file (mode 0600) and set each record's ``raw_offset``. ``chats``:
    chat key -> TL JSON of its entity as last seen. Returns the header."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": 1,
        "collector": COLLECTOR,
        "collector_version": COLLECTOR_VERSION,
        **ctx.describe(),
        "written_at": iso(datetime.now(UTC).timestamp()),
        "first_received": iso(min(i.received_at for i in items)) if items else None,
        "last_received": iso(max(i.received_at for i in items)) if items else None,
        "messages": len(items),
        **(extra or {}),
    }
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as fh:
        pos = fh.write(orjson.dumps(header) + b"\n")
        for key in sorted({i.chat.key for i in items} | set(chats)):
            if key in chats:
                line = b'{"op":"chat","chat":' + orjson.dumps(key) + b',"entity":'
                line += chats[key].encode("utf-8") + b"}\n"
                pos += fh.write(line)
        for item in items:
            prefix = (
                orjson.dumps(
                    {
                        "op": item.op,
                        "at": iso(item.received_at),
                        "target": item.target,
                        "chat": item.chat.key,
                    }
                )[:-1]
                + b',"message":'
            )
            body = item.raw.encode("utf-8")
            item.record.raw = item.raw
            item.record.raw_offset = pos + len(prefix)
            pos += fh.write(prefix + body + b"}\n")
        fh.flush()
        os.fsync(fh.fileno())
    return header


def segment_name(received: float) -> str:
    stamp = datetime.fromtimestamp(received, UTC).strftime("%Y%m%dT%H%M%S%fZ")
    return f"segment-{stamp}-{secrets.token_hex(4)}.jsonl"


class SegmentCollector(Collector):
    """The ingest's view of one written segment (and, for a bot conversation, the bot's
    profile file beside it)."""

    name: ClassVar[str] = COLLECTOR
    version: ClassVar[str] = COLLECTOR_VERSION

    def __init__(
        self,
        path: Path,
        ctx: CaptureContext,
        items: list[Pending],
        *,
        label: str,
        details: dict[str, Any],
        extra_roots: list[SourceFile] | None = None,
        layout: str = "live_segment",
    ) -> None:
        self.path, self.ctx, self.items, self.layout = path, ctx, items, layout
        self.label, self.details = label, details
        self.extra_roots = extra_roots or []

    def describe(self) -> SourceDescriptor:
        return SourceDescriptor(
            kind=SEGMENT_KIND,
            uri=f"telegram-live://{self.ctx.account_id}/{self.ctx.session_id}/{self.path.name}",
            label=self.label,
            layout=self.layout,  # live_segment (the watch service) / bot_conversation
            root_files=[SourceFile(self.path.name, self.path, "export_json"), *self.extra_roots],
            details=self.details,
        )

    def captures(self) -> Iterator[Capture]:
        for item in self.items:
            yield Capture(item.chat, item.record)
