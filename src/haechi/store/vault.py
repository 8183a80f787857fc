"""The content-addressed, write-once evidence vault.

Every file is stored once, under the SHA-256 of its *plaintext*, at
``objects/ab/cd/<sha256>``. The MD5 is computed in the same pass because courts and
forensic tools still ask for it. Rules that make a stored object trustworthy evidence:

* **One read of the source**, opened read-only (``O_NOATIME`` where allowed, so even the
  access time is left alone), hashed while it is copied to a temp file inside the vault.
* **Publish without overwrite.** The temp file is made read-only, ``fsync``-ed and then
  hard-linked to its final name: ``link`` fails if the name exists, so an object is never
  replaced, even by two writers racing with the same content. The directory is ``fsync``-ed
  so the name survives a power cut. (:class:`~haechi.store.vault_batch.VaultBatch` keeps
  this order for many files at once with one file-system flush before the links and one
  after.)
* **Crash-safe.** A killed write leaves only a temp file, which :meth:`Vault.cleanup_temp`
  removes. Writers hold an ``flock`` on their temp file, so a cleanup run by another process
  never removes a write that is still in progress.

File format: a plain object is the file's bytes, unchanged, so ``sha256sum`` outside haechi
confirms it. An encrypted object starts with ``HAECHIV1`` (see :mod:`vaultcrypto`). So that a
plain file whose own bytes happen to begin with ``HAECHI`` cannot be mistaken for a vault
header, such (rare) files are stored behind an 8-byte ``HAECHIP1`` marker. Plain and encrypted
objects coexist, so encryption can be switched on for an existing vault. (The format's
constants, its writer of plain objects and its reader: :mod:`vaultformat`.)
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from haechi.domain import DataDirError, VaultError
from haechi.i18n import t_
from haechi.store import vaultcrypto
from haechi.store.beneath import open_beneath
from haechi.store.vaultformat import (
    HEAD_SIZE,
    RESERVED,
    PlainSink,
    Sink,
    is_sha256,
    plaintext_stream,
)

try:  # POSIX: lets cleanup tell a killed write from one still running
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None  # type: ignore[assignment]

CHUNK = 1 << 20
_HEX2 = re.compile(r"[0-9a-f]{2}")
_O_NOATIME = getattr(os, "O_NOATIME", 0)
_FULL = {errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)}
_READ_ONLY = {errno.EROFS, errno.EACCES, errno.EPERM}
_NO_LINKS = {errno.EPERM, errno.ENOTSUP, errno.EOPNOTSUPP}


@dataclass(frozen=True, slots=True)
class StoredObject:
    sha256: str
    md5: str
    size: int
    created: bool  # False when the object already existed (deduplicated)


class _SourceError(Exception):
    """Carries an OSError raised while *reading the source*: it must reach the caller as is
    (ingest records the file as unreadable) and never be reported as a vault problem."""

    def __init__(self, error: OSError) -> None:
        super().__init__(str(error))
        self.error = error


class FileTooLargeError(VaultError):
    """A file over the ``max_bytes`` limit; nothing was stored. ``size`` is its size (or,
    for a stream or a file still growing, the bytes read when the limit was passed)."""

    def __init__(self, message: str, *, size: int, limit: int) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


def fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError as exc:  # some filesystems cannot fsync a directory
        if exc.errno not in (errno.EINVAL, errno.EBADF):
            raise
    finally:
        os.close(fd)


class Vault:
    """See the module docstring. Thread-safe: state lives only in the filesystem."""

    def __init__(self, root: Path, *, key: bytes | None = None, encrypt: bool | None = None):
        """``key``: the vault key, needed to read encrypted objects. New objects are
        encrypted when ``encrypt`` is true (default: whenever a key is given). Nothing is
        created here, so a read-only copy of a vault can still be opened and verified."""
        self.root = Path(root)
        self._objects = self.root / "objects"
        self._tmp = self.root / "tmp"
        self._objects_str = os.path.join(self._objects, "")  # with a trailing separator
        if key is not None:
            vaultcrypto.key_id(bytes(key))  # validates the length
            key = bytes(key)
        self._key = key
        self._encrypt = key is not None if encrypt is None else encrypt
        if self._encrypt and key is None:
            raise VaultError(t_("Vault encryption is on but no vault key was given."))

    @property
    def encrypted(self) -> bool:
        """Whether *new* objects are encrypted (older ones may be plain)."""
        return self._encrypt

    @property
    def key(self) -> bytes | None:
        return self._key

    # -- names ----------------------------------------------------------------------------
    def path_for(self, sha256: str) -> Path:
        """``objects/ab/cd/<sha256>``. Only 64 lowercase hex digits are accepted, so a name
        from a database or a user can never point outside the vault."""
        return Path(self.object_path(sha256))

    def object_path(self, sha256: str) -> str:
        """:meth:`path_for` as a ``str``: pathlib costs more than hashing a small file, and
        verify calls this once per object."""
        if not is_sha256(sha256):
            raise VaultError(
                t_("{sha256!r} is not a SHA-256 digest (64 lowercase hex digits).", sha256=sha256)
            )
        return f"{self._objects_str}{sha256[:2]}{os.sep}{sha256[2:4]}{os.sep}{sha256}"

    def exists(self, sha256: str) -> bool:
        return self.path_for(sha256).is_file()

    def iter_objects(self) -> Iterator[str]:
        """The SHA-256 of every object file, in sorted order, streaming (the tree is read one
        directory at a time, so millions of objects cost no memory)."""

        def subdirs(path: Path) -> list[str]:
            try:
                with os.scandir(path) as it:
                    return sorted(e.name for e in it if _HEX2.fullmatch(e.name) and e.is_dir())
            except FileNotFoundError:
                return []

        for top in subdirs(self._objects):
            for sub in subdirs(self._objects / top):
                folder = self._objects / top / sub
                with os.scandir(folder) as it:
                    names = sorted(
                        e.name
                        for e in it
                        if is_sha256(e.name) and e.name[:4] == top + sub and e.is_file()
                    )
                yield from names

    # -- reading --------------------------------------------------------------------------
    def open(self, sha256: str) -> BinaryIO:
        """The plaintext of an object as a binary stream, decrypting if it is encrypted."""
        path = self.path_for(sha256)
        name = f"Vault object {sha256}"
        try:
            f = open(path, "rb")  # noqa: SIM115 - returned to the caller
        except FileNotFoundError:
            raise VaultError(t_("{name} is missing from the vault.", name=name)) from None
        except OSError as exc:
            raise VaultError(
                t_("{name} cannot be read: {strerror}.", name=name, strerror=exc.strerror)
            ) from exc
        try:
            return plaintext_stream(f, self._key, name)
        except BaseException:
            f.close()
            raise

    def read_bytes(self, sha256: str) -> bytes:
        with self.open(sha256) as f:
            return f.read()

    @contextlib.contextmanager
    def local_plaintext(self, sha256: str, scratch: Path) -> Iterator[Path]:
        """A local file holding the plaintext, for libraries that want a path (FFmpeg, dlib).

        A plain object *is* that file (read-only, so nothing can change it); an encrypted
        or marker-prefixed one is copied into ``scratch`` (mode 0700) and removed after.
        """
        path = self.path_for(sha256)
        try:
            with open(path, "rb") as f:
                head = f.read(HEAD_SIZE)
        except FileNotFoundError:
            raise VaultError(
                t_("Vault object {sha256} is missing from the vault.", sha256=sha256)
            ) from None
        if not head.startswith(RESERVED):
            yield path
            return
        scratch.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=scratch, prefix="plain-")
        try:
            with os.fdopen(fd, "wb") as out, self.open(sha256) as src:
                while chunk := src.read(CHUNK):
                    out.write(chunk)
            os.chmod(tmp, 0o400)
            yield Path(tmp)
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)

    # -- writing --------------------------------------------------------------------------
    def put_bytes(self, data: bytes) -> StoredObject:
        return self.put_stream(io.BytesIO(data))

    def put_file(
        self, src: Path, *, max_bytes: int | None = None, beneath: str | None = None
    ) -> StoredObject:
        """Store a file. Source read errors propagate as the original ``OSError``."""
        with self.open_source(src, max_bytes, beneath) as f:
            return self._put(f, max_bytes, str(src))

    @contextlib.contextmanager
    def open_source(
        self, src: Path, max_bytes: int | None = None, beneath: str | None = None
    ) -> Iterator[BinaryIO]:
        """``src`` opened read-only, leaving even its access time alone where allowed, and
        refused before any read when larger than ``max_bytes``; with ``beneath``, opened
        from beneath that folder only (:func:`haechi.store.beneath.open_beneath`: a path
        swapped for a link out after its check raises ``ChangedAfterCheck``)."""

        def opened(flags: int) -> int:
            return os.open(src, flags) if beneath is None else open_beneath(beneath, src, flags)

        try:
            fd = opened(os.O_RDONLY | _O_NOATIME)
        except PermissionError:
            if not _O_NOATIME:
                raise
            # O_NOATIME needs ownership of the file; fall back to a plain read-only open.
            fd = opened(os.O_RDONLY)
        with os.fdopen(fd, "rb", buffering=0) as f:
            if max_bytes is not None:
                self._check_limit(os.fstat(fd).st_size, max_bytes, str(src))
            yield f

    def put_stream(self, stream: BinaryIO, *, max_bytes: int | None = None) -> StoredObject:
        """Store everything readable from ``stream`` (the caller keeps ownership of it)."""
        return self._put(stream, max_bytes, "The stream")

    @staticmethod
    def _check_limit(size: int, max_bytes: int, label: str) -> None:
        if size > max_bytes:
            raise FileTooLargeError(
                t_(
                    "{label} is larger than the {max_bytes:,}-byte limit for one "
                    "vault file (vault.max_file_mb): it was not stored.",
                    label=label,
                    max_bytes=max_bytes,
                ),
                size=size,
                limit=max_bytes,
            )

    def _put(self, stream: BinaryIO, max_bytes: int | None, label: str) -> StoredObject:
        staged = self.stage(stream, max_bytes, label)
        try:
            return self.publish(*staged)
        except OSError as exc:
            raise self.write_error(exc) from exc
        finally:
            self.discard(staged[0], staged[1])

    def stage(
        self, stream: BinaryIO, max_bytes: int | None, label: str
    ) -> tuple[int, Path, str, str, int]:
        """Copy and hash into a locked temp file, not yet durable nor published. Returns
        (fd, temp path, sha256, md5, size); the caller publishes, then discards."""
        tmp: Path | None = None
        fd = -1
        try:
            fd, tmp = self._new_temp()
            with open(fd, "wb", buffering=CHUNK, closefd=False) as out:
                sink: Sink
                if self._key is not None and self._encrypt:
                    sink = vaultcrypto.StreamEncryptor(out, self._key)
                else:
                    sink = PlainSink(out)
                sha, md5, size = self._copy(stream, sink, max_bytes, label)
                sink.finish()
            return fd, tmp, sha, md5, size
        except BaseException as exc:
            self.discard(fd, tmp)
            if isinstance(exc, _SourceError):
                raise exc.error from None
            if isinstance(exc, OSError):
                raise self.write_error(exc) from exc
            raise

    @staticmethod
    def discard(fd: int, tmp: Path | None) -> None:
        # Unlink before close: while we hold the lock no cleanup can race us.
        if tmp is not None:
            with contextlib.suppress(OSError):  # else cleanup_temp() removes it later
                os.unlink(tmp)
        if fd >= 0:
            os.close(fd)

    def _copy(
        self, stream: BinaryIO, sink: Sink, max_bytes: int | None, label: str
    ) -> tuple[str, str, int]:
        """The single pass: read, hash both digests, write. Returns (sha256, md5, size)."""
        sha, md5 = hashlib.sha256(), hashlib.md5(usedforsecurity=False)
        buf = bytearray(CHUNK)
        view = memoryview(buf)
        readinto = getattr(stream, "readinto", None)
        size = 0
        while True:
            try:
                if readinto is not None:
                    n = readinto(view)
                    chunk = view[:n] if n else None
                else:
                    data = stream.read(CHUNK)
                    n = len(data)
                    chunk = memoryview(data) if n else None
            except OSError as exc:
                raise _SourceError(exc) from exc
            if chunk is None:
                break
            size += n
            if max_bytes is not None:
                self._check_limit(size, max_bytes, label)
            sha.update(chunk)
            md5.update(chunk)
            sink.write(chunk)
        return sha.hexdigest(), md5.hexdigest(), size

    def publish(
        self, fd: int, tmp: Path, sha: str, md5: str, size: int, *, sync: bool = True
    ) -> StoredObject:
        """Make the temp file durable and link it to its name. ``sync=False`` is for
        :class:`~haechi.store.vault_batch.VaultBatch`, which has already flushed the data of
        every temp file it links and flushes the new names after linking them all."""
        final = self.path_for(sha)
        if os.path.lexists(final):  # a duplicate: no need to make the copy durable
            return StoredObject(sha, md5, size, created=False)
        os.fchmod(fd, 0o400)  # read-only, and for the owner only: originals of abuse material
        if sync:
            os.fsync(fd)
        self._make_dirs(final.parent, sync=sync)
        try:
            os.link(tmp, final)
        except FileExistsError:  # another writer published the same content first
            return StoredObject(sha, md5, size, created=False)
        except OSError as exc:
            if exc.errno in _NO_LINKS and os.access(final.parent, os.W_OK):
                raise DataDirError(
                    t_(
                        "The file system holding the vault ({root}) does not support "
                        "hard links, which write-once storage needs: put the data "
                        "directory on ext4, XFS, Btrfs, APFS or NTFS; nothing was "
                        "lost.",
                        root=self.root,
                    )
                ) from exc
            raise
        if sync:
            fsync_dir(final.parent)
        return StoredObject(sha, md5, size, created=True)

    def _new_temp(self) -> tuple[int, Path]:
        """A locked temp file in ``tmp/``. The lock marks the write as alive for
        cleanup_temp(); if a cleanup deleted the name between creation and locking, retry."""
        self._make_dirs(self._tmp)
        for _ in range(5):
            fd, name = tempfile.mkstemp(prefix="put-", suffix=".part", dir=self._tmp)
            if fcntl is None:
                return fd, Path(name)
            fcntl.flock(fd, fcntl.LOCK_EX)
            try:
                if os.stat(name).st_ino == os.fstat(fd).st_ino:
                    return fd, Path(name)
            except FileNotFoundError:
                pass
            os.close(fd)
        raise VaultError(t_("Cannot create a temporary file in {tmp}.", tmp=self._tmp))

    def _make_dirs(self, path: Path, *, sync: bool = True) -> None:
        """mkdir -p, fsync-ing each parent whose listing changed (durable new names)."""
        if path.is_dir():
            return
        if path != self.root:
            self._make_dirs(path.parent, sync=sync)
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            return
        if sync:
            fsync_dir(path.parent)

    def write_error(self, exc: OSError) -> Exception:
        if exc.errno in _FULL:
            return DataDirError(
                f"The disk holding the vault ({self.root}) is full: free space and run the "
                "command again; nothing was lost."
            )
        if exc.errno in _READ_ONLY:
            return DataDirError(
                f"The vault at {self.root} is read-only: make it writable and run the command "
                "again; nothing was lost."
            )
        return VaultError(f"Cannot write to the vault at {self.root}: {exc.strerror or exc}.")

    # -- maintenance ----------------------------------------------------------------------
    def cleanup_temp(self) -> int:
        """Remove temp files left by killed writes; return how many. A temp file whose
        writer is still running is locked and left alone."""
        removed = 0
        try:
            entries = list(os.scandir(self._tmp))
        except FileNotFoundError:
            return 0
        except OSError as exc:
            raise self.write_error(exc) from exc
        for entry in entries:
            if not entry.is_file(follow_symlinks=False):
                continue
            try:
                fd = os.open(entry.path, os.O_RDONLY)
            except FileNotFoundError:
                continue
            try:
                if fcntl is not None:
                    try:
                        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:
                        continue  # a live writer
                os.unlink(entry.path)
                removed += 1
            except FileNotFoundError:
                continue
            except OSError as exc:
                raise self.write_error(exc) from exc
            finally:
                os.close(fd)
        return removed
