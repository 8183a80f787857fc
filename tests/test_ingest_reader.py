"""The reader process gives exactly what reading in this process gives: same rows, same
warnings and unknown fields, same unreferenced files; errors keep their offsets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import text
from tests.helpers import make_export

from haechi.app import App, init_home
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.domain import ExportParseError
from haechi.run.ingest import Ingestor

TABLES = {
    "messages": "SELECT chat_id, message_id, kind, date_unix, sender_account_id, "
    "via_bot_account_id, text, entities_json, raw, raw_offset, unknown_keys FROM messages "
    "ORDER BY chat_id, message_id",
    "media": "SELECT m.message_id, md.role, md.status, md.blob_sha256, md.export_path "
    "FROM media md JOIN messages m ON m.id = md.message_pk ORDER BY 1, 2",
    "accounts": "SELECT key, tg_id, username, display_name FROM accounts ORDER BY key",
    "files": "SELECT path, role, blob_sha256 FROM source_files ORDER BY path",
    "chats": "SELECT key, title, dialog_type FROM chats ORDER BY key",
}


def _ingest(home: Path, export: Path, reader: str, monkeypatch: pytest.MonkeyPatch) -> App:
    monkeypatch.setenv("HAECHI_INGEST_READER", reader)
    app = init_home(home)
    report = Ingestor(app, TelegramExportCollector(export, fallback_key_prefix="t")).run()
    app.report = report  # type: ignore[attr-defined]
    return app


def _dump(app: App) -> dict[str, list[tuple]]:
    with app.db.connect() as conn:
        return {name: [tuple(r) for r in conn.execute(text(q))] for name, q in TABLES.items()}


def test_process_and_inline_readers_store_the_same(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = make_export(tmp_path / "ex", messages=12_000, media=30, seed=5)
    (export / "photos" / "stray.txt").write_text("not referenced by any message")
    data = json.loads((export / "result.json").read_bytes())
    data["messages"][7]["surprise_field"] = {"kept": True}  # an unknown key
    (export / "result.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))
    dumps, reports = [], []
    for reader in ("inline", "process"):
        app = _ingest(tmp_path / reader, export, reader, monkeypatch)
        dumps.append(_dump(app))
        reports.append(app.report)  # type: ignore[attr-defined]
        app.close()
    assert dumps[0] == dumps[1]
    assert len(dumps[0]["messages"]) == len(data["messages"])
    a, b = reports
    assert (a.unknown_fields, a.warnings, a.missing) == (b.unknown_fields, b.warnings, b.missing)
    assert a.unknown_fields == {"surprise_field": 1}
    assert a.unreferenced_files == b.unreferenced_files == 1


def test_process_reader_keeps_what_precedes_damage(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    export = make_export(tmp_path / "ex", messages=3 * Ingestor.BATCH, media=0)
    data = (export / "result.json").read_bytes()
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "result.json").write_bytes(data[: len(data) // 2])
    results = []
    for reader in ("inline", "process"):
        monkeypatch.setenv("HAECHI_INGEST_READER", reader)
        app = init_home(tmp_path / reader)
        with pytest.raises(ExportParseError) as caught:
            Ingestor(app, TelegramExportCollector(cut, fallback_key_prefix="t")).run()
        assert len(data) // 2 - 2000 < caught.value.offset <= len(data) // 2
        results.append((str(caught.value), caught.value.offset, _dump(app)["messages"]))
        app.close()
    assert results[0] == results[1]
    # every message that ends before the cut is stored, and none after it
    complete = [m for m in json.loads(data)["messages"]]
    stored = results[0][2]
    assert 0 < len(stored) < len(complete)
    assert all(offset + len(raw.encode()) <= len(data) // 2 for *_, raw, offset, _u in stored)
