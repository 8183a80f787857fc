"""Settings: file, environment, validation."""

from __future__ import annotations

from pathlib import Path

import pytest

from haechi.config import ENV_VARS, load_settings, read_config_file, render_config, sqlite_url
from haechi.domain import DataDirError


def test_defaults_use_sqlite_in_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    s = load_settings(tmp_path)
    assert s.database_url == sqlite_url(tmp_path)
    assert s.vault_dir == tmp_path / "vault"
    assert not s.vault_encrypt and s.workers >= 1


def test_file_then_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    (tmp_path / "haechi.toml").write_text(
        '[custody]\noperator = "kim"\n[run]\nworkers = 3\n[vault]\nencrypt = true\n'
    )
    s = load_settings(tmp_path)
    assert (s.operator, s.workers, s.vault_encrypt) == ("kim", 3, True)
    monkeypatch.setenv("HAECHI_OPERATOR", "lee")
    monkeypatch.setenv("HAECHI_WORKERS", "5")
    monkeypatch.setenv("HAECHI_VAULT_ENCRYPT", "0")
    monkeypatch.setenv("HAECHI_DATABASE_URL", "postgresql+psycopg://u@h/db")
    s = load_settings(tmp_path)
    assert (s.operator, s.workers, s.vault_encrypt) == ("lee", 5, False)
    assert s.database_url == "postgresql+psycopg://u@h/db"


def test_home_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAECHI_HOME", str(tmp_path / "x"))
    assert load_settings().home == (tmp_path / "x").resolve()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[vault]\nencrypt = 1\n", "wrong type"),
        ("[vault]\nencrypted = true\n", "Unknown setting vault.encrypted"),
        ("[nope]\nx = 1\n", "Unknown section"),
        ("[vault\n", "not valid TOML"),
    ],
)
def test_bad_file_is_one_sentence(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "haechi.toml"
    path.write_text(content)
    with pytest.raises(DataDirError, match=message):
        read_config_file(path)


def test_bad_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HAECHI_WORKERS", "many")
    with pytest.raises(DataDirError, match="HAECHI_WORKERS must be a whole number"):
        load_settings(tmp_path)


def test_rendered_file_reads_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    s = load_settings(tmp_path)
    (tmp_path / "haechi.toml").write_text(render_config(s))
    assert load_settings(tmp_path) == s


def test_an_operator_named_at_init_is_written_and_read_back(tmp_path: Path) -> None:
    from haechi.app import init_home

    app = init_home(tmp_path / "d", operator='Kim "Ji-woo" 김지우')
    try:
        assert app.settings.operator == 'Kim "Ji-woo" 김지우'
    finally:
        app.close()
    again = load_settings(tmp_path / "d")
    assert (again.operator, again.operator_source) == ('Kim "Ji-woo" 김지우', "file")
    # an existing directory's settings are never changed by a later init naming someone else
    init_home(tmp_path / "d", operator="Someone Else").close()
    assert load_settings(tmp_path / "d").operator == 'Kim "Ji-woo" 김지우'
