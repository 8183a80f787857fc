"""Hostile message content ingests on both back ends; the raw bytes stay provable.

Each message below once aborted the ingest (and every rerun): a lone surrogate (orjson's
TypeError), a NUL from tdesktop's ``\\x00`` escape or a literal NUL byte (PostgreSQL's
DataError), invalid UTF-8, integers beyond 64 bits, values too long for a VARCHAR column.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from haechi.app import App
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify
from haechi.store.models import Account, Chat, Media, Message, Source, SourceFile
from haechi.store.textsafe import ESCAPED, raw_bytes

BIG = 123456789012345678901234567890  # orjson reads this as a float


def _msg(mid: str, body: str) -> bytes:
    return (
        f'  {{"id": {mid}, "type": "message", "date": "2024-01-01T10:00:00", '
        f'"date_unixtime": "1704103200", "from_id": "user77", {body}}}'
    ).encode()


MESSAGES = [
    _msg("1", '"from": "A\\ud800b", "text": "lone \\ud800 surrogate", '
         '"text_entities": [{"type": "plain", "text": "lone \\ud800 surrogate"}]'),
    _msg("2", '"from": "B", "text": "tdesktop nul \\x00 here", '
         '"text_entities": [{"type": "plain", "text": "tdesktop nul \\x00 here"}]'),
    _msg("3", '"from": "C", "text": "json nul \\u0000 here"'),
    _msg("4", '"from": "D", "text": "literal nul \x00 byte"'),
    _msg("5", '"from": "E", "text": "bad utf8 BAD bytes"').replace(b"BAD", b"\xff\xfe"),
    _msg("6", f'"from": "F", "text": "big", "reply_to_message_id": {BIG}'),
    _msg(str(BIG), '"from": "G", "text": "an id no column holds"'),
    _msg("18446744073709551615", '"from": "H", "text": "a u64 id"'),
    _msg("9", '"from": "I", "text": "far future"').replace(
        b'"1704103200"', b'"99999999999999999999"'
    ),
    _msg("10", '"from": "J", "text": "long fields", "via_bot": "@' + "b" * 90 + '", '
         '"photo": "photos/p.jpg", "width": 99999999999, "height": 2, "photo_file_size": 1e400'),
    b'  {"id": 11, "type": "' + b"t" * 40 + b'", "date": "' + b"9" * 60 + b'", "text": "odd"}',
    _msg("12", '"from": "K", "text": "plain"'),
]  # fmt: skip


def write_hostile(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "photos").mkdir(exist_ok=True)
    (folder / "photos" / "p.jpg").write_bytes(b"\xff\xd8 tiny benign bytes")
    body = b",\n".join(MESSAGES)
    data = (
        b'{\n "name": "Hostile \\u0000 chat",\n "type": "private_supergroup",\n "id": 4242,\n'
        b' "messages": [\n' + body + b"\n ]\n}\n"
    )
    (folder / "result.json").write_bytes(data)
    return folder


def _ingest(app: App, path: Path):
    return Ingestor(app, TelegramExportCollector(path)).run()


def test_hostile_content_is_stored_and_raw_stays_provable(app: App, tmp_path: Path) -> None:
    export = write_hostile(tmp_path / "export")
    report = _ingest(app, export)
    data = (export / "result.json").read_bytes()
    assert b"bad utf8 \xff\xfe bytes" in data  # the fixture really holds invalid UTF-8
    with app.db.connect() as conn:
        rows = {r.message_id: r for r in conn.execute(select(Message.__table__)).all()}
        media = conn.execute(select(Media.width, Media.declared_size, Media.status)).one()
        bot = conn.execute(select(Account.username).where(Account.is_bot)).scalar_one()
        title = conn.execute(select(Chat.title)).scalar_one()
    # every message with an id a column can hold is there; the two others are named
    assert sorted(rows) == [1, 2, 3, 4, 5, 6, 9, 10, 11, 12]
    unindexable = [w for w in report.warnings if "beyond 64 bits" in w and "verbatim" in w]
    assert len(unindexable) == 2
    # searchable columns: U+FFFD where the character was; nothing else changed
    assert rows[1].text == "lone \ufffd surrogate" and rows[1].sender_name == "A\ufffdb"
    assert "\ufffd" in rows[1].entities_json
    assert rows[2].text == "tdesktop nul \ufffd here"
    assert rows[3].text == "json nul \ufffd here"
    assert rows[4].text == "literal nul \ufffd byte"
    assert rows[5].text == "bad utf8 \ufffd\ufffd bytes"
    assert rows[12].text == "plain" and rows[12].raw.startswith("{")
    assert title == "Hostile \ufffd chat"
    # raw: the exact bytes of the file at raw_offset, for every message, escaped or not
    for row in rows.values():
        raw = raw_bytes(row.raw)
        assert data[row.raw_offset : row.raw_offset + len(raw)] == raw, row.message_id
        assert raw.startswith(b"{") and raw.endswith(b"}")
    # only the raw texts holding a NUL or invalid UTF-8 themselves need the escaped form
    assert {m for m, r in rows.items() if r.raw.startswith(ESCAPED)} == {4, 5}
    # integers beyond a column: left empty (never rounded), the digits kept in raw
    assert rows[6].reply_to_message_id is None and str(BIG).encode() in raw_bytes(rows[6].raw)
    assert rows[9].date_unix is None and rows[1].date_unix == 1704103200
    assert media == (None, None, "present")  # width beyond 32 bits, size 1e400
    # values longer than their VARCHAR column (PostgreSQL refuses them) are cut, marked
    assert len(rows[10].via_bot) == 64 and rows[10].via_bot.endswith("…")
    assert len(bot) <= 64
    assert len(rows[11].kind) == 16 and len(rows[11].date_raw) == 40
    assert any("U+FFFD" in w for w in report.warnings)
    assert any("reply_to_message_id" in w for w in report.warnings)
    assert verify(app).ok
    # a rerun neither fails nor adds anything
    again = _ingest(app, export)
    assert again.resumed and again.messages_new == 0 and again.message_versions_new == 0
    assert verify(app).ok


def test_hostile_names_of_files_and_folders(app: App, tmp_path: Path) -> None:
    """A folder and a file whose names are not UTF-8 (possible on Linux) are captured, under
    a reversible name, and the two never collide."""
    export = tmp_path / "export-\udcff"  # bytes name: export-\xff
    export.mkdir()
    (export / "result.json").write_bytes(
        b'{"name": "T", "type": "personal_chat", "id": 7, "messages": [\n'
        b'  {"id": 1, "type": "message", "date": "2024-01-01T10:00:00", "text": "x"}\n]}\n'
    )
    (export / "note-\udcfe.txt").write_bytes(b"one")
    (export / "note-\udcfd.txt").write_bytes(b"two")
    report = _ingest(app, export)
    assert report.unreferenced_files == 2
    with app.db.connect() as conn:
        paths = set(conn.execute(select(SourceFile.path)).scalars())
        uri = conn.execute(select(Source.uri)).scalar_one()
    assert {p for p in paths if p.startswith(ESCAPED)} == {
        ESCAPED + "note-\\xfe.txt",
        ESCAPED + "note-\\xfd.txt",
    }
    assert uri.startswith(ESCAPED) and uri.endswith("export-\\xff")
    assert verify(app).ok


@pytest.mark.parametrize("workers", ["process", "inline"])
def test_hostile_content_through_the_reader_process(
    sqlite_app: App, tmp_path: Path, workers: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The same cleaning whether the parser runs here or in the reader process."""
    monkeypatch.setenv("HAECHI_INGEST_READER", workers)
    report = _ingest(sqlite_app, write_hostile(tmp_path / "e"))
    assert report.messages == 10 and report.messages_new == 10
    assert verify(sqlite_app).ok
