"""PostgreSQL's ingest of batches encoded in the reader (issue 18): the rows stored are the
ones SQLite stores, column for column; a rerun adds nothing; a batch that fails half-way
leaves none of its rows and no custody event, and the rerun records each capture once."""

from __future__ import annotations

import json
import pickle
import shutil
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from tests.collect.tgexport_helpers import FIXTURES
from tests.helpers import make_export

from haechi.app import App, init_home
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run import ingest_pg
from haechi.run.ingest import Ingestor
from haechi.run.ingest_db import IngestWriter
from haechi.run.ingest_pg import stage_oids
from haechi.run.ingest_reader import read_inline
from haechi.run.verify import verify
from haechi.store.models import CustodyEvent, Message, MessageVersion, SourceFile
from haechi.store.pgbinary import BinaryRows

# Every stored column, ids swapped for what they name, so two stores can be compared.
ROWS = (
    "SELECT c.key, m.message_id, s.root_sha256, m.kind, m.date_unix, m.date_raw, "
    "m.edited_unix, m.edited_raw, sa.key, m.sender_raw, m.sender_name, m.author, "
    "m.forwarded_from, m.saved_from, m.reply_to_message_id, m.reply_to_peer, m.via_bot, "
    "va.key, m.text, m.entities_json, m.action, m.media_type, m.raw, m.raw_offset, "
    "m.repaired_escapes, m.unknown_keys FROM messages m JOIN chats c ON c.id = m.chat_id "
    "JOIN sources s ON s.id = m.source_id LEFT JOIN accounts sa ON sa.id = m.sender_account_id "
    "LEFT JOIN accounts va ON va.id = m.via_bot_account_id ORDER BY 1, 2, 3"
)


def _ingest(app: App, path: Path) -> Any:
    return Ingestor(app, TelegramExportCollector(path, fallback_key_prefix="t")).run()


def _rows(app: App, sql: str = ROWS) -> list[tuple[Any, ...]]:
    with app.db.connect() as conn:
        return [tuple(r) for r in conn.execute(text(sql))]


def _count(app: App, what: Any) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(what)).scalar_one())


def _exports(tmp_path: Path) -> list[Path]:
    """A generated export (senders, replies, media) and the hand-written edge cases
    (inline bots, service messages, odd ids), the generated one edited in a copy."""
    gen = make_export(tmp_path / "gen", messages=2500, media=12, seed=11)
    edge = tmp_path / "edge"
    shutil.copytree(FIXTURES / "edge_cases", edge)
    edited = tmp_path / "edited"
    shutil.copytree(gen, edited)
    data = json.loads((edited / "result.json").read_bytes())
    data["messages"][3]["text"] = "edited after the first export"
    data["messages"].append(dict(data["messages"][5]))  # the same message twice
    (edited / "result.json").write_text(json.dumps(data, ensure_ascii=False, indent=1))
    return [gen, edge, edited]


def test_binary_rows_in_python_and_psycopg_are_the_same_bytes() -> None:
    oids = [23, 20, 1043, 25, 16, 21]
    rows = [
        (1, 2**62, "varchar", "text", True, 7),
        (-5, -(2**40), "", "한국어 텍스트 😀 \t\n\\", False, -3),
        (None, None, None, None, None, None),
    ]
    fast, python = BinaryRows(oids), BinaryRows(oids, python=True)
    assert fast._fast is not None  # psycopg's encoder is the one the ingest uses here
    assert fast.encode(rows) == python.encode(rows)
    assert len(stage_oids()) == 25  # every column of messages but source_id


