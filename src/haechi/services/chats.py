"""Chats and their message timelines.

A timeline is in Telegram's own order (``message_id`` within a chat, which Telegram assigns
in time order), read through the ``(chat_id, message_id)`` unique index with keyset paging:
page 10,000 costs what page 1 costs.
"""

from __future__ import annotations

import time
import weakref
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, text

from haechi.app import App
from haechi.auth.errors import NotFound
from haechi.i18n import t_
from haechi.services import media as media_service
from haechi.services.media import MediaItem

MAX_PAGE = 200


@dataclass(frozen=True)
class ChatSummary:
    id: int
    title: str | None
    peer_kind: str
    dialog_type: str | None
    username: str | None
    tg_id: int | None
    messages: int
    media: int
    first_unix: int | None
    last_unix: int | None


@dataclass(frozen=True)
class TimelineMessage:
    pk: int
    message_id: int
    kind: str
    date_unix: int | None
    sender_name: str | None
    sender_account_id: int | None
    text: str
    forwarded_from: str | None
    reply_to_message_id: int | None
    action: str | None
    media: list[MediaItem]


@dataclass(frozen=True)
class Timeline:
    chat: ChatSummary
    messages: list[TimelineMessage]
    older: int | None  # message_id to page back from
    newer: int | None


_CHAT_COLS = (
    "c.id, c.title, c.peer_kind, c.dialog_type, c.username, c.tg_id, "
    "coalesce(s.messages, 0) AS messages, coalesce(s.media, 0) AS media, "
    "s.first_unix, s.last_unix"
)


def _summary(r: object) -> ChatSummary:
    return ChatSummary(**{k: getattr(r, k) for k in ChatSummary.__dataclass_fields__})


def list_chats(app: App, *, q: str | None = None, limit: int = 500) -> list[ChatSummary]:
    """Chats, most recently active first (counts from the table the ingest hook keeps)."""
    params: dict[str, object] = {"limit": max(1, min(limit, 2000))}
    where = ""
    if q and q.strip():
        where = (
            "WHERE lower(coalesce(c.title, '')) LIKE :q OR lower(coalesce(c.username, '')) LIKE :q"
        )
        params["q"] = "%" + q.strip().lower()[:100] + "%"
    sql = (
        f"SELECT {_CHAT_COLS} FROM chats c LEFT JOIN web_chat_stats s ON s.chat_id = c.id "  # noqa: S608 - placeholders and our own names only
        f"{where} ORDER BY coalesce(s.last_unix, 0) DESC, c.id LIMIT :limit"
    )
    with app.db.connect() as conn:
        return [_summary(r) for r in conn.execute(text(sql), params)]


CHOICES_TTL = 30.0  # seconds a search page's chat filter list is reused
_choices: weakref.WeakKeyDictionary[Engine, tuple[float, list[ChatSummary]]] = (
    weakref.WeakKeyDictionary()
)


def chat_choices(app: App) -> list[ChatSummary]:
    """The chats the search page offers as a filter: ``list_chats``, reused for
    ``CHOICES_TTL`` seconds. Every search page shows it and it changes only after an ingest
    (which may run in another process), so a short reuse is both cheap and correct enough:
    a chat that has just arrived appears in the list within half a minute."""
    now = time.monotonic()
    cached = _choices.get(app.db.engine)
    if cached is not None and now - cached[0] < CHOICES_TTL:
        return cached[1]
    found = list_chats(app, limit=500)
    _choices[app.db.engine] = (now, found)
    return found


def get_chat(app: App, chat_id: int, conn: Connection | None = None) -> ChatSummary:
    sql = (
        f"SELECT {_CHAT_COLS} FROM chats c LEFT JOIN web_chat_stats s ON s.chat_id = c.id "  # noqa: S608 - placeholders and our own names only
        "WHERE c.id = :id"
    )
    if conn is None:
        with app.db.connect() as own:
            row = own.execute(text(sql), {"id": chat_id}).first()
    else:
        row = conn.execute(text(sql), {"id": chat_id}).first()
    if row is None:
        raise NotFound(t_("There is no such chat."))
    return _summary(row)


