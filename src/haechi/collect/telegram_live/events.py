"""Custody event types of live capture (listed in docs/custody.md).

Captured messages and files need none of their own: each segment of live capture is an
ingest source, so its file and media get the foundation's ``capture`` events and the run its
``ingest_started``/``ingest_finished``. These record what an export never shows.
"""

from __future__ import annotations

LOGIN = "live_login"  # a Telegram account was signed in (account id, session id)
LOGOUT = "live_logout"
TARGET_ADDED = "live_target_added"  # who asked to watch what, joining allowed or not
TARGET_PAUSED = "live_target_paused"
TARGET_RESUMED = "live_target_resumed"
JOINED = "live_joined"  # this account joined a room (only for targets added with --join)
RENAMED = "live_renamed"  # a watched room or bot changed its public name or title
GONE = "live_gone"  # messages or a room vanished at the source, at this time
BACK = "live_back"  # a room recorded as gone answers again
BOT_PROFILE = "bot_profile"  # a bot's profile captured (file in the vault)
BOT_COMMAND = "bot_command_sent"  # text an investigator sent to a suspect bot
