"""Streaming AES-256-GCM encryption of vault objects at rest.

Evidence videos can be many gigabytes, so nothing here holds a whole file in memory: the
plaintext is cut into fixed-size segments and each segment is sealed on its own, following
the STREAM construction (Hoang, Reyhanitabar, Rogaway, Vizár 2015) as Tink's streaming AEAD
does. File layout (all integers big-endian)::

    header  magic "HAECHIV1" | version u8 | segment size u32 | key id 8 B | salt 16 B
            | nonce prefix 8 B                                               (45 bytes)
    body    segment 0 | segment 1 | ... | segment n-1      each = ciphertext + 16-byte tag

Why each piece is there:

* **Per-file key.** The segment key is HKDF-SHA256(vault key, salt) with a fresh random
  128-bit salt. One long-lived vault key may seal millions of files; a bare random 64-bit
  nonce prefix would then carry a real (if small) risk of nonce reuse, which breaks GCM
  completely. A per-file key removes that risk.
* **Nonce** = 64-bit random prefix + 32-bit segment counter = GCM's native 96 bits.
* **AAD** = the whole header + segment index + last-segment flag. Binding the index detects
  reordered or swapped segments; the flag detects truncation at a segment boundary and data
  appended after the end; binding the header detects any edit to it.
* **Key id.** 8 bytes derived from the vault key (not secret: HKDF output) so that a wrong
  key is reported as such instead of as "every file was altered".

All failures raise :class:`CryptoError` (a :class:`VaultError`) whose message says the file
"cannot be decrypted: wrong key or altered file"; ``reason`` tells callers which it is.
"""

from __future__ import annotations

import base64
import functools
import io
import os
import secrets
import struct
from collections.abc import Generator
from pathlib import Path
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from haechi.domain import VaultError
from haechi.i18n import t_

MAGIC = b"HAECHIV1"
VERSION = 1
SEGMENT_SIZE = 1 << 20  # 1 MiB of plaintext per segment
TAG_SIZE = 16
KEY_SIZE = 32
_HEADER = struct.Struct(">8sBI8s16s8s")
HEADER_SIZE = _HEADER.size  # 45
_SEG_AAD = struct.Struct(">IB")
# A crafted header must not make us allocate gigabytes before the first tag check fails.
_MIN_SEGMENT, _MAX_SEGMENT = 16, 64 << 20
_MAX_SEGMENTS = 1 << 32  # the nonce counter is 32 bits
_KEY_FILE_PREFIX = "haechi-vault-key-v1:"


class CryptoError(VaultError):
    """An encrypted object cannot be decrypted. ``reason``: "wrong_key", "altered" or "format"."""

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


def _fail(name: str, reason: str, why: str) -> CryptoError:
    message = f"{name} cannot be decrypted: wrong key or altered file ({why})."
    return CryptoError(message, reason=reason)


# -- keys ---------------------------------------------------------------------------------
def generate_key() -> bytes:
    """A fresh random 256-bit vault key."""
    return secrets.token_bytes(KEY_SIZE)


def _check_key(key: bytes) -> None:
    if not isinstance(key, bytes | bytearray) or len(key) != KEY_SIZE:
        raise VaultError(
            t_("A vault key must be exactly {key_size} bytes (AES-256).", key_size=KEY_SIZE)
        )


@functools.lru_cache(maxsize=8)
def key_id(key: bytes) -> bytes:
    """8 public bytes identifying ``key`` (a one-way derivation, so it reveals nothing)."""
    _check_key(key)
    return HKDF(SHA256(), 8, salt=None, info=b"haechi vault key id v1").derive(key)


def save_key(path: Path, key: bytes) -> None:
    """Write ``key`` to a new file, mode 0600. Refuses to replace an existing key file:
    losing the old key would make every object it sealed unreadable."""
    _check_key(key)
    text = f"{_KEY_FILE_PREFIX}{base64.b64encode(key).decode('ascii')}\n".encode("ascii")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise VaultError(
            t_(
                "A vault key already exists at {path}: it was not replaced "
                "(that would make the objects it encrypted unreadable).",
                path=path,
            )
        ) from None
    try:
        os.write(fd, text)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.chmod(path, 0o600)  # in case the umask or the filesystem widened it


