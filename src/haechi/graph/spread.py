"""How a bot or a media group spread: first seen, every appearance, time to reach each
room, and which rooms advertised it on which day.

A bot appears when a message mentions or links it (text, hidden link, URL button), is
sent through it (``via_bot``), or is sent by it. A media group appears wherever one of its
files is attached (a forward keeps the very same file; a re-post is a near-duplicate the
hashing capability grouped).
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import func, select

from haechi.app import App
from haechi.domain import UsageError
from haechi.graph.build import media_groups, text_version
from haechi.i18n import t_
from haechi.store.models import Account, Chat, Media, Message
from haechi.store.tables.text import TextEntity


@dataclass
class Appearance:
    chat_id: int
    chat: str
    message_pk: int
    message_id: int
    at: int | None
    how: str  # mention / link / button / via_bot / sent_by / forward / post


@dataclass
class Spread:
    subject: str  # "bot:@name" or "media:<sha256>"
    first_seen: int | None = None
    last_seen: int | None = None
    appearances: list[Appearance] = field(default_factory=list)
    chats: list[dict[str, Any]] = field(default_factory=list)  # in order of first appearance
    time_to_spread: dict[str, float | None] = field(default_factory=dict)
    timeline: list[dict[str, Any]] = field(default_factory=list)  # per UTC day
    detail: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        from dataclasses import asdict

        return asdict(self)


def _day(unix: int) -> str:
    return datetime.fromtimestamp(unix, UTC).strftime("%Y-%m-%d")


def summarise(s: Spread) -> Spread:
    s.appearances.sort(key=lambda a: (a.at is None, a.at or 0, a.message_pk))
    dated = [a for a in s.appearances if a.at is not None]
    if dated:
        s.first_seen, s.last_seen = dated[0].at, dated[-1].at
    per_chat: dict[int, dict[str, Any]] = {}
    for a in s.appearances:
        row = per_chat.setdefault(
            a.chat_id,
            {"chat_id": a.chat_id, "chat": a.chat, "first": a.at, "count": 0, "how": set()},
        )
        row["count"] += 1
        row["how"].add(a.how)
        if a.at is not None and (row["first"] is None or a.at < row["first"]):
            row["first"] = a.at
    chats = sorted(per_chat.values(), key=lambda r: (r["first"] is None, r["first"] or 0))
    for row in chats:
        row["how"] = sorted(row["how"])
        row["after_first_seen_s"] = (
            row["first"] - s.first_seen if row["first"] is not None and s.first_seen else None
        )
    s.chats = chats
    delays = [r["after_first_seen_s"] for r in chats[1:] if r["after_first_seen_s"] is not None]
    s.time_to_spread = {
        "rooms": len(chats),
        "median_s": statistics.median(delays) if delays else None,
        "max_s": max(delays) if delays else None,
    }
    by_day: dict[str, set[int]] = defaultdict(set)
    for a in dated:
        by_day[_day(a.at or 0)].add(a.chat_id)
    seen: set[int] = set()
    for day in sorted(by_day):
        new = by_day[day] - seen
        seen |= by_day[day]
        s.timeline.append(
            {
                "day": day,
                "rooms": sorted(by_day[day]),
                "new_rooms": sorted(new),
                "cumulative_rooms": len(seen),
            }
        )
    return s


def bot_spread(app: App, username: str) -> Spread:
    name = username.lower().lstrip("@")
    if not name:
        raise UsageError(t_("Name a bot, e.g. @example_bot."))
    s = Spread(subject=f"bot:@{name}")
    with app.db.connect() as conn:
        titles = dict(conn.execute(select(Chat.id, Chat.title)).all())
        version = text_version(conn, app, None)
        rows: list[tuple[int, int, int, int | None, str]] = []
        if version is not None:
            for cid, pk, mid, at, source, raw in conn.execute(
                select(
                    TextEntity.chat_id,
                    TextEntity.message_pk,
                    Message.message_id,
                    TextEntity.date_unix,
                    TextEntity.source,
                    TextEntity.raw,
                )
                .join(Message, Message.id == TextEntity.message_pk)
                .where(
                    TextEntity.version == version,
                    TextEntity.kind == "tg_bot",
                    TextEntity.value == name,
                )
            ):
                how = {"button": "button", "text_link": "link"}.get(source, "mention")
                if how == "mention" and not raw.startswith("@"):
                    how = "link"
                rows.append((cid, pk, mid, at, how))
        for cid, pk, mid, at in conn.execute(
            select(Message.chat_id, Message.id, Message.message_id, Message.date_unix).where(
                func.lower(Message.via_bot) == f"@{name}"
            )
        ):
            rows.append((cid, pk, mid, at, "via_bot"))
        sender_ids = list(
            conn.execute(select(Account.id).where(func.lower(Account.username) == name)).scalars()
        )
        if sender_ids:
            for cid, pk, mid, at in conn.execute(
                select(Message.chat_id, Message.id, Message.message_id, Message.date_unix).where(
                    Message.sender_account_id.in_(sender_ids)
                )
            ):
                rows.append((cid, pk, mid, at, "sent_by"))
    for cid, pk, mid, at, how in rows:
        s.appearances.append(Appearance(cid, titles.get(cid) or f"chat {cid}", pk, mid, at, how))
    s.detail = {"text_version": version or ""}
    return summarise(s)


def _group_of(app: App, conn: Any, sha: str) -> tuple[str, list[str], str]:
    """(group key, members, method): the hashing capability's duplicate group when it is
    installed (the same match links and key as the map's media nodes), else ours."""
    try:
        from haechi.match.groups import duplicate_group
    except ImportError:  # the hashing capability is not installed
        pass
    else:
        dup = duplicate_group(app, sha)
        return dup.key, list(dup.members), "haechi.match duplicate group"
    mapping, method = media_groups(conn)
    group = mapping.get(sha, sha)
    return group, sorted({b for b, grp in mapping.items() if grp == group} | {sha}), method


def media_spread(app: App, sha256: str) -> Spread:
    key = sha256.lower()
    if len(key) < 8 or any(c not in "0123456789abcdef" for c in key):
        raise UsageError(t_("Give the SHA-256 (or its first 8+ hex digits) of a stored file."))
    with app.db.connect() as conn:
        blobs = [
            b
            for b in conn.execute(
                select(Media.blob_sha256).where(Media.blob_sha256.like(f"{key}%")).distinct()
            ).scalars()
            if b
        ]
        if not blobs:
            raise UsageError(t_("No stored media file has a SHA-256 starting with {key}.", key=key))
        if len(blobs) > 1 and len(key) < 64:
            raise UsageError(
                t_("{key} matches {n_blobs} files: give more digits.", key=key, n_blobs=len(blobs))
            )
        group, members, method = _group_of(app, conn, blobs[0])
        titles = dict(conn.execute(select(Chat.id, Chat.title)).all())
        rows = conn.execute(
            select(
                Message.chat_id,
                Message.id,
                Message.message_id,
                Message.date_unix,
                Message.forwarded_from,
                Media.blob_sha256,
            )
            .join(Media, Media.message_pk == Message.id)
            .where(Media.blob_sha256.in_(members), Media.role != "thumbnail")
            .distinct()
        ).all()
    s = Spread(subject=f"media:{group}")
    for cid, pk, mid, at, fwd, _sha in rows:
        how = "forward" if fwd else "post"
        s.appearances.append(Appearance(cid, titles.get(cid) or f"chat {cid}", pk, mid, at, how))
    s.detail = {"files": members, "grouping": method}
    return summarise(s)
