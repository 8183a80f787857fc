"""``haechi demo``: build a benign sample export and run every capability on it.

The steps live in :mod:`haechi.demo.steps`, one module per capability.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haechi.app import init_home
from haechi.cli.console import out

ORDER = 90


def demo(
    home: Annotated[
        Path, typer.Option("--home", help="Data directory for the demo (created if needed).")
    ] = Path("demo-data"),
    serve: Annotated[
        bool, typer.Option(help="End by serving the web UI on the demo data until Ctrl-C.")
    ] = False,
    until: Annotated[
        str | None, typer.Option(help="Stop after the step with this title (e.g. ingest).")
    ] = None,
) -> None:
    """Build a realistic, entirely benign Telegram export and run the whole pipeline on it."""
    from haechi.demo.steps import DemoContext, steps

    home = home.resolve()
    out.rule("[bold]haechi demo[/]")
    app = init_home(home)
    ctx = DemoContext(app=app, home=home, out=out, serve=serve)
    try:
        for number, step in enumerate(steps(), 1):
            out.print(f"\n[bold]{number}. {step.TITLE}[/]")
            step.run(ctx)
            if until and until == step.TITLE:
                break
    finally:
        app.close()
    if not ctx.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
