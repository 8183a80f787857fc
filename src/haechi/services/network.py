"""One node of the network map, for the page a click on the map (or a link in a message)
opens: what it is, where it appears, what it links to, where its room moved.

Built from the same rows the map is (``haechi.graph``: text intelligence's identifiers,
forwards, senders, successor links, spread), queried for this node only through their
indexes, so the page never builds the whole map. Node ids are the map's own
(docs/graph.md): ``chat:<id>``, ``account:<id>``, ``bot:<name>``, ``tg:<name>``,
``invite:+<hash>``, ``tgc:<channel id>``, ``name:<name>``, ``media:<sha256 prefix>`` and
identifiers ``<kind>:<value>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, text

from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.services.signals import node_href, successor_links

APPEARANCES = 200
NEIGHBOURS = 200
IDENTIFIERS = (
    "btc", "eth", "tron", "ton", "phone", "email", "kakao_openchat", "discord_invite",
    "instagram", "x_handle", "url",
)  # fmt: skip


@dataclass(frozen=True)
class Appearance:
    chat_id: int
    chat_title: str | None
    message_pk: int
    message_id: int
    date_unix: int | None
    how: str


@dataclass(frozen=True)
class Neighbour:
    relation: str  # mention / link / identifier / forward / via_bot / posted_in / successor
    node: str
    label: str
    href: str
    messages: int


@dataclass
class NodeView:
    node: str
    type: str
    label: str
    chat_id: int | None = None
    facts: dict[str, Any] = field(default_factory=dict)
    appearances: list[Appearance] = field(default_factory=list)
    neighbours: list[Neighbour] = field(default_factory=list)
    moved_to: list[Neighbour] = field(default_factory=list)  # successor rooms
    moved_from: list[Neighbour] = field(default_factory=list)


def _version(app: App) -> str | None:
    from haechi.analyze.text.service import current_version

    return current_version(app)


def _entity_node(conn: Connection, kind: str, value: str) -> tuple[str, str]:
    """(node id, label) of an identifier as the map names it."""
    if kind == "tg_bot":
        return f"bot:{value.lower()}", f"@{value}"
    if kind in ("tg_username", "tg_message"):
        name = value.split("/", 1)[0].lower()
        found = conn.execute(
            text("SELECT id, title FROM chats WHERE lower(username) = :u LIMIT 1"), {"u": name}
        ).first()
        return (
            (f"chat:{found.id}", found.title or f"@{name}") if found else (f"tg:{name}", f"@{name}")
        )
    if kind in ("tg_invite", "tg_folder"):
        return f"invite:{value}", f"t.me/{value}"
    if kind == "tg_private_message":
        channel = value.split("/")[1]
        found = conn.execute(
            text(
                "SELECT id, title FROM chats WHERE tg_id = :c AND peer_kind IN ('channel', 'chat')"
            ),
            {"c": int(channel)},
        ).first()
        return (
            (f"chat:{found.id}", found.title or channel)
            if found
            else (f"tgc:{channel}", f"t.me/c/{channel}")
        )
    return f"{kind}:{value}", value


def _relation(kind: str) -> str:
    if kind in ("tg_bot", "tg_username"):
        return "mention"
    if kind in IDENTIFIERS and kind != "url":
        return "identifier"
    return "link"


def forward_sources(app: App, chat_id: int) -> list[Neighbour]:
    """The names a room forwarded from, most forwarded first (loaded by the node's page
    after itself). Counted from ``ix_messages_chat_forward``, which holds the room's
    forwarded messages only."""
    out = []
    with app.db.connect() as conn:
        for name, n in conn.execute(
            text(
                "SELECT forwarded_from, count(*) AS n FROM messages WHERE chat_id = :c "
                "AND forwarded_from IS NOT NULL GROUP BY forwarded_from ORDER BY n DESC "
                "LIMIT 50"
            ),
            {"c": chat_id},
        ):
            node = f"name:{name.strip().lower()}"
            out.append(Neighbour("forward", node, name, node_href(node), int(n)))
    return out


def _chat(app: App, conn: Connection, view: NodeView, chat_id: int) -> None:
    row = conn.execute(
        text(
            "SELECT c.id, c.title, c.username, c.dialog_type, c.peer_kind, s.messages FROM chats c "
            "LEFT JOIN web_chat_stats s ON s.chat_id = c.id WHERE c.id = :id"
        ),
        {"id": chat_id},
    ).first()
    if row is None:
        raise NotFound(t_("There is no such chat."))
    view.label, view.chat_id = row.title or f"#{row.id}", row.id
    view.facts = {"chat_type": row.dialog_type or row.peer_kind, "messages": row.messages or 0}
    version = _version(app)
    score = conn.execute(
        text("SELECT score, level FROM room_scores WHERE chat_id = :c AND version = :v"),
        {"c": chat_id, "v": version},
    ).first()
    if score is not None:
        view.facts.update(risk=round(float(score.score), 1), risk_level=score.level)
    for kind, value, n in conn.execute(
        text(
            "SELECT kind, value, count(DISTINCT message_pk) AS n FROM text_entities "
            "WHERE chat_id = :c AND version = :v AND valid = :ok GROUP BY kind, value "
            "ORDER BY n DESC, kind, value LIMIT :lim"
        ),
        {"c": chat_id, "v": version, "ok": True, "lim": NEIGHBOURS},
    ):
        node, label = _entity_node(conn, kind, value)
        if node != f"chat:{chat_id}":
            view.neighbours.append(Neighbour(_relation(kind), node, label, node_href(node), int(n)))
    for (pk, _via), target in successor_links(app).items():
        source = conn.execute(
            text("SELECT chat_id FROM messages WHERE id = :p"), {"p": pk}
        ).scalar()
        if source == chat_id:
            view.moved_to.append(Neighbour("successor", target, target, node_href(target), 1))
        elif target == f"chat:{chat_id}":
            node = f"chat:{source}"
            view.moved_from.append(Neighbour("successor", node, node, node_href(node), 1))


def _entity_appearances(
    conn: Connection, view: NodeView, version: str | None, kinds: tuple[str, ...], value: str,
    prefix: bool = False,
) -> None:  # fmt: skip
    cond = "e.value >= :v AND e.value < :hi" if prefix else "e.value = :v"
    params: dict[str, Any] = {"v": value, "hi": value + "\uffff", "ver": version}
    marks = ", ".join(f":k{i}" for i in range(len(kinds)))
    params.update({f"k{i}": k for i, k in enumerate(kinds)})
    rows = conn.execute(
        text(
            "SELECT DISTINCT m.chat_id, c.title, m.id, m.message_id, m.date_unix, e.source "  # noqa: S608 - placeholders only
            "FROM text_entities e JOIN messages m ON m.id = e.message_pk "
            f"JOIN chats c ON c.id = m.chat_id WHERE e.kind IN ({marks}) AND {cond} "
            "AND e.version = :ver ORDER BY m.date_unix, m.id LIMIT :lim"
        ),
        {**params, "lim": APPEARANCES},
    )
    for cid, title, pk, mid, at, source in rows:
        view.appearances.append(Appearance(cid, title, pk, mid, at, source or "text"))


def node_view(app: App, node: str) -> NodeView:
    node = node.strip()[:300]
    kind, sep, value = node.partition(":")
    if not sep or not value:
        raise UsageError(
            t_("{node!r} is not a node of the map (ids look like chat:12).", node=node[:80])
        )
    view = NodeView(node, kind, value)
    with app.db.connect() as conn:
        version = _version(app)
        if kind == "chat" and value.isdigit() and len(value) < 19:
            _chat(app, conn, view, int(value))
        elif kind == "bot":
            view.label = f"@{value}"
            _entity_appearances(conn, view, version, ("tg_bot",), value.lower())
            sent = conn.execute(
                text(
                    "SELECT m.chat_id, c.title, m.id, m.message_id, m.date_unix FROM messages m "
                    "JOIN chats c ON c.id = m.chat_id WHERE m.sender_account_id IN (SELECT id "
                    "FROM accounts WHERE lower(username) = :u) ORDER BY m.date_unix LIMIT :lim"
                ),
                {"u": value.lower(), "lim": APPEARANCES},
            )
            view.appearances += [_appearance(r, "sent_by") for r in sent]
        elif kind == "tg":
            view.type, view.label = "username", f"@{value}"
            _entity_appearances(conn, view, version, ("tg_username",), value.lower())
            _entity_appearances(conn, view, version, ("tg_message",), value.lower() + "/", True)
        elif kind == "invite":
            view.label = f"t.me/{value}"
            _entity_appearances(conn, view, version, ("tg_invite", "tg_folder"), value)
        elif kind == "tgc" and value.isdigit():
            view.type, view.label = "private_chat", f"t.me/c/{value}"
            _entity_appearances(conn, view, version, ("tg_private_message",), f"c/{value}/", True)
        elif kind in IDENTIFIERS:
            _entity_appearances(conn, view, version, (kind,), value)
        elif kind == "account" and value.isdigit() and len(value) < 19:
            _account(conn, view, int(value))
        elif kind == "name":
            _forwards_from(conn, view, value)
        elif kind == "media":
            _media(app, view, value)
        else:
            raise UsageError(
                t_("{node!r} is not a node of the map (ids look like chat:12).", node=node[:80])
            )
    if kind != "chat":
        for (pk, written), target in successor_links(app).items():
            if target == node:
                view.moved_from.append(
                    Neighbour("successor", f"message:{pk}", written, f"/messages/{pk}", 1)
                )
    view.appearances.sort(key=lambda a: (a.date_unix is None, a.date_unix or 0, a.message_pk))
    return view


def _appearance(r: Any, how: str) -> Appearance:
    return Appearance(r.chat_id, r.title, r.id, r.message_id, r.date_unix, how)


def _account(conn: Connection, view: NodeView, account_id: int) -> None:
    row = conn.execute(
        text("SELECT display_name, username FROM accounts WHERE id = :a"), {"a": account_id}
    ).first()
    if row is None:
        raise NotFound(t_("There is no such account."))
    view.label = row.display_name or (f"@{row.username}" if row.username else f"#{account_id}")
    for cid, title, n in conn.execute(
        text(
            "SELECT m.chat_id, c.title, count(*) AS n FROM messages m JOIN chats c "
            "ON c.id = m.chat_id WHERE m.sender_account_id = :a GROUP BY m.chat_id, c.title "
            "ORDER BY n DESC LIMIT :lim"
        ),
        {"a": account_id, "lim": NEIGHBOURS},
    ):
        node = f"chat:{cid}"
        view.neighbours.append(Neighbour("posted_in", node, title or node, node_href(node), n))


def _forwards_from(conn: Connection, view: NodeView, name: str) -> None:
    rows = conn.execute(
        text(
            "SELECT m.chat_id, c.title, m.id, m.message_id, m.date_unix FROM messages m "
            "JOIN chats c ON c.id = m.chat_id WHERE lower(trim(m.forwarded_from)) = :n "
            "ORDER BY m.date_unix LIMIT :lim"
        ),
        {"n": name.strip().lower(), "lim": APPEARANCES},
    )
    view.appearances += [_appearance(r, "forward") for r in rows]
    if view.appearances:
        view.label = name


def _media(app: App, view: NodeView, prefix: str) -> None:
    from haechi.graph.spread import media_spread

    spread = media_spread(app, prefix)
    view.label = spread.subject
    view.facts = {"files": len(spread.detail.get("files", []))}
    for a in spread.appearances[:APPEARANCES]:
        view.appearances.append(
            Appearance(a.chat_id, a.chat, a.message_pk, a.message_id, a.at, a.how)
        )
