"""python-threatexchange and HMA formats.

* ``te`` — the *signal file*: one ``<signal_type> <signal>`` per line. This is what
  ``threatexchange hash`` prints, what ``threatexchange dataset -P -s`` lists, and what
  python-threatexchange's ``LocalFileSignalExchangeAPI`` (HMA's "local file" exchange)
  reads and appends to. Signal types: ``pdq``, ``video_md5``, ``video_sha256``, ``vpdq``
  (its JSON list of ``"hex,quality,timestamp"``); other threatexchange types (``url``,
  ``raw_text``, ...) are kept opaque.
* ``te-csv`` — ``threatexchange dataset -P --csv``: header
  ``signal_type,signal_str,collab,category,tags`` (tags space-separated).
* ``hma`` — HMA 1.x / python-threatexchange ``HMASerialization`` files
  (``simple.HASH_PDQ.te``): rows ``indicator,indicator_id,first_descriptor_id,added_on,
  labels``, the hash type named by the file (``simple.<INDICATOR_TYPE>.te``).

threatexchange has no "photo md5" type: an md5 is written as ``video_md5``, the type
its tools and HMA match md5s with.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO, Any

from haechi.analyze.hashes.vpdq import te_signal_string
from haechi.match.formats.base import (
    MAX_LINE,
    MD5,
    PDQ,
    SHA256,
    VPDQ,
    BadRecord,
    FormatError,
    Parsed,
    ParsedItem,
    StoredItem,
    csv_rows,
    normalize,
    split_labels,
)

TE_TO_KIND = {
    "pdq": PDQ,
    "video_md5": MD5,
    "video_sha256": SHA256,
    "vpdq": VPDQ,
    "md5": MD5,  # not threatexchange names, but unambiguous
    "sha256": SHA256,
}
KIND_TO_TE = {PDQ: "pdq", MD5: "video_md5", SHA256: "video_sha256", VPDQ: "vpdq"}
# threatexchange signal types we cannot match: kept, exported again, never matched.
TE_OPAQUE = {"url", "url_md5", "raw_text", "trend_query", "text_tlsh", "pdq_ocr", "tmk"}
HMA_TYPES = {
    "HASH_PDQ": PDQ,
    "HASH_MD5": MD5,
    "HASH_VIDEO_MD5": MD5,
    "HASH_SHA256": SHA256,
    "HASH_VIDEO_SHA256": SHA256,
}
KIND_TO_HMA = {PDQ: "HASH_PDQ", MD5: "HASH_VIDEO_MD5", SHA256: "HASH_VIDEO_SHA256"}
TE_CSV_HEADER = ["signal_type", "signal_str", "collab", "category", "tags"]


def _lines(fh: IO[str]) -> Iterator[tuple[int, str]]:
    for number, line in enumerate(fh, start=1):
        if len(line) > MAX_LINE:
            raise FormatError(f"line {number} is longer than {MAX_LINE} characters", line=number)
        yield number, line.rstrip("\r\n")


def _signal_item(where: int, te_type: str, value: str) -> ParsedItem | BadRecord:
    te_type = te_type.strip().lower()
    if te_type in TE_OPAQUE:
        return ParsedItem(where, attributes={"te_signals": [[te_type, value.strip()]]})
    kind = TE_TO_KIND.get(te_type)
    if kind is None:
        return BadRecord(where, f"unknown signal type {te_type[:40]!r}")
    try:
        return ParsedItem(where, [normalize(kind, value)])
    except ValueError as exc:
        return BadRecord(where, str(exc))


def parse_signal_file(fh: IO[str], default_type: str | None = None) -> Parsed:
    """``<type> <signal>`` lines; a bare signal takes ``default_type`` (as threatexchange's
    ``FileCollaborationConfig.signal_type``). Blank lines and ``#`` comments are skipped."""
    for number, line in _lines(fh):
        text = line.strip()
        if not text or text.startswith("#"):
            continue
        te_type, _, signal = text.partition(" ")
        if not signal:
            if default_type is None:
                yield BadRecord(number, "no signal type (write '<type> <hash>', e.g. 'pdq ...')")
                continue
            te_type, signal = default_type, text
        yield _signal_item(number, te_type, signal)