_MSG_COLS = (
    "id, message_id, kind, date_unix, sender_name, sender_account_id, text, forwarded_from, "
    "reply_to_message_id, action"
)


def timeline(
    app: App,
    chat_id: int,
    *,
    before: int | None = None,
    after: int | None = None,
    from_date: int | None = None,
    limit: int = 50,
) -> Timeline:
    """One page of a chat, oldest first on the page. Without arguments: the newest page;
    ``before``/``after`` page by message id; ``from_date`` jumps to a day."""
    limit = max(1, min(limit, MAX_PAGE))
    params: dict[str, object] = {"chat": chat_id, "limit": limit + 1}
    with app.db.connect() as conn:  # one connection for the chat, its page and the files
        chat = get_chat(app, chat_id, conn)
        if from_date is not None:
            start = conn.execute(
                text(
                    "SELECT message_id FROM messages WHERE chat_id = :chat AND date_unix >= :d "
                    "ORDER BY date_unix, id LIMIT 1"
                ),
                {"chat": chat_id, "d": from_date},
            ).scalar()
            after = None if start is None else int(start) - 1
            if start is None:
                before = None
        if after is not None:
            params["after"] = after
            sql = (
                f"SELECT {_MSG_COLS} FROM messages WHERE chat_id = :chat AND message_id > :after "  # noqa: S608 - placeholders and our own names only
                "ORDER BY message_id LIMIT :limit"
            )
            rows = list(conn.execute(text(sql), params))
            more_newer = len(rows) > limit
            rows = rows[:limit]
            more_older = bool(rows) and _exists(conn, chat_id, "<", rows[0].message_id)
        else:
            cond = ""
            if before is not None:
                params["before"] = before
                cond = " AND message_id < :before"
            sql = (
                f"SELECT {_MSG_COLS} FROM messages WHERE chat_id = :chat{cond} "  # noqa: S608 - placeholders and our own names only
                "ORDER BY message_id DESC LIMIT :limit"
            )
            rows = list(conn.execute(text(sql), params))
            more_older = len(rows) > limit
            rows = list(reversed(rows[:limit]))
            more_newer = bool(rows) and _exists(conn, chat_id, ">", rows[-1].message_id)
        media = media_service.media_in(app, conn, [r.id for r in rows])
    messages = [
        TimelineMessage(
            pk=r.id,
            message_id=r.message_id,
            kind=r.kind,
            date_unix=r.date_unix,
            sender_name=r.sender_name,
            sender_account_id=r.sender_account_id,
            text=r.text or "",
            forwarded_from=r.forwarded_from,
            reply_to_message_id=r.reply_to_message_id,
            action=r.action,
            media=media.get(r.id, []),
        )
        for r in rows
    ]
    older = messages[0].message_id if messages and more_older else None
    newer = messages[-1].message_id if messages and more_newer else None
    return Timeline(chat, messages, older, newer)


def _exists(conn: object, chat_id: int, op: str, message_id: int) -> bool:
    assert op in ("<", ">")
    # The ORDER BY makes it a walk of the (chat, message id) index on every back end:
    # without it PostgreSQL estimated thousands of matches and scanned the whole table
    # for the first one (33 ms at 200k messages, seconds at 10M).
    order = "DESC" if op == "<" else "ASC"
    row = conn.execute(  # type: ignore[attr-defined]
        text(
            f"SELECT message_id FROM messages WHERE chat_id = :chat AND message_id {op} :mid "  # noqa: S608 - placeholders and our own names only
            f"ORDER BY message_id {order} LIMIT 1"
        ),
        {"chat": chat_id, "mid": message_id},
    ).first()
    return row is not None
