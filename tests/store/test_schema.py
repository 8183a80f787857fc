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
