"""``package``: a case's evidence package (``haechi package``), as a zip to download."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.jobs.kinds._case import checked_case, file_stem, flag
from haechi.jobs.model import JobContext, JobKind, JobOutput


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ref, case_id = checked_case(app, params)
    return {"case": ref, "pdf": flag(params, "pdf", True)}, f"case:{case_id}"


def run(ctx: JobContext) -> JobOutput:
    from haechi.report.package import PackageOptions, create_package

    ref = ctx.params["case"]
    dest = ctx.folder / f"{file_stem(ref)}-package.zip"
    ctx.progress(0.02, "gathering")
    result = create_package(
        ctx.app,
        ref,
        dest,
        PackageOptions(pdf=bool(ctx.params.get("pdf", True)), progress=ctx.progress),
    )
    summary = {k: v for k, v in result.as_dict().items() if k != "path"}
    return JobOutput(path=result.path, summary=summary)


KIND = JobKind(
    name="package",
    perm=Perm.EXPORT,
    title_key="jobs.kind.package",
    check=check,
    run=run,
    time_limit=6 * 3600.0,
)
