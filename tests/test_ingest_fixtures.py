"""The hand-written fixture exports (tests/fixtures/telegram), ingested into the store on both
back ends; a copied export; local-time-only exports and their time zone; files over the
vault's size limit."""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import replace
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from tests.collect.tgexport_helpers import FIXTURES, make_media
from tests.helpers import make_export

from haechi.app import App
from haechi.cli.ingest_cmd import run_ingest
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.domain import DataDirError, UsageError
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify
from haechi.store.models import Account, Chat, CustodyEvent, Media, Message, Source

MEDIA = {
    "v2_7_2_prefixed_ids": ["photos/photo_1@01-05-2021_09-01-00.jpg"],
    "v3_7_6_unixtime": ["video_files/mp4.mp4", "stickers/sticker (1).webp"],
    "v4_1_2_text_entities": ["photos/photo_3@01-10-2022_08-02-00.jpg"],
    "v5_11_file_size": [
        "photos/photo_1@01-03-2025_10-00-00.jpg",
        "video_files/clip.mp4",
        "video_files/clip.mp4_thumb.jpg",
        "contacts/contact_1.vcard",
    ],
    "full_account": [
        "chats/chat_01/photos/photo_1@01-02-2024_09-00-00.jpg",
        "profile_pictures/photo_1@01-01-2024_00-00-00.jpg",
    ],
    "edge_cases": ["video_files/gif.mp4"],  # its sticker stays missing
}
EXPORTS = sorted(p.name for p in FIXTURES.iterdir() if (p / "result.json").is_file())


def _copy(tmp_path: Path, name: str) -> Path:
    dest = tmp_path / "exports" / name
    shutil.copytree(FIXTURES / name, dest)
    make_media(dest, MEDIA.get(name, []))
    return dest


def _rows(app: App, sql: str) -> list[tuple]:
    with app.db.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def test_every_fixture_export_ingests_into_the_store(app: App, tmp_path: Path) -> None:
    assert len(EXPORTS) >= 11
    (tmp_path / "exports").mkdir()
    (tmp_path / "exports" / "outside.jpg").write_bytes(b"not evidence of this case")
    reports = {name: run_ingest(app, _copy(tmp_path, name), quiet=True) for name in EXPORTS}
    assert all(r.messages > 0 for r in reports.values())
    # negative (migrated basic-group) ids, as Telegram gives them
    ids = {r[0] for r in _rows(app, "SELECT message_id FROM messages")}
    assert {-999678450, -999678449, -999675685} <= ids
    # one media row per reference, with what happened to the file
    statuses = {r[0] for r in _rows(app, "SELECT status FROM media")}
    assert {"present", "missing", "not_included", "too_large", "unavailable"} <= statuses
    assert {"placeholder", "refused"} <= statuses
    refused = _rows(app, "SELECT export_path, blob_sha256 FROM media WHERE status = 'refused'")
    assert refused == [("../../outside.jpg", None)]  # never copied into the vault
    missing = _rows(app, "SELECT export_path FROM media WHERE status = 'missing'")
    assert ("stickers/sticker.webp",) in missing
    # via_bot, forwarded_from, saved_from
    with app.db.connect() as conn:
        gif = conn.execute(
            select(Message.via_bot, Message.forwarded_from, Message.saved_from, Account.username)
            .join(Account, Account.id == Message.via_bot_account_id)
            .where(Message.via_bot == "@gif")
        ).all()
        saved = conn.execute(
            select(Message.forwarded_from, Message.saved_from).where(Message.saved_from.isnot(None))
        ).all()
        bots = set(conn.execute(select(Account.username).where(Account.is_bot)).scalars())
    assert ("@gif", "Some Channel", None, "gif") in gif
    assert ("Alice", "Alice") in saved
    assert {"gif", "helper_bot"} <= bots
    # every present media row points at its vault object; the whole store verifies
    present = _rows(app, "SELECT count(*) FROM media WHERE status = 'present'")[0][0]
    linked = _rows(app, "SELECT count(*) FROM media WHERE blob_sha256 IS NOT NULL")[0][0]
    assert present == linked > 0
    assert verify(app).ok
    again = [run_ingest(app, tmp_path / "exports" / name, quiet=True) for name in EXPORTS]
    assert sum(r.messages_new + r.chats_new + r.files_captured_new for r in again) == 0


def _count(app: App, model: type) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(model)).scalar_one())


