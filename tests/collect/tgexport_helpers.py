"""Helpers shared by the Telegram Desktop export collector tests.

Fixture exports live in ``tests/fixtures/telegram/<generation>/result.json`` without media;
the ``export_copy`` fixture copies one into ``tmp_path`` and creates tiny benign media files (2x2
PNG/JPEG/WebP images made with Pillow, a few bytes for videos and vCards).
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from haechi.collect.telegram_export import TelegramExportCollector
from haechi.domain import ChatRecord, MessageRecord

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "telegram"
REAL_DATA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "telegram"


def real_file(name: str) -> Path:
    """A file of the shared real-export corpus; skip cleanly when it is not on this host."""
    path = REAL_DATA / name
    if not path.is_file():
        pytest.skip(f"shared Telegram sample data not present: {path}")
    return path


def make_media(root: Path, relpaths: Iterable[str]) -> None:
    """Create tiny benign files at the given export-relative paths."""
    for rel in relpaths:
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        suffix = path.suffix.lower()
        if suffix in (".jpg", ".jpeg", ".png", ".webp"):
            image = Image.new("RGB", (2, 2), (40, 120, 200))
            fmt = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG", ".webp": "WEBP"}[suffix]
            try:
                image.save(path, fmt)
            except (KeyError, OSError):  # a Pillow without WebP: any bytes will do
                path.write_bytes(b"RIFF\x00\x00\x00\x00WEBP")
        elif suffix == ".vcard":
            path.write_text("BEGIN:VCARD\nFN:Carol\nEND:VCARD\n", encoding="utf-8")
        else:
            path.write_bytes(b"\x00\x00\x00\x18ftypmp42tiny")


def tdesktop_dumps(obj: Any) -> str:
    """Serialise like tdesktop: one space per level, ': ' separators, UTF-8 unescaped."""
    return json.dumps(obj, indent=1, ensure_ascii=False)


def minified_dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


Collected = tuple[TelegramExportCollector, list[ChatRecord], list[MessageRecord]]


def collect(path: Path, **kwargs: Any) -> Collected:
    """Run a collector to the end; return it, the announced chats and the messages."""
    kwargs.setdefault("fallback_key_prefix", "fx")
    collector = TelegramExportCollector(path, **kwargs)
    chats: list[ChatRecord] = []
    messages: list[MessageRecord] = []
    for capture in collector.captures():
        if capture.message is None:
            chats.append(capture.chat)
        else:
            assert capture.chat is chats[-1], "a message must follow its chat's announcement"
            messages.append(capture.message)
    return collector, chats, messages


def by_id(messages: list[MessageRecord]) -> dict[int, MessageRecord]:
    return {m.message_id: m for m in messages}


def comparable(message: MessageRecord) -> dict[str, Any]:
    """A record without the fields that depend on the file's byte layout."""
    fields = {
        name: getattr(message, name)
        for name in message.__slots__  # type: ignore[attr-defined]
        if name not in ("raw", "raw_offset")
    }
    fields["files"] = [(f.role, f.export_path, f.status, f.declared_size) for f in message.files]
    return fields


def write_chat_export(
    folder: Path, messages: list[dict[str, Any]], *, minified: bool = False, **header: Any
) -> Path:
    """Write a single-chat result.json built from dicts (valid JSON only)."""
    folder.mkdir(parents=True, exist_ok=True)
    chat = {"name": "Test", "type": "private_supergroup", "id": 1712691810, **header}
    chat["messages"] = messages
    text = minified_dumps(chat) if minified else tdesktop_dumps(chat)
    (folder / "result.json").write_text(text + "\n", encoding="utf-8")
    return folder / "result.json"


def write_big_export(path: Path, count: int) -> None:
    """The benchmark shape: one message per line, tdesktop-like indentation."""
    entities = [
        {"type": "plain", "text": "hello "},
        {"type": "link", "text": "https://t.me/abc"},
        {"type": "plain", "text": " 안녕하세요"},
    ]
    with path.open("w", encoding="utf-8") as out:
        out.write(
            '{\n "name": "Bench",\n "type": "private_supergroup",\n "id": 1712691810,\n'
            ' "messages": [\n'
        )
        for i in range(1, count + 1):
            message = {
                "id": i,
                "type": "message",
                "date": "2024-08-01T12:00:00",
                "date_unixtime": str(1722513600 + i),
                "from": f"User {i % 10}",
                "from_id": f"user{1000 + i % 10}",
                "text": ["hello ", {"type": "link", "text": "https://t.me/abc"}, " 안녕하세요"],
                "text_entities": entities,
            }
            out.write("  " + json.dumps(message, ensure_ascii=False))
            out.write(",\n" if i < count else "\n")
        out.write(" ]\n}\n")
