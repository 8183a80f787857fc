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

from bisect import bisect_left, bisect_right
from collections import defaultdict
from dataclasses import dataclass, field
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


def _bigrams(title: str) -> frozenset[str]:
    t = "".join(ch for ch in title.lower() if ch.isalnum())
    return frozenset(t[i : i + 2] for i in range(len(t) - 1)) if len(t) > 1 else frozenset({t})


def similarity(a: list[frozenset[str]], b: list[frozenset[str]]) -> float:
    """Best Dice coefficient of character bigrams between any title of a and any of b
    (set operations: cheap enough to compare every candidate room)."""
    best = 0.0
    for x in a:
        for y in b:
            if x and y:
                best = max(best, 2 * len(x & y) / (len(x) + len(y)))
    return best


class InviteResolver:
    """Which room an invite most likely opens: rooms created around the announcement
    (found by bisection over creation times), rooms joined by link soon after it, scored
    by timing, title similarity and the join. Results are cached per (room, invite)."""

    def __init__(self, titles: dict[int, list[str]], first: dict[int, int],
                 joins: dict[int, list[int]]) -> None:  # fmt: skip
        self.first = first
        self.grams = {cid: [_bigrams(t) for t in names] for cid, names in titles.items()}
        self.created = sorted((t, cid) for cid, t in first.items())
        self.created_at = [t for t, _ in self.created]
        self.join_events = sorted((t, cid) for cid, times in joins.items() for t in times)
        self.join_at = [t for t, _ in self.join_events]
        self.cache: dict[tuple[int, str], tuple[int | None, float, list[str]]] = {}

    def candidates(self, at: int) -> tuple[set[int], set[int]]:
        lo = bisect_left(self.created_at, at - CREATED_BEFORE)
        hi = bisect_right(self.created_at, at + CREATED_AFTER)
        in_window = {cid for _, cid in self.created[lo:hi]}
        lo = bisect_left(self.join_at, at - 3600)
        hi = bisect_right(self.join_at, at + CREATED_AFTER)
        joined = {cid for _, cid in self.join_events[lo:hi]}
        return in_window, joined

    def resolve(
        self, source: int, value: str, at: int | None
    ) -> tuple[int | None, float, list[str]]:
        if at is None:
            return None, 0.0, []
        key = (source, value)
        if key not in self.cache:
            self.cache[key] = self._resolve(source, at)
        return self.cache[key]

    def _resolve(self, source: int, at: int) -> tuple[int | None, float, list[str]]:
        in_window, joined = self.candidates(at)
        scored: list[tuple[float, int, list[str]]] = []
        # Similarity alone (at most 0.4) cannot reach the bar: only rooms in the time
        # window or joined after the announcement are candidates.
        for cid in (in_window | joined) - {source}:
            score, why = 0.0, []
            if cid in in_window:
                score += 0.4
                hours = round((self.first[cid] - at) / 3600, 1)
                why.append(f"created {hours} h from the announcement")
            sim = similarity(self.grams.get(source, []), self.grams.get(cid, []))
            if sim >= 0.4:
                score += 0.4 * sim
                why.append(f"title similarity {sim:.2f}")
            if cid in joined:
                score += 0.3
                why.append("joined by link after the announcement")
            scored.append((score, cid, why))
        scored.sort(key=lambda x: (-x[0], x[1]))
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
    invites = InviteResolver(titles, first, _joins(conn))
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
                invites,
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
    invites: InviteResolver,
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
        target_chat, score, why = invites.resolve(cid, value, at)
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
    found = find_successors(conn, version, lk.titles, resolver(g, lk))
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
