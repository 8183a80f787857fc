"""``haechi backup`` / ``haechi restore`` (issue 17, point 5): online on SQLite and
PostgreSQL (pg_dump and COPY), a manifest of hashes, and a restored copy that verifies."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from tests.conftest import PG_URL
from tests.helpers import haechi, make_export

from haechi.app import App, init_home, open_app
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.domain import IntegrityError
from haechi.run.backup import backup, restore
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify


def _ingest(app: App, path: Path) -> None:
    Ingestor(app, TelegramExportCollector(path)).run()


def _counts(app: App) -> tuple[int, int, int]:
    with app.db.connect() as conn:
        return tuple(  # type: ignore[return-value]
            int(conn.execute(text(f"SELECT count(*) FROM {t}")).scalar_one())
            for t in ("messages", "blobs", "custody_events")
        )


def _writer(home: Path, exports: list[Path], stop: threading.Event) -> threading.Thread:
    """Ingests in another App (another connection pool), as a web server or a second
    process would, until told to stop."""

    def run() -> None:
        other = open_app(home)
        try:
            for export in exports:
                if stop.is_set():
                    break
                _ingest(other, export)
        finally:
            other.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.fixture
def empty_schema_url(pg_skip_reason: str | None) -> Iterator[str]:
    if pg_skip_reason:
        pytest.skip(pg_skip_reason)
    schema = "haechi_r_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


def test_online_backup_and_restore_verify(
    app: App, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    _ingest(app, make_export(tmp_path / "first", messages=400, media=6, seed=21))
    more = [
        make_export(tmp_path / f"more{i}", messages=300, media=3, seed=30 + i) for i in range(4)
    ]
    stop = threading.Event()
    writer = _writer(app.settings.home, more, stop)
    try:
        result = backup(app, tmp_path / "bk")  # while the other App ingests
    finally:
        stop.set()
        writer.join()
    manifest = json.loads((tmp_path / "bk" / "MANIFEST.json").read_text())
    assert manifest["custody_head"]["seq"] == result.custody_head > 0
    roles = {f["role"] for f in manifest["files"]}
    assert {"database", "vault", "keys", "settings"} <= roles
    assert any(f["path"] == "keys/vault.key" for f in manifest["files"])
    url = None if app.db.is_sqlite else request.getfixturevalue("empty_schema_url")
    restore(tmp_path / "bk", tmp_path / "restored", database_url=url)
    copy = open_app(tmp_path / "restored")
    try:
        report = verify(copy, record=False)
        assert report.ok, (report.problems, report.chain.problems, report.audit.all_problems())
        assert report.chain.head_seq == result.custody_head
        assert report.objects == result.objects
        assert copy.signer.key_id == app.signer.key_id and copy.vault.encrypted
    finally:
        copy.close()
    proc = haechi("verify", home=tmp_path / "restored")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_a_damaged_backup_is_refused_by_name(sqlite_app: App, tmp_path: Path) -> None:
    _ingest(sqlite_app, make_export(tmp_path / "ex", messages=100, media=2, seed=4))
    backup(sqlite_app, tmp_path / "bk")
    manifest = json.loads((tmp_path / "bk" / "MANIFEST.json").read_text())
    victim = next(f["path"] for f in manifest["files"] if f["role"] == "vault")
    path = tmp_path / "bk" / victim
    data = bytearray(path.read_bytes())
    data[100] ^= 1
    path.write_bytes(bytes(data))
    with pytest.raises(IntegrityError, match=f"altered: {victim}"):
        restore(tmp_path / "bk", tmp_path / "restored")
    assert not (tmp_path / "restored").exists()


@pytest.fixture
def databases(pg_skip_reason: str | None) -> Iterator[tuple[str, str]]:
    """Two new PostgreSQL databases (public schema): the store and the restore target."""
    if pg_skip_reason:
        pytest.skip(pg_skip_reason)
    names = [f"haechi_bk_{uuid.uuid4().hex[:8]}" for _ in range(2)]
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    base = PG_URL.rsplit("/", 1)[0]
    yield f"{base}/{names[0]}", f"{base}/{names[1]}"
    with admin.connect() as conn:
        for name in names:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_pg_dump_backup_restores_into_an_empty_database(
    databases: tuple[str, str], tmp_path: Path
) -> None:
    source_url, target_url = databases
    app = init_home(tmp_path / "home", database_url=source_url)
    try:
        _ingest(app, make_export(tmp_path / "ex", messages=200, media=3, seed=8))
        result = backup(app, tmp_path / "bk", pg_method="pg_dump")
    finally:
        app.close()
    assert result.database == "pg_dump"
    proc = haechi(
        "restore", str(tmp_path / "bk"), str(tmp_path / "restored"), "--database-url", target_url
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    proc = haechi("verify", "--json", home=tmp_path / "restored")
    report = json.loads(proc.stdout)
    assert report["ok"] and report["head_seq"] >= result.custody_head, report
