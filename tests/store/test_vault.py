"""The evidence vault: write-once, deduplicated, source untouched, crash- and full-disk-safe,
plain and encrypted objects side by side under the plaintext SHA-256."""

from __future__ import annotations

import errno
import hashlib
import io
import os
import stat
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from haechi.domain import DataDirError, VaultError
from haechi.store import vault as vault_mod
from haechi.store import vaultcrypto
from haechi.store.vault import Vault
from haechi.store.vaultformat import PLAIN_MAGIC, PlainSink

OLD = 1_500_000_000  # 2017: a timestamp nothing in this test would produce by itself


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def temp_files(v: Vault) -> list[Path]:
    tmp = v.root / "tmp"
    return sorted(tmp.iterdir()) if tmp.exists() else []


@pytest.fixture
def vault(tmp_path: Path) -> Vault:
    return Vault(tmp_path / "vault")


@pytest.fixture
def key() -> bytes:
    return vaultcrypto.generate_key()


def test_put_file_stores_under_plaintext_sha256(vault: Vault, tmp_path: Path) -> None:
    data = os.urandom(3 * vault_mod.CHUNK + 17)  # several chunks
    src = tmp_path / "video.mp4"
    src.write_bytes(data)
    stored = vault.put_file(src)
    assert stored.sha256 == sha(data)
    assert stored.md5 == hashlib.md5(data).hexdigest()
    assert (stored.size, stored.created) == (len(data), True)
    path = vault.path_for(stored.sha256)
    assert path == vault.root / "objects" / stored.sha256[:2] / stored.sha256[2:4] / stored.sha256
    assert path.read_bytes() == data  # plain objects are the bytes: sha256sum confirms them
    assert vault.exists(stored.sha256) and vault.read_bytes(stored.sha256) == data
    with vault.open(stored.sha256) as f:
        assert f.read(10) == data[:10]
    assert temp_files(vault) == []
    assert not vault.encrypted


def test_objects_are_read_only(vault: Vault) -> None:
    stored = vault.put_bytes(b"read-only evidence")
    mode = stat.S_IMODE(vault.path_for(stored.sha256).stat().st_mode)
    assert mode == 0o400  # read-only, and nobody else's to read (issue 17)


@pytest.mark.parametrize("umask", [0o000, 0o022])
def test_objects_and_folders_are_private_whatever_the_umask(tmp_path: Path, umask: int) -> None:
    old = os.umask(umask)
    try:
        vault = Vault(tmp_path / f"v{umask}")
        stored = vault.put_bytes(b"private evidence")
    finally:
        os.umask(old)
    path = vault.path_for(stored.sha256)
    assert stat.S_IMODE(path.stat().st_mode) == 0o400
    for folder in (path.parent, path.parent.parent, vault.root / "objects"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700, folder


def test_write_once_same_content_twice(vault: Vault, tmp_path: Path) -> None:
    src = tmp_path / "a.jpg"
    src.write_bytes(b"same content" * 1000)
    first = vault.put_file(src)
    obj = vault.path_for(first.sha256)
    os.utime(obj, (OLD, OLD))  # so that any rewrite would show in the mtime
    before = obj.stat()
    second = vault.put_file(src)
    assert second == vault_mod.StoredObject(first.sha256, first.md5, first.size, created=False)
    after = obj.stat()
    assert (after.st_ino, after.st_mtime_ns, after.st_nlink) == (
        before.st_ino,
        before.st_mtime_ns,
        1,
    )
    assert list(vault.iter_objects()) == [first.sha256]
    assert temp_files(vault) == []


def test_dedupe_across_names_and_apis(vault: Vault, tmp_path: Path) -> None:
    data = os.urandom(5000)
    (tmp_path / "one.png").write_bytes(data)
    (tmp_path / "copy of one.png").write_bytes(data)
    results = [
        vault.put_file(tmp_path / "one.png"),
        vault.put_file(tmp_path / "copy of one.png"),
        vault.put_bytes(data),
        vault.put_stream(io.BytesIO(data)),
    ]
    assert [r.created for r in results] == [True, False, False, False]
    assert {r.sha256 for r in results} == {sha(data)}
    assert list(vault.iter_objects()) == [sha(data)]


def test_concurrent_writers_of_the_same_content(vault: Vault) -> None:
    data = os.urandom(200_000)
    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(lambda _: vault.put_bytes(data), range(16)))
    assert sum(r.created for r in results) == 1
    assert list(vault.iter_objects()) == [sha(data)]
    assert vault.read_bytes(sha(data)) == data
    assert temp_files(vault) == []


