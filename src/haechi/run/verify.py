"""``haechi verify``: re-hash every vault file and check the custody chain.

Names exactly what is wrong: which object is missing or altered (and where it was captured
from), which event is missing, altered, reordered, unsigned or forged. The chain check runs
in a thread beside the parallel re-hashing, and both stream: memory does not grow with
the size of the archive.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from haechi.app import App
from haechi.auth.audit_chain import AuditReport, verify_audit
from haechi.config import DB_NAME
from haechi.store import custody
from haechi.store.custody import ChainReport, iter_db_events, verify_chain
from haechi.store.models import Blob, CustodyEvent, SourceFile
from haechi.store.rehash import rehash_objects


@dataclass
class VerifyReport:
    chain: ChainReport = field(default_factory=ChainReport)
    audit: AuditReport = field(default_factory=AuditReport)
    objects: int = 0
    objects_ok: int = 0
    bytes: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.problems and self.chain.ok and self.audit.ok

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "events": self.chain.events,
            "head_seq": self.chain.head_seq,
            "head_hash": self.chain.head_hash,
            "chain_problems": [str(p) for p in self.chain.problems],
            "audit_entries": self.audit.chain.events,
            "audit_head_seq": self.audit.chain.head_seq,
            "audit_head_hash": self.audit.chain.head_hash,
            "audit_unchained": self.audit.unchained,
            "audit_problems": self.audit.all_problems(),
            "objects": self.objects,
            "objects_ok": self.objects_ok,
            "bytes": self.bytes,
            "problems": self.problems,
            "warnings": self.warnings,
            "seconds": self.seconds,
            "mb_per_s": round(self.bytes / 1e6 / self.seconds, 1) if self.seconds else None,
        }


def _expected_objects(app: App) -> Iterator[tuple[str, int | None]]:
    with app.db.connect() as conn:
        result = conn.execution_options(yield_per=2000).execute(
            select(Blob.sha256, Blob.size).order_by(Blob.sha256)
        )
        yield from result


def _planned(app: App) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(Blob)).scalar_one())


def _where(app: App, sha: str) -> str:
    with app.db.connect() as conn:
        paths = conn.execute(
            select(SourceFile.source_id, SourceFile.path)
            .where(SourceFile.blob_sha256 == sha)
            .limit(3)
        ).all()
    if not paths:
        return ""
    return " (captured as " + ", ".join(f"source {s}: {p}" for s, p in paths) + ")"


def verify(
    app: App,
    *,
    extra_public_keys: list[Path] | None = None,
    record: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> VerifyReport:
    """``progress(files re-hashed, files in the vault)`` is called as the re-hashing goes
    (the background job's page shows it)."""
    started = time.monotonic()
    report = VerifyReport()
    planned = _planned(app) if progress is not None else 0
    verifier = app.verifier(extra_public_keys)

    def chain_job() -> tuple[ChainReport, AuditReport]:
        with app.db.connect() as conn:
            return verify_chain(iter_db_events(conn), verifier), verify_audit(conn, verifier)

    with ThreadPoolExecutor(max_workers=1) as pool:
        chain_future = pool.submit(chain_job)
        for check in rehash_objects(
            app.vault, _expected_objects(app), workers=app.settings.workers
        ):
            report.objects += 1
            if progress is not None:
                progress(report.objects, planned)
            if check.status == "ok":
                report.objects_ok += 1
                report.bytes += check.size or 0
                continue
            detail = f" — {check.detail}" if check.detail else ""
            report.problems.append(
                f"{check.status}: vault object {check.sha256}{_where(app, check.sha256)}{detail}"
            )
        report.chain, report.audit = chain_future.result()
    if report.audit.unchained:
        report.warnings.append(
            f"{report.audit.unchained} audit entries were written before the audit trail was "
            "chained and signed; they cannot be checked"
        )
    _cross_check(app, report)
    report.warnings.extend(wide_open(app))
    report.seconds = round(time.monotonic() - started, 3)
    if record:
        _record(app, report)
    return report


def _cross_check(app: App, report: VerifyReport) -> None:
    """The database, the log and the vault must tell the same story."""
    with app.db.connect() as conn:
        captured = select(CustodyEvent.subject).where(CustodyEvent.event_type == custody.CAPTURE)
        for (sha,) in conn.execute(select(Blob.sha256).where(Blob.sha256.not_in(captured))):
            report.problems.append(
                f"uncaptured: vault object {sha} is recorded without a custody capture event"
            )
        for (subject,) in conn.execute(
            select(CustodyEvent.subject)
            .where(CustodyEvent.event_type == custody.CAPTURE)
            .where(CustodyEvent.subject.not_in(select(Blob.sha256)))
            .distinct()
        ):
            report.problems.append(
                f"missing: object {subject} has a capture event but no record in the database"
            )
    from haechi.run.analysis_store import result_problems

    report.problems.extend(result_problems(app))
    recorded = (sha for sha, _size in _expected_objects(app))
    for sha in _unrecorded(app.vault.iter_objects(), recorded):
        report.warnings.append(
            f"unrecorded: vault object {sha} is not in the database "
            "(an ingest was interrupted; run it again to record it)"
        )


def wide_open(app: App) -> list[str]:
    """The data directory, its database and its keys must be its owner's only."""
    s = app.settings
    paths = [s.home, s.vault_dir, s.keys_dir, s.home / DB_NAME, s.signing_key_path]
    found = []
    for path in paths:
        try:
            mode = path.stat().st_mode & 0o777
        except OSError:
            continue
        if mode & 0o077:
            found.append(
                f"private: {path} can be read by other local users (mode {mode:o}); run "
                "`haechi init` on the data directory to make it private again"
            )
    return found


def _unrecorded(present: Iterator[str], recorded: Iterator[str]) -> Iterator[str]:
    """Merge two sorted streams; yield what is present but not recorded."""
    current = next(recorded, None)
    for sha in present:
        while current is not None and current < sha:
            current = next(recorded, None)
        if current != sha:
            yield sha


def _record(app: App, report: VerifyReport) -> None:
    summary = report.as_dict()
    summary["problems"] = summary["problems"][:100]
    summary["chain_problems"] = summary["chain_problems"][:100]
    summary["audit_problems"] = summary["audit_problems"][:100]
    if report.audit.ok:
        # the audit head this verification vouches for: a trail cut back below it is named
        # by every later verify (haechi.auth.audit_chain)
        summary["audit_head"] = {
            "seq": report.audit.chain.head_seq,
            "hash": report.audit.chain.head_hash,
        }
    try:
        with app.db.begin() as conn:
            app.custody.append(conn, custody.VERIFICATION, None, summary)
    except Exception as exc:  # a read-only copy can still be verified
        report.warnings.append(f"the verification was not recorded in the custody log: {exc}")
