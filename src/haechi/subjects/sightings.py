"""Where stored files appeared: the chats and messages that carried them."""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import bindparam, select

from haechi.app import App
from haechi.store.models import Chat, Media, Message
from haechi.subjects.model import Sighting

CHUNK = 500


# Built once, the files as one expanding parameter (no per-value coercion per call).
_SIGHTINGS = (
    select(
        Media.blob_sha256,
        Chat.id,
        Chat.title,
        Chat.username,
        Chat.tg_id,
        Message.message_id,
        Message.date_unix,
        Media.source_id,
    )
    .join(Message, Message.id == Media.message_pk)
    .join(Chat, Chat.id == Message.chat_id)
    .where(Media.blob_sha256.in_(bindparam("shas", expanding=True)))
    .order_by(Message.date_unix, Message.id)
)


def sightings_for(app: App, shas: Sequence[str]) -> dict[str, list[Sighting]]:
    """Every (chat, message) that carried each file, oldest first; one entry per message
    even when several sources (exports) saw it."""
    out: dict[str, list[Sighting]] = {}
    seen: set[tuple[str, int, int]] = set()
    wanted = sorted(set(shas))
    with app.db.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            rows = conn.execute(_SIGHTINGS, {"shas": part}).all()
            for blob, chat_id, title, username, tg_id, mid, date_unix, source_id in rows:
                sha = str(blob)
                key = (sha, chat_id, int(mid))
                if key in seen:
                    continue
                seen.add(key)
                link = f"https://t.me/{username}/{mid}" if username else None
                out.setdefault(sha, []).append(
                    Sighting(
                        chat_id=chat_id,
                        chat_title=title,
                        chat_username=username,
                        chat_tg_id=tg_id,
                        message_id=int(mid),
                        date_unix=date_unix,
                        source_id=source_id,
                        link=link,
                    )
                )
    return out


def chat_counts(app: App, shas: Sequence[str]) -> int:
    """How many distinct chats carried any of ``shas``."""
    chats: set[int] = set()
    wanted = sorted(set(shas))
    with app.db.connect() as conn:
        for start in range(0, len(wanted), CHUNK):
            part = wanted[start : start + CHUNK]
            chats.update(
                conn.execute(
                    select(Message.chat_id)
                    .join(Media, Media.message_pk == Message.id)
                    .where(Media.blob_sha256.in_(part))
                    .distinct()
                ).scalars()
            )
    return len(chats)
