"""Whose turn it is to write an SQLite file: writers queue here instead of in SQLite.

SQLite admits one writer at a time. A second writer's ``BEGIN IMMEDIATE`` is refused and
retried by SQLite's busy handler, which sleeps 1, 2, 5, 10, 15, 20, 25, ... 100 ms between
tries and is never woken when the lock is freed: under a web server's load (every page with
previews writes the viewer's exposure counter, every action its audit and custody entries)
a write transaction of a few milliseconds waited tens of milliseconds, and the waits added
up to most of the writing pages' p95 (docs/benchmarks.md, "web").

Here writers of one database file take turns before they begin: inside a process on a
lock that hands over at once, across processes (web workers, jobs, an ingest) on an
advisory ``flock`` of a file beside the database, polled every millisecond or two. It only
orders writers: SQLite's own lock still decides what is safe, so a writer that does not
take a turn (another tool, an older haechi) is merely served by the busy handler as before,
and a turn not had within the busy timeout is given up and the write tried anyway (a
stopped process holding the file cannot hang the others longer than SQLite would).
"""

from __future__ import annotations

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

WAIT_SECONDS = 30.0  # as the connections' busy_timeout (db._sqlite_pragmas)
_SLEEP_MAX = 0.002

_guard = threading.Lock()
_turns: dict[str, _Turn] = {}


class _Turn:
    """The turn of one database file in this process."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.lock = threading.RLock()
        self.depth = threading.local()
        self.fd: int | None = None

    def _file(self) -> int:
        if self.fd is None:
            # Private like the database itself; never holds data.
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        return self.fd

    def _lock_file(self, deadline: float) -> bool:
        try:
            fd = self._file()
        except OSError:
            return False  # a read-only data directory: SQLite will say what is wrong
        sleep = 0.0005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    return False
                time.sleep(sleep)
                sleep = min(sleep * 2, _SLEEP_MAX)

    @contextmanager
    def held(self) -> Iterator[None]:
        deadline = time.monotonic() + WAIT_SECONDS
        if not self.lock.acquire(timeout=WAIT_SECONDS):
            yield  # give up the turn, not the write: SQLite still serialises it
            return
        try:
            depth = getattr(self.depth, "n", 0)
            self.depth.n = depth + 1
            filed = depth > 0 or self._lock_file(deadline)
            try:
                yield
            finally:
                self.depth.n = depth
                if depth == 0 and filed and self.fd is not None:
                    fcntl.flock(self.fd, fcntl.LOCK_UN)
        finally:
            self.lock.release()


def turn(database: str) -> _Turn:
    """The turn of the SQLite file ``database`` (its path) for this process."""
    path = os.path.abspath(database) + "-writers"
    with _guard:
        found = _turns.get(path)
        if found is None:
            found = _turns[path] = _Turn(path)
        return found


def _after_fork() -> None:
    # A child starts with no turn held: the parent's locks and its open file (whose flock
    # the child would share) are not the child's.
    global _guard
    _guard = threading.Lock()
    for inherited in _turns.values():
        if inherited.fd is not None:
            os.close(inherited.fd)  # the parent's lock stays the parent's
    _turns.clear()


os.register_at_fork(after_in_child=_after_fork)
