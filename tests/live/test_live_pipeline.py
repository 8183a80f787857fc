"""Live data is found and matched like exported data: the service's analysis round runs
the analyzers and the after-ingest hooks (text findings, search index, matching) over it,
and a photo posted live that an export also holds is one file with two captures."""

from __future__ import annotations

import asyncio
import functools
import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.live.conftest import watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.auth.types import cli_actor
from haechi.collect.telegram_live.targets import add_target
from haechi.services.search import Filters, search


def test_live_messages_are_searched_analysed_and_matched(
    app: App, world: FakeWorld, room: Room, monkeypatch: pytest.MonkeyPatch
) -> None:
    import haechi.analyze.registry as registry

    # The cheap analyzers stand for all of them (the same runner calls every one).
    monkeypatch.setattr(registry, "build", functools.partial(registry.build, only=["pdq"]))
    add_target(app, "@evidence_room")
    w = watcher(app, FakeClient(world), analyze=True)
    asyncio.run(w.run(once=True))  # --once runs the analysis round at the end
    page = search(app, cli_actor("test"), Filters(q="latte"), audited=False)
    assert len(page.hits) == 12 and {h.chat_title for h in page.hits} == {"Evidence Room"}
    with app.db.connect() as conn:
        pdq = conn.execute(
            text(
                "SELECT count(DISTINCT a.blob_sha256) FROM analyses a "
                "JOIN media m ON m.blob_sha256 = a.blob_sha256 "
                "WHERE a.analyzer = 'pdq' AND a.status = 'ok'"
            )
        ).scalar_one()
        scanned = conn.execute(text("SELECT count(*) FROM text_scans")).scalar_one()
        signals = conn.execute(text("SELECT count(*) FROM signals WHERE kind = 'pdq'")).scalar_one()
    assert pdq == 3 and signals >= 3
    assert scanned == sum(1 for m in room.messages.values() if getattr(m, "message", ""))


def test_a_photo_posted_live_and_exported_is_one_file_with_two_captures(
    app: App, world: FakeWorld, room: Room, tmp_path: Path
) -> None:
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.ingest import Ingestor

    add_target(app, "@evidence_room")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    live = next(m for m in room.messages.values() if getattr(m, "media", None))
    data = world.files[live.media.photo.id]
    export = tmp_path / "export"
    (export / "photos").mkdir(parents=True)
    (export / "photos" / "p.jpg").write_bytes(data)
    (export / "result.json").write_text(
        json.dumps(
            {
                "name": "Evidence Room",
                "type": "public_supergroup",
                "id": room.entity.id,
                "messages": [
                    {
                        "id": live.id,
                        "type": "message",
                        "date": "2026-03-01T18:00:00",
                        "date_unixtime": str(int(live.date.timestamp())),
                        "from": "Alice",
                        "from_id": "user600000001",
                        "text": "",
                        "text_entities": [],
                        "photo": "photos/p.jpg",
                        "width": 96,
                        "height": 96,
                    }
                ],
            }
        )
    )
    Ingestor(app, TelegramExportCollector(export)).run()
    sha = hashlib.sha256(data).hexdigest()
    with app.db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM blobs WHERE sha256 = :s"), {"s": sha}
            ).scalar_one()
            == 1
        )
        kinds = (
            conn.execute(
                text(
                    "SELECT s.kind FROM source_files f JOIN sources s ON s.id = f.source_id "
                    "WHERE f.blob_sha256 = :s ORDER BY s.id"
                ),
                {"s": sha},
            )
            .scalars()
            .all()
        )
        captures = conn.execute(
            text(
                "SELECT count(*) FROM custody_events WHERE event_type = 'capture' AND subject = :s"
            ),
            {"s": sha},
        ).scalar_one()
        # The same message, seen live and in the export: one message, the export's JSON a version.
        versions = conn.execute(text("SELECT count(*) FROM message_versions")).scalar_one()
    assert kinds == ["telegram_live", "telegram_desktop_export"] and captures == 2
    assert versions == 1
