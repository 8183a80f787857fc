"""``report``: a case's report as HTML or PDF (``haechi report``)."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.cases.model import CaseError
from haechi.i18n import t_
from haechi.jobs.kinds._case import checked_case, file_stem
from haechi.jobs.model import JobContext, JobKind, JobOutput

FORMATS = ("pdf", "html")


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref, case_id = checked_case(app, params, needs_items=False)
    fmt = str(params.get("format") or "pdf").lower()
    if fmt not in FORMATS:
        raise CaseError(t_("A report is written as PDF or HTML, not {fmt!r}.", fmt=fmt))
    return {"case": ref, "format": fmt}, f"case:{case_id}"


def run(ctx: JobContext) -> JobOutput:
    from haechi.report.exports import write_report

    ref, fmt = ctx.params["case"], ctx.params["format"]
    dest = ctx.folder / f"{file_stem(ref)}-report.{fmt}"
    ctx.progress(0.1, "gathering")
    digest = write_report(ctx.app, ref, dest)
    return JobOutput(path=dest, summary={"case": ref, "format": fmt, "sha256": digest})


KIND = JobKind(
    name="report",
    perm=Perm.EXPORT,
    title_key="jobs.kind.report",
    check=check,
    run=run,
    time_limit=3600.0,
)
