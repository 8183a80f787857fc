"""The database side of an ingest: chats, accounts, messages, media and capture rows.

Kept apart from the orchestration in ``ingest.py`` so each stays small. Rows are written
in bulk with INSERT ... ON CONFLICT DO NOTHING, which makes every write idempotent: a
rerun after a crash, or the same export ingested twice, adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import orjson
from sqlalchemy import Connection, insert, select, update

from haechi.domain import ChatRecord, MediaStatus, MessageRecord, PeerKind, PeerRef
from haechi.store.custody import utc_now
from haechi.store.db import Database
from haechi.store.models import (
    Account,
    AccountName,
    Blob,
    Chat,
    ChatSighting,
    Media,
    Message,
    MessageVersion,
    SourceFile,
)
from haechi.store.vault import StoredObject

_IN_CHUNK = 900  # stay well under every driver's bound-parameter limit


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _json(value: Any) -> str | None:
    return orjson.dumps(value).decode() if value else None


class IngestWriter:
    """Writes one source's records; caches ids so each batch costs few queries."""

    def __init__(self, db: Database, source_id: int, *, fresh: bool) -> None:
        self.db = db
        self.source_id = source_id
        self.fresh = fresh  # a new source: nothing of it is stored yet
        self.chat_ids: dict[str, int] = {}
        self.fresh_chats: set[int] = set()  # created by this run: no stored messages to check
        self.account_ids: dict[str, int] = {}
        self.account_names: set[tuple[int, str]] = set()

    # -- chats ----------------------------------------------------------------------------
    def ensure_chat(self, conn: Connection, chat: ChatRecord) -> bool:
        """Create the chat if new; record that this source showed it. True when created."""
        row = conn.execute(select(Chat.id, Chat.title).where(Chat.key == chat.key)).first()
        created = row is None
        if row is None:
            chat_id = conn.execute(
                insert(Chat)
                .values(
                    key=chat.key,
                    peer_kind=chat.peer.kind.value,
                    tg_id=chat.peer.id,
                    tg_id_raw=chat.peer.raw,
                    dialog_type=chat.dialog_type,
                    title=chat.title,
                    username=chat.username,
                    first_source_id=self.source_id,
                    extra_json=_json(chat.extra),
                )
                .returning(Chat.id)
            ).scalar_one()
            self.fresh_chats.add(chat_id)
        else:
            chat_id = row[0]
            if chat.title is not None and chat.title != row[1]:
                conn.execute(update(Chat).where(Chat.id == chat_id).values(title=chat.title))
        self.db.insert_ignore(
            conn,
            ChatSighting,
            [
                {
                    "chat_id": chat_id,
                    "source_id": self.source_id,
                    "location": chat.location,
                    "title": chat.title,
                }
            ],
        )
        self.chat_ids[chat.key] = chat_id
        return created

    # -- accounts -------------------------------------------------------------------------
    def _resolve_accounts(
        self, conn: Connection, batch: Sequence[tuple[ChatRecord, MessageRecord]]
    ) -> None:
        wanted: dict[str, dict[str, Any]] = {}
        names: dict[str, str] = {}
        for _chat, msg in batch:
            peer = msg.sender
            if peer is not None and peer.id is not None:
                key = f"{peer.kind.value}:{peer.id}"
                if key not in self.account_ids and key not in wanted:
                    wanted[key] = _account_row(key, peer, None)
                if msg.sender_name:
                    names[key] = msg.sender_name
            if msg.via_bot:
                username = msg.via_bot.lstrip("@")
                key = f"username:{username.lower()}"
                if key not in self.account_ids and key not in wanted:
                    wanted[key] = _account_row(key, PeerRef(PeerKind.USER, None), username)
        if wanted:
            self.db.insert_ignore(conn, Account, list(wanted.values()))
            keys = list(wanted)
            for part in _chunks(keys):
                for pk, key in conn.execute(
                    select(Account.id, Account.key).where(Account.key.in_(part))
                ):
                    self.account_ids[key] = pk
        new_names = []
        for key, name in names.items():
            pair = (self.account_ids[key], name)
            if pair not in self.account_names:
                self.account_names.add(pair)
                new_names.append(
                    {"account_id": pair[0], "name": name, "first_source_id": self.source_id}
                )
        if new_names:
            self.db.insert_ignore(conn, AccountName, new_names)
            for row in new_names:  # the latest name seen is the display name
                conn.execute(
                    update(Account)
                    .where(Account.id == row["account_id"])
                    .values(display_name=row["name"])
                )

    # -- messages -------------------------------------------------------------------------
    def write_messages(
        self,
        conn: Connection,
        batch: Sequence[tuple[ChatRecord, MessageRecord]],
        sha_for_path: Callable[[str], str | None],
    ) -> tuple[int, int]:
        """Insert new messages, keep changed ones as versions, link media. Returns counts."""
        self._resolve_accounts(conn, batch)
        by_chat: dict[int, dict[int, MessageRecord]] = {}
        for chat, msg in batch:
            by_chat.setdefault(self.chat_ids[chat.key], {}).setdefault(msg.message_id, msg)
        rows: list[dict[str, Any]] = []
        versions: list[dict[str, Any]] = []
        for chat_id, msgs in by_chat.items():
            existing = {} if chat_id in self.fresh_chats else self._existing(conn, chat_id, msgs)
            for mid, msg in msgs.items():
                old = existing.get(mid)
                if old is None:
                    rows.append(self._message_row(chat_id, msg))
                elif old[1] != msg.raw:
                    versions.append(
                        {
                            "message_pk": old[0],
                            "source_id": self.source_id,
                            "raw": msg.raw,
                            "raw_sha256": hashlib.sha256(
                                msg.raw.encode("utf-8", "surrogatepass")
                            ).hexdigest(),
                            "raw_offset": msg.raw_offset,
                        }
                    )
        self.db.insert_ignore(conn, Message, rows)
        self.db.insert_ignore(conn, MessageVersion, versions)
        self._write_media(conn, by_chat, sha_for_path)
        return len(rows), len(versions)

    def _existing(
        self, conn: Connection, chat_id: int, msgs: dict[int, MessageRecord]
    ) -> dict[int, tuple[int, str]]:
        found: dict[int, tuple[int, str]] = {}
        for part in _chunks(list(msgs)):
            for pk, mid, raw in conn.execute(
                select(Message.id, Message.message_id, Message.raw).where(
                    Message.chat_id == chat_id, Message.message_id.in_(part)
                )
            ):
                found[mid] = (pk, raw)
        return found

    def _message_row(self, chat_id: int, m: MessageRecord) -> dict[str, Any]:
        sender = m.sender
        sender_key = (
            f"{sender.kind.value}:{sender.id}"
            if sender is not None and sender.id is not None
            else None
        )
        via_key = f"username:{m.via_bot.lstrip('@').lower()}" if m.via_bot else None
        return {
            "chat_id": chat_id,
            "message_id": m.message_id,
            "source_id": self.source_id,
            "kind": m.kind,
            "date_unix": m.date_unix,
            "date_raw": m.date_raw,
            "edited_unix": m.edited_unix,
            "edited_raw": m.edited_raw,
            "sender_account_id": self.account_ids.get(sender_key) if sender_key else None,
            "sender_raw": sender.raw if sender is not None else None,
            "sender_name": m.sender_name,
            "author": m.author,
            "forwarded_from": m.forwarded_from,
            "saved_from": m.saved_from,
            "reply_to_message_id": m.reply_to_message_id,
            "reply_to_peer": m.reply_to_peer,
            "via_bot": m.via_bot,
            "via_bot_account_id": self.account_ids.get(via_key) if via_key else None,
            "text": m.text,
            "entities_json": _json(m.entities),
            "action": m.action,
            "media_type": m.media_type,
            "raw": m.raw,
            "raw_offset": m.raw_offset,
            "repaired_escapes": m.repaired_escapes,
            "unknown_keys": _json(list(m.unknown_keys)),
        }

    def _write_media(
        self,
        conn: Connection,
        by_chat: dict[int, dict[int, MessageRecord]],
        sha_for_path: Callable[[str], str | None],
    ) -> None:
        rows: list[dict[str, Any]] = []
        for chat_id, msgs in by_chat.items():
            with_files = [mid for mid, m in msgs.items() if m.files]
            if not with_files:
                continue
            pks: dict[int, int] = {}
            for part in _chunks(with_files):
                for pk, mid in conn.execute(
                    select(Message.id, Message.message_id).where(
                        Message.chat_id == chat_id, Message.message_id.in_(part)
                    )
                ):
                    pks[mid] = pk
            for mid in with_files:
                for ref in msgs[mid].files:
                    present = ref.status is MediaStatus.PRESENT and ref.export_path is not None
                    sha = sha_for_path(ref.export_path) if present and ref.export_path else None
                    rows.append(
                        {
                            "message_pk": pks[mid],
                            "source_id": self.source_id,
                            "role": ref.role,
                            "export_path": ref.export_path,
                            # a present file we could not read is recorded as such
                            "status": ref.status.value if (sha or not present) else "unreadable",
                            "blob_sha256": sha,
                            "media_type": ref.media_type,
                            "mime_type": ref.mime_type,
                            "file_name": ref.file_name,
                            "declared_size": ref.declared_size,
                            "width": ref.width,
                            "height": ref.height,
                            "duration_seconds": ref.duration_seconds,
                        }
                    )
        self.db.insert_ignore(conn, Media, rows)

    # -- captures -------------------------------------------------------------------------
    def captured_paths(self, conn: Connection, paths: Sequence[str]) -> set[str]:
        """Which of ``paths`` this source already captured (a rerun after a crash)."""
        if self.fresh or not paths:
            return set()
        found: set[str] = set()
        for part in _chunks(list(paths)):
            found.update(
                conn.execute(
                    select(SourceFile.path).where(
                        SourceFile.source_id == self.source_id, SourceFile.path.in_(part)
                    )
                ).scalars()
            )
        return found

    def add_capture(
        self, conn: Connection, path: str, role: str, stored: StoredObject, encrypted: bool
    ) -> None:
        now = utc_now()
        self.db.insert_ignore(
            conn,
            Blob,
            [
                {
                    "sha256": stored.sha256,
                    "md5": stored.md5,
                    "size": stored.size,
                    "encrypted": encrypted,
                    "stored_at": now,
                }
            ],
        )
        self.db.insert_ignore(
            conn,
            SourceFile,
            [
                {
                    "source_id": self.source_id,
                    "path": path,
                    "role": role,
                    "status": MediaStatus.PRESENT.value,
                    "blob_sha256": stored.sha256,
                    "size": stored.size,
                    "captured_at": now,
                }
            ],
        )


def _account_row(key: str, peer: PeerRef, username: str | None) -> dict[str, Any]:
    return {
        "key": key,
        "peer_kind": peer.kind.value,
        "tg_id": peer.id,
        "username": username,
        "is_bot": username is not None,  # only inline bots are known by username here
        "display_name": None,
    }
