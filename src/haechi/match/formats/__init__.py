"""Hash-list formats partners use: reading (``read``) and writing (``write``).

====================  ======================================================  =====
name                  what                                                    write
====================  ======================================================  =====
``te``                python-threatexchange / HMA signal file               yes
                      (``<type> <hash>`` lines)
``te-csv``            ``threatexchange dataset -P --csv``                     yes
``hma``               HMA 1.x ``simple.<INDICATOR_TYPE>.te`` CSV              yes
``stopncii``          StopNCII hash records (JSON), PDQ + MD5                 yes
``stopncii-csv``      the same records as CSV (``signalType,hashValue,...``)  no
``vics``              Project VIC VICS JSON 1.x / 2.0                         yes
====================  ======================================================  =====

``detect`` picks the format from the file name and its first bytes.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

from haechi.match.formats import stopncii, te, vics
from haechi.match.formats.base import (
    MAX_JSON_BYTES,
    MAX_LIST_BYTES,
    BadRecord,
    FormatError,
    Parsed,
    ParsedItem,
    StoredItem,
)

FORMATS = ("te", "te-csv", "hma", "stopncii", "stopncii-csv", "vics")
WRITABLE = ("te", "te-csv", "hma", "stopncii", "vics")

__all__ = [
    "FORMATS",
    "WRITABLE",
    "BadRecord",
    "FormatError",
    "ParsedItem",
    "StoredItem",
    "detect",
    "read",
    "write",
]


def _head(path: Path, n: int = 4096) -> str:
    with open(path, "rb") as fh:
        return fh.read(n).decode("utf-8-sig", errors="replace")


def detect(path: Path) -> str:
    """The format of a list, from its name and first bytes."""
    if te.hma_type_from_name(path):
        return "hma"
    head = _head(path)
    stripped = head.lstrip()
    if stripped.startswith(("{", "[")):
        if "ProjectVic" in head or "projectvic" in head.lower():
            return "vics"
        if "hashRecords" in head or "signalType" in head:
            return "stopncii"
        raise FormatError(f"{path.name}: a JSON list that is neither VICS nor StopNCII")
    first = stripped.splitlines()[0] if stripped else ""
    if first.replace(" ", "").lower().startswith("signal_type,signal_str"):
        return "te-csv"
    if "signalType" in first and "hashValue" in first:
        return "stopncii-csv"
    return "te"


def _text(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise FormatError(f"line {line}: the file is not UTF-8 text", line=line) from None


def read(path: Path, fmt: str = "auto", *, kind: str | None = None) -> Parsed:
    """Parse a list; yields items and bad records (the caller decides what to do).

    ``kind``: the hash type of bare lines in a ``te`` signal file (threatexchange's
    ``signal_type``), or the indicator type of an HMA file not named ``simple.X.te``.
    """
    path = Path(path)
    if not path.is_file():
        raise FormatError(f"No such list: {path}.")
    if path.stat().st_size > MAX_LIST_BYTES:
        raise FormatError(f"{path.name} is larger than {MAX_LIST_BYTES // 1024**3} GB.")
    fmt = detect(path) if fmt == "auto" else fmt
    if fmt not in FORMATS:
        raise FormatError(f"Unknown list format {fmt!r}; known: {', '.join(FORMATS)}.")
    if fmt in ("vics", "stopncii"):
        if path.stat().st_size > MAX_JSON_BYTES:
            raise FormatError(
                f"{path.name} is larger than {MAX_JSON_BYTES // 1024**2} MB, the limit for "
                "JSON lists; split it, or convert it to a text format (te)."
            )
        text = _text(path)
        yield from vics.parse(text) if fmt == "vics" else stopncii.parse_json(text)
        return
    with open(path, "rb") as raw:
        fh = te.text_stream(raw)
        try:
            if fmt == "te":
                yield from te.parse_signal_file(fh, kind)
            elif fmt == "te-csv":
                yield from te.parse_te_csv(fh)
            elif fmt == "hma":
                hma_type = te.KIND_TO_HMA.get(kind or "", kind) or te.hma_type_from_name(path)
                yield from te.parse_hma(fh, hma_type)
            else:
                yield from stopncii.parse_csv(fh)
        except UnicodeDecodeError:
            raise FormatError(f"{path.name} is not UTF-8 text.") from None


def write(
    fh: IO[str], fmt: str, items: Iterable[StoredItem], *, bank: str, kind: str | None = None
) -> dict[str, Any]:
    """Write ``items`` in ``fmt``; returns counts for the custody record."""
    if fmt not in WRITABLE:
        raise FormatError(f"haechi cannot write {fmt!r}; it writes {', '.join(WRITABLE)}.")
    if fmt == "te":
        return {"lines": te.write_signal_file(fh, items)}
    if fmt == "te-csv":
        return {"rows": te.write_te_csv(fh, items, bank)}
    if fmt == "hma":
        chosen = kind or "pdq"
        if chosen not in te.KIND_TO_HMA:
            raise FormatError(f"HMA files hold pdq, md5 or sha256 hashes, not {chosen!r}.")
        return {"rows": te.write_hma(fh, items, chosen), "indicator_type": te.KIND_TO_HMA[chosen]}
    if fmt == "stopncii":
        written, left_out = stopncii.write_json(fh, items)
        return {"records": written, "left_out": left_out}
    return {"records": vics.write(fh, items)}


def dumps_attributes(attributes: dict[str, Any]) -> str | None:
    return json.dumps(attributes, ensure_ascii=False, sort_keys=True) if attributes else None
