"""Telethon's TL objects as evidence text: canonical JSON, peers, content fingerprints.

A live message is kept as the JSON of the TL object the server sent (Telethon's
``to_dict()``: every field by its TL name, ``"_"`` naming the constructor), with absent
optional fields (``None``) left out, datetimes as ISO 8601 UTC and bytes as base64. Keys keep
TL's order, so the same object always gives the same bytes.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import UTC, datetime
from typing import Any

import orjson
from telethon.tl import types

# Fields that change without the sender doing anything (counters, reactions, the access
# token of a file): a re-read that differs only here is not an edit.
VOLATILE = frozenset(
    {
        "views",
        "forwards",
        "replies",
        "reactions",
        "file_reference",
        "edit_hide",
        "pinned",
        "media_unread",
        "mentioned",
        "silent",
        "reactions_are_possible",
        "from_boosts_applied",
        "report_delivery_until_date",
    }
)


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.astimezone(UTC).isoformat().replace("+00:00", "Z")
    if isinstance(value, bytes | bytearray):
        return {"_": "bytes", "base64": base64.b64encode(bytes(value)).decode("ascii")}
    return value


def tl_plain(obj: Any) -> Any:
    """A TL object (or plain value) as JSON-native data."""
    return _plain(obj.to_dict() if hasattr(obj, "to_dict") else obj)


def tl_json(obj: Any) -> str:
    return orjson.dumps(tl_plain(obj)).decode("utf-8")


def _strip(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _strip(v) for k, v in value.items() if k not in VOLATILE}
    if isinstance(value, list):
        return [_strip(v) for v in value]
    return value


def fingerprint(message_json: dict[str, Any]) -> str:
    """SHA-256 of what the sender controls in a message (text, media, buttons, edit date),
    for telling an edit from a re-read with new view counts."""
    return hashlib.sha256(
        orjson.dumps(_strip(message_json), option=orjson.OPT_SORT_KEYS)
    ).hexdigest()


def peer_of(peer: Any) -> tuple[str, int] | None:
    """("channel"|"chat"|"user", bare id) of a TL Peer / InputPeer / entity."""
    if isinstance(peer, types.PeerChannel | types.InputPeerChannel):
        return "channel", int(peer.channel_id)
    if isinstance(peer, types.PeerChat | types.InputPeerChat):
        return "chat", int(peer.chat_id)
    if isinstance(peer, types.PeerUser | types.InputPeerUser):
        return "user", int(peer.user_id)
    if isinstance(peer, types.Channel | types.ChannelForbidden):
        return "channel", int(peer.id)
    if isinstance(peer, types.Chat | types.ChatForbidden | types.ChatEmpty):
        return "chat", int(peer.id)
    if isinstance(peer, types.User | types.UserEmpty):
        return "user", int(peer.id)
    return None


def peer_raw(peer: Any) -> str | None:
    """The peer as Telegram Desktop exports write it (``user123``, ``channel456``)."""
    found = peer_of(peer)
    return f"{found[0]}{found[1]}" if found else None


def input_peer(kind: str, tg_id: int, access_hash: int | None) -> Any:
    """The InputPeer to reach a peer again by id (after its username changed or went)."""
    if kind == "channel":
        return types.InputPeerChannel(tg_id, access_hash or 0)
    if kind == "chat":
        return types.InputPeerChat(tg_id)
    return types.InputPeerUser(tg_id, access_hash or 0)


def entity_name(entity: Any) -> str | None:
    if isinstance(entity, types.User | types.UserEmpty):
        parts = [getattr(entity, "first_name", None), getattr(entity, "last_name", None)]
        name = " ".join(p for p in parts if p)
        return name or None
    return getattr(entity, "title", None)


def usernames_of(entity: Any) -> list[str]:
    """Every public name an entity holds now: ``username`` and the collectible ``usernames``."""
    names: list[str] = []
    if getattr(entity, "username", None):
        names.append(entity.username)
    for u in getattr(entity, "usernames", None) or []:
        name = getattr(u, "username", None)
        if name and name not in names:
            names.append(name)
    return names


def utc_seconds(value: datetime | None) -> int | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp())
