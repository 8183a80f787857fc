"""The format of a vault object, whoever reads or writes it (:mod:`haechi.store.vault`,
:mod:`haechi.store.rehash`): a plain object is the file's bytes unchanged; one whose own
bytes begin with ``HAECHI`` is stored behind the 8-byte ``HAECHIP1`` marker, so that it cannot
be taken for a header; an encrypted object starts with ``HAECHIV1`` (:mod:`vaultcrypto`)."""

from __future__ import annotations

import re
from typing import BinaryIO, Protocol

from haechi.domain import VaultError
from haechi.i18n import t_
from haechi.store import vaultcrypto

RESERVED = b"HAECHI"  # plain content starting with this is stored behind PLAIN_MAGIC
PLAIN_MAGIC = b"HAECHIP1"
HEAD_SIZE = 8
_HEX64 = re.compile(r"[0-9a-f]{64}")


class Sink(Protocol):
    def write(self, data: memoryview) -> None: ...
    def finish(self) -> None: ...


class PlainSink:
    """Writes plaintext as is, behind PLAIN_MAGIC only if it starts with RESERVED."""

    def __init__(self, out: BinaryIO) -> None:
        self._out = out
        self._head: bytearray | None = bytearray()  # until we have seen len(RESERVED) bytes

    def write(self, data: memoryview) -> None:
        if self._head is None:
            self._out.write(data)
            return
        if not self._head and len(data) >= len(RESERVED):  # the usual case: no copy
            if data[: len(RESERVED)] == RESERVED:
                self._out.write(PLAIN_MAGIC)
            self._head = None
            self._out.write(data)
            return
        self._head += data
        if len(self._head) >= len(RESERVED):
            self._flush_head()

    def _flush_head(self) -> None:
        assert self._head is not None
        if self._head.startswith(RESERVED):
            self._out.write(PLAIN_MAGIC)
        self._out.write(self._head)
        self._head = None

    def finish(self) -> None:
        if self._head is not None:
            self._flush_head()


def is_sha256(value: str) -> bool:
    return isinstance(value, str) and _HEX64.fullmatch(value) is not None


def plaintext_stream(f: BinaryIO, key: bytes | None, name: str) -> BinaryIO:
    """Given an object file positioned at 0, its plaintext stream (``f`` itself for plain
    objects, a decrypting reader that owns ``f`` for encrypted ones)."""
    head = f.read(HEAD_SIZE)
    if not head.startswith(RESERVED):
        f.seek(0)
        return f
    if head == PLAIN_MAGIC:
        return f  # positioned just after the marker
    if vaultcrypto.is_encrypted_header(head):
        f.seek(0)
        return vaultcrypto.open_decrypting(f, key, name=name)
    raise VaultError(t_("{name} has an unknown format: it may have been altered.", name=name))
