"""Small Telegram Desktop full-account exports written message by message for the text and
graph tests, in tdesktop's own format (the demo's ``tdesktop_format`` writer)."""

from __future__ import annotations

from pathlib import Path

from haechi.analyze.text.scan import MessageScan, Scanner
from haechi.demo.tdesktop_format import ABOUT_CHATS, ABOUT_TELEGRAM, ChatBuilder, Peer, dumps

ME = Peer("Investigator", "user6100000099")
T0 = 1725100000  # 2024-08-31 UTC


def room(name: str, bare_id: int, kind: str = "private_supergroup") -> ChatBuilder:
    return ChatBuilder(name, kind, bare_id, f"chats/chat_{bare_id % 1000}/", {})


def write_export(dest: Path, chats: list[ChatBuilder], user_id: int = 6100000099) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    files: dict[str, bytes] = {}
    for c in chats:
        files.update(c.files)
    for rel, data in files.items():
        (dest / rel).parent.mkdir(parents=True, exist_ok=True)
        (dest / rel).write_bytes(data)
    root = {
        "about": ABOUT_TELEGRAM,
        "personal_information": {
            "user_id": user_id,
            "first_name": "Test",
            "last_name": "Kit",
            "phone_number": "+99966 1 0099",
        },
        "chats": {"about": ABOUT_CHATS, "list": [c.to_dict() for c in chats]},
    }
    (dest / "result.json").write_text(dumps(root), encoding="utf-8")
    return dest


def flag(scanner: Scanner, text: str) -> tuple[bool, MessageScan]:
    """Is ``text`` flagged (its points reach the lexicon's message flag), and its scan."""
    s = scanner.scan(text)
    return s.points(scanner.lexicon) >= scanner.lexicon.scoring.message_flag, s
