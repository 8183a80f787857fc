"""``verify``: the auditor's integrity check, as ``haechi verify`` does it (the same
:func:`haechi.run.verify.verify`): every vault file re-hashed, the custody chain and its
signatures, the audit trail's chain, the database, log and vault cross-checked; the check
is itself recorded as a signed ``verification`` event under the person's name. Started
from ``/custody`` or ``POST /api/jobs``; the result to download is the report as JSON
(every problem named), and the job's page shows the counts and the first problems."""

from __future__ import annotations

import json
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.jobs.model import JobContext, JobKind, JobOutput

SHOWN = 20  # problems listed on the job's page (the download holds them all)


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    return {}, "custody"  # nothing to choose: the whole archive, its log and its trail


def run(ctx: JobContext) -> JobOutput:
    from haechi.run.verify import verify

    ctx.progress(0.01, "rehashing")

    def progress(done: int, planned: int) -> None:
        ctx.progress(0.95 * done / planned if planned else 0.0, "rehashing")

    report = verify(ctx.app, progress=progress)
    ctx.progress(0.99, "chain")
    data = report.as_dict()
    path = ctx.folder / f"verify-{ctx.job_id}.json"
    path.write_text(json.dumps(data, ensure_ascii=False, indent=2, default=str), "utf-8")
    problems = data["chain_problems"] + data["audit_problems"] + data["problems"]
    summary: dict[str, Any] = {
        "verdict": {"ok": report.ok},  # a mapping: the job's page words it (_job_verify.html)
        "files": report.objects,
        "files_intact": report.objects_ok,
        "bytes": report.bytes,
        "custody_events": report.chain.events,
        "audit_entries": report.audit.chain.events,
        "problem_count": len(problems),
        "warning_count": len(data["warnings"]),
        "seconds": report.seconds,
        "head_hash": report.chain.head_hash,
        "problem_list": problems[:SHOWN],
        "warning_list": data["warnings"][:SHOWN],
    }
    return JobOutput(path=path, summary=summary)


KIND = JobKind(
    name="verify",
    perm=Perm.AUDIT_READ,
    title_key="jobs.kind.verify",
    check=check,
    run=run,
    time_limit=24 * 3600.0,
)
