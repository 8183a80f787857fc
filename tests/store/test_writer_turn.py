"""SQLite writers take turns before BEGIN (haechi.store.writer_turn): one at a time within
a process and across processes, handed over without SQLite's sleeping busy handler, and
never holding anyone longer than the busy timeout."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from haechi.store import writer_turn
from haechi.store.db import Database


def _hold(path: str, seconds: float, ready: object) -> None:
    with writer_turn.turn(path).held():
        ready.set()  # type: ignore[attr-defined]
        time.sleep(seconds)


def test_threads_write_one_at_a_time_and_every_write_lands(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'haechi.db'}")
    with db.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (n INTEGER)")
    inside, most = 0, 0
    guard = threading.Lock()

    def writer() -> None:
        nonlocal inside, most
        for _ in range(20):
            with db.begin() as conn:
                with guard:
                    inside += 1
                    most = max(most, inside)
                conn.exec_driver_sql("INSERT INTO t VALUES (1)")
                time.sleep(0.001)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(6)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT count(*) FROM t").scalar() == 120
    assert most == 1
    assert (tmp_path / "haechi.db-writers").stat().st_mode & 0o777 == 0o600
    db.dispose()


def test_a_nested_write_in_the_same_thread_does_not_wait_for_itself(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    turn = writer_turn.turn(path)
    with turn.held(), turn.held():
        pass
    with turn.held():  # released: taken again at once
        pass


@contextmanager
def _held_elsewhere(path: str, seconds: float) -> Iterator[None]:
    """Another process holds the turn of ``path`` for ``seconds`` from when this enters."""
    ctx = multiprocessing.get_context("spawn")
    ready = ctx.Event()
    child = ctx.Process(target=_hold, args=(path, seconds, ready))
    child.start()
    try:
        assert ready.wait(30)
        yield
    finally:
        child.join(30)


def _waited_for_turn(path: str) -> float:
    t = time.monotonic()
    with writer_turn.turn(path).held():
        return time.monotonic() - t


def test_another_process_waits_for_the_turn(tmp_path: Path) -> None:
    path = str(tmp_path / "x.db")
    with _held_elsewhere(path, 0.6):
        assert _waited_for_turn(path) >= 0.3  # the child held it


def test_a_turn_not_had_in_time_is_given_up_not_the_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = str(tmp_path / "x.db")
    with _held_elsewhere(path, 3.0):
        monkeypatch.setattr(writer_turn, "WAIT_SECONDS", 0.2)
        assert 0.15 <= _waited_for_turn(path) < 2.0


def test_in_memory_databases_take_no_turn(tmp_path: Path) -> None:
    db = Database("sqlite://")
    assert db._turn is None
    with db.begin() as conn:
        conn.exec_driver_sql("SELECT 1")
    assert not list(tmp_path.iterdir())
