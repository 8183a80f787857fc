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
This module keeps that order and writes the export event; ``contents`` makes the files,
``manifest`` describes them and ``writer`` puts them in a folder or a zip.
"""

from __future__ import annotations

import hashlib
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

from haechi.app import App
from haechi.cases import events as ev
from haechi.cases.model import CaseError, ConsentScope
from haechi.i18n import t_
from haechi.report import caseuco
from haechi.report.chain import summarise
from haechi.report.contents import copy_original, messages_jsonl, put, readme, signing_keys
from haechi.report.gather import Evidence, concerning_events, gather, root_files
from haechi.report.html import ReportOptions, render, to_pdf
from haechi.report.manifest import build_manifest, capture_entry, manifest_csv
from haechi.report.standalone.verify_package import runs
from haechi.report.writer import PackageWriter, open_writer
from haechi.store.custody import Draft, StoredEvent, export_line
from haechi.store.keys import public_pem
from haechi.store.models import CustodyEvent, Source

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
        files.append(copy_original(app, out, entry.sha256, entry.package_path, "original"))
        files[-1]["captures"] = [capture_entry(c) for c in entry.captures]
        files[-1]["item_ids"] = entry.item_ids
    if opts.source_json:
        for sha in extra_roots:
            if evidence.file(sha) is None:
                # the source's root file: an export's result.json or a captured page
                role = "original_source_page" if roots[sha] == ".html" else "original_source_json"
                files.append(copy_original(app, out, sha, f"originals/{sha}{roots[sha]}", role))
    if evidence.messages:
        files.append(put(out, "messages.jsonl", messages_jsonl(evidence), "messages"))
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
            files.append(put(out, "report/report.html", page.encode(), "report"))
        if opts.pdf:
            files.append(put(out, "report/report.pdf", to_pdf(page), "report"))
    if opts.caseuco:
        doc = caseuco.build(
            evidence,
            source_times=times,
            operator=app.settings.operator,
            package=(package_id, created),
        )
        files.append(put(out, "case.jsonld", caseuco.dumps(doc).encode(), "caseuco"))
    files.append(put(out, "custody/public_key.pem", public_pem(app.signer.public), "public_key"))
    files.extend(signing_keys(app, out, before))
    verifier = resources.files("haechi.report.standalone").joinpath(VERIFIER).read_bytes()
    files.append(put(out, VERIFIER, verifier, "verifier"))
    files.append(put(out, "README.txt", readme(evidence).encode(), "readme"))
    if opts.progress is not None:
        opts.progress(0.95, "manifest")
    manifest = build_manifest(
        app, evidence, package_id, created, head, opts.reveal_victims, warnings
    )
    files.append(put(out, "manifest.csv", manifest_csv(files), "manifest_csv"))
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
