"""Turn a batch of parsed messages into database rows, without touching the database.

Kept free of database state so it can run in the reader process beside the parser (see
:mod:`haechi.run.ingest_reader`): rows name chats and accounts by *key*; the writer in the
main process swaps keys for ids and inserts. One code path whether or not a second process
is used.

For PostgreSQL (``copy``: the staging columns' type oids) the rows are encoded here, in
the reader, as the body of a binary ``COPY`` (:mod:`haechi.run.ingest_pg`): one bytes
object crosses the pipe instead of ten thousand tuples (pickling them and unpickling them
cost more CPU than PostgreSQL's whole ``COPY``), and the writer does not encode them
either. Chats and accounts are given there as their 1-based place in
:attr:`Prepared.chats` / :attr:`Prepared.accounts`; the server swaps places for ids when
it moves the rows from staging.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from haechi.domain import ChatRecord, FileRef, MessageRecord, PeerKind, PeerRef
from haechi.store.textsafe import dumps

if TYPE_CHECKING:
    from haechi.store.pgbinary import BinaryRows

MESSAGE_COLUMNS = (
    "chat_id", "message_id", "source_id", "kind", "date_unix", "date_raw", "edited_unix",
    "edited_raw", "sender_account_id", "sender_raw", "sender_name", "author",
    "forwarded_from", "saved_from", "reply_to_message_id", "reply_to_peer", "via_bot",
    "via_bot_account_id", "text", "entities_json", "action", "media_type", "raw",
    "raw_offset", "repaired_escapes", "unknown_keys",
)  # fmt: skip
# Positions in a prepared row that hold keys until the writer puts ids there.
CHAT, SOURCE, SENDER, VIA, RAW = 0, 2, 8, 17, 22
# The columns of an encoded (COPY) row: the message's, without source_id (one value for the
# whole ingest, given by the writer); chat_id, sender_account_id and via_bot_account_id
# hold places in the batch's chats and accounts.
STAGE_COLUMNS = tuple(c for c in MESSAGE_COLUMNS if c != "source_id")


@dataclass
class Prepared:
    """One batch of messages as rows. ``rows[i]`` holds the chat key at CHAT, None at
    SOURCE, and account keys (or None) at SENDER and VIA."""

    chats: dict[str, ChatRecord] = field(default_factory=dict)
    rows: list[tuple[Any, ...]] = field(default_factory=list)
    accounts: dict[str, tuple[str, int | None, str | None]] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # account key -> latest name seen
    files: list[tuple[str, int, FileRef]] = field(default_factory=list)  # chat key, msg id
    # copy: the rows as binary COPY rows in STAGE_COLUMNS (``rows`` stays empty), one
    # per (chat, message id), the first copy of a message winning as in the writer.
    encoded: bytes | None = None
    count: int = 0  # messages read, duplicates included

    def __len__(self) -> int:
        return self.count


def _dumps(value: Any) -> str | None:
    # textsafe: orjson refuses lone surrogates and integers beyond 64 bits, which a
    # hostile export can hold; such a value must not stop the ingest.
    return dumps(value) if value else None


@cache
def _encoder(oids: tuple[int, ...]) -> BinaryRows:
    from haechi.store.pgbinary import BinaryRows  # psycopg alone: only the PostgreSQL path

    return BinaryRows(oids)


def prepare(
    batch: Sequence[tuple[ChatRecord, MessageRecord]], copy: tuple[int, ...] | None = None
) -> Prepared:
    """``copy``: the type oids of :data:`STAGE_COLUMNS` (PostgreSQL): the rows are encoded
    for COPY; None (SQLite): plain tuples in MESSAGE_COLUMNS."""
    out = Prepared(count=len(batch))
    chats, rows, accounts, names, files = out.chats, out.rows, out.accounts, out.names, out.files
    # copy: each row is built once, straight in STAGE_COLUMNS with chats and accounts
    # as their 1-based place (the order of ``chats`` / ``accounts``), and the first copy of
    # a (chat, message id) kept; building the tuple row first and re-shaping it for COPY
    # was about a tenth of the reader's profile samples.
    chat_at: dict[str, int] = {}
    account_at: dict[str, int] = {}
    seen: set[tuple[str, int]] = set()
    for chat, m in batch:
        chat_key = chat.key
        if chat_key not in chats:
            chats[chat_key] = chat
            chat_at[chat_key] = len(chats)
        sender = m.sender
        sender_key = None
        if sender is not None and sender.id is not None:
            sender_key = f"{sender.kind.value}:{sender.id}"
            if sender_key not in accounts:
                accounts[sender_key] = (sender.kind.value, sender.id, None)
                account_at[sender_key] = len(accounts)
            if m.sender_name:
                names[sender_key] = m.sender_name
        via = m.via_bot
        via_key = None
        if via:
            username = via.lstrip("@")
            via_key = f"username:{username.lower()}"
            if via_key not in accounts:
                accounts[via_key] = (PeerKind.USER.value, None, username)
                account_at[via_key] = len(accounts)
        for ref in m.files:
            files.append((chat_key, m.message_id, ref))
        if copy is None:
            rows.append(
                (
                    chat_key, m.message_id, None, m.kind, m.date_unix, m.date_raw, m.edited_unix,
                    m.edited_raw, sender_key, sender.raw if sender is not None else None,
                    m.sender_name, m.author, m.forwarded_from, m.saved_from,
                    m.reply_to_message_id, m.reply_to_peer, via, via_key, m.text,
                    _dumps(m.entities), m.action, m.media_type, m.raw, m.raw_offset,
                    m.repaired_escapes, _dumps(list(m.unknown_keys)),
                )
            )  # fmt: skip
            continue
        key = (chat_key, m.message_id)
        if key in seen:  # the first copy of a (chat, message id) wins, as in the writer
            continue
        seen.add(key)
        rows.append(
            (
                chat_at[chat_key], m.message_id, m.kind, m.date_unix, m.date_raw,
                m.edited_unix, m.edited_raw, account_at[sender_key] if sender_key else None,
                sender.raw if sender is not None else None, m.sender_name, m.author,
                m.forwarded_from, m.saved_from, m.reply_to_message_id, m.reply_to_peer, via,
                account_at[via_key] if via_key else None, m.text, _dumps(m.entities),
                m.action, m.media_type, m.raw, m.raw_offset, m.repaired_escapes,
                _dumps(list(m.unknown_keys)),
            )
        )  # fmt: skip
    if copy is not None:
        out.encoded = _encoder(copy).encode(rows)
        out.rows = []
    return out


def account_row(key: str, kind: str, tg_id: int | None, username: str | None) -> dict[str, Any]:
    return {
        "key": key,
        "peer_kind": kind,
        "tg_id": tg_id,
        "username": username,
        "is_bot": username is not None,  # only inline bots are known by username here
        "display_name": None,
    }


__all__ = ["MESSAGE_COLUMNS", "STAGE_COLUMNS", "PeerRef", "Prepared", "account_row", "prepare"]
