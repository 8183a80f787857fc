"""``ingest``: a Telegram Desktop export dropped on the server (``[ingest] drop_roots``,
:mod:`haechi.run.ingest_drop`) ingested as ``haechi ingest FOLDER`` does — the same
collector and :class:`haechi.run.ingest.Ingestor`, then the analyzers and the after-ingest
hooks unless ``analyze`` is off — from the drop-folder page or ``POST /api/ingest``, as
the person who asked (their name on every custody event and on the source). The folder
is checked at submission and again before it is read; an export ingested before (by its
``result.json``'s SHA-256) is said so and nothing is changed. The result to download is
the ingest's summary as JSON (every count and warning)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from haechi.app import App
from haechi.auth.roles import Perm
from haechi.domain import HaechiError, UsageError
from haechi.i18n import t_
from haechi.jobs.kinds._case import flag
from haechi.jobs.model import JobContext, JobKind, JobOutput
from haechi.run.ingest_drop import identity, ingested_before, resolve

MAX_ZONE = 64


def _zone(params: dict[str, Any]) -> str | None:
    zone = params.get("assume_timezone")
    if zone in (None, ""):
        return None
    if not isinstance(zone, str) or len(zone) > MAX_ZONE:
        raise UsageError(t_("Give the time zone as an IANA name such as Asia/Seoul."))
    return zone.strip() or None


def _refuse_if_ingested(
    app: App, json_path: Path, zone: str | None, *, budget: int | None, beneath: Path
) -> None:
    """An export ingested to the end before is not ingested again (a rerun that names the
    time zone the first run lacked still fills the UTC times, as on the command line);
    with ``budget``, a ``result.json`` larger than it is left for the job to check.
    ``result.json`` is read from beneath the drop root ``beneath`` only."""
    sha = identity(json_path, budget=[budget] if budget is not None else None, beneath=beneath)
    known = ingested_before(app, sha)
    if known is None or known.status != "finished" or (zone and not known.assume_timezone):
        return
    raise UsageError(
        t_(
            "This export was ingested already (source {source_id}); nothing was changed.",
            source_id=known.id,
        )
    )


def check(app: App, params: dict[str, Any]) -> tuple[dict[str, Any], str | None]:
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.ingest_drop import HASH_WHILE_LISTING

    root, folder = resolve(app.settings, params.get("root"), params.get("folder"))
    name = str(params["folder"])  # as named: the job resolves it again before reading
    zone = _zone(params)
    drop_root = app.settings.drop_roots[root]
    collector = TelegramExportCollector(folder, assume_timezone=zone)  # the zone's sentence
    _refuse_if_ingested(
        app, collector.json_path, zone, budget=HASH_WHILE_LISTING, beneath=drop_root
    )
    cleaned = {"root": root, "folder": name, "assume_timezone": zone,
               "analyze": flag(params, "analyze", True)}  # fmt: skip
    return cleaned, None


def run(ctx: JobContext) -> JobOutput:
    from haechi.collect.telegram_export import TelegramExportCollector
    from haechi.run.hooks import run_ingest_hooks
    from haechi.run.ingest import Ingestor

    app, params = ctx.app, ctx.params
    ctx.progress(0.0, "checking")
    root, folder = resolve(app.settings, params["root"], params["folder"])  # again, now
    zone = params.get("assume_timezone")
    # Checked once, by resolve(); from here every file of the export (result.json, its
    # media) is opened from beneath the drop root, never by following a path that may
    # have been swapped for a link out since (haechi.store.beneath).
    drop_root = app.settings.drop_roots[root]
    collector = TelegramExportCollector(folder, assume_timezone=zone, confine=drop_root)
    _refuse_if_ingested(app, collector.json_path, zone, budget=None, beneath=drop_root)

    def progress(done: int, total: int, _messages: int) -> None:
        ctx.progress(0.02 + 0.78 * done / total if total else 0.02, "ingesting")

    report = Ingestor(app, collector, progress=progress, assume_timezone=zone).run()
    full: dict[str, Any] = {**report.as_dict(), "analysis": None, "hooks": {}}
    analysis_error = None
    if params.get("analyze", True):
        if app.settings.analyze_on_ingest:
            ctx.progress(0.8, "analysing")
            try:
                full["analysis"] = _analyse(app)
            except HaechiError as exc:  # the evidence is safe; the analysis can follow
                analysis_error = str(exc)
        ctx.progress(0.92, "catching_up")
        full["hooks"] = run_ingest_hooks(app, report)
    path = ctx.folder / f"ingest-{report.source_id}.json"
    path.write_text(json.dumps(full, ensure_ascii=False, indent=2, default=str), "utf-8")
    summary: dict[str, Any] = {
        "source_id": report.source_id,
        "chats": report.chats,
        "messages": report.messages,
        "messages_new": report.messages_new,
        "files_captured_new": report.files_captured_new,
        "files_deduplicated": report.files_deduplicated,
        "files_missing": sum(report.missing.values()),
        "warning_count": len(report.warnings),
        "custody_head": report.custody_head,
        "seconds": report.seconds,
    }
    if report.resumed:
        summary["rerun_of"] = report.source_id
    if analysis_error:  # a mapping: the job's page says it in a sentence of its own
        summary["analysis_skipped"] = {"reason": analysis_error}
    return JobOutput(path=path, summary=summary)


def _analyse(app: App) -> dict[str, Any]:
    from haechi.analyze.registry import build
    from haechi.run.analyze import AnalysisRunner

    analyzers, _infos = build(app.settings.analyzers)
    report = AnalysisRunner(app, analyzers).run()
    return report.as_dict()


KIND = JobKind(
    name="ingest",
    perm=Perm.ANALYSIS,
    title_key="jobs.kind.ingest",
    check=check,
    run=run,
    time_limit=24 * 3600.0,
)
