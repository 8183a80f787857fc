"""``haechi analyze``: run the analyzers over every stored file they have not yet seen."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from haechi.app import App, open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

if TYPE_CHECKING:
    from haechi.run.analyze import AnalyzeReport

ORDER = 30


def run_analysis(
    app: App,
    only: list[str] | None = None,
    *,
    workers: int | None = None,
    retry_errors: bool = False,
    quiet: bool = False,
    engine: str | None = None,
) -> AnalyzeReport:
    from haechi.analyze.registry import build
    from haechi.run.analyze import AnalysisRunner

    analyzers, _infos = build(app.settings.analyzers, only=only)
    if quiet:
        return AnalysisRunner(
            app, analyzers, workers=workers, retry_errors=retry_errors, engine=engine
        ).run()
    columns = (
        TextColumn("[bold]analyze[/]"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err, transient=True) as bar:
        task = bar.add_task("analyze", total=None)

        def progress(done: int, total: int) -> None:
            bar.update(task, completed=done, total=total or None)

        runner = AnalysisRunner(
            app,
            analyzers,
            workers=workers,
            retry_errors=retry_errors,
            progress=progress,
            engine=engine,
        )
        return runner.run()


def print_analysis(report: AnalyzeReport) -> None:
    table = Table(title=_("analysis"), show_header=False, title_justify="left")
    table.add_column(style="bold")
    table.add_column(justify="right")
    table.add_row(_("analyzers"), ", ".join(report.analyzers) or _("none enabled"))
    table.add_row(_("files"), f"{report.files:,}")
    table.add_row(
        _("results"), _("{steps} ({ok} ok)").format(steps=f"{report.steps:,}", ok=f"{report.ok:,}")
    )
    table.add_row(_("signals"), f"{report.signals:,}")
    errors = ", ".join(f"{k} {v}" for k, v in sorted(report.errors.items())) or "0"
    table.add_row(_("errors"), errors)
    table.add_row(_("time"), _("{seconds} s").format(seconds=f"{report.seconds:.1f}"))
    matched = report.hook_totals.get("match", {})
    if matched:
        table.add_row(_("new matches"), f"{matched.get('new_matches', 0):,}")
    out.print(table)
    for line in report.error_samples[:10]:
        out.print(f"[yellow]![/] {line}", highlight=False)
    hook = _("hook:")
    for line in report.hook_warnings[:10]:
        out.print(f"[yellow]{hook}[/] {line}", highlight=False)


def analyze(
    home: HomeOption = None,
    analyzer: Annotated[
        list[str] | None,
        typer.Option("--analyzer", "-a", help=_("Run only this analyzer (repeatable).")),
    ] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help=_("Worker processes (default: the CPU count)."))
    ] = None,
    retry_errors: Annotated[
        bool, typer.Option(help=_("Run again where an earlier run recorded an error."))
    ] = False,
    engine: Annotated[
        str | None,
        typer.Option(help=_("local (a process pool here) or ray (HAECHI_RAY_ADDRESS's cluster).")),
    ] = None,
    list_only: Annotated[
        bool, typer.Option("--list", help=_("List the installed analyzers and stop."))
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the summary as JSON."))] = False,
) -> None:
    """Run every enabled analyzer over the stored files it has not analysed at its version."""
    app = open_app(home)
    try:
        if list_only:
            _list(app, as_json)
            return
        if engine not in (None, "local", "ray"):
            raise UsageError(
                _("The engine must be local or ray, not {engine}.").format(engine=repr(engine))
            )
        report = run_analysis(
            app, analyzer, workers=workers, retry_errors=retry_errors, quiet=as_json, engine=engine
        )
        hooks: dict[str, object] = {}
        if not analyzer:  # the message-side analyses catch up too (see haechi.run.hooks)
            from haechi.run.hooks import run_ingest_hooks

            hooks = run_ingest_hooks(app, None)
    finally:
        app.close()
    if as_json:
        data = report.as_dict()
        data["hooks"] = hooks
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        print_analysis(report)
        for name, result in hooks.items():
            out.print(f"{name}: {result}", highlight=False)


def _list(app: App, as_json: bool) -> None:
    from dataclasses import asdict

    from haechi.analyze.registry import build

    _chosen, infos = build(app.settings.analyzers)
    if as_json:
        typer.echo(json.dumps([asdict(i) for i in infos], indent=2))
        return
    table = Table(_("analyzer"), _("version"), _("takes"), _("state"), _("what it does"))
    for i in infos:
        state = (
            _("enabled")
            if i.enabled
            else (
                _("off") if i.available else _("unavailable: {problem}").format(problem=i.problem)
            )
        )
        table.add_row(i.name, i.version, ", ".join(i.media_kinds), state, i.description)
    out.print(table)


def register(app: typer.Typer) -> None:
    app.command(
        "analyze",
        help=_(
            "Run every enabled analyzer over the stored files it has not analysed at its version."
        ),
    )(analyze)
