"""The database side of an ingest: chats, accounts, messages, media and capture rows.

Kept apart from the orchestration in ``ingest.py`` so each stays small. Rows are written
in bulk with INSERT ... ON CONFLICT DO NOTHING, which makes every write idempotent: a
rerun after a crash, or the same export ingested twice, adds nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import Connection, and_, bindparam, insert, select, update

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
from haechi.run.ingest_pg import write_encoded
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
from haechi.store.textsafe import dumps, raw_bytes
from haechi.store.vault import StoredObject

_IN_CHUNK = 900  # stay well under every driver's bound-parameter limit
_NOT_STORED = ("unreadable", "over_vault_limit")  # media a rerun may still capture
MediaState = Callable[[str], tuple[str | None, str]]  # export path -> (sha256, status)


def raw_sha256(raw: str) -> str:
    """SHA-256 of the source's own bytes of a stored raw JSON text (escaped form undone)."""
    return hashlib.sha256(raw_bytes(raw)).hexdigest()


def _chunks(items: Sequence[Any], size: int = _IN_CHUNK) -> Iterable[Sequence[Any]]:
    for i in range(0, len(items), size):
        yield items[i : i + size]


def _json(value: Any) -> str | None:
    return dumps(value) if value else None


class IngestWriter:
    """Writes one source's records; caches ids so each batch costs few queries."""

    def __init__(
        self, db: Database, source_id: int, *, fresh: bool, fill_utc: bool = False
    ) -> None:
        self.db = db
        self.source_id = source_id
        self.fresh = fresh  # a new source: nothing of it is stored yet
        self.fill_utc = fill_utc  # a rerun with a time zone: fill this source's empty UTC
        self.utc_filled = 0
        self._retry: set[str] | None = None  # paths an earlier run could not store
        self.chat_ids: dict[str, int] = {}
        self.fresh_chats: set[int] = set()  # created by this run: no stored messages to check
        self.account_ids: dict[str, int] = {}
        self.account_names: set[tuple[int, str]] = set()

    # -- chats ----------------------------------------------------------------------------
    def ensure_chat(self, conn: Connection, chat: ChatRecord) -> bool:
        """Create the chat if new; record that this source showed it. True when created."""
        row = conn.execute(select(Chat.id, Chat.title).where(Chat.key == chat.key)).first()
        if row is None and chat.peer.id is None and not self.fresh:
            # A chat without an id, from a source seen before: the chat that source showed
            # at this place, whatever key an older haechi gave it.
            row = conn.execute(
                select(Chat.id, Chat.title)
                .join(ChatSighting, ChatSighting.chat_id == Chat.id)
                .where(
                    ChatSighting.source_id == self.source_id,
                    ChatSighting.location == chat.location,
                    Chat.tg_id.is_(None),
                )
            ).first()
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

    def ensure_chats(self, conn: Connection, prepared: Prepared) -> None:
        """The batch's chats not announced before it (a collector that skipped announcing)."""
        for key, chat in prepared.chats.items():
            if key not in self.chat_ids:
                self.ensure_chat(conn, chat)

    # -- accounts -------------------------------------------------------------------------
    def resolve_accounts(self, conn: Connection, prepared: Prepared) -> None:
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
        media_state: MediaState,
    ) -> tuple[int, int]:
        """Insert new messages, keep changed ones as versions, link media. Returns counts."""
        self.resolve_accounts(conn, prepared)
        return self.write_rows(conn, prepared, media_state)

    def write_rows(
        self, conn: Connection, prepared: Prepared, media_state: MediaState
    ) -> tuple[int, int]:
        """:meth:`write_messages` once the batch's accounts are resolved: reads this
        writer's caches only, so batch writer threads may call it side by side."""
        if prepared.encoded is not None:  # PostgreSQL: encoded by the reader
            return self._write_encoded(conn, prepared, media_state)
        ids, source = self.account_ids, self.source_id
        by_chat: dict[int, dict[int, tuple[Any, ...]]] = {}
        for row in prepared.rows:  # the first copy of a (chat, message id) wins
            by_chat.setdefault(self.chat_ids[row[CHAT]], {}).setdefault(row[1], row)
        rows: list[tuple[Any, ...]] = []
        versions: list[dict[str, Any]] = []
        fills: list[dict[str, Any]] = []
        for chat_id, msgs in by_chat.items():
            existing = {} if chat_id in self.fresh_chats else self._existing(conn, chat_id, msgs)
            for mid, r in msgs.items():
                old = existing.get(mid)
                if old is not None and self.fill_utc and old[2] == source:
                    self._fill(old[0], old[3], old[4], r[4], r[6], fills)  # date, edited
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
                            "raw_sha256": raw_sha256(r[RAW]),
                            "raw_offset": r[RAW + 1],
                        }
                    )
        self.db.insert_tuples_ignore(conn, "messages", MESSAGE_COLUMNS, rows)
        self.db.insert_ignore(conn, MessageVersion, versions)
        self._apply_fills(conn, fills)
        self._write_media(conn, prepared, media_state)
        return len(rows), len(versions)

    def _write_encoded(
        self, conn: Connection, prepared: Prepared, media_state: MediaState
    ) -> tuple[int, int]:
        """The PostgreSQL path (:mod:`haechi.run.ingest_pg`): same rows, versions and
        fills as the tuple path above, the comparison with stored rows made in the
        database."""
        chat_ids = [self.chat_ids[key] for key in prepared.chats]
        older = [i for i, pk in enumerate(chat_ids, 1) if pk not in self.fresh_chats]
        added, stored = write_encoded(
            conn,
            prepared,
            self.source_id,
            chat_ids,
            [self.account_ids[key] for key in prepared.accounts],
            older,
            self.fill_utc,
        )
        versions: list[dict[str, Any]] = []
        fills: list[dict[str, Any]] = []
        seen: set[int] = set()
        for pk, raw, offset, changed, src, date, edited, new_date, new_edited in stored:
            if pk in seen:  # a message shown twice in the batch: the first copy decides
                continue
            seen.add(pk)
            if self.fill_utc and src == self.source_id:
                self._fill(pk, date, edited, new_date, new_edited, fills)
            if changed:
                versions.append(
                    {
                        "message_pk": pk,
                        "source_id": self.source_id,
                        "raw": raw,
                        "raw_sha256": raw_sha256(raw),
                        "raw_offset": offset,
                    }
                )
        self.db.insert_ignore(conn, MessageVersion, versions)
        self._apply_fills(conn, fills)
        self._write_media(conn, prepared, media_state)
        return added, len(versions)

    def _apply_fills(self, conn: Connection, fills: list[dict[str, Any]]) -> None:
        if fills:
            conn.execute(
                update(Message)
                .where(Message.id == bindparam("pk"))
                .values(date_unix=bindparam("d"), edited_unix=bindparam("e")),
                fills,
            )
            self.utc_filled += len(fills)

    def _fill(
        self,
        pk: int,
        date: int | None,
        edited: int | None,
        new_date: int | None,
        new_edited: int | None,
        out: list[dict[str, Any]],
    ) -> None:
        """UTC times this source left empty (no zone then) and its rerun derives: filled in,
        never changed once set. The raw JSON and the local times are untouched."""
        if (date is None and new_date is not None) or (edited is None and new_edited is not None):
            out.append(
                {
                    "pk": pk,
                    "d": date if date is not None else new_date,
                    "e": edited if edited is not None else new_edited,
                }
            )

    def _existing(
        self, conn: Connection, chat_id: int, msgs: dict[int, Any]
    ) -> dict[int, tuple[Any, ...]]:
        """(pk, raw, source id, date_unix, edited_unix) of the stored messages."""
        found: dict[int, tuple[Any, ...]] = {}
        cols = (Message.id, Message.message_id, Message.raw, Message.source_id)
        for part in _chunks(list(msgs)):
            for pk, mid, raw, src, date, edited in conn.execute(
                select(*cols, Message.date_unix, Message.edited_unix).where(
                    Message.chat_id == chat_id, Message.message_id.in_(part)
                )
            ):
                found[mid] = (pk, raw, src, date, edited)
        return found

    def _write_media(self, conn: Connection, prepared: Prepared, media_state: MediaState) -> None:
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
        older: set[int] = set()  # messages of chats seen before: another source's rows?
        for chat_key, mid, ref in prepared.files:
            chat_id = self.chat_ids[chat_key]
            if chat_id not in self.fresh_chats:
                older.add(pks[(chat_id, mid)])
            sha, status = None, ref.status.value
            if ref.status is MediaStatus.PRESENT and ref.export_path is not None:
                # a present file we could not store says why (unreadable, over the limit)
                sha, status = media_state(ref.export_path)
            rows.append(
                {
                    "message_pk": pks[(chat_id, mid)],
                    "source_id": self.source_id,
                    "role": ref.role,
                    "export_path": ref.export_path,
                    "status": status,
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
        rows = self._unseen_media(conn, rows, older)
        self.db.insert_ignore(conn, Media, rows)
        if not self.fresh:
            self._complete_media(conn, rows)

    def _unseen_media(
        self, conn: Connection, rows: list[dict[str, Any]], older: set[int]
    ) -> list[dict[str, Any]]:
        """Drop the rows another source already recorded identically (same message, role,
        file and status): a second export of the same messages links to the stored file
        through its own capture (``source_files``, a ``capture`` event) but must not list
        the file again, or the media grid and counts show it twice (e.g. a corrected
        export re-ingested after the first one was refused part-way). A different
        observation (a placeholder then, the file now) is kept: both are evidence."""
        if not older:
            return rows
        seen: set[tuple[int, str, str | None, str]] = set()
        for part in _chunks(sorted(older)):
            seen.update(
                (pk, role, sha, status)
                for pk, role, sha, status in conn.execute(
                    select(Media.message_pk, Media.role, Media.blob_sha256, Media.status).where(
                        Media.message_pk.in_(part), Media.source_id != self.source_id
                    )
                )
            )
        return [
            r
            for r in rows
            if (r["message_pk"], r["role"], r["blob_sha256"], r["status"]) not in seen
        ]

    def _complete_media(self, conn: Connection, rows: list[dict[str, Any]]) -> None:
        """A rerun stored a file an earlier run could not (unreadable then, or over a limit
        since raised): its media row, kept by ON CONFLICT DO NOTHING, now points to it."""
        if self._retry is None:
            self._retry = {
                path
                for path in conn.execute(
                    select(Media.export_path).where(
                        Media.source_id == self.source_id,
                        Media.blob_sha256.is_(None),
                        Media.status.in_(_NOT_STORED),
                    )
                ).scalars()
                if path is not None
            }
        done = [r for r in rows if r["blob_sha256"] and r["export_path"] in self._retry]
        if not done:
            return
        conn.execute(
            update(Media)
            .where(
                and_(
                    Media.message_pk == bindparam("m_pk"),
                    Media.role == bindparam("m_role"),
                    Media.source_id == self.source_id,
                    Media.blob_sha256.is_(None),
                )
            )
            .values(status=MediaStatus.PRESENT.value, blob_sha256=bindparam("m_sha")),
            [
                {"m_pk": r["message_pk"], "m_role": r["role"], "m_sha": r["blob_sha256"]}
                for r in done
            ],
        )

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

    def add_captures(
        self, conn: Connection, files: Sequence[tuple[str, str, StoredObject]], encrypted: bool
    ) -> None:
        """Blob and source_files rows for (path, role, stored object) captures, two
        statements in all (one per file cost half a millisecond each in SQLAlchemy)."""
        if not files:
            return
        now = utc_now()
        blobs = {
            stored.sha256: {
                "sha256": stored.sha256,
                "md5": stored.md5,
                "size": stored.size,
                "encrypted": encrypted,
                "stored_at": now,
            }
            for _path, _role, stored in files
        }
        self.db.insert_ignore(conn, Blob, list(blobs.values()))
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
                for path, role, stored in files
            ],
        )
