"""Where a room went: successor and backup ("대피방") rooms.

Rooms are "blown up and regrouped" (domain.md §1.2): before or while a room dies, its
members are pointed to a new one. A link to another room counts as a successor link when
- it is *announced*: the same message uses backup/new-room vocabulary (대피방, 백업방,
  새 방, backup room, we moved ... the lexicon's ``backup_room`` category), or
- it is *late*: posted within ``LATE_WINDOW`` of the room's last message and in the last
  ``LATE_SHARE`` of its life (so a short-lived room is not "late" all along).

The target is resolved when the evidence allows: a public @name or a t.me/c/ id that is a
chat in the store; for an invite link (whose target Telegram does not reveal to outsiders)
the chat that was created around the announcement, whose title resembles the old room's,
and/or that the exporting account joined by link soon after. Every resolution carries its
reasons and a confidence; an unresolved invite stays an ``invite`` node for an analyst.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from typing import Any

import networkx as nx
from sqlalchemy import Connection, and_, func, select

from haechi.store.models import Message
from haechi.store.tables.text import TextEntity, TextFinding

LATE_WINDOW = 72 * 3600
LATE_SHARE = 0.05  # ... and within the last 5% of the room's life
CREATED_BEFORE = 2 * 86400  # a new room may be made shortly before it is announced
CREATED_AFTER = 14 * 86400
ROOM_KINDS = ("tg_invite", "tg_username", "tg_private_message")


@dataclass
class Successor:
    source_chat: int
    target: str  # graph node: chat:<id>, invite:+hash, tg:<name>, tgc:<id>
    target_chat: int | None
    via: str  # the entity value (invite hash, username, c/<id>)
    message_pk: int
    at: int | None
    announced: bool
    late: bool
    confidence: float  # that the link announces a successor room
    resolution: float | None  # how sure the target room is right (None: unresolved)
    reasons: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


def _chat_times(conn: Connection) -> tuple[dict[int, int], dict[int, int]]:
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for cid, lo, hi in conn.execute(
        select(Message.chat_id, func.min(Message.date_unix), func.max(Message.date_unix))
        .where(Message.date_unix.is_not(None))
        .group_by(Message.chat_id)
    ):
        first[cid], last[cid] = int(lo or 0), int(hi or 0)
    return first, last


def _joins(conn: Connection) -> dict[int, list[int]]:
    joins: dict[int, list[int]] = defaultdict(list)
    for cid, when in conn.execute(
        select(Message.chat_id, Message.date_unix).where(
            Message.action == "join_group_by_link", Message.date_unix.is_not(None)
        )
    ):
        joins[cid].append(int(when or 0))
    return joins


def _similar(a: list[str], b: list[str]) -> float:
    best = 0.0
    for x in a:
        for y in b:
            best = max(best, SequenceMatcher(None, x.lower(), y.lower()).ratio())
    return best


def resolve_invite(
    source: int,
    at: int | None,
    titles: dict[int, list[str]],
    first: dict[int, int],
    joins: dict[int, list[int]],
) -> tuple[int | None, float, list[str]]:
    """The chat an invite most likely opens, its score and why (None when unsure)."""
    if at is None:
        return None, 0.0, []
    scored: list[tuple[float, int, list[str]]] = []
    for cid, created in first.items():
        if cid == source:
            continue
        score, why = 0.0, []
        if at - CREATED_BEFORE <= created <= at + CREATED_AFTER:
            score += 0.4
            why.append(f"created {round((created - at) / 3600, 1)} h from the announcement")
        sim = _similar(titles.get(source, []), titles.get(cid, []))
        if sim >= 0.4:
            score += 0.4 * sim
            why.append(f"title similarity {sim:.2f}")
        if any(at - 3600 <= j <= at + CREATED_AFTER for j in joins.get(cid, [])):
            score += 0.3
            why.append("joined by link after the announcement")
        if score > 0:
            scored.append((score, cid, why))
    scored.sort(key=lambda x: -x[0])
    if not scored or scored[0][0] < 0.6:
        return None, 0.0, []
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 0.05:
        return None, 0.0, ["two candidate rooms fit equally well"]
    return scored[0][1], round(scored[0][0], 2), scored[0][2]


def find_successors(
    conn: Connection, version: str | None, titles: dict[int, list[str]], resolve_name: Any
) -> list[Successor]:
    """Successor links in the store; ``resolve_name(kind, value) -> (node, chat id)``."""
    if version is None:
        return []
    first, last = _chat_times(conn)
    joins = _joins(conn)
    announced_msgs = set(
        conn.execute(
            select(TextFinding.message_pk).where(
                TextFinding.version == version,
                TextFinding.kind == "term",
                TextFinding.category == "backup_room",
            )
        ).scalars()
    )
    out: list[Successor] = []
    rows = conn.execute(
        select(
            TextEntity.chat_id,
            TextEntity.kind,
            TextEntity.value,
            TextEntity.message_pk,
            TextEntity.date_unix,
            TextEntity.raw,
        )
        .where(
            and_(
                TextEntity.version == version,
                TextEntity.kind.in_(ROOM_KINDS),
                TextEntity.valid.is_(True),
            )
        )
        .order_by(TextEntity.message_pk)
    ).all()
    by_message: dict[int, list[Any]] = defaultdict(list)
    for row in rows:
        by_message[row[3]].append(row)
    for pk, links in by_message.items():
        # A new room is usually private: when a message carries an invite, its public
        # links (the channel, a bot) are context, not the successor.
        if any(r[1] == "tg_invite" for r in links):
            links = [r for r in links if r[1] == "tg_invite"]
        for cid, kind, value, _pk, at, raw in links:
            found = _successor(
                cid,
                kind,
                value,
                pk,
                at,
                raw,
                pk in announced_msgs,
                first,
                last,
                joins,
                titles,
                resolve_name,
            )
            if found is not None:
                out.append(found)
    return out


def is_late(at: int | None, first: int | None, last: int | None) -> bool:
    """Posted in the room's last ``LATE_WINDOW`` and in the last ``LATE_SHARE`` of its life."""
    if at is None or first is None or last is None:
        return False
    return at >= last - LATE_WINDOW and at >= last - (last - first) * LATE_SHARE


