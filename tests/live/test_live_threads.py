"""Live capture stores a segment every few seconds: its ingests borrow one set of file-copy
threads instead of starting and stopping threads per segment; an export's ingest still
starts its own and stops them."""

from __future__ import annotations

import asyncio
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
