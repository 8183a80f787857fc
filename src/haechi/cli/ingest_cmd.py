"""``haechi ingest``: preserve a Telegram Desktop export."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.table import Table

from haechi.app import open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.collect.telegram_export import TelegramExportCollector
from haechi.i18n import _
from haechi.run.ingest import Ingestor, IngestReport

ORDER = 20


def ingest(
    path: Annotated[Path, typer.Argument(help=_("Export folder (with result.json) or the file."))],
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the summary as JSON."))] = False,
    analyze: Annotated[
        bool,
        typer.Option(
            help=_(
                "Afterwards, run the analyzers and the after-ingest hooks (text findings, "
                "search index); with --no-analyze, `haechi analyze` does it later."
            )
        ),
    ] = True,
    assume_timezone: Annotated[
        str | None,
        typer.Option(
            help=_(
                "IANA zone of the exporting PC (e.g. Asia/Seoul) for exports without "
                "date_unixtime; without it such times stay local and unconverted."
            )
        ),
    ] = None,
) -> None:
    """Ingest a Telegram Desktop JSON export: every chat, account, message and file."""
    from haechi.cli.analyze_cmd import print_analysis, run_analysis

    app = open_app(home)
    try:
        report = run_ingest(app, path, assume_timezone=assume_timezone, quiet=as_json)
        if not as_json:
            print_report(report)
        analysis = None
        if analyze and app.settings.analyze_on_ingest:
            analysis = run_analysis(app, quiet=as_json)
            if not as_json:
                print_analysis(analysis)
        from haechi.run.hooks import run_ingest_hooks

        hooks = run_ingest_hooks(app, report) if analyze else {}
    finally:
        app.close()
    if as_json:
        data = report.as_dict()
        data["analysis"] = analysis.as_dict() if analysis is not None else None
        data["hooks"] = hooks
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        for name, result in hooks.items():
            out.print(f"{name}: {result}", highlight=False)


def run_ingest(
    app: object, path: Path, *, assume_timezone: str | None = None, quiet: bool = False
) -> IngestReport:
    from haechi.app import App

    assert isinstance(app, App)
    # Chats without an id are keyed by the export's content (see Collector.bind_source).
    collector = TelegramExportCollector(path, assume_timezone=assume_timezone)
    if quiet:
        return Ingestor(app, collector, assume_timezone=assume_timezone).run()
    columns = (
        TextColumn("[bold]ingest[/]"),
        BarColumn(),
        DownloadColumn(),
        TextColumn("{task.fields[messages]:,} messages"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("ingest", total=None, messages=0)

        def progress(done: int, total: int, messages: int) -> None:
            bar.update(task, completed=done, total=total or None, messages=messages)

        return Ingestor(app, collector, progress=progress, assume_timezone=assume_timezone).run()


def print_report(r: IngestReport) -> None:
    title = _("ingested {source}").format(source=r.source)
    table = Table(title=title, show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    new = _("{total} ({new} new)")
    rows = [
        (_("source id"), str(r.source_id) + (_(" (rerun)") if r.resumed else "")),
        (_("layout"), r.layout or "-"),
        (_("chats"), new.format(total=f"{r.chats:,}", new=f"{r.chats_new:,}")),
        (_("messages"), new.format(total=f"{r.messages:,}", new=f"{r.messages_new:,}")),
        (_("changed messages kept as versions"), f"{r.message_versions_new:,}"),
        *(
            [(_("UTC times filled by --assume-timezone"), f"{r.utc_filled:,}")]
            if r.utc_filled
            else []
        ),
        (_("files referenced"), f"{r.files_referenced:,}"),
        (_("files captured (new in vault)"), f"{r.files_captured_new:,}"),
        (_("files already in vault"), f"{r.files_deduplicated:,}"),
        (_("unreferenced files preserved"), f"{r.unreferenced_files:,}"),
        (_("bytes stored"), f"{r.bytes_stored_new:,}"),
        (_("missing"), ", ".join(f"{k} {v}" for k, v in sorted(r.missing.items())) or "0"),
        (_("not stored (over max_file_mb)"), f"{r.files_too_large:,}"),
        (_("unknown fields"), f"{sum(r.unknown_fields.values()):,}"),
        (_("warnings"), f"{len(r.warnings):,}"),
        (_("custody log head"), _("event {seq}").format(seq=r.custody_head)),
        (_("time"), _("{seconds} s").format(seconds=f"{r.seconds:.1f}")),
    ]
    for key, value in rows:
        table.add_row(key, value)
    out.print(table)
    warning = _("warning:")
    for w in r.warnings[:20]:
        out.print(f"[yellow]{warning}[/] {w}", highlight=False)
    if len(r.warnings) > 20:
        more = _("... and {n} more warnings (see --json)").format(n=len(r.warnings) - 20)
        out.print(f"[yellow]{more}[/]")


def register(app: typer.Typer) -> None:
    app.command(
        "ingest",
        help=_("Ingest a Telegram Desktop JSON export: every chat, account, message and file."),
    )(ingest)
