"""Binary ``COPY`` bodies made away from the connection (the ingest's reader process).

Kept apart from :mod:`haechi.store.pgcopy` so that the reader imports psycopg alone: the
type oids of the rows come from the main process (``haechi.run.ingest_pg.stage_oids``,
checked there against the server's), and importing SQLAlchemy and the models only to
compute them again cost the reader about 1.3 s before its first batch (py-spy, 2026-12-07),
time the main process spent waiting on PostgreSQL's path only.
"""

from __future__ import annotations

import struct
from collections.abc import Callable, Sequence
from typing import Any

SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + struct.pack(">ii", 0, 0)  # flags, header extension
TRAILER = struct.pack(">h", -1)
_NULL = struct.pack(">i", -1)
_PACK: dict[int, Callable[[Any], bytes]] = {
    16: lambda v: b"\x00\x00\x00\x01" + (b"\x01" if v else b"\x00"),
    20: lambda v: b"\x00\x00\x00\x08" + struct.pack(">q", v),
    21: lambda v: b"\x00\x00\x00\x02" + struct.pack(">h", v),
    23: lambda v: b"\x00\x00\x00\x04" + struct.pack(">i", v),
}


class BinaryRows:
    """Encodes rows as a complete binary COPY body (signature, rows, trailer) without a
    connection, in UTF-8 (the caller checks that the connection's encoding is UTF-8).

    psycopg's own C row encoder when it is there (the form ``Copy.write_row`` sends), else
    the same bytes in Python; ``python=True`` forces the latter (tests compare the two)."""

    def __init__(self, oids: Sequence[int], python: bool = False) -> None:
        self.oids = list(oids)
        # psycopg's format_row_binary(row, transformer, out), called without a Python
        # wrapper in between: a call per row is a tenth of the encoding's time.
        self._fast: Callable[[Sequence[Any], Any, bytearray], None] | None = None
        self._tx: Any = None
        if not python:
            try:  # a private module of psycopg: the fallback below keeps us independent
                from psycopg._copy_base import format_row_binary
                from psycopg.adapt import Transformer
                from psycopg.pq import Format

                self._tx = Transformer()
                self._tx.set_dumper_types(self.oids, Format.BINARY)
                self._fast = format_row_binary
            except (ImportError, AttributeError):  # pragma: no cover - psycopg changed
                self._fast = None
        self._packs = [_PACK.get(oid) for oid in self.oids]

    def encode(self, rows: Sequence[Sequence[Any]]) -> bytes:
        out = bytearray(SIGNATURE)
        fast, tx = self._fast, self._tx
        if fast is not None:
            for row in rows:
                fast(row, tx, out)
        else:
            for row in rows:
                self._python_row(row, out)
        out += TRAILER
        return bytes(out)

    def _python_row(self, row: Sequence[Any], out: bytearray) -> None:
        out += struct.pack(">h", len(row))
        for value, pack in zip(row, self._packs, strict=True):
            if value is None:
                out += _NULL
            elif pack is not None:
                out += pack(value)
            else:  # text, varchar
                data = value.encode()
                out += struct.pack(">i", len(data))
                out += data
