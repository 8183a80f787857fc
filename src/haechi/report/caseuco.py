"""A case as CASE/UCO JSON-LD (https://caseontology.org): the exchange format of digital
forensics tools.

What it holds: the investigation; one investigative action per capture (each source's
ingest, performed by the operator with haechi as the instrument) and, for a package, the
export; one provenance record per source (exhibit number ``<case>-S<n>``) listing what it
yielded; every file with its size, MIME type and SHA-256/MD5 hashes; every message with its
id and sending time; the t.me links. No message text, no chat title, no victim identifier:
the graph describes evidence, it does not reproduce it.

Node ids are ``kb:<Type>-<uuid5>`` derived from stable keys, so exporting twice gives the
same ids. The output conforms to the CASE 1.5 SHACL shapes (``case_validate``, tested).
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import PurePosixPath
from typing import Any

import orjson

from haechi import __version__
from haechi.report.gather import Evidence

NAMESPACE = uuid.UUID("6f1c8e2a-5d0b-4b7e-9a51-0c1e4d8a7b21")  # haechi's own, fixed
CONTEXT = {
    "kb": "https://haechi.invalid/kb/",
    "case-investigation": "https://ontology.caseontology.org/case/investigation/",
    "uco-action": "https://ontology.unifiedcyberontology.org/uco/action/",
    "uco-core": "https://ontology.unifiedcyberontology.org/uco/core/",
    "uco-identity": "https://ontology.unifiedcyberontology.org/uco/identity/",
    "uco-observable": "https://ontology.unifiedcyberontology.org/uco/observable/",
    "uco-tool": "https://ontology.unifiedcyberontology.org/uco/tool/",
    "uco-types": "https://ontology.unifiedcyberontology.org/uco/types/",
    "xsd": "http://www.w3.org/2001/XMLSchema#",
}


def node_id(kind: str, *key: object) -> str:
    return f"kb:{kind}-{uuid.uuid5(NAMESPACE, '/'.join(str(k) for k in (kind, *key)))}"


def _ref(ids: Sequence[str]) -> list[dict[str, str]]:
    return [{"@id": i} for i in ids]


def _time(value: int | str | None) -> dict[str, str] | None:
    if value is None:
        return None
    if isinstance(value, int):
        moment = datetime.fromtimestamp(value, UTC)
    else:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)
    return {"@type": "xsd:dateTime", "@value": moment.isoformat().replace("+00:00", "Z")}


def _hash(method: str, value: str, owner: str) -> dict[str, Any]:
    return {
        "@id": node_id("Hash", owner, method),
        "@type": "uco-types:Hash",
        "uco-types:hashMethod": method,
        "uco-types:hashValue": {"@type": "xsd:hexBinary", "@value": value},
    }


def _drop_none(node: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in node.items() if v is not None and v != []}


def build(
    ev: Evidence,
    *,
    source_times: dict[int, tuple[str | None, str | None]],
    operator: str,
    package: tuple[str, str] | None = None,
) -> dict[str, Any]:
    """The JSON-LD document. ``source_times``: per source id, (started, finished).
    ``package``: (package id, export time) when the graph is part of an evidence package."""
    ref = ev.detail.ref
    graph: list[dict[str, Any]] = []
    tool = node_id("Tool", "haechi", __version__)
    person = node_id("Identity", operator)
    graph.append(
        {
            "@id": tool,
            "@type": "uco-tool:Tool",
            "uco-core:name": "haechi",
            "uco-tool:version": __version__,
            "uco-tool:toolType": "evidence preservation",
        }
    )
    graph.append({"@id": person, "@type": "uco-identity:Identity", "uco-core:name": operator})
    by_source: dict[int, list[str]] = {}
    all_objects: list[str] = []
    for f in ev.files:
        file_id = node_id("File", f.sha256)
        name = PurePosixPath(f.captures[0].path).name if f.captures else f"{f.sha256}{f.ext}"
        facet_file = node_id("FileFacet", f.sha256)
        facet_data = node_id("ContentDataFacet", f.sha256)
        hashes = [_hash("SHA256", f.sha256, f.sha256), _hash("MD5", f.md5, f.sha256)]
        graph += hashes
        graph.append(
            _drop_none(
                {
                    "@id": facet_file,
                    "@type": "uco-observable:FileFacet",
                    "uco-observable:fileName": name,
                    "uco-observable:sizeInBytes": f.size,
                }
            )
        )
        graph.append(
            _drop_none(
                {
                    "@id": facet_data,
                    "@type": "uco-observable:ContentDataFacet",
                    "uco-observable:sizeInBytes": f.size,
                    "uco-observable:mimeType": f.mime,
                    "uco-observable:hash": _ref([h["@id"] for h in hashes]),
                }
            )
        )
        graph.append(
            {
                "@id": file_id,
                "@type": "uco-observable:File",
                "uco-core:hasFacet": _ref([facet_file, facet_data]),
            }
        )
        all_objects.append(file_id)
        for cap in f.captures:
            by_source.setdefault(cap.source_id, []).append(file_id)
    for m in ev.messages:
        msg_id = node_id("Message", m.chat, m.message_id)
        facet = node_id("MessageFacet", m.chat, m.message_id)
        graph.append(
            _drop_none(
                {
                    "@id": facet,
                    "@type": "uco-observable:MessageFacet",
                    "uco-observable:messageID": f"{m.chat}/{m.message_id}",
                    "uco-observable:sentTime": _time(m.date_unix),
                }
            )
        )
        graph.append(
            {"@id": msg_id, "@type": "uco-observable:Message", "uco-core:hasFacet": _ref([facet])}
        )
        all_objects.append(msg_id)
        by_source.setdefault(m.source_id, []).append(msg_id)
    for url in sorted({i.url for i in ev.detail.active_items() if i.url}):
        url_id, facet = node_id("URL", url), node_id("URLFacet", url)
        graph.append(
            {"@id": facet, "@type": "uco-observable:URLFacet", "uco-observable:fullValue": url}
        )
        graph.append(
            {"@id": url_id, "@type": "uco-observable:URL", "uco-core:hasFacet": _ref([facet])}
        )
        all_objects.append(url_id)
    investigation_objects = list(all_objects)
    for source_id in sorted(by_source):
        record = node_id("ProvenanceRecord", ref, "source", source_id)
        action = node_id("InvestigativeAction", ref, "capture", source_id)
        started, finished = source_times.get(source_id, (None, None))
        graph.append(
            {
                "@id": record,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": f"{ref}-S{source_id}",
                "uco-core:object": _ref(sorted(set(by_source[source_id]))),
            }
        )
        graph.append(
            _drop_none(
                {
                    "@id": action,
                    "@type": "case-investigation:InvestigativeAction",
                    "uco-core:name": f"capture of source {source_id}",
                    "uco-action:startTime": _time(started),
                    "uco-action:endTime": _time(finished),
                    "uco-action:performer": {"@id": person},
                    "uco-action:instrument": _ref([tool]),
                    "uco-action:result": _ref([record]),
                }
            )
        )
        investigation_objects += [record, action]
    if package is not None:
        package_id, at = package
        record = node_id("ProvenanceRecord", ref, "package", package_id)
        action = node_id("InvestigativeAction", ref, "export", package_id)
        graph.append(
            {
                "@id": record,
                "@type": "case-investigation:ProvenanceRecord",
                "case-investigation:exhibitNumber": f"{ref}-P{package_id[:8]}",
                "uco-core:object": _ref([node_id("File", f.sha256) for f in ev.files] or [tool]),
            }
        )
        graph.append(
            {
                "@id": action,
                "@type": "case-investigation:InvestigativeAction",
                "uco-core:name": "evidence package export",
                "uco-action:startTime": _time(at),
                "uco-action:performer": {"@id": person},
                "uco-action:instrument": _ref([tool]),
                "uco-action:object": _ref([node_id("File", f.sha256) for f in ev.files]),
                "uco-action:result": _ref([record]),
            }
        )
        investigation_objects += [record, action]
    graph.append(
        _drop_none(
            {
                "@id": node_id("Investigation", ref),
                "@type": "case-investigation:Investigation",
                "uco-core:name": ref,
                "case-investigation:investigationForm": "case",
                "case-investigation:investigationStatus": ev.detail.summary.status,
                "uco-core:startTime": _time(ev.detail.summary.opened_at),
                "uco-core:object": _ref(investigation_objects or [tool]),
            }
        )
    )
    return {"@context": CONTEXT, "@graph": graph}


def dumps(document: dict[str, Any]) -> str:
    return orjson.dumps(document, option=orjson.OPT_INDENT_2).decode() + "\n"