def write_signal_file(fh: IO[str], items: Iterable[StoredItem]) -> int:
    n = 0
    for item in items:
        for kind, value, data in item.signals:
            fh.write(f"{KIND_TO_TE[kind]} {_te_value(kind, value, data)}\n")
            n += 1
        for te_type, value in item.attributes.get("te_signals", []):
            fh.write(f"{te_type} {value}\n")
            n += 1
    return n


def _te_value(kind: str, value: str, data: dict[str, Any] | None) -> str:
    if kind == VPDQ:
        frames = [
            (int(f[0]), int(f[1]), str(f[2]), float(f[3])) for f in (data or {}).get("frames", [])
        ]
        return te_signal_string(frames)
    return value


def parse_te_csv(fh: IO[str]) -> Parsed:
    rows = csv_rows(fh)
    first = next(rows, None)
    if first is None:
        return
    if isinstance(first, BadRecord) or [h.strip().lower() for h in first[1]] != TE_CSV_HEADER:
        raise FormatError(
            f"line 1 must be the threatexchange header {','.join(TE_CSV_HEADER)}", line=1
        )
    for row in rows:
        if isinstance(row, BadRecord):
            yield row
            continue
        line, cells = row
        if len(cells) != 5:
            yield BadRecord(line, f"expected 5 columns, found {len(cells)}")
            continue
        te_type, signal, collab, category, tags = cells
        item = _signal_item(line, te_type, signal)
        if isinstance(item, ParsedItem):
            item.labels = split_labels(tags)
            extra = {k: v for k, v in (("te_collab", collab), ("te_category", category)) if v}
            item.attributes.update(extra)
        yield item


def write_te_csv(fh: IO[str], items: Iterable[StoredItem], collab: str) -> int:
    writer = csv.writer(fh, lineterminator="\n")
    writer.writerow(TE_CSV_HEADER)
    n = 0
    for item in items:
        attrs = item.attributes
        category = attrs.get("te_category") or "POSITIVE_CLASS"
        tags = " ".join(item.labels)
        pairs = [(KIND_TO_TE[k], _te_value(k, v, d)) for k, v, d in item.signals]
        pairs += [(t, v) for t, v in attrs.get("te_signals", [])]
        for te_type, value in pairs:
            writer.writerow([te_type, value, attrs.get("te_collab") or collab, category, tags])
            n += 1
    return n


_HMA_NAME = re.compile(r"^simple\.([A-Z0-9_]+)\.te$")


def hma_type_from_name(path: Path) -> str | None:
    found = _HMA_NAME.match(path.name)
    return found.group(1) if found else None


def parse_hma(fh: IO[str], indicator_type: str | None) -> Parsed:
    kind = HMA_TYPES.get(indicator_type or "")
    if kind is None:
        raise FormatError(
            "an HMA file names its hash type (simple.HASH_PDQ.te); name the file so, or give --kind"
        )
    for row in csv_rows(fh, 5):
        if isinstance(row, BadRecord):
            yield row
            continue
        line, cells = row
        indicator, indicator_id, descriptor_id, added_on, labels = cells
        if not descriptor_id.strip().isdigit():
            yield BadRecord(line, f"descriptor id {descriptor_id[:40]!r} is not a number")
            continue
        try:
            signal = normalize(kind, indicator)
        except ValueError as exc:
            yield BadRecord(line, str(exc))
            continue
        yield ParsedItem(
            line,
            [signal],
            external_id=indicator_id or None,
            labels=split_labels(labels),
            attributes={"hma_first_descriptor_id": descriptor_id, "hma_added_on": added_on},
        )


def write_hma(fh: IO[str], items: Iterable[StoredItem], kind: str) -> int:
    writer = csv.writer(fh, lineterminator="\n")
    n = 0
    for item in items:
        attrs = item.attributes
        for value in item.values(kind):
            writer.writerow(
                [
                    value,
                    item.external_id or f"haechi-{item.id}",
                    attrs.get("hma_first_descriptor_id") or item.id,
                    attrs.get("hma_added_on") or item.added_at,
                    " ".join(item.labels),
                ]
            )
            n += 1
    return n


def text_stream(raw: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
