"""Connection pooling on PostgreSQL (issue 18 point 1, docs/deployment.md "Connection
pooling"): each process's pool has the documented defaults, the HAECHI_DB_POOL_* variables
set them, a value that is not a whole number is refused in a sentence, and a connection
asked for beyond the pool waits at most the pool timeout."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import text
from sqlalchemy.exc import TimeoutError as PoolTimeout

from haechi.domain import DataDirError
from haechi.store.db import make_engine, pg_pool_sizes

NAMES = ("HAECHI_DB_POOL_SIZE", "HAECHI_DB_MAX_OVERFLOW", "HAECHI_DB_POOL_TIMEOUT")


@pytest.fixture(autouse=True)
def _no_pool_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in NAMES:
        monkeypatch.delenv(name, raising=False)


def test_the_documented_defaults_and_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    assert pg_pool_sizes() == {"pool_size": 10, "max_overflow": 10, "pool_timeout": 30}
    for name, value in zip(NAMES, (" 5 ", "0", "7"), strict=True):
        monkeypatch.setenv(name, value)
    assert pg_pool_sizes() == {"pool_size": 5, "max_overflow": 0, "pool_timeout": 7}
    for bad in ("-1", "ten", "1.5", "10001"):
        monkeypatch.setenv("HAECHI_DB_POOL_SIZE", bad)
        with pytest.raises(DataDirError, match="HAECHI_DB_POOL_SIZE must be a whole number"):
            pg_pool_sizes()


def test_a_postgresql_engine_uses_them(pg_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAECHI_DB_POOL_SIZE", "2")
    monkeypatch.setenv("HAECHI_DB_MAX_OVERFLOW", "0")
    monkeypatch.setenv("HAECHI_DB_POOL_TIMEOUT", "1")
    engine = make_engine(pg_url)
    try:
        assert engine.pool.size() == 2  # type: ignore[attr-defined]
        with engine.connect() as a, engine.connect() as b:
            assert a.execute(text("SELECT 1")).scalar() == b.execute(text("SELECT 2")).scalar() - 1
            started = time.monotonic()
            with pytest.raises(PoolTimeout):
                engine.connect()  # a third waits for one of the two, then gives up
            assert 0.9 < time.monotonic() - started < 10
        with engine.connect() as again:  # handed back: available again
            assert again.execute(text("SELECT 3")).scalar() == 3
    finally:
        engine.dispose()
