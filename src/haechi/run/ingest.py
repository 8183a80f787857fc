"""Ingest: run any collector into the store, the vault and the custody log.

One code path for every collector. Work is committed per batch (a transaction each), so
a killed ingest loses at most one batch; a rerun re-reads the source and skips what is
already stored, which makes ingest both idempotent and resumable.

Files are copied into the vault *before* the batch transaction opens (keeps the database
write lock short). A crash between the two leaves an unreferenced vault object, which the
rerun records (the vault deduplicates) and ``verify`` reports until then.
"""

from __future__ import annotations

import json
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy import Connection, select, update

from haechi.app import App
from haechi.collect.base import Collector
from haechi.domain import (
    ChatRecord,
    DataDirError,
    ExportParseError,
    MediaStatus,
    SourceDescriptor,
)
from haechi.i18n import t_
from haechi.run.ingest_batch import Prepared
from haechi.run.ingest_db import IngestWriter
from haechi.run.ingest_files import (
    OVER_LIMIT,
    UNREADABLE,
    FileJob,
    FileStore,
    IngestThreads,
    Pending,
)
from haechi.run.ingest_parallel import BatchWriters, writer_count
from haechi.run.ingest_pg import stage_oids
from haechi.run.ingest_reader import ProcessReader, read_inline, use_process
from haechi.run.ingest_source import open_source
from haechi.run.sources import incomplete_overlapping
from haechi.store import custody
from haechi.store.custody import Draft, utc_now
from haechi.store.models import Source
from haechi.store.textsafe import dumps, searchable
from haechi.store.vault import StoredObject

ProgressFn = Callable[[int, int, int], None]  # (bytes done, bytes total, messages)


@dataclass
class IngestReport:
    source_id: int = 0
    source: str = ""
    layout: str | None = None
    resumed: bool = False
    chats: int = 0
    chats_new: int = 0
    messages: int = 0
    messages_new: int = 0
    message_versions_new: int = 0
    files_referenced: int = 0
    files_captured_new: int = 0
    files_deduplicated: int = 0
    bytes_stored_new: int = 0
    unreferenced_files: int = 0
    files_too_large: int = 0  # over vault.max_file_mb: recorded, not stored
    utc_filled: int = 0  # stored messages whose UTC time a rerun's --assume-timezone gave
    # Sources refused part-way that showed the same chats: their partial capture stays
    # (haechi sources), and what this run shares with it was linked, not listed twice.
    earlier_incomplete: list[int] = field(default_factory=list)
    missing: dict[str, int] = field(default_factory=dict)
    not_stored: list[str] = field(default_factory=list)  # present but unreadable / too large
    warnings: list[str] = field(default_factory=list)
    unknown_fields: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    custody_head: int = 0

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


# A batch whose files are being copied: the batch, its file jobs, the copies.
_Ahead = tuple[Prepared, list[FileJob], Pending]


