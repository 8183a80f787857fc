"""A data directory is its owner's only, whatever the umask (issue 17, point 5).

Reproduced first: `haechi init` left the folder and vault 0755 and the database, its -wal
and -shm 0644 under the usual umask 022 (0777/0666 under umask 000), readable by every
local user, and the vault unencrypted.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from tests.helpers import haechi, make_export

from haechi.app import init_home, open_app
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.run.hooks import run_ingest_hooks
from haechi.run.ingest import Ingestor
from haechi.run.verify import verify


@pytest.fixture
def umask(request: pytest.FixtureRequest) -> Iterator[int]:
    old = os.umask(request.param)
    yield request.param
    os.umask(old)


def _wide(home: Path) -> list[str]:
    """Everything under ``home`` that another user could read or enter."""
    found = []
    for path in [home, *home.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            continue
        if mode & 0o077:
            found.append(f"{path.relative_to(home.parent)} {oct(mode)}")
    return found


@pytest.mark.parametrize("umask", [0o000, 0o022], indirect=True)
def test_everything_in_the_data_directory_is_private(tmp_path: Path, umask: int) -> None:
    home = tmp_path / "home"
    app = init_home(home)
    try:
        export = make_export(tmp_path / "export", messages=300, media=4, seed=5)
        report = Ingestor(app, TelegramExportCollector(export)).run()
        run_ingest_hooks(app, report)  # the search index, counts, watch
        with app.db.connect():  # while a connection is open, the -wal and -shm exist
            names = {p.name for p in home.rglob("*")}
            assert {"haechi.db", "haechi.db-wal", "haechi.db-shm", "vault.key"} <= names
            assert {"search.sqlite", "custody_ed25519.pem"} <= names
            assert _wide(home) == []
    finally:
        app.close()
    os.umask(umask)  # init_home set the process's own; a new process starts with this one
    more = make_export(tmp_path / "more", messages=50, media=2, seed=6)
    for args in (("ingest", str(more)), ("verify",)):
        proc = haechi(*args, home=home)
        assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _wide(home) == []


@pytest.mark.parametrize("umask", [0o022], indirect=True)
def test_new_data_directories_encrypt_their_vault(tmp_path: Path, umask: int) -> None:
    app = init_home(tmp_path / "home")
    try:
        assert app.settings.vault_encrypt and app.vault.encrypted
        stored = app.vault.put_bytes(b"an original")
        assert app.vault.path_for(stored.sha256).read_bytes().startswith(b"HAECHIV1")
        assert "encrypt = true" in app.settings.config_path.read_text()
    finally:
        app.close()
    plain = init_home(tmp_path / "plain", encrypt=False)  # `haechi init --no-encrypt`
    try:
        assert not plain.vault.encrypted and not plain.settings.vault_key_path.exists()
    finally:
        plain.close()


def test_init_makes_an_older_wide_data_directory_private(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home).close()
    for path in (home, home / "vault", home / "keys"):
        path.chmod(0o755)
    for name in ("haechi.db", "haechi.toml"):
        (home / name).chmod(0o644)
    assert _wide(home)
    app = open_app(home)
    try:
        warned = verify(app, record=False).warnings
    finally:
        app.close()
    assert any(w.startswith(f"private: {home} can be read") for w in warned), warned
    init_home(home).close()
    assert _wide(home) == []
    app = open_app(home)
    try:
        result = verify(app, record=False)
        assert result.ok and not [w for w in result.warnings if w.startswith("private:")]
    finally:
        app.close()