def test_source_is_untouched(vault: Vault, tmp_path: Path) -> None:
    src = tmp_path / "evidence.mp4"
    data = os.urandom(2 * vault_mod.CHUNK + 1)
    src.write_bytes(data)
    os.chmod(src, 0o444)
    os.utime(src, (OLD, OLD))
    before = src.stat()
    vault.put_file(src)
    vault.put_file(src)
    after = src.stat()
    assert src.read_bytes() == data
    assert after.st_mtime_ns == before.st_mtime_ns
    assert after.st_ctime_ns == before.st_ctime_ns  # no chmod, no write, no rename
    assert (after.st_mode, after.st_ino, after.st_size) == (
        before.st_mode,
        before.st_ino,
        before.st_size,
    )
    if getattr(os, "O_NOATIME", 0):
        # With relatime, an atime older than the mtime would be updated by a normal read.
        assert after.st_atime_ns == before.st_atime_ns


@pytest.mark.parametrize(
    "bad",
    [
        "../../../etc/passwd",
        "ab/../../cd",
        "A" * 64,  # upper case: one object must have one name
        "a" * 63,
        "a" * 65,
        "g" * 64,
        "",
        "/" + "a" * 63,
        "a" * 62 + "\n",
    ],
)
def test_path_for_rejects_non_hex_and_traversal(vault: Vault, bad: str) -> None:
    with pytest.raises(VaultError, match="not a SHA-256"):
        vault.path_for(bad)
    with pytest.raises(VaultError):
        vault.open(bad)


def test_temp_cleanup_after_killed_write(tmp_path: Path) -> None:
    """A real crash: a writer process is SIGKILLed halfway through a file."""
    root = tmp_path / "vault"
    script = (
        "import sys; from pathlib import Path; from haechi.store.vault import Vault; "
        "Vault(Path(sys.argv[1])).put_stream(sys.stdin.buffer)"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(root)], stdin=subprocess.PIPE)
    assert proc.stdin is not None
    try:
        proc.stdin.write(os.urandom(3 * vault_mod.CHUNK))
        proc.stdin.flush()
        deadline = time.monotonic() + 30
        v = Vault(root)
        while not any(p.stat().st_size >= 2 * vault_mod.CHUNK for p in temp_files(v)):
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.05)
        assert v.cleanup_temp() == 0  # the writer is alive: its temp file is locked
        assert len(temp_files(v)) == 1
    finally:
        proc.kill()
        proc.wait()
    assert v.cleanup_temp() == 1
    assert temp_files(v) == []
    assert list(v.iter_objects()) == []
    assert v.cleanup_temp() == 0


def test_temp_cleanup_of_a_leftover_file(vault: Vault) -> None:
    vault.put_bytes(b"makes the directories")
    (vault.root / "tmp" / "put-leftover.part").write_bytes(b"half a file")
    assert vault.cleanup_temp() == 1
    assert temp_files(vault) == []
    assert Vault(vault.root.parent / "never-created").cleanup_temp() == 0


def test_max_bytes(vault: Vault, tmp_path: Path) -> None:
    src = tmp_path / "big.bin"
    src.write_bytes(b"x" * 5000)
    with pytest.raises(VaultError, match="4,999-byte limit"):
        vault.put_file(src, max_bytes=4999)
    with pytest.raises(VaultError, match="limit"):  # a stream is only known while reading
        vault.put_stream(io.BytesIO(b"x" * (3 * vault_mod.CHUNK)), max_bytes=vault_mod.CHUNK)
    assert list(vault.iter_objects()) == []
    assert temp_files(vault) == []
    assert vault.put_file(src, max_bytes=5000).created


