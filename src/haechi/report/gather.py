"""Everything an export of a case needs, read once: items, files with their captures,
messages verbatim, notices, and the custody events that concern them.

The custody events that concern a case are: the log's ``init`` event (it binds the signing
key), every event whose subject is one of the case's files (captures, analyses), the
events of the sources those files and messages came from (``source:N``), and every event
of the case itself (``case:N``: items, people, notices, exports).
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import Any

from sqlalchemy import Connection, select

from haechi.app import App
from haechi.cases.detail import case_detail, victim_secrets
from haechi.cases.events import case_subject
from haechi.cases.model import CaseDetail
from haechi.cases.notices.views import NoticeView, list_notices
from haechi.store import textsafe
from haechi.store.custody import StoredEvent
from haechi.store.models import Blob, Chat, CustodyEvent, Media, Message, Source, SourceFile

_EXT = re.compile(r"\.[A-Za-z0-9]{1,8}")
_IN_CHUNK = 500


@dataclass
class Capture:
    source_id: int
    path: str
    role: str
    captured_at: str
    collector: str
    collector_version: str
    operator: str
    host: str
    source_kind: str
    source_label: str
    event_seq: int | None = None


@dataclass
class FileEntry:
    sha256: str
    md5: str
    size: int
    mime: str | None
    ext: str
    item_ids: list[int] = field(default_factory=list)
    captures: list[Capture] = field(default_factory=list)

    @property
    def package_path(self) -> str:
        return f"originals/{self.sha256}{self.ext}"


@dataclass
class MessageEntry:
    item_id: int
    chat: str
    chat_tg_id: int | None
    message_id: int
    url: str | None
    date_unix: int | None
    date_raw: str | None
    raw: str
    raw_sha256: str
    raw_offset: int | None
    source_id: int
    source_root_sha256: str | None


@dataclass
class Evidence:
    detail: CaseDetail
    files: list[FileEntry]
    messages: list[MessageEntry]
    notices: list[NoticeView]
    source_ids: list[int]
    secrets: list[tuple[str, str]]  # (victim label, identifying string), for redaction

    def file(self, sha: str) -> FileEntry | None:
        return next((f for f in self.files if f.sha256 == sha), None)


def _ext(name: str | None) -> str:
    if not name:
        return ""
    suffix = PurePosixPath(name).suffix
    return suffix.lower() if _EXT.fullmatch(suffix) else ""


def gather(app: App, case: int | str, *, reveal_victims: bool = False) -> Evidence:
    detail = case_detail(app, case, reveal_victims=reveal_victims)
    items = detail.active_items()
    with app.db.connect() as conn:
        files = _files(conn, items)
        messages = _messages(conn, items)
        sources = sorted(
            {c.source_id for f in files for c in f.captures} | {m.source_id for m in messages}
        )
        _capture_seqs(conn, files)
        secrets = victim_secrets(conn, detail.id)
    return Evidence(
        detail=detail,
        files=files,
        messages=messages,
        notices=list_notices(app, case=detail.id),
        source_ids=sources,
        secrets=secrets,
    )


def _files(conn: Connection, items: list[Any]) -> list[FileEntry]:
    by_sha: dict[str, FileEntry] = {}
    message_items = {i.message_pk: i.id for i in items if i.kind == "message" and i.message_pk}
    extra: dict[str, list[int]] = {}
    for pk_part in _chunks(sorted(message_items)):
        for sha, pk in conn.execute(
            select(Media.blob_sha256, Media.message_pk).where(
                Media.message_pk.in_(pk_part), Media.blob_sha256.is_not(None)
            )
        ):
            extra.setdefault(str(sha), []).append(message_items[pk])
    wanted: dict[str, list[int]] = {}
    for item in items:
        if item.blob_sha256:
            wanted.setdefault(item.blob_sha256, []).append(item.id)
    for sha, ids in extra.items():
        wanted.setdefault(sha, []).extend(ids)
    for part in _chunks(sorted(wanted)):
        for blob in conn.execute(select(Blob).where(Blob.sha256.in_(part))).all():
            by_sha[blob.sha256] = FileEntry(
                sha256=blob.sha256,
                md5=blob.md5,
                size=int(blob.size),
                mime=blob.mime,
                ext="",
                item_ids=sorted(set(wanted[blob.sha256])),
            )
        for row in conn.execute(
            select(SourceFile, Source)
            .join(Source, Source.id == SourceFile.source_id)
            .where(SourceFile.blob_sha256.in_(part))
            .order_by(SourceFile.id)
        ).all():
            entry = by_sha[row.blob_sha256]
            entry.captures.append(
                Capture(
                    source_id=row.source_id,
                    path=row.path,
                    role=row.role,
                    captured_at=row.captured_at,
                    collector=row.collector,
                    collector_version=row.collector_version,
                    operator=row.operator,
                    host=row.host,
                    source_kind=row.kind,
                    source_label=row.label,
                )
            )
            entry.ext = entry.ext or _ext(row.path)
    return [by_sha[s] for s in sorted(by_sha)]


def _messages(conn: Connection, items: list[Any]) -> list[MessageEntry]:
    first: dict[int, Any] = {}
    for item in items:
        if item.message_pk is not None:
            first.setdefault(item.message_pk, item)
    rows: dict[int, Any] = {}
    row: Any
    for part in _chunks(sorted(first)):
        for row in conn.execute(
            select(Message, Chat.key.label("chat_key"), Source.root_sha256.label("root"))
            .join(Chat, Chat.id == Message.chat_id)
            .join(Source, Source.id == Message.source_id)
            .where(Message.id.in_(part))
        ):
            rows[row.id] = row
    out = []
    for pk, item in first.items():
        row = rows.get(pk)
        if row is None:
            continue
        out.append(
            MessageEntry(
                item_id=item.id,
                chat=row.chat_key,
                chat_tg_id=item.chat_tg_id,
                message_id=row.message_id,
                url=item.url,
                date_unix=row.date_unix,
                date_raw=row.date_raw,
                # the source's own text and bytes, also where the store kept an escaped form
                raw=textsafe.restore(row.raw),
                raw_sha256=hashlib.sha256(textsafe.raw_bytes(row.raw)).hexdigest(),
                raw_offset=row.raw_offset,
                source_id=row.source_id,
                source_root_sha256=row.root,
            )
        )
    return out


def _capture_seqs(conn: Connection, files: list[FileEntry]) -> None:
    by_sha = {f.sha256: f for f in files}
    for part in _chunks(sorted(by_sha)):
        for seq, subject, body in conn.execute(
            select(CustodyEvent.seq, CustodyEvent.subject, CustodyEvent.body)
            .where(CustodyEvent.event_type == "capture", CustodyEvent.subject.in_(part))
            .order_by(CustodyEvent.seq)
        ):
            data = json.loads(body).get("data") or {}
            for cap in by_sha[str(subject)].captures:
                same = cap.path == data.get("path") and cap.source_id == data.get("source_id")
                if cap.event_seq is None and same:
                    cap.event_seq = int(seq)
                    break


def _chunks(values: list[Any], size: int = _IN_CHUNK) -> Iterator[list[Any]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


# How a source's root file is named in a package, by its role.
ROOT_SUFFIX = {"export_json": ".json", "web_page": ".html"}


def root_files(conn: Connection, source_ids: list[int]) -> dict[str, str]:
    """The files that prove the messages byte for byte, each source's root file (the one
    its messages' ``raw_offset`` point into: an export's or a live segment's JSON, a
    captured page's body), as {SHA-256: file name suffix}."""
    if not source_ids:
        return {}
    rows = conn.execute(
        select(SourceFile.blob_sha256, SourceFile.role)
        .join(Source, Source.id == SourceFile.source_id)
        .where(
            SourceFile.source_id.in_(source_ids),
            SourceFile.blob_sha256 == Source.root_sha256,
        )
    )
    return {str(sha): ROOT_SUFFIX.get(str(role), "") for sha, role in rows}


