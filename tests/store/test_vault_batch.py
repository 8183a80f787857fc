"""Batched puts: the same objects as one put each, made durable together, nothing left
behind when a batch is abandoned."""

from __future__ import annotations

import hashlib
import os
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from haechi.store import vault_batch
from haechi.store.vault import FileTooLargeError, Vault
from haechi.store.vault_batch import VaultBatch, syncfs


def _files(folder: Path, n: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = []
    for i in range(n):
        p = folder / f"f{i}.bin"
        p.write_bytes(f"benign test file {i % (n - 2)}\n".encode() * 50)  # two duplicates
        out.append(p)
    return out


def _tmp(v: Vault) -> list[str]:
    return os.listdir(v.root / "tmp") if (v.root / "tmp").exists() else []


@pytest.mark.parametrize("have_syncfs", [True, False])
def test_a_batch_stores_what_single_puts_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, have_syncfs: bool
) -> None:
    if not have_syncfs:  # the fallback: an fsync per file and per directory
        monkeypatch.setattr(vault_batch, "_SYNCFS", None)
    elif vault_batch._SYNCFS is None:
        pytest.skip("no syncfs on this system")
    files = _files(tmp_path / "src", 40)
    batched, single = Vault(tmp_path / "a"), Vault(tmp_path / "b")
    with VaultBatch(batched) as batch, ThreadPoolExecutor(4) as pool:
        staged = list(pool.map(batch.put_file, files))
        assert not list(batched.iter_objects())  # nothing is an object before the commit
        batch.commit()
    expected = [single.put_file(f) for f in files]
    got = [s.stored for s in staged]
    assert [(g.sha256, g.md5, g.size) for g in got if g] == [
        (e.sha256, e.md5, e.size) for e in expected
    ]
    assert sum(g.created for g in got if g) == 38  # the two duplicates deduplicated
    assert sorted(batched.iter_objects()) == sorted(single.iter_objects())
    for f, g in zip(files, got, strict=True):
        assert g is not None and batched.read_bytes(g.sha256) == f.read_bytes()
        mode = os.stat(batched.path_for(g.sha256)).st_mode
        assert not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH)
        assert hashlib.sha256(f.read_bytes()).hexdigest() == g.sha256
    assert _tmp(batched) == []


def test_an_abandoned_batch_leaves_nothing(tmp_path: Path) -> None:
    v = Vault(tmp_path / "v")
    files = _files(tmp_path / "src", 5)
    with VaultBatch(v) as batch:
        for f in files:
            batch.put_file(f)
        assert len(_tmp(v)) == 5  # staged, locked temp files
    assert _tmp(v) == [] and not list(v.iter_objects())


def test_batch_limits_and_errors_are_the_single_puts(tmp_path: Path) -> None:
    v = Vault(tmp_path / "v")
    big = tmp_path / "big.bin"
    big.write_bytes(b"x" * 2048)
    with VaultBatch(v) as batch:
        with pytest.raises(FileTooLargeError):
            batch.put_file(big, max_bytes=1024)
        with pytest.raises(FileNotFoundError):
            batch.put_file(tmp_path / "missing.bin")
        batch.commit()
    assert _tmp(v) == [] and not list(v.iter_objects())


def test_syncfs_flushes_or_says_it_cannot(tmp_path: Path) -> None:
    fd = os.open(tmp_path, os.O_RDONLY)
    try:
        assert syncfs(fd) is (vault_batch._SYNCFS is not None)
    finally:
        os.close(fd)
