"""An export refused part-way is recorded as incomplete, and the corrected export ingested
after it neither lists its files twice nor hides the partial capture (issue 17, point 4).

Reproduced first from outside: a result.json holding a string over the reader's 64 MiB
bound (or cut short) committed its first messages and files, then the corrected export,
a new source with a new root SHA-256, added a second media row for every file it shared
with the partial one, so the media grid and the per-chat counts showed each file twice.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.helpers import haechi

from haechi.app import App
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.collect.telegram_export.jsonstream import MAX_VALUE_BYTES
from haechi.domain import ExportParseError
from haechi.run.ingest import Ingestor
from haechi.run.sources import list_sources
from haechi.run.verify import verify
from haechi.services import media as media_service
from haechi.store.models import CustodyEvent, Media, Message, Source

MESSAGES = 40
PHOTO_EVERY = 2  # a photo on every second message: 20 files


def _message(i: int, text_value: str) -> dict[str, object]:
    msg: dict[str, object] = {
        "id": 100 + i,
        "type": "message",
        "date": "2024-03-01T10:00:00",
        "date_unixtime": str(1709254800 + 60 * i),
        "from": "Member",
        "from_id": "user5550001",
        "text": text_value,
    }
    if i % PHOTO_EVERY == 0:
        msg.update(photo=f"photos/photo_{i}.jpg", width=8, height=8)
    return msg


def _write_export(folder: Path, *, oversize_at: int | None = None, cut_at: float | None = None):
    """A one-chat export; with ``oversize_at`` the text of that message is longer than the
    reader accepts, with ``cut_at`` the file stops at that fraction of its messages."""
    (folder / "photos").mkdir(parents=True)
    for i in range(0, MESSAGES, PHOTO_EVERY):  # distinct small files (not pictures: ingest only)
        (folder / "photos" / f"photo_{i}.jpg").write_bytes(
            hashlib.sha256(f"photo {i}".encode()).digest() * 8
        )
    head = (
        '{\n "name": "Study group",\n "type": "private_group",\n "id": 5550099,\n "messages": [\n'
    )
    parts = [json.dumps(_message(i, f"message {i}"), ensure_ascii=False) for i in range(MESSAGES)]
    with (folder / "result.json").open("wb") as fh:
        fh.write(head.encode())
        for i, part in enumerate(parts):
            sep = b",\n" if i < MESSAGES - 1 else b"\n"
            if oversize_at == i:
                before, _, after = part.partition(f'"message {i}"')
                fh.write(before.encode() + b'"')
                fh.write(b"x" * (MAX_VALUE_BYTES + 1024))
                fh.write(b'"' + after.encode() + sep)
            else:
                fh.write(part.encode() + sep)
        fh.write(b" ]\n}\n")
    if cut_at is not None:
        data = (folder / "result.json").read_bytes()
        first = data.index(b"[") + 1
        cut = first + int((len(data) - first) * cut_at)
        (folder / "result.json").write_bytes(data[:cut])
    return folder


def _ingest(app: App, path: Path):
    return Ingestor(app, TelegramExportCollector(path)).run()


DAMAGE = [
    pytest.param({"cut_at": 0.15}, id="truncated-early"),
    pytest.param({"cut_at": 0.5}, id="truncated-middle"),
    pytest.param({"cut_at": 0.93}, id="truncated-late"),
    pytest.param({"oversize_at": 7}, id="oversize-early"),
    pytest.param({"oversize_at": 30}, id="oversize-late"),
]


@pytest.mark.parametrize("damage", DAMAGE)
def test_refused_export_then_corrected_one(app: App, tmp_path: Path, damage: dict) -> None:
    broken = _write_export(tmp_path / "broken", **damage)
    with pytest.raises(ExportParseError) as refused:
        _ingest(app, broken)
    offset = refused.value.offset
    assert offset is not None
    with app.db.connect() as conn:
        partial_messages = conn.execute(select(func.count()).select_from(Message)).scalar_one()
        partial_files = conn.execute(
            select(func.count()).select_from(Media).where(Media.blob_sha256.is_not(None))
        ).scalar_one()
    assert 0 < partial_messages < MESSAGES  # the part before the damage was committed

    corrected = _write_export(tmp_path / "corrected")
    report = _ingest(app, corrected)
    assert report.messages == MESSAGES
    files = MESSAGES // PHOTO_EVERY

    # every file once: in the grid, among the message's files and in the per-chat count
    page = media_service.grid(app, limit=200)
    shown = [item.sha256 for item in page.items]
    assert len(shown) == len(set(shown)) == files
    with app.db.connect() as conn:
        per_message = conn.execute(
            text(
                "SELECT message_pk, role, count(*) FROM media WHERE blob_sha256 IS NOT NULL "
                "GROUP BY message_pk, role HAVING count(*) > 1"
            )
        ).all()
    assert per_message == []
    # the corrected source links the files the partial one already stored (no new copies;
    # its own result.json is new)
    assert report.files_captured_new == files - partial_files + 1
    assert report.files_deduplicated == partial_files

    # the partial capture stays visible: incomplete, with its reason and byte offset ...
    first, second = list_sources(app)
    assert first.status == "failed" and first.complete is False
    assert first.failure_offset == offset
    assert "not valid JSON" in (first.failure_reason or "") or "larger" in (
        first.failure_reason or ""
    )
    assert first.messages == partial_messages
    assert second.status == "finished" and second.complete is True
    # ... named in the corrected ingest's summary, and its custody events are all there
    assert first.id in report.earlier_incomplete
    assert any(f"source {first.id}" in w for w in report.warnings)
    with app.db.connect() as conn:
        failed = conn.execute(
            select(CustodyEvent.body).where(
                CustodyEvent.event_type == "ingest_failed",
                CustodyEvent.subject == f"source:{first.id}",
            )
        ).scalar_one()
        status = conn.execute(select(Source.status).where(Source.id == first.id)).scalar_one()
    assert json.loads(failed)["data"]["byte_offset"] == offset
    assert status == "failed"
    result = verify(app, record=False)
    assert result.ok, (result.problems, result.chain.problems)


def test_rerun_of_the_same_broken_export_stays_incomplete(app: App, tmp_path: Path) -> None:
    broken = _write_export(tmp_path / "broken", cut_at=0.5)
    for _ in range(2):
        with pytest.raises(ExportParseError):
            _ingest(app, broken)
    (source,) = list_sources(app)
    assert source.status == "failed" and source.failure_offset is not None
    with app.db.connect() as conn:
        media_rows = conn.execute(select(func.count()).select_from(Media)).scalar_one()
        distinct = conn.execute(
            select(func.count(func.distinct(Media.message_pk))).select_from(Media)
        ).scalar_one()
    assert media_rows == distinct  # the rerun added nothing
    listed = haechi("sources", "--json", home=app.settings.home, check=True)
    (shown,) = json.loads(listed.stdout)
    assert shown["complete"] is False and shown["failure_offset"] == source.failure_offset
    text_out = haechi("sources", home=app.settings.home, check=True).stdout
    assert "incomplete" in text_out and f"stopped at byte {source.failure_offset:,}" in text_out
