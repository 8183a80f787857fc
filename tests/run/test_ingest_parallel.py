"""The batch writers' own rules: how many, the order finished batches are counted in, and
what a failing batch does to those around it (the database side: test_pg_ingest_coded)."""

from __future__ import annotations

import threading
import time

import pytest

from haechi.domain import UsageError
from haechi.run.ingest_parallel import BatchWriters, writer_count


def test_two_writers_on_postgresql_by_default_one_on_sqlite(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("HAECHI_INGEST_WRITERS", raising=False)
    assert writer_count(True, 2) == 2
    assert writer_count(True, 1) == 1  # one worker: one connection
    assert writer_count(False, 8) == 1
    monkeypatch.setenv("HAECHI_INGEST_WRITERS", "4")
    assert writer_count(True, 1) == 4 and writer_count(False, 4) == 1
    for bad in ("0", "9", "-1", "two", ""):
        monkeypatch.setenv("HAECHI_INGEST_WRITERS", bad)
        with pytest.raises(UsageError, match="HAECHI_INGEST_WRITERS"):
            writer_count(True, 2)


def test_finished_batches_are_counted_in_the_order_handed_over() -> None:
    writers = BatchWriters(2)
    counted: list[int] = []
    running = 0
    most = 0
    lock = threading.Lock()

    def batch(n: int, seconds: float) -> int:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(seconds)
        with lock:
            running -= 1
        return n

    for n in range(6):  # the even ones take longer: they finish after the next one
        writers.submit(lambda n=n: batch(n, 0.05 if n % 2 == 0 else 0.0), counted.append)
    writers.drain()
    writers.close()
    assert counted == [0, 1, 2, 3, 4, 5]
    assert most == 2  # never more than two in flight


def test_a_failing_batch_is_raised_and_the_one_in_flight_still_counted_on_close() -> None:
    writers = BatchWriters(2)
    counted: list[int] = []
    gate = threading.Event()

    def fail() -> int:
        raise RuntimeError("batch 0 failed")

    def slow() -> int:
        gate.wait(5)
        return 1

    writers.submit(fail, counted.append)
    writers.submit(slow, counted.append)
    with pytest.raises(RuntimeError, match="batch 0 failed"):
        writers.drain()
    gate.set()
    writers.close()  # waits for batch 1, which committed: it is counted
    assert counted == [1]