class Ingestor:
    # Messages a transaction: 10,000 ran ~3 % faster than 5,000 for ~45 MB more memory.
    BATCH = 10_000

    def __init__(
        self,
        app: App,
        collector: Collector,
        *,
        progress: ProgressFn | None = None,
        assume_timezone: str | None = None,
        threads: IngestThreads | None = None,
    ) -> None:
        """``threads``: the file-copy threads of a caller that runs many ingests (kept
        running after this one); by default the run starts its own and stops them."""
        self.app = app
        self.collector = collector
        self.progress = progress
        self.assume_timezone = assume_timezone
        self.report = IngestReport()
        self.missing: Counter[str] = Counter()
        self._own_threads = threads is None
        self._threads = threads or IngestThreads.start(app.settings.workers)
        # A collector reading a drop folder names it: its files are opened from beneath it.
        beneath = getattr(collector, "confine", None)
        self.files = FileStore(app.vault, self._threads, app.settings.max_file_bytes, beneath)
        self._writers: BatchWriters | None = None

    # -- public -------------------------------------------------------------------------
    def run(self) -> IngestReport:
        try:
            return self._run()
        finally:  # also when the source is refused before reading (zone, size limit)
            if self._own_threads:
                self._threads.close()

    def _run(self) -> IngestReport:
        started = time.monotonic()
        self.app.vault.cleanup_temp()
        desc = self.collector.describe()
        writer = self._open_source(desc)
        self.writer = writer
        reader = None
        copy = None if self.app.db.is_sqlite else stage_oids()  # PostgreSQL: COPY bodies
        if use_process(self.collector, self.app.settings.workers):
            reader = ProcessReader(self.collector, self.BATCH, copy)
            items = iter(reader)
        else:
            items = read_inline(self.collector, self.BATCH, copy)
        count = writer_count(copy is not None, self.app.settings.workers)
        self._writers = BatchWriters(count) if count > 1 else None
        try:
            try:
                self._pipeline(items)
            finally:
                if self._writers is not None:  # drained unless failing: wait for the rest
                    self._writers.close()
                    self._writers = None
                if reader is not None:  # its warnings, sections and referenced files
                    self.collector = reader.collector
            self._capture_extra_files()
        except ExportParseError as exc:
            # Every message before the damage was yielded, and written, above.
            self._fail(str(exc), offset=exc.offset)
            raise
        except BaseException as exc:
            self._fail(f"{type(exc).__name__}: {exc}")
            raise
        self.report.seconds = round(time.monotonic() - started, 3)
        self._finish()
        return self.report

    # -- steps ----------------------------------------------------------------------------
    def _open_source(self, desc: SourceDescriptor) -> IngestWriter:
        jobs = [FileJob(f.path_in_source, f.role, None, f.local_path) for f in desc.root_files]
        self.files.store(jobs)
        for job in jobs:
            if job.failure == OVER_LIMIT:  # without it no message could be proven: refuse
                raise DataDirError(
                    t_(
                        "{path} is larger than vault.max_file_mb allows ({error}); "
                        "raise the limit (HAECHI_MAX_FILE_MB, or max_file_mb under "
                        "[vault] in haechi.toml) so the export file itself is "
                        "preserved, and run again.",
                        path=job.path,
                        error=job.error,
                    )
                )
        root_sha = jobs[0].stored.sha256 if jobs and jobs[0].stored else None
        # Chats with no usable id are keyed by the export's content, never by where it
        # lies: a copied or moved export must find the chats it made before.
        self.collector.bind_source(root_sha)
        db = self.app.db
        with db.begin() as conn:
            opened = open_source(
                conn, self.app.settings, self.collector, desc, root_sha, self.assume_timezone
            )
            source_id, resumed = opened.id, opened.resumed
            fill = resumed and bool(self.assume_timezone)
            writer = IngestWriter(db, source_id, fresh=not resumed, fill_utc=fill)
            drafts = [opened.started, *self._record_files(conn, writer, jobs)]
            self.app.custody.append_many(conn, drafts)
        self.report.source_id, self.report.source = source_id, desc.uri
        self.report.layout, self.report.resumed = desc.layout, resumed
        return writer

    def _chat(self, chat: ChatRecord) -> None:
        with self.app.db.begin() as conn:
            new = self.writer.ensure_chat(conn, chat)
        self.report.chats += 1
        self.report.chats_new += int(new)

    def _pipeline(self, items: Any) -> None:
        """Chats and batches in the order read; each batch's files are copied while the
        batch before it is written (:mod:`haechi.run.ingest_files`)."""
        ahead: _Ahead | None = None
        source = iter(items)
        try:
            while True:
                try:
                    kind, payload = next(source)
                except StopIteration:
                    break
                except BaseException:  # damage in the export: what precedes it is written
                    self._flush(ahead)
                    ahead = None
                    self._drain()
                    raise
                if kind == "chat":
                    self._flush(ahead)
                    ahead = None
                    self._chat(payload)
                elif payload:
                    started = self._start(payload)
                    previous, ahead = ahead, started
                    self._flush(previous)
            self._flush(ahead)
            self._drain()
        except BaseException:
            if ahead is not None:  # its copies stop; their temp files go
                self.files.abandon(ahead[2])
            raise

    def _start(self, batch: Prepared) -> _Ahead:
        jobs: list[FileJob] = []
        for _chat_key, _mid, ref in batch.files:
            self.report.files_referenced += 1
            if ref.status is MediaStatus.PRESENT and ref.export_path is not None:
                jobs.append(FileJob(ref.export_path, "media", ref, ref.local_path))
            else:
                self.missing[ref.status.value] += 1
        return batch, jobs, self.files.start(jobs)

    def _flush(self, ahead: _Ahead | None) -> None:
        if ahead is None:
            return
        batch, jobs, pending = ahead
        self.files.finish(pending)
        if self._writers is not None:
            if self._hand_over(self._writers, batch, jobs):
                return
            self._drain()  # this batch after those in flight, as it comes in the source
        with self.app.db.begin() as conn:
            self.writer.ensure_chats(conn, batch)
            drafts = self._record_files(conn, self.writer, jobs)
            new, versions = self.writer.write_messages(conn, batch, self._media_state)
            self.app.custody.append_many(conn, drafts)
        self._written(batch, (new, versions))

    def _hand_over(self, writers: BatchWriters, batch: Prepared, jobs: list[FileJob]) -> bool:
        """Write ``batch`` on a batch writer's connection (:mod:`haechi.run.ingest_parallel`)
        if it is a new source's batch of chats new in this run; False: write it here."""
        writer = self.writer
        if batch.encoded is None or not writer.fresh:
            return False
        with self.app.db.begin() as conn:  # chats and accounts first, committed
            writer.ensure_chats(conn, batch)
            writer.resolve_accounts(conn, batch)
        if any(writer.chat_ids[key] not in writer.fresh_chats for key in batch.chats):
            return False
        drafts, captures = self._plan_files(writer, jobs, set())  # a new source: none before
        db, log, encrypted = self.app.db, self.app.custody, self.app.vault.encrypted

        def write() -> tuple[int, int]:
            with db.begin(chain=False) as conn:  # the chain's lock only to append events
                writer.add_captures(conn, captures, encrypted)
                counts = writer.write_rows(conn, batch, self._media_state)
                log.append_many(conn, drafts)
            return counts

        writers.submit(write, lambda counts: self._written(batch, counts))
        return True

    def _drain(self) -> None:
        if self._writers is not None:
            self._writers.drain()

    def _written(self, batch: Prepared, counts: tuple[int, int]) -> None:
        new, versions = counts
        self.report.messages += len(batch)
        self.report.messages_new += new
        self.report.message_versions_new += versions
        self.report.utc_filled = self.writer.utc_filled
        if self.progress:
            done = getattr(self.collector, "progress_bytes", 0)
            total = getattr(self.collector, "total_bytes", 0)
            self.progress(done, total, self.report.messages)

    def _capture_extra_files(self) -> None:
        chunk: list[FileJob] = []
        for sf in self.collector.extra_files():
            chunk.append(FileJob(sf.path_in_source, sf.role, None, sf.local_path))
            if len(chunk) >= 500:
                self._commit_files(chunk)
                chunk = []
        self._commit_files(chunk)

    def _commit_files(self, jobs: list[FileJob]) -> None:
        if not jobs:
            return
        self.report.unreferenced_files += len(jobs)
        self.files.store(jobs)
        with self.app.db.begin() as conn:
            drafts = self._record_files(conn, self.writer, jobs)
            self.app.custody.append_many(conn, drafts)

    # -- files --------------------------------------------------------------------------
    def _media_state(self, path: str) -> tuple[str | None, str]:
        """(SHA-256, status) of a present file's media row: why it is not in the vault."""
        sha = self.files.seen.get(path)
        return sha, MediaStatus.PRESENT.value if sha else self.files.failed.get(path, UNREADABLE)

    def _record_files(
        self, conn: Connection, writer: IngestWriter, jobs: list[FileJob]
    ) -> list[Draft]:
        """Blob + source_files rows and one capture event per newly captured path."""
        known = writer.captured_paths(conn, [j.path for j in jobs if j.stored is not None])
        drafts, captures = self._plan_files(writer, jobs, known)
        writer.add_captures(conn, captures, self.app.vault.encrypted)
        return drafts

    def _plan_files(
        self, writer: IngestWriter, jobs: list[FileJob], known: set[str]
    ) -> tuple[list[Draft], list[tuple[str, str, StoredObject]]]:
        """The capture events and (path, role, stored) rows of ``jobs`` not in ``known``
        (captured before), counted in the report; no database work."""
        drafts: list[Draft] = []
        fresh = [j for j in jobs if j.stored is not None]
        for job in jobs:
            if job.failure == OVER_LIMIT:
                self.report.files_too_large += 1
                self.report.warnings.append(
                    f"{job.path} was not stored: larger than vault.max_file_mb ({job.error}); "
                    "raise the limit and ingest again to capture it"
                )
            elif job.error:
                self.report.warnings.append(f"could not read {job.error}")
                self.missing[UNREADABLE] += 1
        captures: list[tuple[str, str, StoredObject]] = []
        for job in fresh:
            stored = job.stored
            assert stored is not None
            if job.path in known:
                continue
            known.add(job.path)
            if stored.created:
                self.report.files_captured_new += 1
                self.report.bytes_stored_new += stored.size
            else:
                self.report.files_deduplicated += 1
            drafts.append(
                Draft(
                    custody.CAPTURE,
                    stored.sha256,
                    {
                        "source_id": writer.source_id,
                        "path": job.path,
                        "role": job.role,
                        "size": stored.size,
                        "sha256": stored.sha256,
                        "md5": stored.md5,
                        "collector": self.collector.name,
                        "collector_version": self.collector.version,
                        "new_in_vault": stored.created,
                    },
                )
            )
            captures.append((job.path, job.role, stored))
        return drafts, captures

    # -- end ------------------------------------------------------------------------------
    def _summary(self) -> dict[str, Any]:
        self.report.missing = dict(self.missing)
        # Warnings quote the source (paths, values): storable, whatever the collector.
        warnings = [*self.report.warnings, *self.collector.warnings]
        self.report.warnings = [searchable(w) or "" for w in warnings]
        self.report.unknown_fields = {
            searchable(k) or "": n for k, n in self.collector.unknown_fields.items()
        }
        # What was seen but not stored belongs in the custody record, by name.
        self.report.not_stored = sorted(self.files.failed)[:1000]
        data = self.report.as_dict()
        data["warnings"] = len(self.report.warnings)
        return data

    def _finish(self) -> None:
        self._note_incomplete()
        summary = self._summary()
        sections = getattr(self.collector, "sections", None)
        with self.app.db.begin() as conn:
            seqs = self.app.custody.append_many(
                conn, [Draft(custody.INGEST_FINISHED, f"source:{self.writer.source_id}", summary)]
            )
            conn.execute(
                update(Source)
                .where(Source.id == self.writer.source_id)
                .values(
                    status="finished",
                    finished_at=utc_now(),
                    stats_json=dumps(summary),
                    sections_json=dumps(sections) if sections else None,
                )
            )
        self.report.custody_head = seqs[-1]

    def _note_incomplete(self) -> None:
        """Name the sources refused part-way that showed a chat this run showed too."""
        with self.app.db.connect() as conn:
            found = incomplete_overlapping(conn, self.writer.source_id)
        for source_id, reason, offset in found:
            self.report.earlier_incomplete.append(source_id)
            where = f" at byte {offset:,}" if offset is not None else ""
            self.report.warnings.append(
                f"source {source_id} showed the same chats but stopped part-way{where} "
                f"({reason}); its messages and files stay recorded as an incomplete capture "
                "(haechi sources), and what this export shares with it was linked, not "
                "stored or listed twice"
            )

    def _fail(self, reason: str, offset: int | None = None) -> None:
        writer = getattr(self, "writer", None)
        if writer is None:
            return
        data: dict[str, Any] = {"source_id": writer.source_id, "reason": searchable(reason)}
        if offset is not None:
            data["byte_offset"] = offset
        data["messages_committed"] = self.report.messages
        try:
            with self.app.db.begin() as conn:
                self.app.custody.append(
                    conn, custody.INGEST_FAILED, f"source:{writer.source_id}", data
                )
                # The partial capture stays (what was committed is evidence) and says why
                # and where it stopped: haechi sources shows it as incomplete.
                before = conn.execute(
                    select(Source.stats_json).where(Source.id == writer.source_id)
                ).scalar()
                stats = {**(json.loads(before) if before else {}), "failed": data}
                conn.execute(
                    update(Source)
                    .where(Source.id == writer.source_id)
                    .values(status="failed", stats_json=dumps(stats))
                )
        except Exception:  # noqa: S110 - the original error matters more than this record
            pass