def root_shas(conn: Connection, source_ids: list[int]) -> list[str]:
    return sorted(root_files(conn, source_ids))


def concerning_events(
    conn: Connection, case_id: int, shas: list[str], source_ids: list[int], upto: int | None = None
) -> Iterator[StoredEvent]:
    """The custody events that concern the case, in sequence order (see module docstring)."""
    subjects = [case_subject(case_id), *shas, *(f"source:{s}" for s in source_ids)]
    seqs: set[int] = set()
    for part in _chunks(subjects):
        stmt = select(CustodyEvent.seq).where(CustodyEvent.subject.in_(part))
        seqs.update(int(s) for (s,) in conn.execute(stmt))
    seqs.update(
        int(s)
        for (s,) in conn.execute(
            # the chain of signing keys ships too: each rotation links a key to the next
            select(CustodyEvent.seq).where(CustodyEvent.event_type.in_(["init", "key_rotation"]))
        )
    )
    wanted = sorted(s for s in seqs if upto is None or s <= upto)
    position = 0
    for part in _chunks(wanted):
        for row in conn.execute(
            select(CustodyEvent).where(CustodyEvent.seq.in_(part)).order_by(CustodyEvent.seq)
        ):
            position += 1
            yield StoredEvent(position, row.body, row.hash, row.signature, row.key_id)
