"""An evidence package's manifest: ``manifest.json`` (the case, redacted unless victims'
identities are revealed, its items and notices, and every file with its SHA-256, size and
capture details) and ``manifest.csv``, the same files one row per capture for a
spreadsheet. The signed export event records the SHA-256 of ``manifest.json``."""

from __future__ import annotations

import csv
import io
from typing import Any

from haechi import __version__
from haechi.app import App
from haechi.cases.timefmt import kst, utc
from haechi.report.gather import Evidence
from haechi.report.redact import Redactor

FORMAT = "haechi-evidence-package"


def capture_entry(c: Any) -> dict[str, Any]:
    return {
        "source_id": c.source_id,
        "source_kind": c.source_kind,
        "path_in_source": c.path,
        "role": c.role,
        "captured_at_utc": utc(c.captured_at),
        "captured_at_kst": kst(c.captured_at),
        "captured_at": c.captured_at,
        "collector": c.collector,
        "collector_version": c.collector_version,
        "operator": c.operator,
        "host": c.host,
        "custody_event": c.event_seq,
    }


def build_manifest(
    app: App,
    evidence: Evidence,
    package_id: str,
    created: str,
    head: Any,
    reveal_victims: bool,
    warnings: list[str],
) -> dict[str, Any]:
    """``manifest.json`` but for its ``files``, which the caller adds once they are written."""
    d = evidence.detail
    redact = Redactor(evidence.secrets, enabled=not reveal_victims)
    victims = []
    for v in d.victims:
        entry: dict[str, Any] = {
            "label": v.label,
            "age_band": v.age_band,
            "is_minor": v.is_minor,
            "consents": [
                {
                    "scope": c.scope,
                    "given_by": c.given_by,
                    "granted_at": c.granted_at,
                    "active": c.active,
                }
                for c in v.consents
            ],
        }
        if reveal_victims:
            entry.update(name=v.display_name, contact=v.contact, identifiers=list(v.identifiers))
        victims.append(entry)
    return {
        "format": FORMAT,
        "version": 1,
        "package_id": package_id,
        "created_at": created,
        "created_by": app.settings.operator,
        "host": app.settings.host,
        "tool": "haechi",
        "tool_version": __version__,
        "case": {
            "id": d.id,
            "ref": d.ref,
            "title": redact(d.summary.title),
            "status": d.summary.status,
            "reported_on": d.summary.reported_on,
            "opened_at": d.summary.opened_at,
            "victims": victims,
            "suspects": [
                {
                    "label": s.label,
                    "identifiers": [{"kind": k, "value": v} for k, v in s.identifiers],
                    "age_band": s.age_band,
                    "status": s.status,
                    "apprehended_at": s.apprehended_at,
                    "detained_at": s.detained_at,
                }
                for s in d.suspects
            ],
        },
        "victim_identifiers": "revealed" if reveal_victims else "redacted",
        "warnings": warnings,
        "custody": {
            "public_key_id": app.signer.key_id,
            "public_key_file": "custody/public_key.pem",
            "events_file": "custody/events.jsonl",
            "head_before_export": {"seq": head[0], "hash": head[1]} if head else None,
            "note": "The last event of events_file is the signed export event; it records the "
            "SHA-256 of this manifest.json.",
        },
        "items": [
            {
                "id": i.id,
                "kind": i.kind,
                "url": i.url,
                "chat": f"{i.chat_peer_kind}:{i.chat_tg_id}" if i.chat_tg_id else None,
                "message_id": i.message_id,
                "posted_utc": utc(i.date_unix),
                "posted_kst": kst(i.date_unix),
                "sha256": i.blob_sha256,
                "md5": i.blob_md5,
                "size": i.blob_size,
                "external_ref": i.external_ref,
                "reupload_of": i.reupload_of,
                "added_at": i.added_at,
                "withdrawn": i.withdrawn,
            }
            for i in d.items
        ],
        "messages_file": "messages.jsonl" if evidence.messages else None,
        "notices": [
            {
                "id": n.id,
                "recipient": n.recipient,
                "language": n.language,
                "status": n.status,
                "body_sha256": n.body_sha256,
                "sent_utc": utc(n.sent_unix),
                "removed_utc": utc(n.removed_unix),
                "hours_to_removal": n.hours_to_removal,
                "urls": list(n.urls),
            }
            for n in evidence.notices
        ],
    }


def manifest_csv(files: list[dict[str, Any]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(
        [
            "path", "role", "sha256", "size", "item_ids", "source_id", "path_in_source",
            "captured_at_utc", "captured_at_kst", "collector", "collector_version", "operator",
            "custody_event",
        ]
    )  # fmt: skip
    for f in files:
        caps = f.get("captures") or [{}]
        for c in caps:
            w.writerow(
                [
                    f["path"], f["role"], f["sha256"], f["size"],
                    " ".join(str(i) for i in f.get("item_ids", [])),
                    c.get("source_id", ""), c.get("path_in_source", ""),
                    c.get("captured_at_utc", ""), c.get("captured_at_kst", ""),
                    c.get("collector", ""), c.get("collector_version", ""),
                    c.get("operator", ""), c.get("custody_event", ""),
                ]
            )  # fmt: skip
    return buf.getvalue().encode()
