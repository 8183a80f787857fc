"""Live capture stores a segment every few seconds: its ingests borrow one set of file-copy
threads instead of starting and stopping threads per segment; an export's ingest still
starts its own and stops them. The live process keeps large blocks out of the heap (glibc's
mmap threshold fixed at 256 KiB), and after each flush the heap's free pages go back to the
system (glibc keeps what threads freed in their arenas)."""

from __future__ import annotations

import asyncio
import platform
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from tests.helpers import make_export
from tests.live.conftest import settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld

from haechi.app import App
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.collect.telegram_live.targets import add_target
from haechi.run.ingest import Ingestor


def _vault_threads() -> set[int]:
    return {t.ident or 0 for t in threading.enumerate() if t.name.startswith("vault-")}


def _segments(app: App) -> int:
    with app.db.connect() as conn:
        return int(
            conn.exec_driver_sql(
                "SELECT count(*) FROM sources WHERE kind = 'telegram_live'"
            ).scalar_one()
        )


def test_segments_share_their_file_threads(
    sqlite_app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app = sqlite_app
    started: list[str] = []
    real_start = threading.Thread.start

    def counted(thread: threading.Thread) -> None:
        if thread.name.startswith("vault-"):
            started.append(thread.name)
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", counted)
    world = FakeWorld()
    room = world.channel("Segment Room", "segment_room")
    for i in range(60):
        world.post(room, f"segment post {i}", photo=world.photo(seed=i) if i % 6 == 0 else None)
    add_target(app, "@segment_room")
    for extra in range(3):
        asyncio.run(watcher(app, FakeClient(world), settings(flush_messages=2)).run(once=True))
        world.post(room, f"one more {extra}", photo=world.photo(seed=900 + extra))
    asyncio.run(watcher(app, FakeClient(world), settings(flush_messages=2)).run(once=True))
    pool = max(2, app.settings.workers) + 1  # copies and the flusher
    segments = _segments(app)
    assert segments > pool  # each segment is an ingest that copies its files ...
    # ... with threads started once for this process (none, if an earlier test did).
    assert len(started) <= pool, (len(started), segments)

    # An export's ingest starts its own threads and stops them when it ends.
    alive = _vault_threads()
    export = make_export(tmp_path / "ex", messages=300, media=5, seed=3)
    report = Ingestor(app, TelegramExportCollector(export)).run()
    assert report.files_captured_new == 6  # result.json and its 5 files
    assert len(started) > 0 and _vault_threads() == alive


def test_every_segment_flush_gives_the_heap_back(
    sqlite_app: App, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A real service run: each flush that stored segments ends by releasing memory."""
    from haechi.collect.telegram_live import flush as live_flush

    calls: list[int] = []
    real = live_flush.release_memory
    monkeypatch.setattr(live_flush, "release_memory", lambda: (calls.append(1), real())[1])
    world = FakeWorld()
    room = world.channel("Trim Room", "trim_room")
    for i in range(12):
        world.post(room, f"trim post {i}")
    add_target(sqlite_app, "@trim_room")
    asyncio.run(watcher(sqlite_app, FakeClient(world), settings(flush_messages=5)).run(once=True))
    assert _segments(sqlite_app) >= 1
    assert len(calls) >= 1  # once per flush, stored or not


# Run in a fresh process (RSS is per process); each prints how many MB it gave back.
PROBE_START = """
import sys
import threading
from pathlib import Path
from haechi.collect.telegram_live import flush

def anon():
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("RssAnon:"):
            return int(line.split()[1]) / 1024
    raise SystemExit("no RssAnon")
"""
TRIM_PROBE = (
    PROBE_START
    + """
pinned = []
def work():  # 30 MB of small blocks in a thread's own arena, freed below a live block
    blocks = [bytes(1000) + bytes([i % 256]) for i in range(30_000)]
    pinned.append(bytes(1000) + b"pin")  # keeps the arena's top where it is
    del blocks

t = threading.Thread(target=work)
t.start()
t.join()
before = anon()
flush.release_memory()
print(before - anon())
"""
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="malloc_trim is glibc's",
)
def test_release_memory_returns_a_threads_freed_heap_to_the_system() -> None:
    """In a fresh process (RSS is per process): a worker thread frees 30 MB of small blocks,
    which glibc keeps in the thread's arena; ``release_memory`` gives most of it back."""
    proc = subprocess.run(
        [sys.executable, "-c", TRIM_PROBE], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr
    released_mb = float(proc.stdout.strip())
    assert released_mb > 15, released_mb


TUNE_PROBE = (
    PROBE_START
    + """
if sys.argv[1] == "tuned":
    assert flush.tune_heap()
big = bytearray(16 << 20)  # mapped, and freed: glibc raises its thresholds unless tuned
del big
blocks, pins = [], []
for i in range(12):  # 24 MB in blocks of 2 MB, each followed by a small block that stays
    blocks.append(bytearray(2 << 20))
    pins.append(bytearray(600))
before = anon()
del blocks
print(before - anon())
"""
)


@pytest.mark.skipif(
    not sys.platform.startswith("linux") or platform.libc_ver()[0] != "glibc",
    reason="M_MMAP_THRESHOLD is glibc's",
)
def test_large_blocks_go_back_when_freed_once_the_heap_is_tuned() -> None:
    """Fresh processes, same allocations: with glibc's defaults, freeing one 16 MB block
    lets later 2 MB blocks settle in the heap, where freeing them gives nothing back; after
    ``tune_heap`` (which the first segment's flush calls) they are given back whole."""

    def released(mode: str) -> float:
        proc = subprocess.run(
            [sys.executable, "-c", TUNE_PROBE, mode], capture_output=True, text=True, timeout=120
        )
        assert proc.returncode == 0, proc.stderr
        return float(proc.stdout.strip())

    assert released("tuned") > 20  # of 24 MB
    assert released("default") < 8  # the control: what the service did before
