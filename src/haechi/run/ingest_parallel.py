"""PostgreSQL's ingest batches written on two connections side by side (issue 18).

On PostgreSQL most of an ingest's time is the server moving each batch into ``messages``
(a foreign-key check per row and key, five indexes), and with one connection that is one
server process working while the ingest waits: PostgreSQL ingested at about 0.85 of
SQLite's rate, with a core to spare whenever the reader waited. Here each batch of a
first ingest is written in its own transaction on one of two connections, so two
batches move at once. What stays as it was:

- a batch is one transaction: its rows, captures, media links and custody events commit
  or roll back together;
- chats and accounts are written first, by the ingest's own thread, in a short
  transaction that commits before the batches naming them are handed over (a chat or an
  account without messages after a crash is what a chat announcement leaves already);
- the custody chain: a batch takes the chain's lock only to append its events
  (:meth:`haechi.store.custody.CustodyLog.append_many`), so events are chained one
  batch at a time;
- counts and progress are kept by the ingest's own thread, batch by batch, in the order
  the batches were handed over.

Only batches of a new source whose chats are all new in this run go this way: nothing of
theirs is stored, so there is nothing to compare (versions, UTC fills) with rows a batch
in flight may be writing. Reruns and chats seen before take the one-connection path after
the batches in flight are finished.
"""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import Any

from haechi.domain import UsageError
from haechi.i18n import t_

MAX_WRITERS = 8


class BatchWriters:
    """At most ``count`` batches in flight; each finished batch's ``done`` runs in the
    thread that hands batches over, in hand-over order, and a batch's error is raised
    there."""

    def __init__(self, count: int) -> None:
        self.count = count
        self._pool = ThreadPoolExecutor(count, thread_name_prefix="haechi-batch-writer")
        self._inflight: deque[tuple[Future[Any], Callable[[Any], None]]] = deque()

    def submit(self, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        while len(self._inflight) >= self.count:
            self._finish_oldest()
        self._inflight.append((self._pool.submit(work), done))

    def drain(self) -> None:
        """Until every batch handed over is written (the first error is raised)."""
        while self._inflight:
            self._finish_oldest()

    def _finish_oldest(self) -> None:
        future, done = self._inflight.popleft()
        done(future.result())

    def close(self) -> None:
        """Wait for the batches in flight (each commits or rolls back), count those that
        committed, and stop the threads. Used when the ingest fails: the errors of later
        batches are dropped, the first one is on its way up already."""
        wait([future for future, _ in self._inflight])
        while self._inflight:
            future, done = self._inflight.popleft()
            if future.exception() is None:
                done(future.result())
        self._pool.shutdown(wait=True)


def writer_count(postgresql: bool, workers: int) -> int:
    """How many batch writers: ``HAECHI_INGEST_WRITERS`` (1 to 8; tests, tuning) or, by
    default, two on PostgreSQL with two or more workers, else one (SQLite has one writer
    at a time whatever its connections)."""
    choice = os.environ.get("HAECHI_INGEST_WRITERS", "auto")
    if choice == "auto":
        return 2 if postgresql and workers >= 2 else 1
    if not choice.isdigit() or not 1 <= int(choice) <= MAX_WRITERS:
        raise UsageError(
            t_(
                "HAECHI_INGEST_WRITERS must be auto or 1 to {max_writers}, not {choice!r}.",
                max_writers=MAX_WRITERS,
                choice=choice,
            )
        )
    return int(choice) if postgresql else 1
