"""``ftm``: the archive's leads for Aleph as FollowTheMoney JSON lines, as ``haechi
exchange ftm`` writes them (the same :func:`haechi.exchange.ftm.export_ftm`, its signed
``export`` custody event naming the person), built in the background for a large
archive, from ``/exchange`` or ``POST /api/exchange/ftm``. The result to download is
``leads-<cursor>.jsonl`` (its download is an ``export`` audit entry with its custody
event, as the person); the job's page shows the counts and the cursor the next export
starts from (``since``)."""

from __future__ import annotations

from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.domain import UsageError
from haechi.i18n import t_
from haechi.jobs.kinds._case import flag
from haechi.jobs.model import JobContext, JobKind, JobOutput

NAME = "ftm"
SUBJECT = "ftm"  # the job's subject, the download's audit subject (as the page's export had)


def _module() -> Any:
    try:
        from haechi.exchange import ftm
    except ImportError:
        raise UsageError(
            t_("FollowTheMoney is not installed: pip install 'haechi[exchange]' to export leads.")
        ) from None
    return ftm


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    ftm = _module()
    since = str(params.get("since") or "").strip()[:40] or None
    ftm._since(since)  # the command line's check of the cursor: its sentence
    cleaned = {
        "since": since,
        "with_text": flag(params, "with_text", False),
        "include_personal": flag(params, "include_personal", False),
    }
    return cleaned, SUBJECT


def run(ctx: JobContext) -> JobOutput:
    ftm = _module()
    ctx.progress(0.02, "mapping")  # the service reports no steps: the bar waits here
    opts = ftm.FtmOptions(
        since=ctx.params.get("since") or None,
        with_text=bool(ctx.params.get("with_text")),
        include_personal=bool(ctx.params.get("include_personal")),
    )
    result = ftm.export_ftm(ctx.app, ctx.folder / "leads.jsonl", opts)
    summary = {k: result[k] for k in ("entities", "cursor", "by_schema", "redacted")}
    summary["options"] = {"with_text": opts.with_text, "include_personal": opts.include_personal}
    if opts.since:
        summary["since"] = opts.since
    return JobOutput(path=ctx.folder / "leads.jsonl", name=f"leads-{result['cursor']}.jsonl",
                     summary=summary)  # fmt: skip


KIND = JobKind(
    name=NAME,
    perm=Perm.EXPORT,
    title_key="jobs.kind.ftm",
    check=check,
    run=run,
    time_limit=6 * 3600.0,
)
