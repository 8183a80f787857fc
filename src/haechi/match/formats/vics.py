"""Project VIC / VICS JSON (the OData hash-set format of Griffeye, NCMEC/ICMEC partners).

Read: data model 1.x (``"odata.metadata": ".../ProjectVic/DataModels/1.3.xml#Media"``)
and 2.0 (``"@odata.context": ".../2.0.xml/<flavour>/$metadata#Media"`` or ``#Cases``,
where each case holds ``Media``). From each ``Media`` record: ``MD5`` (and ``SHA256``
where present) become matchable signals; ``AlternativeHashes`` entries named ``PDQ``
too. Everything else — ``SHA1``, ``PhotoDNA`` (1.x field or a 2.0 alternative hash),
``Category``, ``Series``, ``VictimIdentified``, ``Tags``... — is kept verbatim as an
opaque attribute: haechi cannot compute PhotoDNA (Microsoft licenses it) or SHA-1 of
stored files, and a VICS export must give them back unchanged. ``MediaID`` becomes
the item's external id.

Written: 2.0 ``#Media`` documents; an item imported from VICS is written back from its
original record (hashes refreshed), any other item as a minimal record.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from typing import IO, Any

from haechi.match.formats import jsonwalk
from haechi.match.formats.base import (
    MD5,
    PDQ,
    SHA256,
    BadRecord,
    FormatError,
    Parsed,
    ParsedItem,
    ParsedSignal,
    StoredItem,
    normalize,
)

CONTEXT_20 = "http://github.com/VICSDATAMODEL/ProjectVic/DataModels/2.0.xml/CUSTOM/$metadata#Media"
MAX_RECORD_CHARS = 64 * 1024  # an original record larger than this is not kept whole
_MODEL = re.compile(r"projectvic/datamodels/([0-9.]+)\.xml", re.IGNORECASE)


def is_vics(doc: Any) -> bool:
    if not isinstance(doc, dict):
        return False
    model = str(doc.get("@odata.context") or doc.get("odata.metadata") or "")
    return bool(_MODEL.search(model))


def _media_elements(text: str, doc: dict[str, Any]) -> Iterator[tuple[int, Any]]:
    model = str(doc.get("@odata.context") or doc.get("odata.metadata") or "")
    if not isinstance(doc.get("value"), list):
        raise FormatError("a VICS document needs a value array", line=1)
    if model.rstrip("/").lower().endswith("#cases"):
        for case_offset, case in jsonwalk.member_array(text, 0, "value"):
            if isinstance(case, dict) and isinstance(case.get("Media"), list):
                yield from jsonwalk.member_array(text, case_offset, "Media")
        return
    yield from jsonwalk.member_array(text, 0, "value")


def _signal(field: str, value: Any, kind: str) -> ParsedSignal | str:
    if not isinstance(value, str):
        return f"{field} must be a string"
    try:
        return normalize(kind, value)
    except ValueError as exc:
        return f"{field}: {exc}"


def _record(where: int, media: Any) -> ParsedItem | BadRecord:
    if not isinstance(media, dict):
        return BadRecord(where, "a Media record must be a JSON object")
    label = f" (MediaID {media['MediaID']})" if "MediaID" in media else ""
    signals: list[ParsedSignal] = []
    for field, kind in (("MD5", MD5), ("SHA256", SHA256)):
        value = media.get(field)
        if value in (None, ""):
            continue
        got = _signal(field, value, kind)
        if isinstance(got, str):
            return BadRecord(where, got + label)
        signals.append(got)
    alternatives = media.get("AlternativeHashes") or []
    if not isinstance(alternatives, list):
        return BadRecord(where, "AlternativeHashes must be an array" + label)
    for alt in alternatives:
        if isinstance(alt, dict) and str(alt.get("HashName", "")).strip().lower() == "pdq":
            got = _signal("AlternativeHashes PDQ", alt.get("HashValue"), PDQ)
            if isinstance(got, str):
                return BadRecord(where, got + label)
            signals.append(got)
    record = media if len(json.dumps(media)) <= MAX_RECORD_CHARS else _essentials(media)
    external = media.get("MediaID")
    return ParsedItem(
        where,
        signals,
        external_id=None if external is None else str(external),
        attributes={"vics": record},
    )


def _essentials(media: dict[str, Any]) -> dict[str, Any]:
    keep = ("MediaID", "Category", "MD5", "SHA1", "SHA256", "PhotoDNA", "AlternativeHashes")
    return {k: media[k] for k in keep if k in media}


def parse(text: str) -> Parsed:
    doc = jsonwalk.loads(text)
    if not is_vics(doc):
        raise FormatError(
            "not a VICS document: no ProjectVic data model in @odata.context/odata.metadata",
            line=1,
        )
    lines = jsonwalk.Lines(text)
    for offset, media in _media_elements(text, doc):
        yield _record(lines.at(offset), media)


def _export_record(item: StoredItem, fallback_id: int) -> dict[str, Any]:
    record = dict(item.attributes.get("vics") or {})
    md5s, pdqs, shas = item.values(MD5), item.values(PDQ), item.values(SHA256)
    if md5s:
        original = str(record.get("MD5") or "")
        record["MD5"] = md5s[0] if original.islower() else md5s[0].upper()
    if shas and "SHA256" in record:
        record["SHA256"] = shas[0]
    if pdqs:
        alts = [
            a
            for a in record.get("AlternativeHashes") or []
            # a partner's non-object entries are kept as they came, never read as objects
            if not isinstance(a, dict) or str(a.get("HashName", "")).lower() != "pdq"
        ]
        alts += [{"HashName": "PDQ", "HashValue": p} for p in pdqs]
        record["AlternativeHashes"] = alts
    if "MediaID" not in record:
        external = item.external_id
        if external and external.isascii() and external.isdigit() and len(external) < 19:
            record["MediaID"] = int(external)
        else:
            record["MediaID"] = fallback_id
    return record


def write(fh: IO[str], items: Iterable[StoredItem]) -> int:
    media = [_export_record(item, n) for n, item in enumerate(items, start=1)]
    json.dump({"@odata.context": CONTEXT_20, "value": media}, fh, indent=1, ensure_ascii=False)
    fh.write("\n")
    return len(media)
