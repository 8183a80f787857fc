"""Ingest end to end on both back ends: counts, idempotence, vault, custody, verify."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.conftest import SHARED_DATA, shared_file
from tests.helpers import make_export

from haechi.app import App
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify
from haechi.store.models import Blob, CustodyEvent, Media, Message, SourceFile


def _ingest(app: App, path: Path):
    return Ingestor(app, TelegramExportCollector(path, fallback_key_prefix="t")).run()


def _count(app: App, model) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


@pytest.fixture
def export(tmp_path: Path) -> Path:
    return make_export(tmp_path / "export", messages=3000, media=40, seed=3)


def test_ingest_stores_everything_and_verifies(app: App, export: Path) -> None:
    report = _ingest(app, export)
    assert report.messages == report.messages_new == _count(app, Message)
    assert report.messages >= 3000
    present = [p for p in export.rglob("*") if p.is_file() and p.name != "result.json"]
    # every media file is in the vault under its own SHA-256, byte for byte
    with app.db.connect() as conn:
        stored = dict(conn.execute(select(SourceFile.path, SourceFile.blob_sha256)).all())
    for path in present:
        rel = path.relative_to(export).as_posix()
        assert stored[rel] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert app.vault.read_bytes(stored[rel]) == path.read_bytes()
    assert (
        stored["result.json"] == hashlib.sha256((export / "result.json").read_bytes()).hexdigest()
    )
    # one signed capture event per captured file, in the same store
    with app.db.connect() as conn:
        captures = conn.execute(
            select(func.count()).where(CustodyEvent.event_type == "capture")
        ).scalar_one()
    assert captures == len(stored) == _count(app, Blob)
    result = verify(app)
    assert result.ok, (result.problems, result.chain.problems)
    assert result.objects == len(stored)


def test_same_export_twice_adds_nothing(app: App, export: Path) -> None:
    _ingest(app, export)
    counts = [_count(app, m) for m in (Message, Media, Blob, SourceFile)]
    again = _ingest(app, export)
    assert again.resumed and again.messages_new == 0 and again.files_captured_new == 0
    assert [_count(app, m) for m in (Message, Media, Blob, SourceFile)] == counts
    assert verify(app).ok


def test_raw_json_is_verbatim_from_the_export(app: App, export: Path) -> None:
    _ingest(app, export)
    data = (export / "result.json").read_bytes()
    with app.db.connect() as conn:
        rows = conn.execute(select(Message.raw, Message.raw_offset).limit(200)).all()
    for raw, offset in rows:
        encoded = raw.encode()
        assert data[offset : offset + len(encoded)] == encoded


def test_changed_message_kept_as_version(app: App, tmp_path: Path) -> None:
    first = make_export(tmp_path / "a", messages=50, seed=5)
    _ingest(app, first)
    second = tmp_path / "b"
    second.mkdir()
    body = (first / "result.json").read_text(encoding="utf-8")
    (second / "result.json").write_text(body.replace('"id": 7,', '"id": 7, "edited": "x",', 1))
    report = _ingest(app, second)
    assert report.messages_new == 0 and report.message_versions_new == 1


@pytest.mark.parametrize(
    "name",
    sorted(p.name for p in SHARED_DATA.joinpath("telegram").glob("tdesktop_*.json"))
    if SHARED_DATA.joinpath("telegram").exists()
    else ["(shared data absent)"],
)
def test_real_exports_ingest(app: App, tmp_path: Path, name: str) -> None:
    src = shared_file("telegram", name)
    folder = tmp_path / "ChatExport"
    folder.mkdir()
    os.symlink(src, folder / "result.json")  # the real file, untouched
    report = _ingest(app, folder)
    assert report.messages == _count(app, Message) > 0
    with app.db.connect() as conn:
        ids = set(conn.execute(select(Message.message_id)).scalars())
        raws = conn.execute(select(Message.raw)).scalars().all()
    assert all(r.lstrip().startswith("{") for r in raws)
    if "migrated" in name:
        assert -999678450 in ids
    assert verify(app).ok


def test_postgres_and_sqlite_agree(tmp_path: Path, pg_url: str) -> None:
    from haechi.app import init_home

    export = make_export(tmp_path / "e", messages=500, media=5, seed=9)
    results = []
    for name, url in (("s", f"sqlite:///{tmp_path / 's.db'}"), ("p", pg_url)):
        app = init_home(tmp_path / name, database_url=url)
        _ingest(app, export)
        with app.db.connect() as conn:
            results.append(
                conn.execute(
                    text("SELECT message_id, kind, date_unix, text, raw FROM messages ORDER BY 1")
                ).all()
            )
        app.close()
    assert results[0] == results[1]
