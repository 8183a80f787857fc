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

from haechi.domain import ChatRecord, MediaStatus
from haechi.run.ingest_batch import (
    CHAT,
    MESSAGE_COLUMNS,
    RAW,
    SENDER,
    VIA,
    Prepared,
    account_row,
)
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
    def _resolve_accounts(self, conn: Connection, prepared: Prepared) -> None:
        wanted = {
            key: account_row(key, *spec)
            for key, spec in prepared.accounts.items()
            if key not in self.account_ids
        }
        if wanted:
            self.db.insert_ignore(conn, Account, list(wanted.values()))
            for part in _chunks(list(wanted)):
                for pk, key in conn.execute(
                    select(Account.id, Account.key).where(Account.key.in_(part))
                ):
                    self.account_ids[key] = pk
        new_names = []
        for key, name in prepared.names.items():
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
        prepared: Prepared,
        sha_for_path: Callable[[str], str | None],
    ) -> tuple[int, int]:
        """Insert new messages, keep changed ones as versions, link media. Returns counts."""
        self._resolve_accounts(conn, prepared)
        ids, source = self.account_ids, self.source_id
        by_chat: dict[int, dict[int, tuple[Any, ...]]] = {}
        for row in prepared.rows:  # the first copy of a (chat, message id) wins
            by_chat.setdefault(self.chat_ids[row[CHAT]], {}).setdefault(row[1], row)
        rows: list[tuple[Any, ...]] = []
        versions: list[dict[str, Any]] = []
        for chat_id, msgs in by_chat.items():
            existing = {} if chat_id in self.fresh_chats else self._existing(conn, chat_id, msgs)
            for mid, r in msgs.items():
                old = existing.get(mid)
                if old is None:
                    sender, via = r[SENDER], r[VIA]
                    rows.append(
                        (chat_id, mid, source, *r[3:SENDER], ids[sender] if sender else None,
                         *r[SENDER + 1 : VIA], ids[via] if via else None, *r[VIA + 1 :])
                    )  # fmt: skip
                elif old[1] != r[RAW]:
                    versions.append(
                        {
                            "message_pk": old[0],
                            "source_id": source,
                            "raw": r[RAW],
                            "raw_sha256": hashlib.sha256(
                                r[RAW].encode("utf-8", "surrogatepass")
                            ).hexdigest(),
                            "raw_offset": r[RAW + 1],
                        }
                    )
        self.db.insert_tuples_ignore(conn, "messages", MESSAGE_COLUMNS, rows)
        self.db.insert_ignore(conn, MessageVersion, versions)
        self._write_media(conn, prepared, sha_for_path)
        return len(rows), len(versions)

    def _existing(
        self, conn: Connection, chat_id: int, msgs: dict[int, Any]
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

    def _write_media(
        self,
        conn: Connection,
        prepared: Prepared,
        sha_for_path: Callable[[str], str | None],
    ) -> None:
        if not prepared.files:
            return
        wanted: dict[int, set[int]] = {}
        for chat_key, mid, _ref in prepared.files:
            wanted.setdefault(self.chat_ids[chat_key], set()).add(mid)
        pks: dict[tuple[int, int], int] = {}
        for chat_id, mids in wanted.items():
            for part in _chunks(sorted(mids)):
                for pk, mid in conn.execute(
                    select(Message.id, Message.message_id).where(
                        Message.chat_id == chat_id, Message.message_id.in_(part)
                    )
                ):
                    pks[(chat_id, mid)] = pk
        rows: list[dict[str, Any]] = []
        for chat_key, mid, ref in prepared.files:
            present = ref.status is MediaStatus.PRESENT and ref.export_path is not None
            sha = sha_for_path(ref.export_path) if present and ref.export_path else None
            rows.append(
                {
                    "message_pk": pks[(self.chat_ids[chat_key], mid)],
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
