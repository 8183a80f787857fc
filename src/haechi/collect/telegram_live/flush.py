"""A flush: waiting captures -> segments -> the ingest service -> targets' progress.

Runs in a worker thread (it blocks on the database and the disk) while the service keeps
receiving updates. Before writing, each capture is checked against the store, so a message
seen twice (history and an update, or a restart) is stored once, and a re-read that only
changed view counts is not an edit. A message edited twice within one flush gives two
segments, in order, so both versions are kept.
"""

from __future__ import annotations

import ctypes
import sys
import threading
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import func, select, update

from haechi.app import App
from haechi.collect.telegram_live.segment import (
    CaptureContext,
    Pending,
    SegmentCollector,
    segment_name,
    write_segment,
)
from haechi.collect.telegram_live.tl import fingerprint
from haechi.domain import SourceFile
from haechi.run.ingest import Ingestor, IngestReport
from haechi.run.ingest_files import IngestThreads
from haechi.store.models import Chat, Message, MessageVersion
from haechi.store.tables.live import LiveTarget

_CHUNK = 900
# The file-copy threads every segment's ingest borrows (one set per process, started at the
# first flush): a service stores a segment every few seconds, and starting and stopping
# threads for each made resident memory creep (docs/benchmarks.md, "live capture").
_threads: IngestThreads | None = None
_threads_lock = threading.Lock()


def shared_threads(app: App) -> IngestThreads:
    global _threads
    with _threads_lock:
        if _threads is None:
            tune_heap()
            _threads = IngestThreads.start(app.settings.workers)
        return _threads


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:  # not glibc (musl, ...): its allocator has no such knobs
        return None
    return libc if hasattr(libc, "malloc_trim") and hasattr(libc, "mallopt") else None


_glibc = _libc()
_M_MMAP_THRESHOLD = -3  # glibc's mallopt parameter
MMAP_THRESHOLD = 256 * 1024


def tune_heap() -> bool:
    """Blocks of 256 KiB and more get their own mapping, returned whole when freed, for the
    rest of this process (glibc's ``M_MMAP_THRESHOLD``). glibc otherwise raises that
    threshold each time such a block is freed, up to 32 MB, and later large blocks (a
    segment, its JSON, a file's chunks) are carved from the heap among small ones, which
    then pins free memory it can never give back: the service's RSS crept by ~0.6 MB per
    1,000 messages (docs/benchmarks.md, "live capture"). Called as the watch service starts
    and when a process first stores a live segment (a bot conversation run as a job).
    True when set."""
    if _glibc is None:
        return False
    return bool(_glibc.mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD))


def release_memory() -> None:
    """Give the heap's free pages back to the system after a segment (glibc's
    ``malloc_trim``, well under a millisecond here): glibc keeps what a thread freed in that
    thread's arena."""
    if _glibc is not None:
        _glibc.malloc_trim(0)


@dataclass
class TargetProgress:
    messages: int = 0
    versions: int = 0
    files: int = 0
    last_id: int | None = None
    last_date: int | None = None


@dataclass
class FlushResult:
    reports: list[IngestReport] = field(default_factory=list)
    skipped: int = 0  # already stored, or a re-read without an edit
    progress: dict[int, TargetProgress] = field(default_factory=dict)

    @property
    def messages_new(self) -> int:
        return sum(r.messages_new for r in self.reports)

    @property
    def versions_new(self) -> int:
        return sum(r.message_versions_new for r in self.reports)

    @property
    def files_new(self) -> int:
        return sum(r.files_captured_new + r.files_deduplicated for r in self.reports)


def stored_messages(app: App, chat_key: str, ids: list[int]) -> dict[int, tuple[int, str]]:
    """(pk, newest raw JSON: the latest version, else the message) of stored messages."""
    out: dict[int, tuple[int, str]] = {}
    with app.db.connect() as conn:
        chat_id = conn.execute(select(Chat.id).where(Chat.key == chat_key)).scalar()
        if chat_id is None:
            return out
        for i in range(0, len(ids), _CHUNK):
            part = ids[i : i + _CHUNK]
            rows = conn.execute(
                select(Message.id, Message.message_id, Message.raw).where(
                    Message.chat_id == chat_id, Message.message_id.in_(part)
                )
            ).all()
            for pk, mid, raw in rows:
                out[int(mid)] = (int(pk), raw)
            pks = {int(pk): int(mid) for pk, mid, _ in rows}
            if not pks:
                continue
            newest = (
                select(MessageVersion.message_pk, func.max(MessageVersion.id).label("v"))
                .where(MessageVersion.message_pk.in_(list(pks)))
                .group_by(MessageVersion.message_pk)
                .subquery()
            )
            for pk, raw in conn.execute(
                select(MessageVersion.message_pk, MessageVersion.raw).join(
                    newest, MessageVersion.id == newest.c.v
                )
            ):
                out[pks[int(pk)]] = (int(pk), raw)
    return out


def stored_fingerprint(raw: str) -> str | None:
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return fingerprint(value) if isinstance(value, dict) and "_" in value else None