def test_copied_or_moved_export_adds_nothing(app: App, tmp_path: Path) -> None:
    """Chats without an id (before tdesktop v1.4.8) are keyed by the export's content."""
    first = _copy(tmp_path, "v1_3_no_ids")
    report = run_ingest(app, first, quiet=True)
    assert report.chats_new == 1
    sha = hashlib.sha256((first / "result.json").read_bytes()).hexdigest()
    with app.db.connect() as conn:
        assert conn.execute(select(Chat.key)).scalar_one() == f"export:{sha}:chats.list[0]"
    counts = [_count(app, m) for m in (Chat, Message, Media, Source)]
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(first, copy)
    moved = tmp_path / "moved"
    os.rename(first, moved)
    for path in (copy, moved):
        again = run_ingest(app, path, quiet=True)
        assert again.resumed and again.chats_new == again.messages_new == 0
        assert [_count(app, m) for m in (Chat, Message, Media, Source)] == counts
    assert verify(app).ok


def test_chat_keyed_by_an_older_haechi_is_found_again(app: App, tmp_path: Path) -> None:
    """Before, the key came from the export's path; a rerun must reuse that chat."""
    export = _copy(tmp_path, "v1_3_no_ids")
    old = TelegramExportCollector(export, fallback_key_prefix="export:0123456789ab")
    Ingestor(app, old).run()
    again = run_ingest(app, export, quiet=True)
    assert again.chats_new == again.messages_new == 0
    assert _count(app, Chat) == 1


def test_local_times_warn_and_a_rerun_with_the_zone_fills_them(app: App, tmp_path: Path) -> None:
    export = _copy(tmp_path, "v1_3_no_ids")
    report = run_ingest(app, export, quiet=True)
    (warning,) = [w for w in report.warnings if "--assume-timezone" in w]
    assert "local time" in warning
    assert _rows(app, "SELECT count(*) FROM messages WHERE date_unix IS NOT NULL") == [(0,)]
    filled = run_ingest(app, export, assume_timezone="Asia/Seoul", quiet=True)
    assert filled.messages_new == 0 and filled.utc_filled == filled.messages > 0
    times = dict(_rows(app, "SELECT message_id, date_unix FROM messages"))
    assert times[10] == 1529496907  # 2018-06-20 21:15:07 KST
    edited = _rows(app, "SELECT edited_unix, edited_raw FROM messages WHERE message_id = 11")
    assert edited == [(1529497050, "2018-06-20T21:17:30")]
    assert _rows(app, "SELECT assume_timezone FROM sources") == [("Asia/Seoul",)]
    with app.db.connect() as conn:
        finished = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == "ingest_finished")
        ).scalars()
        assert any('"utc_filled":' + str(filled.utc_filled) in b for b in finished)
    # a second zone would contradict the first: refused, nothing changed
    with pytest.raises(UsageError, match="Asia/Seoul"):
        run_ingest(app, export, assume_timezone="Europe/Berlin", quiet=True)
    assert dict(_rows(app, "SELECT message_id, date_unix FROM messages")) == times
    assert verify(app).ok


def test_file_over_the_vault_limit_is_recorded_and_the_ingest_goes_on(
    app: App, tmp_path: Path
) -> None:
    export = make_export(tmp_path / "ex", messages=200, media=4, seed=4)
    big = sorted((export / "photos").iterdir())[1]
    big.write_bytes(os.urandom(2 << 20))  # benign noise, over a 1 MiB limit
    rel = big.relative_to(export).as_posix()
    app.settings = replace(app.settings, max_file_bytes=1 << 20)
    report = run_ingest(app, export, quiet=True)
    assert report.files_too_large == 1 and report.files_captured_new == 4  # 3 + result.json
    assert any(rel in w and "vault.max_file_mb" in w for w in report.warnings)
    with app.db.connect() as conn:
        row = conn.execute(
            select(Media.status, Media.blob_sha256).where(Media.export_path == rel)
        ).one()
        finished = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == "ingest_finished")
        ).scalar_one()
    assert tuple(row) == ("over_vault_limit", None)
    assert rel in finished and '"files_too_large":1' in finished  # in the custody record
    assert verify(app).ok
    again = run_ingest(app, export, quiet=True)  # same limit: same record, no failure
    assert again.files_too_large == 1 and again.files_captured_new == 0
    app.settings = replace(app.settings, max_file_bytes=4 << 20)
    raised = run_ingest(app, export, quiet=True)
    assert raised.files_too_large == 0 and raised.files_captured_new == 1
    with app.db.connect() as conn:
        row = conn.execute(
            select(Media.status, Media.blob_sha256).where(Media.export_path == rel)
        ).one()
    assert tuple(row) == ("present", hashlib.sha256(big.read_bytes()).hexdigest())
    assert verify(app).ok


def test_export_file_over_the_limit_is_refused_in_one_sentence(app: App, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=50)
    app.settings = replace(app.settings, max_file_bytes=1000)
    with pytest.raises(DataDirError, match="max_file_mb") as info:
        run_ingest(app, export, quiet=True)
    assert "result.json" in str(info.value) and str(info.value).endswith(".")
    assert _count(app, Source) == 0
