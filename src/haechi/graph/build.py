"""Build the network map from the store: one ``networkx.MultiDiGraph``.

Nodes (``type`` attribute): ``chat`` (a room or channel in the evidence), ``account``
(a sender), ``bot`` (an @username ending in "bot"), ``username`` (a public @name or
t.me/name not otherwise in the evidence), ``invite`` (a t.me/+ link), ``name`` (a forward
source known only by its display name), ``media`` (a group of identical or
near-identical files), and identifiers: ``btc``, ``eth``, ``tron``, ``ton``, ``phone``,
``email``, ``kakao_openchat``, ``discord_invite``, ``instagram``, ``x_handle``, ``url``.

Edges point from the room (or account) that *shows* something to what it shows, with
``kind`` = posted_in (account -> chat), forward (chat -> source it forwarded from),
mention (chat -> username/bot/chat), link (chat -> invite, message link, url),
identifier (chat -> wallet, phone, handle), shared_media (chat -> media group),
via_bot (chat or account -> bot), successor (old room -> new room or its invite); each
with ``weight`` (messages), ``first`` and ``last`` (UTC epoch seconds).

Everything is aggregated in SQL (GROUP BY chat), so a million messages become a few
thousand rows before Python sees them.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import networkx as nx
from sqlalchemy import Connection, func, inspect, select, text

from haechi.analyze.text.rooms import chat_titles
from haechi.app import App
from haechi.store.models import Account, Chat, Media, Message
from haechi.store.tables.text import RoomScore, TextEntity

IDENTIFIER_KINDS = frozenset(
    {
        "btc",
        "eth",
        "tron",
        "ton",
        "phone",
        "email",
        "kakao_openchat",
        "discord_invite",
        "instagram",
        "x_handle",
    }
)
MENTION_KINDS = frozenset({"tg_username", "tg_bot", "tg_message"})
LINK_KINDS = frozenset({"tg_invite", "tg_private_message", "tg_folder", "url"})


@dataclass
class BuildOptions:
    accounts: bool = True  # account -> chat "posted_in" edges (large rooms: many nodes)
    urls_min_chats: int = 2  # a plain URL is a node only when this many rooms share it
    media_min_chats: int = 2  # a media group is a node only when it crosses rooms
    version: str | None = None  # text-analysis version; None: the current one, else newest


@dataclass
class Lookup:
    """How names found in text resolve to nodes already in the graph."""

    chat_by_key: dict[str, int] = field(default_factory=dict)
    chat_by_title: dict[str, int] = field(default_factory=dict)
    chat_by_username: dict[str, int] = field(default_factory=dict)
    chat_by_tg_id: dict[int, int] = field(default_factory=dict)
    account_by_username: dict[str, int] = field(default_factory=dict)
    account_by_name: dict[str, int] = field(default_factory=dict)
    pending: dict[tuple[str, str, str], list[Any]] = field(default_factory=dict)
    titles: dict[int, list[str]] = field(default_factory=dict)  # every title of each chat


def _add_edge(
    lk: Lookup,
    u: str,
    v: str,
    kind: str,
    weight: int,
    first: int | None,
    last: int | None,
) -> None:
    """Accumulate an edge; ``_flush_edges`` adds them all at the end (one networkx call
    per distinct edge, however many rows fed it)."""
    if u == v:
        return
    key = (u, v, kind)
    cur = lk.pending.get(key)
    if cur is None:
        lk.pending[key] = [weight, first, last]
        return
    cur[0] += weight
    cur[1], cur[2] = _min(cur[1], first), _max(cur[2], last)


def _flush_edges(g: nx.MultiDiGraph, lk: Lookup) -> None:
    add = g.add_edge  # MultiDiGraph.add_edge: much cheaper than add_edges_from's views
    for (u, v, k), (w, lo, hi) in lk.pending.items():
        add(u, v, key=k, kind=k, weight=w, first=lo, last=hi)
    lk.pending.clear()


def text_version(conn: Connection, app: App, wanted: str | None) -> str | None:
    """The text-analysis version whose identifiers the graph uses."""
    from haechi.analyze.text.scan import scanner_for

    version = wanted or scanner_for(app.settings.home).version
    if conn.execute(select(TextEntity.id).where(TextEntity.version == version).limit(1)).first():
        return version
    if wanted:
        return wanted
    newest = conn.execute(
        select(TextEntity.version).order_by(TextEntity.id.desc()).limit(1)
    ).scalar_one_or_none()
    return newest


def add_chats(conn: Connection, g: nx.MultiDiGraph, lk: Lookup, version: str | None) -> None:
    scores: dict[int, tuple[float, str]] = {}
    if version is not None:
        scores = {
            cid: (score, level)
            for cid, score, level in conn.execute(
                select(RoomScore.chat_id, RoomScore.score, RoomScore.level).where(
                    RoomScore.version == version
                )
            )
        }
    counts = dict(
        conn.execute(select(Message.chat_id, func.count()).group_by(Message.chat_id)).all()
    )
    titles = lk.titles = chat_titles(conn)
    for cid, key, kind, tg_id, title, username, dialog in conn.execute(
        select(
            Chat.id,
            Chat.key,
            Chat.peer_kind,
            Chat.tg_id,
            Chat.title,
            Chat.username,
            Chat.dialog_type,
        )
    ):
        node = f"chat:{cid}"
        score, level = scores.get(cid, (0.0, "unscored"))
        g.add_node(
            node,
            type="chat",
            label=title or key,
            chat_id=cid,
            key=key,
            dialog_type=dialog or "",
            username=username or "",
            risk=score,
            risk_level=level,
            messages=int(counts.get(cid, 0)),
            titles=" | ".join(titles.get(cid, [])),
        )
        lk.chat_by_key[key] = cid
        for t in titles.get(cid, []):
            lk.chat_by_title.setdefault(t.strip().lower(), cid)
        if username:
            lk.chat_by_username[username.lower()] = cid
        if tg_id is not None and kind in ("channel", "chat"):
            lk.chat_by_tg_id[int(tg_id)] = cid


def _accounts(conn: Connection, g: nx.MultiDiGraph, lk: Lookup, opts: BuildOptions) -> None:
    rows = conn.execute(
        select(Account.id, Account.key, Account.username, Account.is_bot, Account.display_name)
    ).all()
    for aid, _key, username, _bot, name in rows:
        if username:
            lk.account_by_username[username.lower()] = aid
        if name:
            lk.account_by_name.setdefault(name.strip().lower(), aid)
    if not opts.accounts:
        return
    for aid, key, username, is_bot, name in rows:
        node = account_node(lk, aid, key, username, bool(is_bot))
        if node.startswith("chat:"):
            continue  # a channel posting as itself is the chat node
        attrs = {"label": name or (f"@{username}" if username else key), "account_id": aid}
        if node.startswith("bot:"):
            g.add_node(node, type="bot", **attrs)
        else:
            g.add_node(node, type="account", username=username or "", **attrs)


def account_node(lk: Lookup, aid: int, key: str, username: str | None, is_bot: bool) -> str:
    if key in lk.chat_by_key:
        return f"chat:{lk.chat_by_key[key]}"
    if username and (is_bot or username.lower().endswith("bot")):
        return f"bot:{username.lower()}"
    return f"account:{aid}"


def username_node(g: nx.MultiDiGraph, lk: Lookup, username: str) -> str:
    """A public @name: the chat or account that has it, else a ``username``/``bot`` node."""
    low = username.lower().lstrip("@")
    if low in lk.chat_by_username:
        return f"chat:{lk.chat_by_username[low]}"
    if low.endswith("bot"):
        node = f"bot:{low}"
        if node not in g:
            g.add_node(node, type="bot", label=f"@{low}")
        return node
    if low in lk.account_by_username and f"account:{lk.account_by_username[low]}" in g:
        return f"account:{lk.account_by_username[low]}"
    node = f"tg:{low}"
    if node not in g:
        g.add_node(node, type="username", label=f"@{low}")
    return node


def _posted(conn: Connection, g: nx.MultiDiGraph, lk: Lookup, opts: BuildOptions) -> None:
    if not opts.accounts:
        return
    keys = dict(conn.execute(select(Account.id, Account.key)).all())
    users = dict(conn.execute(select(Account.id, Account.username)).all())
    bots = dict(conn.execute(select(Account.id, Account.is_bot)).all())
    nodes: dict[int, str] = {}
    for cid, aid, n, lo, hi in conn.execute(
        select(
            Message.chat_id,
            Message.sender_account_id,
            func.count(),
            func.min(Message.date_unix),
            func.max(Message.date_unix),
        )
        .where(Message.sender_account_id.is_not(None))
        .group_by(Message.chat_id, Message.sender_account_id)
    ):
        if aid is None:
            continue
        node = nodes.get(aid)
        if node is None:
            node = account_node(lk, aid, keys[aid], users.get(aid), bool(bots.get(aid)))
            nodes[aid] = node
        _add_edge(lk, node, f"chat:{cid}", "posted_in", int(n), lo, hi)


def _forwards(conn: Connection, g: nx.MultiDiGraph, lk: Lookup) -> None:
    for cid, name, n, lo, hi in conn.execute(
        select(
            Message.chat_id,
            Message.forwarded_from,
            func.count(),
            func.min(Message.date_unix),
            func.max(Message.date_unix),
        )
        .where(Message.forwarded_from.is_not(None))
        .group_by(Message.chat_id, Message.forwarded_from)
    ):
        if name is None:
            continue
        low = name.strip().lower()
        if low in lk.chat_by_title:
            target = f"chat:{lk.chat_by_title[low]}"
        elif low in lk.account_by_name and f"account:{lk.account_by_name[low]}" in g:
            target = f"account:{lk.account_by_name[low]}"
        else:
            target = f"name:{low}"
            if target not in g:
                g.add_node(target, type="name", label=name)
        _add_edge(lk, f"chat:{cid}", target, "forward", int(n), lo, hi)


def _via_bot(conn: Connection, g: nx.MultiDiGraph, lk: Lookup) -> None:
    for cid, bot, n, lo, hi in conn.execute(
        select(
            Message.chat_id,
            Message.via_bot,
            func.count(),
            func.min(Message.date_unix),
            func.max(Message.date_unix),
        )
        .where(Message.via_bot.is_not(None))
        .group_by(Message.chat_id, Message.via_bot)
    ):
        if bot is None:
            continue
        node = f"bot:{bot.lstrip('@').lower()}"
        if node not in g:
            g.add_node(node, type="bot", label=bot)
        _add_edge(lk, f"chat:{cid}", node, "via_bot", int(n), lo, hi)


def _entities(
    conn: Connection, g: nx.MultiDiGraph, lk: Lookup, version: str | None, opts: BuildOptions
) -> None:
    if version is None:
        return
    rows = conn.execute(
        select(
            TextEntity.chat_id,
            TextEntity.kind,
            TextEntity.value,
            func.count(func.distinct(TextEntity.message_pk)),
            func.min(TextEntity.date_unix),
            func.max(TextEntity.date_unix),
        )
        .where(TextEntity.version == version, TextEntity.valid.is_(True))
        .group_by(TextEntity.chat_id, TextEntity.kind, TextEntity.value)
    ).all()
    url_chats: dict[str, set[int]] = defaultdict(set)
    for cid, kind, value, *_ in rows:
        if kind == "url":
            url_chats[value].add(cid)
    for cid, kind, value, n, lo, hi in rows:
        src = f"chat:{cid}"
        if kind in ("tg_username", "tg_bot"):
            _add_edge(lk, src, username_node(g, lk, value), "mention", int(n), lo, hi)
        elif kind == "tg_message":
            target = username_node(g, lk, value.split("/", 1)[0])
            _add_edge(lk, src, target, "link", int(n), lo, hi)
        elif kind == "tg_private_message":
            channel = int(value.split("/")[1])
            if channel in lk.chat_by_tg_id:
                _add_edge(lk, src, f"chat:{lk.chat_by_tg_id[channel]}", "link", int(n), lo, hi)
            else:
                node = f"tgc:{channel}"
                g.add_node(node, type="private_chat", label=f"t.me/c/{channel}")
                _add_edge(lk, src, node, "link", int(n), lo, hi)
        elif kind in ("tg_invite", "tg_folder"):
            node = f"invite:{value}"
            if node not in g:
                g.add_node(node, type="invite", label=f"t.me/{value}")
            _add_edge(lk, src, node, "link", int(n), lo, hi)
        elif kind in IDENTIFIER_KINDS:
            node = f"{kind}:{value}"
            if node not in g:
                g.add_node(node, type=kind, label=value)
            _add_edge(lk, src, node, "identifier", int(n), lo, hi)
        elif kind == "url" and len(url_chats[value]) >= opts.urls_min_chats:
            node = f"url:{value}"
            if node not in g:
                g.add_node(node, type="url", label=value)
            _add_edge(lk, src, node, "link", int(n), lo, hi)


class _Groups:
    """Union-find over file hashes: identical files are one blob, near-duplicates
    (the hashing capability's blob-to-blob matches) join their groups."""

    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        root = x
        while self.parent.get(root, root) != root:
            root = self.parent[root]
        while self.parent.get(x, x) != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_duplicate_pairs(conn: Connection) -> list[tuple[str, str]]:
    """Blob pairs the hashing capability matched (``match_hits``), when it is installed."""
    if not inspect(conn).has_table("match_hits"):
        return []
    rows = conn.execute(
        text(
            "SELECT blob_sha256, target_blob_sha256 FROM match_hits "
            "WHERE target_blob_sha256 IS NOT NULL"
        )
    )
    return [(a, b) for a, b in rows]


def media_groups(conn: Connection) -> tuple[dict[str, str], str]:
    """blob -> group id (the smallest SHA-256 in its group) and the method used."""
    groups = _Groups()
    pairs = near_duplicate_pairs(conn)
    for a, b in pairs:
        groups.union(a, b)
    method = "match duplicate groups + exact SHA-256" if pairs else "exact SHA-256"
    return {x: groups.find(x) for x in list(groups.parent)}, method


def _min(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else min(a, b)


def _max(a: int | None, b: int | None) -> int | None:
    return b if a is None else a if b is None else max(a, b)


def _media(conn: Connection, g: nx.MultiDiGraph, lk: Lookup, opts: BuildOptions) -> str:
    mapping, method = media_groups(conn)
    per_group: dict[str, dict[int, list[int | None]]] = defaultdict(dict)
    blobs: dict[str, set[str]] = defaultdict(set)
    for cid, sha, n, lo, hi in conn.execute(
        select(
            Message.chat_id,
            Media.blob_sha256,
            func.count(func.distinct(Media.message_pk)),
            func.min(Message.date_unix),
            func.max(Message.date_unix),
        )
        .join(Message, Message.id == Media.message_pk)
        .where(Media.blob_sha256.is_not(None), Media.role != "thumbnail")
        .group_by(Message.chat_id, Media.blob_sha256)
    ):
        if sha is None:
            continue
        group = mapping.get(sha, sha)
        blobs[group].add(sha)
        cur = per_group[group].setdefault(cid, [0, lo, hi])
        cur[0] = int(cur[0] or 0) + int(n)
        cur[1], cur[2] = _min(cur[1], lo), _max(cur[2], hi)
    for group, chats in per_group.items():
        if len(chats) < opts.media_min_chats:
            continue
        node = f"media:{group[:16]}"
        firsts = [v[1] for v in chats.values() if v[1] is not None]
        g.add_node(
            node,
            type="media",
            label=f"media {group[:12]}",
            sha256=group,
            files=len(blobs[group]),
            chats=len(chats),
            first=min(firsts) if firsts else None,
        )
        for cid, (count, lo, hi) in chats.items():
            _add_edge(lk, f"chat:{cid}", node, "shared_media", int(count or 0), lo, hi)
    return method


def build_graph(app: App, opts: BuildOptions | None = None) -> nx.MultiDiGraph:
    """The whole map; ``g.graph`` carries the text version and media grouping used."""
    from haechi.graph.successors import add_successors

    opts = opts or BuildOptions()
    g = nx.MultiDiGraph()
    lk = Lookup()
    with app.db.connect() as conn:
        version = text_version(conn, app, opts.version)
        add_chats(conn, g, lk, version)
        _accounts(conn, g, lk, opts)
        _posted(conn, g, lk, opts)
        _forwards(conn, g, lk)
        _via_bot(conn, g, lk)
        _entities(conn, g, lk, version, opts)
        method = _media(conn, g, lk, opts)
        _flush_edges(g, lk)
        successors = add_successors(conn, g, lk, version)
    g.graph.update(text_version=version or "", media_groups=method, successors=len(successors))
    return g
