"""Signals where people read: what text intelligence found in each message of a page.

* **Badges**: the lexicon's findings in a message (terms and victim-identifying patterns of
  the current lexicon version), each with its reason: the words matched and their
  strength. Victim-identifying details are redacted (``haechi.analyze.text.service``'s
  rule): a badge never shows a school, a birth year or a student number.
* **Links**: bots, invite links, public rooms and ``t.me/c/`` links the message names,
  each pointing where an investigator goes next: the room's timeline when the room is in
  the evidence, the successor room a backup announcement leads to (the network map's
  ``successor_rooms``), else the map's page of that bot, invite or name.

Read in two indexed queries per page (``message_pk``); nothing when the text capability
is not installed or has not run.
"""

from __future__ import annotations

import time
import weakref
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

from sqlalchemy import Connection, Engine, text

from haechi.app import App
from haechi.services.common import bound, chunks, has_module

ROOM_KINDS = ("tg_invite", "tg_username", "tg_private_message", "tg_message")
LINK_KINDS = ("tg_bot", *ROOM_KINDS)
SENSITIVE = ("victim_identifying", "victim_detail")
PER_MESSAGE = 8
SUCCESSORS_TTL = 120.0  # seconds the successor links are reused (they change on ingest)


@dataclass(frozen=True)
class Badge:
    kind: str  # term / pattern
    category: str
    strength: str | None
    matched: str  # the words in the message (redacted for victim details)
    sensitive: bool


@dataclass(frozen=True)
class RoomLink:
    kind: str  # bot / invite / room / private / successor
    label: str  # what the message wrote: @name, t.me/+hash, t.me/c/...
    href: str
    successor: bool = False  # announced or late move to this room (graph.successors)


@dataclass
class MessageSignals:
    badges: list[Badge] = field(default_factory=list)
    links: list[RoomLink] = field(default_factory=list)


def available() -> bool:
    return has_module("haechi.analyze.text.service") and has_module("haechi.graph.service")


def node_href(node: str) -> str:
    """The page of a node of the network map."""
    if node.startswith("chat:") and node[5:].isdigit():
        return f"/chats/{node[5:]}"
    return "/graph/node?id=" + quote(node, safe="")


def for_messages(app: App, conn: Connection, pks: Sequence[int]) -> dict[int, MessageSignals]:
    """Badges and links of these messages, on the caller's connection."""
    out: dict[int, MessageSignals] = {}
    if not pks or not available():
        return out
    from haechi.analyze.text.service import current_version, redact

    version = current_version(app)
    for part in chunks(sorted(set(pks))):
        marks, params = bound(part, "p")
        params["v"] = version
        for pk, kind, category, strength, matched in conn.execute(
            text(
                "SELECT message_pk, kind, category, strength, matched FROM text_findings "  # noqa: S608 - placeholders only
                f"WHERE message_pk IN ({marks}) AND version = :v AND kind IN ('term', 'pattern') "
                "ORDER BY message_pk, points DESC, id"
            ),
            params,
        ):
            sig = out.setdefault(pk, MessageSignals())
            if len(sig.badges) >= PER_MESSAGE:
                continue
            sensitive = category in SENSITIVE
            shown = redact(matched) if sensitive else matched
            sig.badges.append(Badge(kind, category, strength, shown[:80], sensitive))
        rows = conn.execute(
            text(
                "SELECT message_pk, kind, value FROM text_entities "  # noqa: S608 - placeholders only
                f"WHERE message_pk IN ({marks}) AND version = :v AND valid = :ok "
                "AND kind IN ('tg_bot', 'tg_invite', 'tg_username', 'tg_private_message', "
                "'tg_message') ORDER BY message_pk, id"
            ),
            {**params, "ok": True},
        ).all()
        if rows:
            _links(app, conn, rows, out)
    return out


def _links(app: App, conn: Connection, rows: Sequence[Any], out: dict[int, MessageSignals]) -> None:
    names = {v.split("/", 1)[0].lower() for _, k, v in rows if k in ("tg_username", "tg_message")}
    chats_by_name = _chats_by_username(conn, names)
    channels = {int(v.split("/")[1]) for _, k, v in rows if k == "tg_private_message"}
    chats_by_channel = _chats_by_channel(conn, channels)
    successors = successor_links(app) if any(k in ROOM_KINDS for _, k, _ in rows) else {}
    for pk, kind, value in rows:
        sig = out.setdefault(pk, MessageSignals())
        if len(sig.links) >= PER_MESSAGE:
            continue
        moved = successors.get((pk, value))
        if kind == "tg_bot":
            link = RoomLink("bot", f"@{value}", node_href(f"bot:{value.lower()}"))
        elif kind == "tg_invite":
            link = RoomLink("invite", f"t.me/{value}", node_href(f"invite:{value}"))
        elif kind == "tg_private_message":
            channel = int(value.split("/")[1])
            node = (
                f"chat:{chats_by_channel[channel]}"
                if channel in chats_by_channel
                else (f"tgc:{channel}")
            )
            link = RoomLink("private", f"t.me/{value}", node_href(node))
        else:
            name = value.split("/", 1)[0].lower()
            node = f"chat:{chats_by_name[name]}" if name in chats_by_name else f"tg:{name}"
            link = RoomLink("room", f"@{name}" if kind == "tg_username" else f"t.me/{value}",
                            node_href(node))  # fmt: skip
        if moved is not None:
            link = RoomLink("successor", link.label, node_href(moved), successor=True)
        if link not in sig.links:
            sig.links.append(link)


def _chats_by_username(conn: Connection, names: set[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for part in chunks(sorted(names)):
        marks, params = bound(part, "u")
        for cid, username in conn.execute(
            text(f"SELECT id, lower(username) FROM chats WHERE lower(username) IN ({marks})"),  # noqa: S608 - placeholders only
            params,
        ):
            found[username] = cid
    return found


def _chats_by_channel(conn: Connection, channels: set[int]) -> dict[int, int]:
    found: dict[int, int] = {}
    for part in chunks(sorted(channels)):
        marks, params = bound(part, "c")
        for cid, tg_id in conn.execute(
            text(
                "SELECT id, tg_id FROM chats WHERE peer_kind IN ('channel', 'chat') "  # noqa: S608 - placeholders only
                f"AND tg_id IN ({marks})"
            ),
            params,
        ):
            found[int(tg_id)] = cid
    return found


_successors: weakref.WeakKeyDictionary[Engine, tuple[float, dict[tuple[int, str], str]]] = (
    weakref.WeakKeyDictionary()
)


def successor_links(app: App) -> dict[tuple[int, str], str]:
    """``{(message_pk, entity value): target node}`` of every successor link (reused for
    ``SUCCESSORS_TTL`` seconds: computing them reads every room's first and last message)."""
    now = time.monotonic()
    cached = _successors.get(app.db.engine)
    if cached is not None and now - cached[0] < SUCCESSORS_TTL:
        return cached[1]
    from haechi.graph.service import successor_rooms

    found = {(s.message_pk, s.via): s.target for s in successor_rooms(app)}
    _successors[app.db.engine] = (now, found)
    return found
