"""The Alembic migrations build exactly the schema the models describe, on both back ends."""

from __future__ import annotations

from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from haechi.app import App
from haechi.domain import DataDirError
from haechi.store.db import Database, _alembic_config
from haechi.store.models import Base


def test_migrations_match_the_models(app: App) -> None:
    with app.db.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, Base.metadata)
    assert diff == [], diff


def test_every_head_is_applied(app: App) -> None:
    heads = app.db.head_revisions()
    assert heads and app.db.current_revisions() == heads


def test_an_older_database_is_upgraded_in_place(tmp_path: Path) -> None:
    db = Database(f"sqlite:///{tmp_path / 'old.db'}")
    with db.engine.begin() as conn:
        command.upgrade(_alembic_config(conn), "0001")
        conn.exec_driver_sql(
            "INSERT INTO blobs (sha256, md5, size, encrypted, stored_at) "
            "VALUES ('ab', 'cd', 1, 0, 'then')"
        )
    with pytest.raises(DataDirError, match="older than this haechi"):
        db.check_schema()
    db.migrate()
    db.check_schema()
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT sha256, kind FROM blobs").all() == [("ab", None)]
    db.dispose()


def _wave1_with_staff(tmp_path: Path) -> Database:
    """A data directory as the first release left it (web at 0007, cases at 0010), with an
    account that sessions, tokens and the audit trail refer to."""
    db = Database(f"sqlite:///{tmp_path / 'wave1.db'}")
    with db.engine.begin() as conn:
        cfg = _alembic_config(conn)
        for rev in ("0003_match", "0004_faces", "0006_text", "0007_web", "0010_case_face_watch"):
            command.upgrade(cfg, rev)
        conn.exec_driver_sql(
            "INSERT INTO web_users (username, password_hash, role, created_at, display_name, "
            "disabled, failed_logins, password_changed_at) "
            "VALUES ('kim', 'x', 'admin', 'then', 'Kim', 0, 0, 'then')"
        )
        conn.exec_driver_sql(
            "INSERT INTO web_sessions (id_hash, user_id, csrf_token, created_at, last_seen_at, "
            "expires_at, revoked) VALUES ('h', 1, 'c', 1, 1, 1, 0)"
        )
        conn.exec_driver_sql(
            "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, revoked) "
            "VALUES (1, 't', 'th', 'p', 'then', 0)"
        )
    return db


def test_a_database_with_staff_is_upgraded_in_place(tmp_path: Path) -> None:
    """Rebuilding web_users (0012, 0018) while sessions and tokens refer to it: SQLite
    refused to drop the table with foreign keys on; the rows survive, the keys stay on."""
    db = _wave1_with_staff(tmp_path)
    db.migrate()
    db.check_schema()
    with db.connect() as conn:
        assert conn.exec_driver_sql("SELECT username, unit FROM web_users").all() == [("kim", None)]
        assert conn.exec_driver_sql("SELECT count(*) FROM web_sessions").scalar() == 1
        assert conn.exec_driver_sql("SELECT count(*) FROM api_tokens").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
    db.dispose()


def test_a_dangling_reference_rolls_the_upgrade_back(tmp_path: Path) -> None:
    """A row that refers to a missing one (written with the checks off by some other tool)
    is named, and the schema stays where it was."""
    db = _wave1_with_staff(tmp_path)
    with db.engine.connect() as conn:
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")  # type: ignore[union-attr]
        with conn.begin():
            conn.exec_driver_sql(
                "INSERT INTO api_tokens (user_id, name, token_hash, prefix, created_at, revoked)"
                " VALUES (99, 'orphan', 'th2', 'p2', 'then', 0)"
            )
        conn.connection.driver_connection.execute("PRAGMA foreign_keys=ON")  # type: ignore[union-attr]
    before = db.current_revisions()
    with pytest.raises(DataDirError, match="refer"):
        db.migrate()
    assert db.current_revisions() == before
    db.dispose()
