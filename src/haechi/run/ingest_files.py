"""The files of an ingest, into the vault: copied and hashed in parallel, made durable in
groups (:class:`~haechi.store.vault_batch.VaultBatch`), and started one batch ahead.

The ingest writes a batch of messages to the database while the files of the *next*
batch are already being copied and hashed by the thread pool (hashing and file I/O
release the GIL), so an export with many photos does not wait for its files and its
database in turn. Each batch's files are still durable objects before the transaction
that records them: :meth:`FileStore.finish` commits their vault batch first.
"""

from __future__ import annotations

import functools
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from haechi.domain.records import FileRef
from haechi.store.vault import FileTooLargeError, StoredObject, Vault
from haechi.store.vault_batch import Staged, VaultBatch

UNREADABLE, OVER_LIMIT = "unreadable", "over_vault_limit"  # media statuses beyond MediaStatus
# Files made durable by one pair of file-system flushes (each holds an open temp file).
FILES_PER_FLUSH = 256


@dataclass(frozen=True)
class IngestThreads:
    """The threads that copy an ingest's files: a pool that copies and hashes, and one
    thread that makes groups of copies durable in order. An :class:`~haechi.run.ingest.
    Ingestor` starts its own and stops them when it ends; a caller that runs many small
    ingests in one process (live capture: one per segment, every few seconds) keeps one
    set and lends it to each, so threads are not started and stopped per segment (each new
    thread may take a malloc arena of its own, which keeps its freed memory).

    Shared safely: a run's copies carry their own vault batch, a copy never waits on the
    flusher, and a run ends only when its own copies and flushes have finished."""

    pool: ThreadPoolExecutor
    flusher: ThreadPoolExecutor

    @classmethod
    def start(cls, workers: int) -> IngestThreads:
        return cls(
            ThreadPoolExecutor(max_workers=max(2, workers), thread_name_prefix="vault-copy"),
            # Flushes wait on the disk, not the CPU: one thread does them in order, while
            # the ingest writes the batch before (a thread of ``pool`` could wait on itself).
            ThreadPoolExecutor(max_workers=1, thread_name_prefix="vault-flush"),
        )

    def close(self) -> None:
        self.flusher.shutdown(wait=True)
        self.pool.shutdown(wait=True)


@dataclass
class FileJob:
    """A file to capture; ``stored`` is filled by the vault step."""

    path: str
    role: str
    ref: FileRef | None
    local: Any
    stored: StoredObject | None = None
    error: str | None = None
    failure: str | None = None  # media status when it could not be stored


@dataclass
class _Group:
    jobs: list[FileJob]
    batch: VaultBatch
    futures: list[Future[Staged | None]] = field(default_factory=list)
    committed: Future[list[Staged | None]] | None = None


@dataclass
class Pending:
    """Files being staged; :meth:`FileStore.finish` makes them objects."""

    jobs: list[FileJob]
    groups: list[_Group]


class FileStore:
    def __init__(
        self,
        vault: Vault,
        threads: IngestThreads,
        max_bytes: int | None,
        beneath: str | None = None,
    ) -> None:
        """``beneath``: a folder the source's files are opened from beneath only (a drop
        root: a path swapped for a link out after its check is not read, but recorded as
        unreadable with why; :func:`haechi.store.beneath.open_beneath`)."""
        self.vault, self.max_bytes, self.beneath = vault, max_bytes, beneath
        self.pool, self._flusher = threads.pool, threads.flusher
        self.seen: dict[str, str | None] = {}  # capture path -> sha256 this run
        self.failed: dict[str, str] = {}  # capture path -> why it is not in the vault

    def store(self, jobs: list[FileJob]) -> None:
        """Copy new files into the vault now, durable before the caller records them."""
        self.finish(self.start(jobs))

    def start(self, jobs: list[FileJob]) -> Pending:
        """Submit the copies of the paths not seen before in this run."""
        todo = []
        for job in jobs:
            if job.path in self.seen:
                continue
            self.seen[job.path] = None
            todo.append(job)
        groups = []
        for first in range(0, len(todo), FILES_PER_FLUSH):
            group = _Group(todo[first : first + FILES_PER_FLUSH], VaultBatch(self.vault))
            put = functools.partial(self._put, group.batch)
            group.futures = [self.pool.submit(put, job) for job in group.jobs]
            group.committed = self._flusher.submit(self._commit, group)
            groups.append(group)
        return Pending(todo, groups)

    @staticmethod
    def _commit(group: _Group) -> list[Staged | None]:
        staged = [f.result() for f in group.futures]
        group.batch.commit()
        return staged

    def finish(self, pending: Pending) -> None:
        """Wait for the copies, make them durable objects, note what could not be stored."""
        try:
            for group in pending.groups:
                assert group.committed is not None
                staged = group.committed.result()
                for job, one in zip(group.jobs, staged, strict=True):
                    if one is not None:
                        job.stored = one.stored
        except BaseException:  # no copy left running or staged (a commit closes its batch)
            self.abandon(pending)
            raise
        for job in pending.jobs:
            if job.stored is not None:
                self.seen[job.path] = job.stored.sha256
            elif job.failure is not None:
                self.failed[job.path] = job.failure

    def abandon(self, pending: Pending) -> None:
        """Stop the copies not yet started, wait for the others, remove their temp files
        (objects already committed stay)."""
        for group in pending.groups:
            for f in group.futures:
                f.cancel()
            for f in group.futures:
                if not f.cancelled():
                    f.exception()
            if group.committed is not None and not group.committed.cancel():
                group.committed.exception()
            group.batch.close()

    def _put(self, batch: VaultBatch, job: FileJob) -> Staged | None:
        try:
            return batch.put_file(job.local, max_bytes=self.max_bytes, beneath=self.beneath)
        except FileTooLargeError as exc:  # recorded as such; a rerun with a higher limit
            job.failure = OVER_LIMIT  # captures it
            job.error = f"{exc.size:,} bytes, limit {exc.limit:,}"
        except OSError as exc:  # unreadable file: record it, keep going
            job.failure = UNREADABLE
            job.error = f"{job.path}: {exc.strerror or exc}"
        return None
