"""What every list format reads into and writes from: items with their hashes.

A parser yields one :class:`ParsedItem` per record, or a :class:`BadRecord` naming the
line (or JSON record) and what is wrong with it; the importer decides whether one bad
record aborts the whole import or is skipped (``haechi bank import --skip-bad``).

Kinds we can match (``MATCHABLE``) become bank signals. Anything else a list carries
(PhotoDNA, SHA-1, URLs, a partner's category or series) is kept verbatim in the item's
attributes, so it survives an export in the same format, and never matches.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO, Any

from haechi.analyze.hashes.vpdq import digest, parse_te_signal_string
from haechi.domain import UsageError

PDQ, MD5, SHA256, VPDQ = "pdq", "md5", "sha256", "vpdq"
MATCHABLE = (PDQ, MD5, SHA256, VPDQ)
MAX_LIST_BYTES = 2 * 1024**3  # refuse larger lists outright (text formats stream)
MAX_JSON_BYTES = 512 * 1024**2  # JSON lists are parsed whole: ~10x their size in memory
MAX_LINE = 1 << 20  # a line (or field) longer than 1 MB is not a hash list

_HEX = {PDQ: 64, MD5: 32, SHA256: 64}
_HEX_RE = re.compile(r"^[0-9a-f]+$")


class FormatError(UsageError):
    """A list that cannot be imported; the message names the line and the problem."""

    def __init__(self, message: str, *, line: int | None = None) -> None:
        super().__init__(message)
        self.line = line


@dataclass
class ParsedSignal:
    kind: str  # one of MATCHABLE
    value: str  # normalised: lowercase hex, or the vPDQ digest
    quality: int | None = None
    data: dict[str, Any] | None = None  # vPDQ frames, dihedral hashes


@dataclass
class ParsedItem:
    where: int  # line number (text formats) or record number (JSON), 1-based
    signals: list[ParsedSignal] = field(default_factory=list)
    external_id: str | None = None
    labels: list[str] = field(default_factory=list)
    attributes: dict[str, Any] = field(default_factory=dict)
    notes: str | None = None
    origin: str | None = None
    blob_sha256: str | None = None  # the stored file an item was made from


@dataclass(frozen=True)
class BadRecord:
    where: int
    problem: str


Parsed = Iterator[ParsedItem | BadRecord]


def normalize(kind: str, value: str, quality: int | None = None) -> ParsedSignal:
    """Check and normalise one hash; raises ValueError with a short reason."""
    kind = kind.strip().lower()
    text = value.strip()
    if kind == VPDQ:
        frames = parse_te_signal_string(text)
        if not frames:
            raise ValueError("a vPDQ hash needs at least one frame")
        return ParsedSignal(VPDQ, digest(frames), None, {"frames": [list(f) for f in frames]})
    if kind not in _HEX:
        raise ValueError(f"{kind!r} is not a hash haechi matches")
    text = text.lower()
    if len(text) != _HEX[kind] or not _HEX_RE.match(text):
        raise ValueError(f"{value.strip()[:80]!r} is not a {kind} hash ({_HEX[kind]} hex digits)")
    if quality is not None and not 0 <= quality <= 100:
        raise ValueError(f"PDQ quality {quality} is outside 0-100")
    return ParsedSignal(kind, text, quality if kind == PDQ else None)


def csv_rows(
    fh: IO[str], columns: int | None = None
) -> Iterator[tuple[int, list[str]] | BadRecord]:
    """(line, cells) of each non-blank CSV row, or a bad record: not CSV, or not
    ``columns`` cells. The line is where the row ends (a quoted field may span lines)."""
    csv.field_size_limit(MAX_LINE)
    reader = csv.reader(fh)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            yield BadRecord(reader.line_num, f"not valid CSV ({exc})")
            continue
        if not row or not any(cell.strip() for cell in row):
            continue
        if columns is not None and len(row) != columns:
            yield BadRecord(reader.line_num, f"expected {columns} columns, found {len(row)}")
            continue
        yield reader.line_num, row


def split_labels(text: str | None, sep: str = " ") -> list[str]:
    return [t for t in (text or "").split(sep) if t]


@dataclass
class StoredItem:
    """A bank item as the writers see it."""

    id: int
    external_id: str | None
    labels: list[str]
    attributes: dict[str, Any]
    notes: str | None
    origin: str | None
    added_at: str
    signals: list[tuple[str, str, dict[str, Any] | None]]  # (kind, value, data)

    def values(self, kind: str) -> list[str]:
        return [v for k, v, _ in self.signals if k == kind]