@pytest.mark.parametrize("encrypted", [False, True])
@pytest.mark.parametrize("where", ["write", "fsync"])
def test_disk_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, encrypted: bool, where: str
) -> None:
    """ENOSPC cannot be produced safely, so the write (or the fsync, where delayed allocation
    reports it) is made to fail the way the kernel would."""
    v = Vault(tmp_path / "vault", key=vaultcrypto.generate_key() if encrypted else None)
    v.put_bytes(b"already stored")

    def full(*_args: object) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    if where == "write":
        target = vaultcrypto.StreamEncryptor if encrypted else PlainSink
        monkeypatch.setattr(target, "write", full)
    else:
        monkeypatch.setattr(vault_mod.os, "fsync", full)
    src = tmp_path / "src.bin"
    src.write_bytes(os.urandom(100_000))
    with pytest.raises(DataDirError, match="is full: free space and run the command again"):
        v.put_file(src)
    monkeypatch.undo()
    assert temp_files(v) == []
    assert list(v.iter_objects()) == [sha(b"already stored")]
    assert v.put_file(src).created  # once space is back, the same call works


def test_source_read_errors_are_not_vault_errors(vault: Vault, tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        vault.put_file(tmp_path / "absent.jpg")

    class Failing(io.RawIOBase):
        def readable(self) -> bool:
            return True

        def readinto(self, b: memoryview) -> int:  # type: ignore[override]
            raise OSError(errno.EIO, "Input/output error")

    with pytest.raises(OSError) as info:
        vault.put_stream(Failing())  # type: ignore[arg-type]
    assert info.value.errno == errno.EIO and not isinstance(info.value, DataDirError)
    assert temp_files(vault) == []


def _root_can_write_into_0555(tmp_path: Path) -> bool:
    probe = tmp_path / "probe"
    probe.mkdir()
    os.chmod(probe, 0o555)
    try:
        (probe / "x").write_bytes(b"")
        return True
    except PermissionError:
        return False
    finally:
        os.chmod(probe, 0o755)


def test_read_only_vault_directory(tmp_path: Path) -> None:
    """chmod 0o555 as a normal user. Root ignores the mode bits, so the skip names that."""
    if os.geteuid() == 0 and _root_can_write_into_0555(tmp_path):
        pytest.skip("running as root: chmod 0o555 does not stop root from writing")
    v = Vault(tmp_path / "vault")
    old = v.put_bytes(b"stored while writable")
    os.chmod(v.root / "tmp", 0o555)
    try:
        with pytest.raises(DataDirError, match="read-only: make it writable"):
            v.put_bytes(b"evidence")
        assert v.read_bytes(old.sha256) == b"stored while writable"  # still verifiable
    finally:
        os.chmod(v.root / "tmp", 0o755)


def test_immutable_vault_directory(tmp_path: Path) -> None:
    """The same as root, for real: an immutable directory (chattr +i) refuses even root."""
    v = Vault(tmp_path / "vault")
    old = v.put_bytes(b"stored while writable")
    tmp = v.root / "tmp"
    if subprocess.run(["chattr", "+i", str(tmp)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not available here (needs root and ext4/XFS/Btrfs)")
    try:
        with pytest.raises(DataDirError, match="read-only: make it writable"):
            v.put_bytes(b"evidence")
        assert v.read_bytes(old.sha256) == b"stored while writable"  # still verifiable
        assert v.cleanup_temp() == 0
    finally:
        subprocess.run(["chattr", "-i", str(tmp)], check=True)
    assert v.put_bytes(b"evidence").created


def test_iter_objects_is_sorted_and_ignores_strays(vault: Vault) -> None:
    shas = sorted(vault.put_bytes(os.urandom(64)).sha256 for _ in range(50))
    objects = vault.root / "objects"
    (objects / "README").write_text("not an object")
    (objects / shas[0][:2] / "zz").mkdir()
    (objects / shas[0][:2] / shas[0][2:4] / "notes.txt").write_text("stray")
    assert list(vault.iter_objects()) == shas
    assert list(Vault(vault.root.parent / "empty").iter_objects()) == []


def test_missing_object(vault: Vault) -> None:
    absent = sha(b"never stored")
    assert not vault.exists(absent)
    with pytest.raises(VaultError, match="missing"):
        vault.read_bytes(absent)


@pytest.mark.parametrize(
    "data", [b"HAECHI", b"HAECHIV1", b"HAECHIP1", b"HAECHIV1" + os.urandom(100), b"HAECH"]
)
def test_content_that_looks_like_a_header(tmp_path: Path, data: bytes) -> None:
    plain = Vault(tmp_path / "plain")
    stored = plain.put_bytes(data)
    assert stored.sha256 == sha(data) and plain.read_bytes(stored.sha256) == data
    on_disk = plain.path_for(stored.sha256).read_bytes()
    assert on_disk == (PLAIN_MAGIC + data if data.startswith(b"HAECHI") else data)

    class Trickle:  # a pipe that hands out the header two bytes at a time
        def __init__(self) -> None:
            self.rest = data

        def read(self, n: int) -> bytes:
            out, self.rest = self.rest[:2], self.rest[2:]
            return out

    other = Vault(tmp_path / "other")
    assert other.put_stream(Trickle()).sha256 == stored.sha256  # type: ignore[arg-type]
    assert other.path_for(stored.sha256).read_bytes() == on_disk


def test_unknown_header_is_reported(vault: Vault) -> None:
    name = sha(b"whatever")
    path = vault.path_for(name)
    path.parent.mkdir(parents=True)
    path.write_bytes(b"HAECHIX9 from the future")
    with pytest.raises(VaultError, match="unknown format"):
        vault.read_bytes(name)


def test_encrypted_round_trip_and_plaintext_identity(tmp_path: Path, key: bytes) -> None:
    data = os.urandom(2 * vaultcrypto.SEGMENT_SIZE + 3)
    plain = Vault(tmp_path / "plain")
    enc = Vault(tmp_path / "enc", key=key)
    assert enc.encrypted
    a, b = plain.put_bytes(data), enc.put_bytes(data)
    assert a.sha256 == b.sha256 == sha(data) and a.md5 == b.md5 and a.size == b.size
    on_disk = enc.path_for(b.sha256).read_bytes()
    assert on_disk.startswith(vaultcrypto.MAGIC) and data[:1000] not in on_disk
    assert enc.read_bytes(b.sha256) == data
    with enc.open(b.sha256) as f:
        assert f.read(5) == data[:5] and f.read() == data[5:]
    assert stat.S_IMODE(enc.path_for(b.sha256).stat().st_mode) == 0o400
    with pytest.raises(VaultError, match="no vault key"):
        Vault(tmp_path / "enc").read_bytes(b.sha256)
    with pytest.raises(VaultError, match="wrong key or altered file"):
        Vault(tmp_path / "enc", key=vaultcrypto.generate_key()).read_bytes(b.sha256)


def test_turning_encryption_on_later(tmp_path: Path, key: bytes) -> None:
    root = tmp_path / "vault"
    old = Vault(root).put_bytes(b"stored before encryption")
    v = Vault(root, key=key)
    new = v.put_bytes(b"stored after encryption")
    assert v.read_bytes(old.sha256) == b"stored before encryption"
    assert v.read_bytes(new.sha256) == b"stored after encryption"
    ino = v.path_for(old.sha256).stat().st_ino
    again = v.put_bytes(b"stored before encryption")  # dedup across formats
    assert not again.created and v.path_for(old.sha256).stat().st_ino == ino
    # a key only for reading: new objects plain again
    reader = Vault(root, key=key, encrypt=False)
    assert not reader.encrypted
    third = reader.put_bytes(b"plain again")
    assert reader.path_for(third.sha256).read_bytes() == b"plain again"
    assert reader.read_bytes(new.sha256) == b"stored after encryption"
    with pytest.raises(VaultError):
        Vault(root, encrypt=True)
    with pytest.raises(VaultError, match="32 bytes"):
        Vault(root, key=b"short")


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.binary(max_size=3000), encrypted=st.booleans())
def test_round_trip_property(tmp_path: Path, data: bytes, encrypted: bool) -> None:
    # One folder per mode: hypothesis reuses tmp_path across examples, and a vault is either
    # encrypted or not (a plaintext object read back with a key, or the reverse, is refused).
    v = Vault(tmp_path / ("enc" if encrypted else "plain"), key=b"k" * 32 if encrypted else None)
    stored = v.put_bytes(data)
    assert stored.sha256 == sha(data) and stored.size == len(data)
    assert v.read_bytes(stored.sha256) == data
