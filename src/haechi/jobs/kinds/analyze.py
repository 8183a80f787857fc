"""``analyze``: run the analyzers over the stored files they have not analysed at their
version, then the message-side catch-up, as ``haechi analyze`` does (the same runner,
:class:`haechi.run.analyze.AnalysisRunner`, and the same hooks), from the matches page or
``POST /api/jobs``. The result to download is the run's report as JSON (every count, the
first errors, what the hooks did); the job's page shows the counts."""

from __future__ import annotations

import json
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.jobs.kinds._case import flag
from haechi.jobs.model import JobContext, JobKind, JobOutput

MAX_ANALYZERS = 32


def _only(params: dict[str, Any]) -> list[str]:
    value = params.get("analyzers") or []
    if isinstance(value, str):
        value = [v for v in value.replace(",", " ").split() if v]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise UsageError(t_("Name the analyzers as a list of names, or leave it empty for all."))
    if len(value) > MAX_ANALYZERS:
        raise UsageError(t_("Name at most {max_analyzers} analyzers.", max_analyzers=MAX_ANALYZERS))
    return sorted({v.strip()[:64] for v in value if v.strip()})


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.analyze.registry import build

    only = _only(params)
    analyzers, _infos = build(app.settings.analyzers, only=only or None)  # names checked
    if not analyzers:
        raise UsageError(t_("No analyzer is enabled in this data directory's settings."))
    return {"analyzers": only, "retry_errors": flag(params, "retry_errors", False)}, None


def run(ctx: JobContext) -> JobOutput:
    from haechi.analyze.registry import build
    from haechi.run.analyze import AnalysisRunner
    from haechi.run.hooks import run_ingest_hooks

    only = list(ctx.params.get("analyzers") or []) or None
    analyzers, _infos = build(ctx.app.settings.analyzers, only=only)
    ctx.progress(0.01, "preparing")

    def progress(done: int, planned: int) -> None:
        ctx.progress(0.9 * done / planned if planned else 0.0, "analysing")

    report = AnalysisRunner(
        ctx.app, analyzers, retry_errors=bool(ctx.params.get("retry_errors")), progress=progress
    ).run()
    hooks: dict[str, Any] = {}
    if only is None:  # the message-side analyses catch up too, as `haechi analyze` does
        ctx.progress(0.92, "catching_up")
        hooks = run_ingest_hooks(ctx.app, None)
    full = {**report.as_dict(), "hooks": hooks}
    path = ctx.folder / f"analysis-{ctx.job_id}.json"
    path.write_text(json.dumps(full, ensure_ascii=False, indent=2, default=str), "utf-8")
    summary: dict[str, Any] = {
        "analyzers": report.analyzers,
        "files": report.files,
        "results": report.steps,
        "ok": report.ok,
        "signals": report.signals,
        "errors": sum(report.errors.values()),
        "new_matches": report.hook_totals.get("match", {}).get("new_matches", 0),
        "seconds": report.seconds,
    }
    return JobOutput(path=path, summary=summary)


KIND = JobKind(
    name="analyze",
    perm=Perm.ANALYSIS,
    title_key="jobs.kind.analyze",
    check=check,
    run=run,
    time_limit=12 * 3600.0,
)