def load_key(path: Path) -> bytes:
    """Read a key written by :func:`save_key` (or a raw 32-byte key file)."""
    try:
        data = Path(path).read_bytes()
    except OSError as exc:
        raise VaultError(
            t_("Cannot read the vault key at {path}: {strerror}.", path=path, strerror=exc.strerror)
        ) from exc
    text = data.strip()
    if text.startswith(_KEY_FILE_PREFIX.encode("ascii")):
        try:
            key = base64.b64decode(text[len(_KEY_FILE_PREFIX) :], validate=True)
        except ValueError:
            key = b""
    else:
        key = data
    if len(key) != KEY_SIZE:
        raise VaultError(
            t_("The vault key at {path} is damaged: it is not a 256-bit key.", path=path)
        )
    return key


# -- segments -----------------------------------------------------------------------------
class _Segments:
    """Seals or opens the segments of one file, given its parsed header."""

    def __init__(self, key: bytes, header: bytes, salt: bytes, prefix: bytes) -> None:
        subkey = HKDF(SHA256(), KEY_SIZE, salt=salt, info=b"haechi vault segment v1").derive(key)
        self._aead = AESGCM(subkey)
        self._header = header
        self._prefix = prefix

    def _nonce_aad(self, index: int, last: bool) -> tuple[bytes, bytes]:
        if index >= _MAX_SEGMENTS:
            raise VaultError(t_("The file is too large to encrypt (more than 2^32 segments)."))
        return self._prefix + index.to_bytes(4, "big"), self._header + _SEG_AAD.pack(index, last)

    def seal(self, index: int, data: bytes | memoryview, last: bool) -> bytes:
        nonce, aad = self._nonce_aad(index, last)
        return self._aead.encrypt(nonce, data, aad)

    def open(self, index: int, data: bytes | memoryview, last: bool) -> bytes:
        nonce, aad = self._nonce_aad(index, last)
        return self._aead.decrypt(nonce, data, aad)


class StreamEncryptor:
    """Incremental encryption into ``dst``: call :meth:`write` any number of times, then
    :meth:`finish`. The vault uses this so it can hash the plaintext in the same pass."""

    def __init__(self, dst: BinaryIO, key: bytes, *, segment_size: int = SEGMENT_SIZE) -> None:
        _check_key(key)
        if not _MIN_SEGMENT <= segment_size <= _MAX_SEGMENT:
            raise ValueError(f"segment size {segment_size} out of range")
        salt, prefix = secrets.token_bytes(16), secrets.token_bytes(8)
        header = _HEADER.pack(MAGIC, VERSION, segment_size, key_id(bytes(key)), salt, prefix)
        self._segments = _Segments(bytes(key), header, salt, prefix)
        self._dst = dst
        self._size = segment_size
        self._pending = bytearray()
        self._index = 0
        self._done = False
        dst.write(header)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        # A segment is sealed only once we hold *more* than a segment: then we know it is
        # not the last one. Whatever remains at finish() is the last segment (possibly
        # a full one, or empty for an empty file).
        self._pending += data
        size = self._size
        while len(self._pending) > size:
            with memoryview(self._pending) as view:
                sealed = self._segments.seal(self._index, view[:size], False)
            self._dst.write(sealed)
            del self._pending[:size]
            self._index += 1

    def finish(self) -> None:
        if self._done:
            return
        self._dst.write(self._segments.seal(self._index, bytes(self._pending), True))
        self._pending.clear()
        self._done = True


def encrypt_stream(
    src: BinaryIO, dst: BinaryIO, key: bytes, *, segment_size: int = SEGMENT_SIZE
) -> None:
    """Encrypt everything readable from ``src`` into ``dst``."""
    enc = StreamEncryptor(dst, key, segment_size=segment_size)
    while chunk := src.read(segment_size):
        enc.write(chunk)
    enc.finish()


def _read_full(src: BinaryIO, n: int) -> bytes:
    """Read exactly ``n`` bytes unless the stream ends first (short reads are legal)."""
    data = src.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n and (more := src.read(n - got)):
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def is_encrypted_header(head: bytes) -> bool:
    return head[: len(MAGIC)] == MAGIC