def select_new(app: App, items: list[Pending]) -> tuple[list[list[Pending]], int]:
    """Rounds of captures to store (each (chat, message) at most once per round, in order)
    and the number left out (stored already, or unchanged)."""
    by_chat: dict[str, list[int]] = defaultdict(list)
    for item in items:
        by_chat[item.chat.key].append(item.record.message_id)
    stored: dict[tuple[str, int], str | None] = {}
    for chat_key, ids in by_chat.items():
        for mid, (_pk, raw) in stored_messages(app, chat_key, sorted(set(ids))).items():
            stored[(chat_key, mid)] = stored_fingerprint(raw)
    rounds: list[list[Pending]] = []
    seen: dict[tuple[str, int], int] = {}  # key -> rounds it already holds
    skipped = 0
    for item in items:
        key = item.key
        if key in stored:
            if item.op == "new" or stored[key] == item.fingerprint:
                skipped += 1
                continue
            item.known = True
        stored[key] = item.fingerprint  # a later copy in this flush compares with this one
        n = seen.get(key, 0)
        seen[key] = n + 1
        while len(rounds) <= n:
            rounds.append([])
        rounds[n].append(item)
    return rounds, skipped


def flush(
    app: App,
    ctx: CaptureContext,
    items: list[Pending],
    chats: dict[str, str],
    spool: Path,
    *,
    extra_roots: list[SourceFile] | None = None,
    header_extra: dict[str, Any] | None = None,
    layout: str = "live_segment",
) -> FlushResult:
    """Store ``items`` through the ingest service, one segment per round."""
    result = FlushResult()
    written: list[Path] = []
    try:
        rounds, result.skipped = select_new(app, items)
        if not rounds and extra_roots:
            rounds = [[]]  # a bot profile with no new message is still captured
        for n, batch in enumerate(rounds):
            path = spool / segment_name(batch[0].received_at if batch else _now())
            written.append(path)
            targets = sorted({i.target for i in batch})
            header = write_segment(path, ctx, batch, chats, header_extra)
            details = {
                **ctx.describe(),
                "targets": targets[:200],
                "segment": path.name,
                "messages": len(batch),
                "first_received": header["first_received"],
                "last_received": header["last_received"],
            }
            label = f"live capture by {_who(ctx)}: {', '.join(targets[:3]) or 'profile'}"
            if len(targets) > 3:
                label += f" and {len(targets) - 3} more"
            collector = SegmentCollector(
                path,
                ctx,
                batch,
                label=label,
                details=details,
                extra_roots=extra_roots if n == 0 else None,
                layout=layout,
            )
            report = Ingestor(app, collector, threads=shared_threads(app)).run()
            result.reports.append(report)
            _count(result, batch, report)
        _record_progress(app, result)
    finally:  # a failed segment is written anew by the retry, from the same captures
        for path in written:
            path.unlink(missing_ok=True)
    for item in items:  # stored in the vault (or not wanted): the spool copy goes
        for p in item.spool:
            p.unlink(missing_ok=True)
    release_memory()
    return result


def _now() -> float:
    import time

    return time.time()


def _who(ctx: CaptureContext) -> str:
    return f"@{ctx.account_username}" if ctx.account_username else f"account {ctx.account_id}"


def _count(result: FlushResult, batch: list[Pending], report: IngestReport) -> None:
    for item in batch:
        if item.target_id is None:
            continue
        p = result.progress.setdefault(item.target_id, TargetProgress())
        if item.known:
            p.versions += 1
        else:
            p.messages += 1
        p.files += sum(1 for f in item.record.files if f.local_path is not None)
        mid, date = item.record.message_id, item.record.date_unix
        if p.last_id is None or mid > p.last_id:
            p.last_id, p.last_date = mid, date


def _record_progress(app: App, result: FlushResult) -> None:
    if not result.progress:
        return
    stamp = int(_now())
    with app.db.begin() as conn:
        for target_id, p in result.progress.items():
            row = conn.execute(
                select(LiveTarget.last_message_id, LiveTarget.peer_kind, LiveTarget.tg_id).where(
                    LiveTarget.id == target_id
                )
            ).first()
            if row is None:
                continue
            values: dict[str, Any] = {
                "messages_captured": LiveTarget.messages_captured + p.messages,
                "versions_captured": LiveTarget.versions_captured + p.versions,
                "files_captured": LiveTarget.files_captured + p.files,
                "last_capture_at": stamp,
                "updated_at": stamp,
            }
            if p.last_id is not None and (row[0] is None or p.last_id > row[0]):
                values["last_message_id"], values["last_message_at"] = p.last_id, p.last_date
            if row[1] and row[2] is not None:
                chat_id = conn.execute(
                    select(Chat.id).where(Chat.key == f"{row[1]}:{row[2]}")
                ).scalar()
                if chat_id is not None:
                    values["chat_id"] = chat_id
            conn.execute(update(LiveTarget).where(LiveTarget.id == target_id).values(**values))
