"""Shared fixtures: real SQLite and PostgreSQL databases, initialised data directories."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import create_engine, text

if TYPE_CHECKING:
    from haechi.app import App


SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SHARED_DATA = SHARED / "data"
PG_URL = os.environ.get("HAECHI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


def _pg_available() -> str | None:
    try:
        engine = create_engine(PG_URL, connect_args={"connect_timeout": 3})
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        engine.dispose()
        return None
    except Exception as exc:  # any failure means: no server here
        return f"no PostgreSQL server at {PG_URL} ({type(exc).__name__})"


_PG_SKIP = _pg_available()


class _RememberingHasher:
    """haechi's real argon2id hasher (64 MiB, 3 passes: ~0.4 s a call here), its answers
    remembered for the test process. Every test account has the same password and the
    web tests make several accounts and log in as each: hashing and verifying the same
    inputs again cost the suite minutes and can only give the same answers (a hash made
    once is a real salted argon2 hash; a verification is computed once, for real)."""

    def __init__(self, real: Any) -> None:
        self._real = real
        self._hashes: dict[str, str] = {}
        self._verified: dict[tuple[str, str], bool | BaseException] = {}

    def hash(self, password: str) -> str:
        if password not in self._hashes:
            self._hashes[password] = self._real.hash(password)
        return self._hashes[password]

    def verify(self, stored: str, password: str) -> bool:
        key = (stored, password)
        if key not in self._verified:
            try:
                self._verified[key] = bool(self._real.verify(stored, password))
            except Exception as exc:  # argon2's refusals: raised again, of the same type
                self._verified[key] = exc
        got = self._verified[key]
        if isinstance(got, BaseException):
            raise type(got)(*got.args)
        return got

    def check_needs_rehash(self, stored: str) -> bool:
        return bool(self._real.check_needs_rehash(stored))


def _remember_password_hashes() -> None:
    from haechi.auth import passwords

    passwords._HASHER = _RememberingHasher(passwords._HASHER)  # type: ignore[assignment]


_remember_password_hashes()


@pytest.fixture(scope="session")
def pg_skip_reason() -> str | None:
    return _PG_SKIP


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL schema per test, dropped afterwards."""
    if _PG_SKIP:
        pytest.skip(_PG_SKIP)
    schema = "haechi_t_" + uuid.uuid4().hex[:10]
    admin = create_engine(PG_URL)
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    sep = "&" if "?" in PG_URL else "?"
    yield f"{PG_URL}{sep}options=-csearch_path%3D{schema}"
    with admin.begin() as conn:
        conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Run a test on both back ends."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'haechi.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def app(home: Path, database_url: str) -> Iterator[App]:
    from haechi.app import init_home

    application = init_home(home, database_url=database_url)
    yield application
    application.close()


@pytest.fixture
def sqlite_app(home: Path) -> Iterator[App]:
    from haechi.app import init_home

    application = init_home(home)
    yield application
    application.close()


def shared_file(*parts: str) -> Path:
    path = SHARED_DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"shared evaluation data not present: {path}")
    return path
