"""Web fixtures: a data directory holding the benign demo export (ingested, indexed, with
safe previews made by a stand-in analyzer), one account per role, and logged-in clients."""

from __future__ import annotations

import atexit
import re
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text
from tests.web.preview_analyzer import EXTRA

from haechi.app import App
from haechi.auth.accounts import add_user
from haechi.auth.roles import Role
from haechi.auth.types import cli_actor
from haechi.domain import DataDirError
from haechi.web.settings import WebSettings

PASSWORD = "correct horse battery"
ROLE_USERS = {role: f"u_{role.value}" for role in Role}


_DEMO_EXPORT: list[Path] = []  # built once per test process, in a folder removed at exit


def demo_export(dest: Path) -> Path:
    """The benign demo export, copied to ``dest``: ``build_demo_export`` gives the same
    bytes for its seed, so it is drawn once per test process, not for every test."""
    from haechi.demo.export_builder import build_demo_export

    if not _DEMO_EXPORT:
        base = Path(tempfile.mkdtemp(prefix="haechi-test-demo-"))
        atexit.register(shutil.rmtree, base, True)
        _DEMO_EXPORT.append(build_demo_export(base))
    built = _DEMO_EXPORT[0]
    return Path(shutil.copytree(built, dest / built.name))


def load_demo(app: App, tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from haechi.cli.analyze_cmd import run_analysis
    from haechi.cli.ingest_cmd import run_ingest
    from haechi.run.hooks import run_ingest_hooks

    export = demo_export(tmp / "export")
    report = run_ingest(app, export, quiet=True)
    monkeypatch.setenv("HAECHI_EXTRA_ANALYZERS", EXTRA)
    for attempt in range(60):
        try:
            run_analysis(app, only=["t_preview"], quiet=True, workers=1)
            break
        except DataDirError as exc:
            # The runner's lock is per PostgreSQL database, and other test runs on this
            # machine share the test database (in other schemas): wait for theirs.
            if "Another `haechi analyze`" not in str(exc) or attempt == 59:
                raise
            time.sleep(2)
    hooks = run_ingest_hooks(app, report)
    assert isinstance(hooks.get("search"), dict), hooks


@pytest.fixture
def loaded(app: App, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> App:
    """The demo data on both back ends."""
    load_demo(app, tmp_path, monkeypatch)
    add_role_users(app)
    return app


def add_role_users(app: App) -> None:
    """One account ``u_<role>`` per role, with the tests' password."""
    for role, name in ROLE_USERS.items():
        add_user(app, name, PASSWORD, role.value, actor=cli_actor("test"), reason="test")


@contextmanager
def client_of(
    app: App, settings: WebSettings | None = None, **options: Any
) -> Iterator[TestClient]:
    """A test client of the web application over ``app`` (redirects are not followed)."""
    from haechi.web.app import create_app

    with TestClient(create_app(app, settings), follow_redirects=False, **options) as client:
        yield client


@pytest.fixture
def web(loaded: App) -> Iterator[TestClient]:
    with client_of(loaded) as client:
        yield client


def login_token(client: TestClient) -> str:
    page = client.get("/login")
    assert page.status_code == 200
    match = re.search(r'name="login_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


def log_in(client: TestClient, username: str, password: str = PASSWORD) -> str:
    """Log ``client`` in; returns the session's CSRF token."""
    r = client.post(
        "/login",
        data={"username": username, "password": password, "login_token": login_token(client)},
    )
    assert r.status_code == 303, r.text
    return csrf_of(client)


def csrf_of(client: TestClient) -> str:
    page = client.get("/me")
    match = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert match, page.text
    return match.group(1)


@pytest.fixture
def staffed(app: App) -> App:
    """An empty archive with one account per role (for pages that need no messages)."""
    add_role_users(app)
    return app


def previewed_images(app: App) -> list[str]:
    """Stored pictures that have a safe preview, in SHA-256 order."""
    with app.db.connect() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT b.sha256 FROM blobs b WHERE b.kind = 'image' AND EXISTS (SELECT 1 "
                    "FROM artifacts a WHERE a.blob_sha256 = b.sha256 AND a.name = 'safe_preview') "
                    "ORDER BY b.sha256"
                )
            ).scalars()
        )


BANK = "test-bank"


@pytest.fixture
def banked(loaded: App) -> str:
    """One stored picture with a safe preview, added to a bank and matched by the real
    matches capability; returns its SHA-256."""
    return bank_one_picture(loaded)


def bank_one_picture(loaded: App) -> str:
    """What :func:`banked` does, for a fixture of a wider scope."""
    from haechi.services import integrations

    if not integrations.available("matches"):
        pytest.skip("haechi.match is not installed")
    from haechi.match.bank_sources import add_blobs
    from haechi.match.banks import create_bank
    from haechi.match.matching import run_matching

    sha = previewed_images(loaded)[0]
    create_bank(loaded, BANK, description="benign test bank")
    add_blobs(loaded, BANK, [sha], labels=["test-label"])
    if not integrations.bank_matches(loaded, [sha]):
        run_matching(loaded)
    assert integrations.bank_matches(loaded, [sha]), "the bank item did not match its own file"
    return sha
