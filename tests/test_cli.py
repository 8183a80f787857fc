"""The real `haechi` command: bad input gets one sentence and a non-zero exit, never a trace.

What only sets a test up (a data directory, an export ingested to be tampered with) runs
through the same entry point in this process (``haechi_here``); what is checked runs in a
process of its own."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
from pathlib import Path

import pytest
from tests.helpers import haechi, haechi_here, haechi_json, make_export


def _no_trace(proc: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    haechi_here("init", str(h), check=True)
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
    haechi_here("ingest", str(export), home=home, check=True)
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
    haechi_here("ingest", str(export), "--no-analyze", home=home, check=True)
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
    # the export itself is in the custody log: what, where and the digest of what was written
    second = tmp_path / "log2.jsonl"
    haechi("custody", "export", str(second), home=home, check=True)
    last = json.loads(json.loads(second.read_text().splitlines()[-1])["body"])
    assert last["type"] == "export" and last["subject"].startswith("file:")
    data = last["data"]
    assert data["what"] == "custody_log" and data["path"] == str(log.resolve())
    assert data["events"] == len(lines) and data["head_seq"] == len(lines)
    original = "\n".join(lines) + "\n"  # the file as written, before the tampering above
    assert data["sha256"] == hashlib.sha256(original.encode()).hexdigest()
    assert data["bytes"] == len(original.encode())
    # "-" is standard output (a pipe to gzip or ssh), not a file named "-" in the directory
    piped = haechi("custody", "export", "-", home=home, check=True)
    assert not Path("-").exists() and piped.stdout.splitlines()[: len(lines)] == lines
    third = tmp_path / "log3.jsonl"
    haechi("custody", "export", str(third), home=home, check=True)
    event = json.loads(json.loads(third.read_text().splitlines()[-1])["body"])
    assert event["data"]["path"] == "stdout" and event["data"]["file"] == "-"
    assert event["data"]["sha256"] == hashlib.sha256(piped.stdout.encode()).hexdigest()


def _swap_events(db: Path, a: int, b: int) -> None:
    cols = ["body", "prev_hash", "hash", "signature", "key_id", "at", "event_type", "subject"]
    with sqlite3.connect(db) as conn:
        rows = {
            seq: conn.execute(
                f"SELECT {', '.join(cols)} FROM custody_events WHERE seq = ?", (seq,)
            ).fetchone()
            for seq in (a, b)
        }
        sets = ", ".join(f"{c} = ?" for c in cols)
        conn.execute("UPDATE custody_events SET hash = 'swap' WHERE seq = ?", (a,))  # unique
        conn.execute(f"UPDATE custody_events SET {sets} WHERE seq = ?", (*rows[a], b))
        conn.execute(f"UPDATE custody_events SET {sets} WHERE seq = ?", (*rows[b], a))


def test_swapped_events_are_named(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=50, media=2)
    haechi_here("ingest", str(export), "--no-analyze", home=home, check=True)
    assert haechi("verify", home=home).returncode == 0
    _swap_events(home / "haechi.db", 3, 4)
    proc = haechi("verify", home=home)
    assert proc.returncode == 1
    _no_trace(proc)
    assert "reordered: event 3" in proc.stdout, proc.stdout
    problems = json.loads(haechi("verify", "--json", home=home).stdout)["chain_problems"]
    assert any(p.startswith("reordered: event 3") for p in problems)


def test_forged_signature_is_named(home: Path, tmp_path: Path) -> None:
    from haechi.store.keys import generate_keypair

    export = make_export(tmp_path / "ex", messages=50, media=2)
    haechi_here("ingest", str(export), "--no-analyze", home=home, check=True)
    other = generate_keypair(tmp_path / "other.pem", tmp_path / "other.pub.pem")
    with sqlite3.connect(home / "haechi.db") as conn:
        body = conn.execute("SELECT body FROM custody_events WHERE seq = 4").fetchone()[0]
        # signed by another key but presented under the data directory's key id
        conn.execute(
            "UPDATE custody_events SET signature = ? WHERE seq = 4", (other.sign(body.encode()),)
        )
    proc = haechi("verify", home=home)
    assert proc.returncode == 1
    _no_trace(proc)
    assert "forged: event 4" in proc.stdout, proc.stdout


def test_encrypted_vault_stays_readable_after_encryption_is_switched_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    home = tmp_path / "enc"
    haechi("init", str(home), "--encrypt", check=True)
    export = make_export(tmp_path / "ex", messages=80, media=2)
    haechi("ingest", str(export), "--no-analyze", home=home, check=True)
    off = {"HAECHI_VAULT_ENCRYPT": "0"}
    proc = haechi("verify", home=home, env=off)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # new files are now stored plain, next to the encrypted ones
    more = make_export(tmp_path / "ex2", messages=20, media=1, seed=7)
    haechi("ingest", str(more), "--no-analyze", home=home, env=off, check=True)
    assert haechi("verify", home=home, env=off).returncode == 0
    monkeypatch.setenv("HAECHI_VAULT_ENCRYPT", "0")
    from haechi.app import open_app

    app = open_app(home)
    try:
        assert not app.vault.encrypted
        photo = next((export / "photos").iterdir())
        sha = hashlib.sha256(photo.read_bytes()).hexdigest()
        assert app.vault.path_for(sha).read_bytes().startswith(b"HAECHIV1")  # encrypted
        assert app.vault.read_bytes(sha) == photo.read_bytes()
    finally:
        app.close()
    victim = app.vault.path_for(sha)
    victim.chmod(0o644)
    data = bytearray(victim.read_bytes())
    data[-5] ^= 0x01
    victim.write_bytes(bytes(data))
    proc = haechi("verify", home=home, env=off)
    assert proc.returncode == 1
    _no_trace(proc)
    assert f"vault object {sha}" in proc.stdout and "altered" in proc.stdout, proc.stdout


def test_file_over_the_size_limit_is_counted_not_fatal(home: Path, tmp_path: Path) -> None:
    export = make_export(tmp_path / "ex", messages=60, media=2)
    big = sorted((export / "photos").iterdir())[0]
    big.write_bytes(os.urandom(3 << 19))  # 1.5 MiB of noise
    limit = {"HAECHI_MAX_FILE_MB": "1"}
    for _ in range(2):  # and a rerun does not fail either
        proc = haechi("ingest", str(export), "--json", "--no-analyze", home=home, env=limit)
        assert proc.returncode == 0, proc.stderr
        report = json.loads(proc.stdout)
        assert report["files_too_large"] == 1 and report["not_stored"] == [
            big.relative_to(export).as_posix()
        ]
    proc = haechi("ingest", str(export), "--no-analyze", home=home, env=limit)
    assert "not stored (over max_file_mb)" in proc.stdout and "vault.max_file_mb" in proc.stdout


def test_unexpected_error_gets_one_sentence_and_a_log(tmp_path: Path) -> None:
    home = tmp_path / "damaged"
    haechi_here("init", str(home), check=True)
    for name in ("haechi.db-wal", "haechi.db-shm"):
        (home / name).unlink(missing_ok=True)
    (home / "haechi.db").write_bytes(b"this is not an SQLite database, just damage " * 40)
    proc = haechi("verify", home=home)
    assert proc.returncode == 70
    _no_trace(proc)
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "unexpected internal error" in lines[0] and "--debug" in lines[0]
    (log,) = (home / "logs").iterdir()
    assert str(log) in lines[0]
    details = log.read_text()
    assert "Traceback" in details and "DatabaseError" in details and "verify" in details
    assert log.stat().st_mode & 0o777 == 0o600
    debug = haechi("--debug", "verify", home=home)
    assert debug.returncode != 0 and "Traceback" in debug.stderr


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
    if not _mount_tmpfs(mnt, "8m"):  # an empty database (16 KiB pages) takes ~3 MB
        pytest.skip("needs root and tmpfs mounts to make a real full disk")
    try:
        haechi("init", str(mnt / "h"), check=True)
        export = tmp_path / "ex"
        make_export(export, messages=20, media=1)
        big = next((export / "photos").iterdir())
        big.write_bytes(os.urandom(12 * 1024 * 1024))  # bigger than the disk
        proc = haechi("ingest", str(export), home=mnt / "h")
        assert proc.returncode != 0
        _no_trace(proc)
        assert "full" in proc.stderr.lower()
    finally:
        subprocess.run(["umount", "-l", str(mnt)], check=False)
