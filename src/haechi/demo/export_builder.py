"""The ``haechi demo`` sample: a realistic, entirely benign Telegram Desktop full-account export.

It has the *shape* of what investigators meet (a channel that posts pictures, a group that
forwards and re-posts them, the group renamed to a "backup room" that points to a new room
by invite link, a bot, missing media, a chat the account has left) with harmless content:
coffee, a café cat, rockets and the night sky, made only from scikit-image sample photos.
``story`` tells what happens; ``tdesktop_format`` writes it the way Telegram Desktop 5.x
does, field by field; ``images`` encodes the media. The exporting PC is on Korean time.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from haechi.demo import story
from haechi.demo.images import DemoAssets
from haechi.demo.tdesktop_format import (
    ABOUT_CHATS,
    ABOUT_LEFT_CHATS,
    ABOUT_TELEGRAM,
    ChatBuilder,
    chat_folder,
    dumps,
)

EXPORT_FOLDER = "DataExport_2024-09-02"

# Dialog-list order as tdesktop writes it (pinned channel and group first, then by latest
# message), with the left chat last: (title, dialog type, bare id, is it a left chat).
DIALOGS = (
    (story.CHANNEL_TITLE, "public_channel", 2087654321, False),
    (story.GROUP_A_TITLE, "public_supergroup", 2012345678, False),
    (story.GROUP_B_TITLE, "private_group", 987654321, False),
    (story.BOT_NAME, "bot_chat", 6200000001, False),
    (story.LEFT_TITLE, "private_supergroup", 1876543210, True),
)


def _is_previous_demo(folder: Path) -> bool:
    try:
        data = json.loads((folder / "result.json").read_text(encoding="utf-8"))
        return bool(data["personal_information"]["user_id"] == story.DEMO_USER_ID)
    except (OSError, ValueError, KeyError, TypeError):
        return False


def build_demo_export(dest: Path, *, seed: int = 7) -> Path:
    """Write ``dest/DataExport_2024-09-02/`` (result.json + media) and return that folder.

    The same seed gives the same bytes. An earlier demo export in the same place is
    replaced; any other folder of that name is left alone (``FileExistsError``).
    """
    folder = Path(dest) / EXPORT_FOLDER
    if folder.exists():
        if not _is_previous_demo(folder):
            raise FileExistsError(f"{folder} exists and is not a haechi demo export")
        shutil.rmtree(folder)
    scene = story.Scene(seed, DemoAssets())
    files: dict[str, bytes] = {}  # relative path -> bytes, written at the end
    chats = [
        ChatBuilder(name, kind, bare_id, chat_folder(number, len(DIALOGS)), files)
        for number, (name, kind, bare_id, _) in enumerate(DIALOGS, start=1)
    ]
    channel, group_a, group_b, bot, left = chats
    video_post = story.channel(channel, scene)
    story.group_a(group_a, scene, video_post)
    story.group_b(group_b, scene)
    story.bot_chat(bot, scene)
    story.left_chat(left, scene)
    root = {
        "about": ABOUT_TELEGRAM,
        "personal_information": {
            "user_id": story.DEMO_USER_ID,
            "first_name": "해치",
            "last_name": "수사관",
            # Telegram's reserved test-number range (+99966...): the number is nobody's.
            "phone_number": "+99966 1 0001",
            "username": "@haechi_demo",
            "bio": "데모용 가상 계정 · fictional demo account",
        },
        "chats": {
            "about": ABOUT_CHATS,
            "list": [c.to_dict() for c, spec in zip(chats, DIALOGS, strict=True) if not spec[3]],
        },
        "left_chats": {
            "about": ABOUT_LEFT_CHATS,
            "list": [c.to_dict() for c, spec in zip(chats, DIALOGS, strict=True) if spec[3]],
        },
    }
    folder.mkdir(parents=True)
    for rel, data in sorted(files.items()):
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
    (folder / "result.json").write_text(dumps(root), encoding="utf-8")
    return folder
