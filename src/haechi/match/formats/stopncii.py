"""StopNCII-style hash lists: PDQ for pictures, MD5 for videos.

StopNCII.org hashes a victim's pictures on their own device (PDQ) and videos (MD5) and
shares only the hashes. Read and written in the shape of its hash API's ``FetchHashes``
response (as python-threatexchange's ``StopNCIIHashRecord`` models it)::

    {"count": 2, "hashRecords": [{"signalType": "ImagePDQ", "hashValue": "...",
      "hashStatus": "Active", "caseNumbers": {"CASE-1": "Active"},
      "lastModtimestamp": 1700000000, "CSPFeedbacks": []}, ...]}

A bare JSON list of such records is accepted too, and a CSV with at least the columns
``signalType,hashValue`` (optionally ``hashStatus``, ``caseNumbers`` separated by ``;``,
``lastModtimestamp``). Records whose status is ``Withdrawn`` or ``Deleted`` were taken
back by the person who submitted them: they are skipped and counted, never imported.
``URL``/``Text``/``VideoTMK`` records are kept as opaque attributes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import IO, Any

from haechi.match.formats import jsonwalk
from haechi.match.formats.base import (
    MD5,
    PDQ,
    BadRecord,
    FormatError,
    Parsed,
    ParsedItem,
    StoredItem,
    csv_rows,
    normalize,
)

TYPES = {"ImagePDQ": PDQ, "VideoMD5": MD5}
KIND_TO_TYPE = {PDQ: "ImagePDQ", MD5: "VideoMD5"}
OPAQUE_TYPES = {"URL", "Text", "VideoTMK", "Unknown"}
WITHDRAWN = {"Withdrawn", "Deleted"}
STATUSES = {"Unknown", "Received", "Active", "Withdrawn", "Deleted"}
CSV_REQUIRED = ("signalType", "hashValue")


class Withdrawn(BadRecord):
    """Not an error: a record its submitter withdrew (reported, never imported)."""


def _record(where: int, rec: Any) -> ParsedItem | BadRecord:
    if not isinstance(rec, dict):
        return BadRecord(where, "a hash record must be a JSON object")
    signal_type, value = rec.get("signalType"), rec.get("hashValue")
    status = rec.get("hashStatus") or "Active"
    if not isinstance(signal_type, str) or not isinstance(value, str):
        return BadRecord(where, "a hash record needs the strings signalType and hashValue")
    # Compared only as a string: a dict or list here (unhashable) is a bad record, not a crash.
    if not isinstance(status, str) or status not in STATUSES:
        return BadRecord(where, f"unknown hashStatus {str(status)[:40]!r}")
    stamp = rec.get("lastModtimestamp")
    # Checked here, not at export: a kept value is written back as int(...) later.
    if stamp is not None and (
        isinstance(stamp, bool) or not isinstance(stamp, int) or not 0 <= stamp < 2**63
    ):
        return BadRecord(where, "lastModtimestamp must be a whole number of seconds")
    cases = rec.get("caseNumbers") or {}
    if not isinstance(cases, dict):
        return BadRecord(where, "caseNumbers must be an object of case -> status")
    kept = {k: rec[k] for k in ("hashStatus", "caseNumbers", "lastModtimestamp") if k in rec}
    if rec.get("CSPFeedbacks"):
        kept["CSPFeedbacks"] = rec["CSPFeedbacks"]
    if status in WITHDRAWN:
        return Withdrawn(where, f"withdrawn by its submitter ({status})")
    external = next(iter(cases), None)
    if signal_type in OPAQUE_TYPES:
        kept["opaque"] = {"signalType": signal_type, "hashValue": value}
        return ParsedItem(where, [], external_id=external, attributes={"stopncii": kept})
    kind = TYPES.get(signal_type)
    if kind is None:
        return BadRecord(where, f"unknown signalType {signal_type[:40]!r}")
    try:
        signal = normalize(kind, value)
    except ValueError as exc:
        return BadRecord(where, str(exc))
    return ParsedItem(where, [signal], external_id=external, attributes={"stopncii": kept})


def parse_json(text: str) -> Parsed:
    doc = jsonwalk.loads(text)
    lines = jsonwalk.Lines(text)
    if isinstance(doc, dict):
        if not isinstance(doc.get("hashRecords"), list):
            raise FormatError("a StopNCII list needs a hashRecords array", line=1)
        elements = jsonwalk.member_array(text, 0, "hashRecords")
    elif isinstance(doc, list):
        elements = jsonwalk.array_elements(text, 0)
    else:
        raise FormatError("a StopNCII list is a JSON object or array", line=1)
    for offset, rec in elements:
        yield _record(lines.at(offset), rec)


def parse_csv(fh: IO[str]) -> Parsed:
    rows = csv_rows(fh)
    first = next(rows, None)
    header = [] if first is None or isinstance(first, BadRecord) else first[1]
    missing = [c for c in CSV_REQUIRED if c not in header]
    if missing:
        raise FormatError(f"line 1 must name the columns {', '.join(CSV_REQUIRED)}", line=1)
    for row in rows:
        if isinstance(row, BadRecord):
            yield row
            continue
        line, cells = row
        rec: dict[str, Any] = {k: v for k, v in zip(header, cells, strict=False) if k and v}
        cases = [c.strip() for c in (rec.pop("caseNumbers", "") or "").split(";") if c.strip()]
        if cases:
            rec["caseNumbers"] = {c: rec.get("hashStatus") or "Active" for c in cases}
        if "lastModtimestamp" in rec:
            try:
                rec["lastModtimestamp"] = int(rec["lastModtimestamp"])
            except ValueError:
                yield BadRecord(line, "lastModtimestamp must be a whole number")
                continue
        yield _record(line, rec)


def write_json(fh: IO[str], items: Iterable[StoredItem]) -> tuple[int, int]:
    """Returns (records written, hashes left out because StopNCII has no such type)."""
    import json

    now = int(time.time())
    records, left_out = [], 0
    for item in items:
        kept = item.attributes.get("stopncii") or {}
        for kind, value, _ in item.signals:
            if kind not in KIND_TO_TYPE:
                left_out += 1
                continue
            cases = kept.get("caseNumbers") or (
                {item.external_id: "Active"} if item.external_id else {}
            )
            records.append(
                {
                    "lastModtimestamp": int(kept.get("lastModtimestamp") or now),
                    "signalType": KIND_TO_TYPE[kind],
                    "hashValue": value,
                    "hashStatus": kept.get("hashStatus") or "Active",
                    "caseNumbers": cases,
                    "CSPFeedbacks": kept.get("CSPFeedbacks") or [],
                }
            )
        opaque = kept.get("opaque")
        if opaque:
            records.append({**opaque, "lastModtimestamp": now, "hashStatus": "Active",
                            "caseNumbers": {}, "CSPFeedbacks": []})  # fmt: skip
    body = {
        "count": len(records),
        "nextPageToken": None,
        "nextSetTimestamp": now,
        "hasMoreRecords": False,
        "hashRecords": records,
    }
    json.dump(body, fh, indent=1, ensure_ascii=False)
    fh.write("\n")
    return len(records), left_out
