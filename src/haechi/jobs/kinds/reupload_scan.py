"""``reupload_scan``: look for re-uploads of removed content now (``haechi notice watch``),
instead of waiting for the next ingest."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.jobs.kinds._case import checked_case
from haechi.jobs.model import JobContext, JobKind, JobOutput


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    if not params.get("case"):
        return {}, None
    ref, case_id = checked_case(app, params, needs_items=False)
    return {"case": ref}, f"case:{case_id}"


def run(ctx: JobContext) -> JobOutput:
    from haechi.cases.watch import scan

    ctx.progress(0.1, "scanning")
    report = scan(ctx.app)
    summary: dict[str, Any] = report.as_dict()
    case = ctx.params.get("case")
    if case:
        from haechi.cases.service import get_summary

        case_id = get_summary(ctx.app, case).id
        summary["for_this_case"] = sum(1 for h in report.hits if h.case_id == case_id)
    return JobOutput(summary=summary)


KIND = JobKind(
    name="reupload_scan",
    perm=Perm.NOTICES_WRITE,
    title_key="jobs.kind.reupload_scan",
    check=check,
    run=run,
    time_limit=3600.0,
)
