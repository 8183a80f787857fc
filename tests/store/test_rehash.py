"""Re-hashing for `haechi verify`: every object reported exactly once, each kind of damage
named, plain and encrypted objects alike, and the expected rows consumed lazily."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from haechi.store import rehash
from haechi.store.rehash import ObjectCheck, rehash_objects, sha256_file
from haechi.store.vault import Vault
from haechi.store.vaultcrypto import generate_key

SIZES = [0, 1, 5, 100, 4096, rehash.BUFFER_SIZE - 1, rehash.BUFFER_SIZE, 3 * rehash.BUFFER_SIZE + 7]


def fill(v: Vault, n_small: int = 40) -> list[tuple[str, int]]:
    rows = []
    for size in SIZES:
        stored = v.put_bytes(os.urandom(size))
        rows.append((stored.sha256, stored.size))
    for i in range(n_small):
        stored = v.put_bytes(b"HAECHI" + os.urandom(i) if i % 10 == 0 else os.urandom(10 + i))
        rows.append((stored.sha256, stored.size))
    return rows


def by_sha(checks: Iterator[ObjectCheck]) -> dict[str, ObjectCheck]:
    out: dict[str, ObjectCheck] = {}
    for check in checks:
        assert check.sha256 not in out, "reported twice"
        out[check.sha256] = check
    return out


def make_writable(path: Path) -> None:
    os.chmod(path, 0o644)


@pytest.fixture(params=["plain", "encrypted"])
def vault(request: pytest.FixtureRequest, tmp_path: Path) -> Vault:
    return Vault(tmp_path / "vault", key=generate_key() if request.param == "encrypted" else None)


@pytest.mark.parametrize("workers", [1, 2, 5])
def test_all_intact_objects_are_ok(vault: Vault, workers: int) -> None:
    rows = fill(vault)
    results = by_sha(rehash_objects(vault, rows, workers=workers))
    assert results.keys() == {sha for sha, _ in rows}
    for sha, size in rows:
        assert results[sha] == ObjectCheck(sha, "ok", sha, size, None)


def test_damage_is_detected_and_everything_else_is_ok(tmp_path: Path) -> None:
    v = Vault(tmp_path / "vault")
    rows = fill(v)
    big = next(sha for sha, size in rows if size == 3 * rehash.BUFFER_SIZE + 7)
    flipped, deleted, truncated = rows[3][0], rows[10][0], big
    # a flipped byte
    path = v.path_for(flipped)
    make_writable(path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(data)
    # a deleted file
    v.path_for(deleted).unlink()
    # a truncated file
    make_writable(v.path_for(truncated))
    os.truncate(v.path_for(truncated), rehash.BUFFER_SIZE + 5)
    results = by_sha(rehash_objects(v, iter(rows), workers=2))
    assert len(results) == len(rows)
    assert results[flipped].status == "altered"
    assert results[flipped].actual_sha256 == hashlib.sha256(data).hexdigest()
    assert results[flipped].size == len(data)
    assert "content changed" in (results[flipped].detail or "")
    assert results[deleted] == ObjectCheck(
        deleted, "missing", None, None, "the file is not in the vault"
    )
    assert results[truncated].status == "altered"
    assert results[truncated].size == rehash.BUFFER_SIZE + 5
    assert results[truncated].actual_sha256 == sha256_file(v.path_for(truncated))
    damaged = {flipped, deleted, truncated}
    assert all(c.status == "ok" for s, c in results.items() if s not in damaged)
    assert sum(c.status == "ok" for c in results.values()) == len(rows) - 3


def test_damage_to_encrypted_objects(tmp_path: Path) -> None:
    key = generate_key()
    v = Vault(tmp_path / "vault", key=key)
    rows = fill(v, n_small=5)
    big = next(sha for sha, size in rows if size == 3 * rehash.BUFFER_SIZE + 7)
    flipped, truncated = rows[4][0], big
    path = v.path_for(flipped)
    make_writable(path)
    data = bytearray(path.read_bytes())
    data[-3] ^= 0x80
    path.write_bytes(data)
    make_writable(v.path_for(truncated))
    os.truncate(v.path_for(truncated), v.path_for(truncated).stat().st_size - 100)
    results = by_sha(rehash_objects(v, rows, workers=2))
    for sha in (flipped, truncated):
        assert results[sha].status == "altered"
        assert "wrong key or altered file" in (results[sha].detail or "")
    assert sum(c.ok for c in results.values()) == len(rows) - 2
    # the wrong key is not "altered": it proves nothing about the files
    wrong = by_sha(rehash_objects(Vault(v.root, key=generate_key()), rows, workers=2))
    encrypted = [sha for sha, _ in rows if sha not in (flipped, truncated)]
    assert {wrong[sha].status for sha in encrypted} == {"unreadable"}
    nokey = by_sha(rehash_objects(Vault(v.root), rows[:3]))
    assert {c.status for c in nokey.values()} == {"unreadable"}
    assert "no vault key" in (next(iter(nokey.values())).detail or "")


def test_mixed_plain_and_encrypted(tmp_path: Path) -> None:
    key = generate_key()
    rows = fill(Vault(tmp_path / "vault"), n_small=5)
    enc = Vault(tmp_path / "vault", key=key)
    for size in (1, 5000, 2 * rehash.BUFFER_SIZE + 1):
        stored = enc.put_bytes(os.urandom(size))
        assert enc.path_for(stored.sha256).read_bytes().startswith(b"HAECHIV1")
        rows.append((stored.sha256, stored.size))
    results = by_sha(rehash_objects(enc, rows))
    assert len(results) == len(rows) and all(c.ok for c in results.values())


def test_size_mismatch_and_bad_names(tmp_path: Path) -> None:
    v = Vault(tmp_path / "vault")
    a = v.put_bytes(b"a" * 100)
    b = v.put_bytes(b"b" * 100)
    os.makedirs(v.path_for(hashlib.sha256(b"dir").hexdigest()))
    rows: list[tuple[str, int | None]] = [
        (a.sha256, 99),  # the database is wrong, the file is fine
        (b.sha256, None),  # size unknown: only the hash is checked
        ("../../etc/passwd", 10),
        (hashlib.sha256(b"dir").hexdigest(), 1),  # a directory where a file should be
    ]
    results = by_sha(rehash_objects(v, rows, workers=2))
    assert results[a.sha256].status == "size_mismatch"
    assert results[a.sha256].actual_sha256 == a.sha256 and results[a.sha256].size == 100
    assert results[b.sha256].status == "ok"
    assert results["../../etc/passwd"].status == "unreadable"
    assert results[hashlib.sha256(b"dir").hexdigest()].status == "unreadable"


def test_expected_rows_are_consumed_lazily(tmp_path: Path) -> None:
    """A million-row cursor must not be read ahead: only the batches in flight."""
    v = Vault(tmp_path / "vault")
    stored = v.put_bytes(b"present")
    consumed = 0

    def cursor() -> Iterator[tuple[str, int | None]]:
        nonlocal consumed
        for i in range(1_000_000):
            consumed += 1
            yield (stored.sha256, 7) if i % 2 else (f"{i:064x}", 10)

    workers = 2
    results = rehash_objects(v, cursor(), workers=workers)
    first = [next(results) for _ in range(10)]
    assert {c.status for c in first} <= {"ok", "missing"}
    bound = (2 * workers + 2) * rehash.BATCH_FILES
    assert consumed <= bound
    results.close()  # stopping early shuts the pool down without hanging
    assert consumed <= bound


def test_many_rows_all_reported(tmp_path: Path) -> None:
    v = Vault(tmp_path / "vault")
    rows = [(v.put_bytes(i.to_bytes(4, "big")).sha256, 4) for i in range(700)]
    rows += [(f"{i:064x}", 1) for i in range(300)]  # never stored
    statuses = [c.status for c in rehash_objects(v, (r for r in rows), workers=3)]
    assert len(statuses) == 1000
    assert statuses.count("ok") == 700 and statuses.count("missing") == 300


def test_sha256_file(tmp_path: Path) -> None:
    for size in (0, 10, rehash.BUFFER_SIZE * 2 + 1):
        data = os.urandom(size)
        (tmp_path / "f").write_bytes(data)
        assert sha256_file(tmp_path / "f") == hashlib.sha256(data).hexdigest()
        assert sha256_file(str(tmp_path / "f")) == hashlib.sha256(data).hexdigest()
