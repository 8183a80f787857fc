"""Evidence packages: a case's originals, a manifest, the custody events that concern
them, the public key and a standalone verifier, in a folder or a zip (docs/evidence-package.md).

The order of writing is what makes the package checkable without haechi:

1. originals (copied out of the vault, re-hashed on the way: a damaged vault object stops
   the export), the verbatim messages, the report, the CASE/UCO graph, the public key, the
   verifier and a README;
2. ``manifest.csv`` and ``manifest.json``, listing every file above with its SHA-256;
3. a signed ``export`` custody event recording the SHA-256 of ``manifest.json`` (and an
   ``access`` event before it when victims' identities are revealed);
4. ``custody/events.jsonl``: the events that concern the case, ending with that export
   event, and ``SHA256SUMS`` (``sha256sum -c`` works on it).

So the signature on the last event vouches for the manifest, and the manifest for every file.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import select

from haechi import __version__
from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.model import CaseError, ConsentScope
from haechi.cases.timefmt import kst, utc
from haechi.domain import IntegrityError
from haechi.i18n import N_, t_
from haechi.report import caseuco
from haechi.report.chain import summarise
from haechi.report.gather import Evidence, concerning_events, gather, root_files
from haechi.report.html import ReportOptions, render, to_pdf
from haechi.report.redact import Redactor
from haechi.report.standalone.verify_package import runs
from haechi.report.writer import PackageWriter, open_writer
from haechi.store import textsafe
from haechi.store.custody import Draft, StoredEvent, export_line
from haechi.store.keys import public_pem
from haechi.store.models import CustodyEvent, Source
from haechi.store.vaultcrypto import CryptoError

FORMAT = "haechi-evidence-package"
VERIFIER = "verify_package.py"


@dataclass(frozen=True)
class PackageOptions:
    reveal_victims: bool = False
    html: bool = True
    pdf: bool = True
    caseuco: bool = True
    source_json: bool = False  # include each source's whole root file (result.json, page)
    verify_chain: bool = False  # verify the whole log now for the report (else: last verify)
    # progress(fraction 0..1, what it is doing): a background job's progress bar
    progress: Callable[[float, str], None] | None = None


@dataclass
class PackageResult:
    path: Path
    package_id: str
    files: int
    bytes: int
    export_seq: int
    manifest_sha256: str
    events: int
    seconds: float
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "path": str(self.path),
            "package_id": self.package_id,
            "files": self.files,
            "bytes": self.bytes,
            "export_event": self.export_seq,
            "manifest_sha256": self.manifest_sha256,
            "custody_events": self.events,
            "seconds": self.seconds,
            "warnings": self.warnings,
        }


def _consent_warnings(evidence: Evidence, reveal: bool) -> list[str]:
    warnings = []
    for v in evidence.detail.victims:
        if v.consents_to(ConsentScope.EVIDENCE_SHARING):
            continue
        if reveal:
            raise CaseError(
                t_(
                    "Victim {label} has no consent record for evidence sharing, "
                    "so their identity cannot be revealed in a package: export "
                    "it redacted.",
                    label=v.label,
                )
            )
        if not v.consents:
            warnings.append(f"victim {v.label} has no consent record at all")
    return warnings


def create_package(
    app: App, case: int | str, dest: Path, options: PackageOptions | None = None
) -> PackageResult:
    opts = options or PackageOptions()
    started = time.monotonic()
    evidence = gather(app, case, reveal_victims=opts.reveal_victims)
    if not evidence.detail.active_items():
        raise CaseError(t_("Case {ref} has no items to package.", ref=evidence.detail.ref))
    warnings = _consent_warnings(evidence, opts.reveal_victims)
    writer = open_writer(dest)
    try:
        result = _write(app, evidence, writer, opts, warnings)
    except BaseException:
        writer.abort()
        raise
    result.path = writer.finish()
    result.seconds = round(time.monotonic() - started, 3)
    return result


def _write(
    app: App, evidence: Evidence, out: PackageWriter, opts: PackageOptions, warnings: list[str]
) -> PackageResult:
    package_id = uuid.uuid4().hex
    created = ev.now_iso()
    case_id = evidence.detail.id
    with app.db.connect() as conn:
        head = conn.execute(
            select(CustodyEvent.seq, CustodyEvent.hash).order_by(CustodyEvent.seq.desc()).limit(1)
        ).first()
        roots = root_files(conn, evidence.source_ids)
        extra_roots = sorted(roots)
        times = {
            r.id: (r.started_at, r.finished_at)
            for r in conn.execute(
                select(Source.id, Source.started_at, Source.finished_at).where(
                    Source.id.in_(evidence.source_ids or [-1])
                )
            )
        }
    files: list[dict[str, Any]] = []
    total_bytes, copied = sum(f.size for f in evidence.files) or 1, 0
    for entry in evidence.files:
        if opts.progress is not None:
            opts.progress(0.05 + 0.7 * copied / total_bytes, "originals")
        copied += entry.size
        files.append(_copy_original(app, out, entry.sha256, entry.package_path, "original"))
        files[-1]["captures"] = [_capture(c) for c in entry.captures]
        files[-1]["item_ids"] = entry.item_ids
    if opts.source_json:
        for sha in extra_roots:
            if evidence.file(sha) is None:
                # the source's root file: an export's result.json or a captured page
                role = "original_source_page" if roots[sha] == ".html" else "original_source_json"
                files.append(_copy_original(app, out, sha, f"originals/{sha}{roots[sha]}", role))
    if evidence.messages:
        files.append(_put(out, "messages.jsonl", _messages_jsonl(evidence), "messages"))
    shas = sorted({f.sha256 for f in evidence.files} | set(extra_roots))
    with app.db.connect() as conn:
        before = list(concerning_events(conn, case_id, shas, evidence.source_ids))
    if opts.progress is not None:
        opts.progress(0.75, "report")
    if opts.html or opts.pdf:
        chain = summarise(app, before, full=opts.verify_chain)
        page = render(
            app,
            evidence,
            before,
            chain,
            options=ReportOptions(reveal_victims=opts.reveal_victims),
            generated_at=created,
        )
        if opts.html:
            files.append(_put(out, "report/report.html", page.encode(), "report"))
        if opts.pdf:
            files.append(_put(out, "report/report.pdf", to_pdf(page), "report"))
    if opts.caseuco:
        doc = caseuco.build(
            evidence,
            source_times=times,
            operator=app.settings.operator,
            package=(package_id, created),
        )
        files.append(_put(out, "case.jsonld", caseuco.dumps(doc).encode(), "caseuco"))
    files.append(_put(out, "custody/public_key.pem", public_pem(app.signer.public), "public_key"))
    files.extend(_signing_keys(app, out, before))
    verifier = resources.files("haechi.report.standalone").joinpath(VERIFIER).read_bytes()
    files.append(_put(out, VERIFIER, verifier, "verifier"))
    files.append(_put(out, "README.txt", _readme(evidence).encode(), "readme"))
    if opts.progress is not None:
        opts.progress(0.95, "manifest")
    manifest = _manifest(app, evidence, package_id, created, head, opts, warnings)
    files.append(_put(out, "manifest.csv", _manifest_csv(files), "manifest_csv"))
    manifest["files"] = files
    manifest_bytes = orjson.dumps(manifest, option=orjson.OPT_INDENT_2) + b"\n"
    manifest_sha, _ = out.put_bytes("manifest.json", manifest_bytes)
    total = sum(int(f["size"]) for f in files)
    revealed = [v.label for v in evidence.detail.victims] if opts.reveal_victims else None
    drafts = ev.export_drafts(
        case_id,
        {
            "kind": "evidence_package",
            "package_id": package_id,
            "manifest_sha256": manifest_sha,
            "files": len(files),
            "bytes": total,
            "name": out.dest.name,
            "victim_identifiers": "revealed" if opts.reveal_victims else "redacted",
            "head_before_export": {"seq": head[0], "hash": head[1]} if head else None,
        },
        revealed=revealed,
    )
    *before_export, export = drafts
    with app.db.begin() as conn:
        # One transaction under the chain's lock: the events listed in the export event
        # are exactly the ones shipped, and no other writer can slip one in between.
        app.custody.append_many(conn, before_export)
        shipped = list(concerning_events(conn, case_id, shas, evidence.source_ids))
        data = {**export.data, "events": shipped_events(shipped)}
        export_seq = app.custody.append_many(
            conn, [Draft(export.event_type, export.subject, data)]
        )[0]
        lines = [
            export_line(e)
            for e in concerning_events(conn, case_id, shas, evidence.source_ids, upto=export_seq)
        ]
    out.put_bytes("custody/events.jsonl", ("\n".join(lines) + "\n").encode())
    sums = "".join(f"{sha}  {name}\n" for name, (sha, _size) in sorted(out.written.items()))
    out.put_bytes("SHA256SUMS", sums.encode())
    return PackageResult(
        path=out.dest,
        package_id=package_id,
        files=len(files),
        bytes=total,
        export_seq=export_seq,
        manifest_sha256=manifest_sha,
        events=len(lines),
        seconds=0.0,
        warnings=warnings,
    )


def shipped_events(events: list[StoredEvent]) -> dict[str, Any]:
    """What the signed export event says about the events shipped before it: their
    sequence numbers (as runs) and a digest over ``"<seq> <hash>\\n"`` in file order, so a
    verifier names any event removed, added or moved (``verify_package.events_binding``)."""
    seqs = [int(json.loads(e.body)["seq"]) for e in events]
    digest = hashlib.sha256()
    for seq, e in zip(seqs, events, strict=True):
        digest.update(f"{seq} {e.hash}\n".encode())
    return {"count": len(seqs), "seqs": runs(seqs), "sha256": digest.hexdigest()}


def _signing_keys(app: App, out: PackageWriter, events: list[StoredEvent]) -> list[dict[str, Any]]:
    """``custody/public_keys/<key id>.pem`` for every key that signed an event shipped
    (the current key signs the export event; older events may carry keys retired by
    ``haechi keys rotate``), so the package verifies across a rotation."""
    known = app.verifier().keys
    kids = sorted({e.key_id for e in events if e.key_id} | {app.signer.key_id})
    return [
        _put(out, f"custody/public_keys/{kid}.pem", public_pem(known[kid]), "public_key")
        for kid in kids
        if kid in known
    ]


def _copy_original(app: App, out: PackageWriter, sha: str, name: str, role: str) -> dict[str, Any]:
    try:
        with app.vault.open(sha) as stream:
            got, size = out.put_stream(name, stream)
    except CryptoError as exc:  # an encrypted object whose tag fails: altered, or wrong key
        if exc.reason == "wrong_key":
            raise
        got = f"something else ({exc})"
    if got != sha:
        raise IntegrityError(
            t_(
                "The vault object {sha} no longer matches its SHA-256 (it "
                "reads as {got}): run `haechi verify`; the package was not "
                "written.",
                sha=sha,
                got=got,
            )
        )
    return {"path": name, "role": role, "sha256": got, "size": size}


def _put(out: PackageWriter, name: str, data: bytes, role: str) -> dict[str, Any]:
    sha, size = out.put_bytes(name, data)
    return {"path": name, "role": role, "sha256": sha, "size": size}


def _capture(c: Any) -> dict[str, Any]:
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


def _messages_jsonl(evidence: Evidence) -> bytes:
    lines = []
    for m in evidence.messages:
        lines.append(
            json.dumps(
                {
                    "item_id": m.item_id,
                    "chat": m.chat,
                    "chat_tg_id": m.chat_tg_id,
                    "message_id": m.message_id,
                    "url": m.url,
                    "date_utc": utc(m.date_unix),
                    "date_kst": kst(m.date_unix),
                    "date_raw": m.date_raw,
                    "source_id": m.source_id,
                    "source_root_sha256": m.source_root_sha256,
                    "raw_offset": m.raw_offset,
                    "raw_sha256": m.raw_sha256,
                    "raw": m.raw,
                },
                # a raw text holding lone surrogates (bytes that were not UTF-8 in the
                # source) is written with \u escapes, so the file stays valid UTF-8
                ensure_ascii=not textsafe.storable(m.raw),
            )
        )
    return ("\n".join(lines) + "\n").encode("utf-8")


def _manifest(
    app: App,
    evidence: Evidence,
    package_id: str,
    created: str,
    head: Any,
    opts: PackageOptions,
    warnings: list[str],
) -> dict[str, Any]:
    d = evidence.detail
    redact = Redactor(evidence.secrets, enabled=not opts.reveal_victims)
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
        if opts.reveal_victims:
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
        "victim_identifiers": "revealed" if opts.reveal_victims else "redacted",
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


def _manifest_csv(files: list[dict[str, Any]]) -> bytes:
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


# The README's paragraphs, in English; the Korean under them comes from the catalogue
# (haechi.i18n, ``make i18n``): a court in Korea reads the same file.
README_PARTS = (
    N_(
        "Contents\n"
        "  originals/             the captured files, named by SHA-256, byte for byte\n"
        "  messages.jsonl         each message exactly as the source gave it, with its hash\n"
        "  manifest.json/.csv     every file of this package with SHA-256, size and capture\n"
        "                         details (UTC and KST)\n"
        "  custody/events.jsonl   the signed custody events that concern this case; the last\n"
        "                         one is the export event, which records manifest.json's hash\n"
        "  custody/public_key.pem the Ed25519 key that signed them\n"
        "  report/                the case report (HTML, PDF)\n"
        "  case.jsonld            the case in CASE/UCO JSON-LD\n"
        "  SHA256SUMS             checkable with `sha256sum -c SHA256SUMS`"
    ),
    N_(
        "Verify (needs Python 3.9+ and `pip install cryptography`, nothing else):\n"
        "  python3 verify_package.py .\n"
        "  python3 verify_package.py . --public-key KEY_FROM_THE_UNIT.pem\n"
        "  python3 verify_package.py . --lang ko      (the verifier's report in Korean)"
    ),
    N_(
        "Compare the key id it prints with the one the unit gives you independently: a\n"
        "package re-signed with another key verifies only against that other key.\n"
        "Victims are named by label (V1, ...) unless the manifest says victim identifiers\n"
        "were revealed. The originals are the evidence and are never altered or redacted."
    ),
)


def _readme(evidence: Evidence) -> str:
    from haechi.i18n import translate

    ref = evidence.detail.ref
    english = "\n\n".join(README_PARTS)
    korean = "\n\n".join(translate(part, "ko") for part in README_PARTS)
    return (
        f"haechi evidence package — case {ref}\n"
        "==============================================\n\n"
        f"{english}\n\n\n"
        f"해치 증거 패키지 — 사건 {ref}\n"
        "==============================================\n\n"
        f"{korean}\n"
    )
