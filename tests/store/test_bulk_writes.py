"""Bulk writes on both back ends (issue 18): on PostgreSQL through COPY and a staging table,
with ON CONFLICT DO NOTHING semantics, scalar defaults filled in and the caller's
transaction kept (a rollback leaves nothing)."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from haechi.app import App
from haechi.store.models import Blob
from haechi.store.pgcopy import COPY_MIN_ROWS


def _blobs(n: int, start: int = 0) -> list[dict[str, object]]:
    # no "encrypted": the model's default (False) must be written
    return [
        {"sha256": f"{i:064x}", "md5": f"{i:032x}", "size": i, "stored_at": "t", "kind": None}
        for i in range(start, start + n)
    ]


def test_many_rows_once_each_with_defaults(app: App) -> None:
    n = COPY_MIN_ROWS + 50
    with app.db.begin() as conn:
        app.db.insert_ignore(conn, Blob, _blobs(n))
        app.db.insert_ignore(conn, Blob, _blobs(n, start=n // 2))  # half are there already
    with app.db.begin() as conn:
        app.db.insert_ignore(conn, Blob, _blobs(n))  # a rerun adds nothing
    with app.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Blob)).scalar() == n + n // 2
        assert conn.execute(select(func.count()).where(Blob.encrypted.is_(False))).scalar() == (
            n + n // 2
        )
        row = conn.execute(select(Blob.size, Blob.md5).where(Blob.sha256 == f"{7:064x}")).one()
        assert tuple(row) == (7, f"{7:032x}")


def test_a_rollback_takes_the_copied_rows_back(app: App) -> None:
    with pytest.raises(RuntimeError), app.db.begin() as conn:
        app.db.insert_ignore(conn, Blob, _blobs(COPY_MIN_ROWS + 1))
        raise RuntimeError("the batch fails after its rows were written")
    with app.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Blob)).scalar() == 0


def test_tuples_with_text_that_needs_escaping(app: App) -> None:
    text = "tab\there, newline\nthere, back\\slash"
    rows = [(f"{i:064x}", text, i, False, "t") for i in range(COPY_MIN_ROWS + 5)]
    cols = ("sha256", "md5", "size", "encrypted", "stored_at")
    with app.db.begin() as conn:
        app.db.insert_tuples_ignore(conn, "blobs", cols, [(r[0], r[1][:32], *r[2:]) for r in rows])
    with app.db.connect() as conn:
        md5 = conn.execute(select(Blob.md5).where(Blob.sha256 == f"{3:064x}")).scalar()
    assert md5 == text[:32]