def test_the_reader_encodes_with_the_main_process_types_without_the_models(
    tmp_path: Path,
) -> None:
    """The reader process gets the staging types from the main process: importing
    SQLAlchemy and the models there only to compute them again cost ~1.3 s before its first
    batch on PostgreSQL's path. A fresh interpreter, as the spawned reader is."""
    export = make_export(tmp_path / "gen", messages=300, media=0, seed=3)
    oids = stage_oids()
    script = (
        "import sys, pickle\n"
        "from haechi.collect.telegram_export import TelegramExportCollector\n"
        "from haechi.run.ingest_reader import read_inline\n"
        f"c = TelegramExportCollector({str(export)!r}, fallback_key_prefix='t')\n"
        f"items = [p for k, p in read_inline(c, 128, {oids!r}) if k == 'batch']\n"
        "loaded = [m for m in ('sqlalchemy', 'haechi.store.models') if m in sys.modules]\n"
        "sys.stdout.buffer.write(pickle.dumps((loaded, [p.encoded for p in items])))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, check=True)
    loaded, bodies = pickle.loads(out.stdout)  # our own child process wrote it
    assert loaded == []
    here = TelegramExportCollector(export, fallback_key_prefix="t")
    assert bodies == [p.encoded for k, p in read_inline(here, 128, oids) if k == "batch"]
    assert len(bodies) == 3 and all(b.startswith(b"PGCOPY\n") for b in bodies)


def test_postgresql_stores_what_sqlite_stores(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Ingestor, "BATCH", 700)  # several batches, the duplicate in another
    monkeypatch.setenv("HAECHI_INGEST_READER", "process")  # encoded in the reader process
    exports = _exports(tmp_path)
    results = []
    for name, url in (("s", f"sqlite:///{tmp_path / 's.db'}"), ("p", pg_url)):
        app = init_home(tmp_path / name, database_url=url)
        reports = [_ingest(app, path) for path in exports]
        again = _ingest(app, exports[0])  # a rerun of the first: nothing new
        versions = _rows(app, "SELECT m.message_id, v.raw FROM message_versions v "
                         "JOIN messages m ON m.id = v.message_pk ORDER BY 1")  # fmt: skip
        results.append(
            (
                _rows(app),
                versions,
                [(r.messages, r.messages_new, r.message_versions_new) for r in reports],
                (again.messages_new, again.message_versions_new),
            )
        )
        app.close()
    sqlite, pg = results
    assert sqlite == pg
    rows, versions, counts, again = pg
    assert again == (0, 0)
    assert counts[2][1:] == (0, 1)  # the edited copy: no new message, one version
    assert len(versions) == 1 and "edited after the first export" in versions[0][1]
    assert any(r[17] for r in rows) and any(r[8] for r in rows)  # via bots and senders kept


def test_a_new_chat_showing_a_message_twice_in_two_batches_stores_it_once(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A chat first stored by this run is moved with a plain INSERT; the batch that meets a
    copy already stored is moved again with ON CONFLICT DO NOTHING from a savepoint."""
    monkeypatch.setattr(Ingestor, "BATCH", 700)
    monkeypatch.setenv("HAECHI_INGEST_READER", "process")
    export = make_export(tmp_path / "dup", messages=2000, media=0, seed=5)
    data = json.loads((export / "result.json").read_bytes())
    data["messages"].append(dict(data["messages"][5]))  # shown again, two batches later
    (export / "result.json").write_text(json.dumps(data, ensure_ascii=False))
    calls: list[tuple[bool, int, int]] = []
    real = ingest_pg._insert

    def spy(cur: Any, params: dict[str, Any], plain: bool) -> int:
        cur.execute(f"SELECT count(*) FROM {ingest_pg.STAGE}")
        staged = int(cur.fetchone()[0])
        added = real(cur, params, plain)
        calls.append((plain, staged, added))
        return added

    monkeypatch.setattr(ingest_pg, "_insert", spy)
    app = init_home(tmp_path / "p", database_url=pg_url)
    report = _ingest(app, export)
    assert report.messages == 2001 and report.messages_new == 2000
    assert _count(app, Message) == 2000
    assert all(plain for plain, _, _ in calls)  # one chat, new in this run
    assert [staged - added for _, staged, added in calls] == [0, 0, 1]
    assert _ingest(app, export).messages_new == 0  # a rerun: ON CONFLICT, nothing new
    assert not calls[-1][0] and calls[-1][2] == 0
    app.close()


def test_two_batches_are_written_at_once_on_postgresql(
    tmp_path: Path, pg_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL's batch writers: two batches in flight, each in its own writer thread
    (a barrier both must reach, or the test fails); what is stored is what SQLite stores
    one batch at a time, and the custody chain verifies."""
    monkeypatch.setattr(Ingestor, "BATCH", 500)
    monkeypatch.setenv("HAECHI_INGEST_WRITERS", "2")
    monkeypatch.setenv("HAECHI_INGEST_READER", "process")
    export = make_export(tmp_path / "e", messages=3000, media=30, seed=8)
    sqlite = init_home(tmp_path / "s", database_url=f"sqlite:///{tmp_path / 's.db'}")
    assert _ingest(sqlite, export).messages_new == 3000
    expected = _rows(sqlite)
    sqlite.close()

    real = IngestWriter.write_rows
    barrier = threading.Barrier(2, timeout=30)
    threads: list[str] = []

    def meeting(self: IngestWriter, conn: Any, prepared: Any, media_state: Any) -> Any:
        threads.append(threading.current_thread().name)
        if len(threads) <= 2:
            barrier.wait()  # the first two batches are in flight together
        return real(self, conn, prepared, media_state)

    monkeypatch.setattr(IngestWriter, "write_rows", meeting)
    app = init_home(tmp_path / "p", database_url=pg_url)
    report = _ingest(app, export)
    assert report.messages == report.messages_new == 3000
    assert len(threads) == 6 and all(t.startswith("haechi-batch-writer") for t in threads)
    assert len(set(threads)) == 2
    assert _rows(app) == expected
    result = verify(app)
    assert result.ok, (result.problems, result.chain.problems)
    app.close()


class _Boom(RuntimeError):
    pass


def test_a_batch_failing_half_way_leaves_nothing_and_the_rerun_records_once(
    app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each batch commits whole or not at all, also with PostgreSQL's batch writers (two
    batches in flight: the one after the failing batch may commit, but never in part)."""
    export = make_export(tmp_path / "e", messages=3000, media=40, seed=4)  # ids 1..3000
    monkeypatch.setattr(Ingestor, "BATCH", 500)
    real = IngestWriter._write_media
    third = "SELECT count(*) FROM messages WHERE message_id BETWEEN 1001 AND 1500"

    def failing(self: IngestWriter, conn: Any, prepared: Any, media_state: Any) -> None:
        real(self, conn, prepared, media_state)
        # the batch's messages and media rows are written, in its open transaction: only
        # the third batch's own transaction sees rows with its ids
        if int(conn.execute(text(third)).scalar_one()) > 0:
            raise _Boom("the machine stops after the third batch's rows were written")

    monkeypatch.setattr(IngestWriter, "_write_media", failing)
    with pytest.raises(_Boom):
        _ingest(app, export)
    per_batch = _rows(
        app, "SELECT (message_id - 1) / 500, count(*) FROM messages GROUP BY 1 ORDER BY 1"
    )
    assert (2, 500) not in per_batch and all(n == 500 for _, n in per_batch)
    assert {(0, 500), (1, 500)} <= set(per_batch)  # the batches before it committed
    with app.db.connect() as conn:
        captures = conn.execute(
            select(func.count()).where(CustodyEvent.event_type == "capture")
        ).scalar_one()
    assert captures == _count(app, SourceFile)  # no capture event without its row
    before = _count(app, Message)

    monkeypatch.setattr(IngestWriter, "_write_media", real)
    report = _ingest(app, export)
    assert report.resumed and _count(app, Message) == before + report.messages_new == 3000
    assert report.message_versions_new == 0 and _count(app, MessageVersion) == 0
    with app.db.connect() as conn:
        subjects = conn.execute(
            select(CustodyEvent.body).where(CustodyEvent.event_type == "capture")
        ).scalars()
        paths = [json.loads(body)["data"]["path"] for body in subjects]
    assert len(paths) == len(set(paths)) == _count(app, SourceFile)  # each capture once
    assert _ingest(app, export).messages_new == 0
    result = verify(app)
    assert result.ok, (result.problems, result.chain.problems)
