"""``haechi stats``: cases, apprehensions, age bands and removal times for a period."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haechi.cli.common import JsonOption, emit, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 84


def stats(
    since: Annotated[
        str | None, typer.Option("--from", help=_("First day (YYYY-MM-DD or YYYY-MM)."))
    ] = None,
    until: Annotated[
        str | None, typer.Option("--to", help=_("Last day (YYYY-MM-DD or YYYY-MM)."))
    ] = None,
    csv_dir: Annotated[
        Path | None, typer.Option("--csv", help=_("Write one CSV per table here."))
    ] = None,
    svg_dir: Annotated[
        Path | None, typer.Option("--svg", help=_("Write the charts (SVG) here."))
    ] = None,
    report: Annotated[
        Path | None, typer.Option(help=_("Write the tables and charts as a .html or .pdf report."))
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Statistics in KNPA/DSCVSC units (Korean days; default: this year to date)."""
    from haechi.cases import stats as service

    when = service.period(since, until)
    with opened(home) as app:
        result = service.compute(app, when)
        if report is not None:
            from haechi.report.stats_report import write_stats_report

            write_stats_report(app, result, report)
    tables = service.tables(result)
    outputs = ((csv_dir, service.to_csv(result), ".csv"), (svg_dir, service.charts(result), ".svg"))
    for directory, files, suffix in outputs:
        if directory is None:
            continue
        directory.mkdir(parents=True, exist_ok=True)
        for name, text in files.items():
            (directory / f"{name}{suffix}").write_text(text, encoding="utf-8")
    if as_json:
        emit({name: {"header": h, "rows": rows} for name, (h, rows) in tables.items()})
        return
    for name, (header, rows) in tables.items():
        table = Table(*header, title=name.replace("_", " "))
        for row in rows:
            table.add_row(*("" if v is None else str(v) for v in row))
        out.print(table)


def register(app: typer.Typer) -> None:
    app.command(
        "stats",
        help=_("Statistics in KNPA/DSCVSC units (Korean days; default: this year to date)."),
    )(stats)