def iter_plaintext(
    src: BinaryIO, key: bytes | None, *, name: str = "The file"
) -> Generator[bytes, None, None]:
    """Yield the authenticated plaintext segment by segment.

    ``src`` is positioned at the start of the header. Nothing is yielded for a segment until
    its tag has been checked; truncation or appended data is detected at the end, so a
    caller that hashes the output must finish the iteration before trusting the digest.
    """
    header = _read_full(src, HEADER_SIZE)
    if len(header) < HEADER_SIZE:
        raise _fail(name, "format", "the header is truncated")
    magic, version, seg, kid, salt, prefix = _HEADER.unpack(header)
    if magic != MAGIC or version != VERSION:
        raise _fail(name, "format", "unknown format or version")
    if not _MIN_SEGMENT <= seg <= _MAX_SEGMENT:
        raise _fail(name, "format", "invalid segment size in the header")
    if key is None:
        raise CryptoError(
            t_(
                "{name} is encrypted and no vault key was given: it cannot be decrypted.", name=name
            ),
            reason="wrong_key",
        )
    _check_key(key)
    if kid != key_id(bytes(key)):
        raise _fail(name, "wrong_key", "it was encrypted with a different vault key")
    segments = _Segments(bytes(key), header, salt, prefix)
    step = seg + TAG_SIZE
    index = 0
    current = _read_full(src, step)
    while True:
        # One segment of look-ahead tells us whether the current one must carry the flag.
        following = _read_full(src, step) if len(current) == step else b""
        last = not following
        if len(current) < TAG_SIZE:
            raise _fail(name, "altered", f"segment {index} is truncated")
        try:
            plain = segments.open(index, current, last)
        except InvalidTag:
            why = "truncated, reordered or altered" if last else "altered or reordered"
            raise _fail(name, "altered", f"segment {index} is {why}") from None
        yield plain
        if last:
            return
        current = following
        index += 1


def decrypt_stream(src: BinaryIO, dst: BinaryIO, key: bytes, *, name: str = "The file") -> None:
    """Decrypt ``src`` into ``dst``. On failure ``dst`` may hold a verified prefix only."""
    for plain in iter_plaintext(src, key, name=name):
        dst.write(plain)


class _DecryptingRaw(io.RawIOBase):
    """A read-only raw stream over :func:`iter_plaintext` (one segment in memory)."""

    def __init__(self, src: BinaryIO, key: bytes | None, name: str) -> None:
        super().__init__()
        self._src = src
        self._segments = iter_plaintext(src, key, name=name)
        self._buf = memoryview(b"")
        self._eof = False

    def readable(self) -> bool:
        return True

    def readinto(self, b: bytearray | memoryview) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("I/O operation on closed file")
        while not self._buf and not self._eof:
            nxt = next(self._segments, None)
            if nxt is None:
                self._eof = True
            else:
                self._buf = memoryview(nxt)
        n = min(len(b), len(self._buf))
        with memoryview(b) as out:
            out[:n] = self._buf[:n]
        self._buf = self._buf[n:]
        return n

    def close(self) -> None:
        if not self.closed:
            self._segments.close()
            self._src.close()
        super().close()


def open_decrypting(
    path: Path | BinaryIO, key: bytes | None, *, name: str | None = None
) -> BinaryIO:
    """A plaintext reader for an encrypted file (a path or an open binary stream).

    The header and the first segment are checked here, so a wrong key raises at open;
    later tag failures, truncation and appended data raise from ``read``.
    """
    if isinstance(path, str | os.PathLike):
        label = name or str(path)
        src: BinaryIO = open(path, "rb")  # noqa: SIM115 - owned and closed by the reader
    else:
        label = name or "The file"
        src = path
    raw = _DecryptingRaw(src, key, label)
    try:
        # Parse the header now so a wrong key is reported at open(), not at the first read.
        raw._buf = memoryview(next(raw._segments))
    except StopIteration:  # pragma: no cover - iter_plaintext always yields once
        raw._eof = True
    except BaseException:
        raw.close()
        raise
    return io.BufferedReader(raw, buffer_size=SEGMENT_SIZE)