def _successor(
    cid: int,
    kind: str,
    value: str,
    pk: int,
    at: int | None,
    raw: str,
    announced: bool,
    first: dict[int, int],
    last: dict[int, int],
    joins: dict[int, list[int]],
    titles: dict[int, list[str]],
    resolve_name: Any,
) -> Successor | None:
    late = is_late(at, first.get(cid), last.get(cid))
    if not (announced or late):
        return None
    if kind == "tg_username" and raw.startswith("@") and not (announced and late):
        return None  # an @mention in passing is not a room move
    reasons = []
    if announced:
        reasons.append("announced with backup/new-room words")
    if late and at is not None:
        reasons.append(
            f"posted {round((last[cid] - at) / 3600, 1)} h before the room's last message"
        )
    base = 0.9 if announced and late else 0.75 if announced else 0.5
    resolution: float | None
    if kind == "tg_invite":
        target_chat, score, why = resolve_invite(cid, at, titles, first, joins)
        node = f"chat:{target_chat}" if target_chat is not None else f"invite:{value}"
        reasons += why
        resolution = min(score, 1.0) if target_chat is not None else None
    else:
        node, target_chat = resolve_name(kind, value)
        resolution = 1.0 if target_chat is not None else None  # the name is the room's own
    if target_chat == cid:
        return None
    return Successor(
        cid, node, target_chat, value, pk, at, announced, late, base, resolution, reasons
    )


def resolver(g: nx.MultiDiGraph, lk: Any) -> Any:
    """``resolve(kind, value) -> (node, chat id or None)`` for public names and t.me/c ids."""
    from haechi.graph.build import username_node

    def resolve(kind: str, value: str) -> tuple[str, int | None]:
        if kind == "tg_private_message":
            channel = int(value.split("/")[1])
            cid = lk.chat_by_tg_id.get(channel)
            return (f"chat:{cid}" if cid is not None else f"tgc:{channel}"), cid
        node = username_node(g, lk, value)
        return node, int(node.split(":")[1]) if node.startswith("chat:") else None

    return resolve


def add_successors(
    conn: Connection, g: nx.MultiDiGraph, lk: Any, version: str | None
) -> list[Successor]:
    from haechi.analyze.text.rooms import chat_titles

    found = find_successors(conn, version, chat_titles(conn), resolver(g, lk))
    for s in found:
        if s.target not in g:
            g.add_node(s.target, type="invite", label=f"t.me/{s.via}")
        key = "successor"
        if g.has_edge(f"chat:{s.source_chat}", s.target, key=key):
            d = g.edges[f"chat:{s.source_chat}", s.target, key]
            if s.confidence <= d["confidence"]:
                continue
        g.add_edge(
            f"chat:{s.source_chat}",
            s.target,
            key=key,
            kind=key,
            weight=1,
            first=s.at,
            last=s.at,
            confidence=s.confidence,
            resolution=s.resolution,
            reasons="; ".join(s.reasons),
            via=s.via,
            message_pk=s.message_pk,
        )
    return found
