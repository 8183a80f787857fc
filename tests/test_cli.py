"""The real `haechi` command: bad input gets one sentence and a non-zero exit, never a trace."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tests.helpers import haechi, haechi_json, make_export


def _no_trace(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    haechi("init", str(h), check=True)
    return h


def test_init_creates_data_directory(tmp_path: Path) -> None:
    h = tmp_path / "new"
    proc = haechi("init", str(h), check=True)
    assert "ready" in proc.stdout
    for name in ("haechi.toml", "haechi.db", "vault", "keys/custody_ed25519.pem"):
        assert (h / name).exists(), name
    assert (h / "keys/custody_ed25519.pem").stat().st_mode & 0o777 == 0o600
    pem = haechi("custody", "public-key", home=h, check=True).stdout
    assert pem.startswith("-----BEGIN PUBLIC KEY-----")
    assert haechi("init", str(h)).returncode == 0  # idempotent


def test_ingest_and_verify_json(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=1200, media=10)
    data = haechi_json("ingest", str(export), home=home)
    assert data["messages"] >= 1200 and data["files_captured_new"] == 11  # + result.json
    for key in ("chats", "messages", "files_referenced", "bytes_stored_new", "missing", "warnings"):
        assert key in data
    again = haechi_json("ingest", str(export), home=home)
    assert again["messages_new"] == 0 and again["files_captured_new"] == 0
    result = haechi_json("verify", home=home)
    assert result["ok"] and result["objects"] == 11 and not result["problems"]


def test_tampered_vault_file_is_named(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=300, media=3)
    haechi("ingest", str(export), home=home, check=True)
    vault = home / "vault"
    victim = sorted(
        p for p in vault.rglob("*") if p.is_file() and "tmp" not in p.relative_to(vault).parts
    )[0]
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    proc = haechi("verify", home=home)
    assert proc.returncode == 1
    assert f"altered: vault object {victim.name}" in proc.stdout
    victim.unlink()
    proc = haechi("verify", "--json", home=home)
    assert proc.returncode == 1
    problems = json.loads(proc.stdout)["problems"]
    assert any(p.startswith(f"missing: vault object {victim.name}") for p in problems)


def test_exported_log_verifies_offline(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=100, media=2)
    haechi("ingest", str(export), home=home, check=True)
    log = tmp_path / "log.jsonl"
    haechi("custody", "export", str(log), home=home, check=True)
    key = tmp_path / "pub.pem"
    key.write_text(haechi("custody", "public-key", home=home, check=True).stdout)
    ok = haechi("verify", "--log", str(log), "--public-key", str(key))
    assert ok.returncode == 0 and "OK" in ok.stdout
    lines = log.read_text().splitlines()
    log.write_text("\n".join(lines[:2] + lines[3:]) + "\n")
    bad = haechi("verify", "--log", str(log), "--public-key", str(key))
    assert bad.returncode == 1 and "missing: event 3" in bad.stdout


@pytest.mark.parametrize(
    ("setup", "expect"),
    [
        ("missing", "does not exist"),
        ("empty", "empty"),
        ("notexport", "not a Telegram"),
        ("html", "JSON"),
    ],
)
def test_bad_paths_get_one_sentence(home: Path, tmp_path: Path, setup: str, expect: str) -> None:
    target = tmp_path / "input"
    if setup == "empty":
        target.mkdir()
    elif setup == "notexport":
        target.mkdir()
        (target / "result.json").write_text('{"foo": 1}')
    elif setup == "html":
        target.mkdir()
        (target / "messages.html").write_text("<html><body>export</body></html>")
    proc = haechi("ingest", str(target), home=home)
    assert proc.returncode != 0
    _no_trace(proc)
    assert expect.lower() in proc.stderr.lower(), proc.stderr
    assert len(proc.stderr.strip().splitlines()) <= 3


def test_truncated_json_names_the_byte_offset_and_resumes(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=12000, media=0)
    data = (export / "result.json").read_bytes()
    cut = tmp_path / "cut"
    cut.mkdir()
    (cut / "result.json").write_bytes(data[: len(data) * 2 // 3])
    proc = haechi("ingest", str(cut), home=home)
    assert proc.returncode != 0
    _no_trace(proc)
    assert "byte" in proc.stderr
    # what was committed before the damage is consistent: verify passes
    assert haechi("verify", home=home).returncode == 0
    # the complete export then ingests fully, without duplicates
    expected = len(json.loads(data)["messages"])
    data2 = haechi_json("ingest", str(export), home=home)
    assert data2["messages"] == expected
    with sqlite3.connect(home / "haechi.db") as conn:
        rows, distinct = conn.execute(
            "SELECT count(*), count(DISTINCT chat_id || ':' || message_id) FROM messages"
        ).fetchone()
    assert rows == distinct == expected
    assert haechi("verify", home=home).returncode == 0


def test_not_initialised_home(tmp_path: Path) -> None:
    proc = haechi("verify", home=tmp_path / "nothing")
    assert proc.returncode != 0
    _no_trace(proc)
    assert "haechi init" in proc.stderr


def _mount_tmpfs(path: Path, size: str) -> bool:
    path.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0 or shutil.which("mount") is None:
        return False
    return (
        subprocess.run(
            ["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(path)], capture_output=True
        ).returncode
        == 0
    )


def test_read_only_data_directory(tmp_path: Path) -> None:
    mnt = tmp_path / "ro"
    if not _mount_tmpfs(mnt, "20m"):
        pytest.skip("needs root and tmpfs mounts to make a real read-only file system")
    try:
        haechi("init", str(mnt / "h"), check=True)
        export = make_export(tmp_path / "ex", messages=50, media=1)
        subprocess.run(["mount", "-o", "remount,ro", str(mnt)], check=True)
        proc = haechi("ingest", str(export), home=mnt / "h")
        assert proc.returncode != 0
        _no_trace(proc)
        assert "read-only" in proc.stderr.lower()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_full_disk(tmp_path: Path) -> None:
    mnt = tmp_path / "full"
    if not _mount_tmpfs(mnt, "3m"):
        pytest.skip("needs root and tmpfs mounts to make a real full disk")
    try:
        haechi("init", str(mnt / "h"), check=True)
        export = tmp_path / "ex"
        make_export(export, messages=20, media=1)
        big = next((export / "photos").iterdir())
        big.write_bytes(os.urandom(4 * 1024 * 1024))  # bigger than the disk
        proc = haechi("ingest", str(export), home=mnt / "h")
        assert proc.returncode != 0
        _no_trace(proc)
        assert "full" in proc.stderr.lower()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
