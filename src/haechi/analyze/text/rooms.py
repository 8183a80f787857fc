"""Room-level risk: gather a room's findings at one version, score it, store the score.

Aggregation happens in SQL (findings are sparse: a million benign messages produce few
rows), so rescoring a room costs a few grouped queries, not a pass over its messages.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import orjson
from sqlalchemy import Connection, and_, delete, distinct, func, insert, select, true

from haechi.analyze.text.entities import group_of
from haechi.analyze.text.scan import Scanner
from haechi.analyze.text.scoring import RoomInput, RoomResult, Stat, score_room
from haechi.app import App
from haechi.store.custody import Draft, canonical, utc_now
from haechi.store.models import Chat, ChatSighting, Message
from haechi.store.tables.text import RoomScore, TextEntity, TextFinding, TextScan

TITLE_ACTIONS = ("edit_group_title", "create_group", "create_channel", "migrate_from_group")
SCORING_KINDS = ("term", "pattern", "rule")
TEXT_ROOM_SCORES = "text_room_scores"  # custody event type


def chat_titles(conn: Connection, chat_ids: list[int] | None = None) -> dict[int, list[str]]:
    """Every title each chat was seen with: now, in each source, and in rename messages."""
    titles: dict[int, list[str]] = defaultdict(list)

    def add(chat_id: int, title: Any) -> None:
        if isinstance(title, str) and title and title not in titles[chat_id]:
            titles[chat_id].append(title)

    where_chat = Chat.id.in_(chat_ids) if chat_ids is not None else true()
    for cid, title in conn.execute(select(Chat.id, Chat.title).where(where_chat)):
        add(cid, title)
    where_s = ChatSighting.chat_id.in_(chat_ids) if chat_ids is not None else true()
    for cid, title in conn.execute(select(ChatSighting.chat_id, ChatSighting.title).where(where_s)):
        add(cid, title)
    where_m = Message.chat_id.in_(chat_ids) if chat_ids is not None else true()
    for cid, raw in conn.execute(
        select(Message.chat_id, Message.raw)
        .where(where_m, Message.action.in_(TITLE_ACTIONS))
        .order_by(Message.id)
    ):
        try:
            add(cid, orjson.loads(raw).get("title"))
        except (orjson.JSONDecodeError, AttributeError):
            continue
    return titles


def _inputs(conn: Connection, scanner: Scanner, chat_ids: list[int]) -> list[RoomInput]:
    version = scanner.version
    rooms: dict[int, RoomInput] = {}
    info = conn.execute(select(Chat.id, Chat.title, Chat.username).where(Chat.id.in_(chat_ids)))
    titles = chat_titles(conn, chat_ids)
    for cid, title, username in info:
        names = titles.get(cid, [])
        rooms[cid] = RoomInput(cid, title, names, username, 0, 0, 0, [], set())
        if names:
            rooms[cid].title_result = scanner.matcher.scan(" · ".join(names))
    for cid, n in conn.execute(
        select(Message.chat_id, func.count())
        .join(TextScan, and_(TextScan.message_pk == Message.id, TextScan.version == version))
        .where(Message.chat_id.in_(chat_ids))
        .group_by(Message.chat_id)
    ):
        rooms[cid].messages = int(n)
    base = and_(
        TextFinding.version == version,
        TextFinding.chat_id.in_(chat_ids),
        TextFinding.kind.in_(SCORING_KINDS),
        TextFinding.points > 0,
    )
    for cid, news, n in conn.execute(
        select(
            TextFinding.chat_id, TextFinding.news_like, func.count(distinct(TextFinding.message_pk))
        )
        .where(base)
        .group_by(TextFinding.chat_id, TextFinding.news_like)
    ):
        rooms[cid].flagged += int(n)
        if news:
            rooms[cid].news_flagged += int(n)
    stats: dict[tuple[int, str, str], Stat] = {}
    for cid, kind, tid, cat, pts, news, n in conn.execute(
        select(
            TextFinding.chat_id,
            TextFinding.kind,
            TextFinding.term_id,
            TextFinding.category,
            func.max(TextFinding.points),
            TextFinding.news_like,
            func.count(distinct(TextFinding.message_pk)),
        )
        .where(base)
        .group_by(
            TextFinding.chat_id,
            TextFinding.kind,
            TextFinding.term_id,
            TextFinding.category,
            TextFinding.news_like,
        )
    ):
        st = stats.setdefault((cid, kind, tid), Stat(kind, tid, cat, float(pts)))
        if news:
            st.news_messages += int(n)
        else:
            st.messages += int(n)
        room = rooms[cid]
        if not news:
            if kind == "term":
                room.keys.update({("category", cat), ("term", tid)})
            elif kind == "pattern":
                room.keys.update({("pattern", tid), ("pcat", cat)})
    for (cid, _k, _t), st in stats.items():
        rooms[cid].stats.append(st)
    for cid, kind in conn.execute(
        select(TextEntity.chat_id, TextEntity.kind)
        .join(
            TextScan,
            and_(TextScan.message_pk == TextEntity.message_pk, TextScan.version == version),
        )
        .where(
            TextEntity.version == version,
            TextEntity.chat_id.in_(chat_ids),
            TextEntity.valid.is_(True),
            TextScan.news_like.is_(False),
        )
        .distinct()
    ):
        rooms[cid].keys.add(("entity", kind))
        rooms[cid].keys.update(("entity", g) for g in group_of(kind))
    return list(rooms.values())


def rescore(app: App, scanner: Scanner, chat_ids: set[int] | None) -> list[RoomResult]:
    """Score the given rooms (None: every room) at the scanner's version and store it."""
    pairs: list[tuple[RoomInput, RoomResult]] = []
    with app.db.connect() as conn:
        if chat_ids is None:
            ids = list(conn.execute(select(Chat.id)).scalars())
        else:
            ids = sorted(chat_ids)
        for i in range(0, len(ids), 500):
            for room in _inputs(conn, scanner, ids[i : i + 500]):
                pairs.append((room, score_room(scanner.lexicon, room)))
    if not pairs:
        return []
    now = utc_now()
    rows = [
        {
            "chat_id": r.chat_id,
            "version": scanner.version,
            "score": r.score,
            "level": r.level,
            "points": r.points,
            "messages": room.messages,
            "flagged_messages": room.flagged,
            "news_like_messages": room.news_flagged,
            "discounted": r.discounted,
            "explanation_json": orjson.dumps(r.explanation).decode(),
            "computed_at": now,
        }
        for room, r in pairs
    ]
    digest = hashlib.sha256(canonical([[r["chat_id"], r["score"], r["level"]] for r in rows]))
    with app.db.begin() as conn:
        for i in range(0, len(rows), 500):
            part = [r["chat_id"] for r in rows[i : i + 500]]
            conn.execute(
                delete(RoomScore).where(
                    RoomScore.version == scanner.version, RoomScore.chat_id.in_(part)
                )
            )
        conn.execute(insert(RoomScore), rows)
        app.custody.append_many(
            conn,
            [
                Draft(
                    TEXT_ROOM_SCORES,
                    f"text:{scanner.version}",
                    {
                        "version": scanner.version,
                        "rooms": len(rows),
                        "scores_sha256": digest.hexdigest(),
                    },
                )
            ],
        )
    return [r for _room, r in pairs]
