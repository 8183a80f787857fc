"""``haechi demo``: build a benign sample export and run every capability on it.

The steps live in :mod:`haechi.demo.steps`, one module per capability.
"""

from __future__ import annotations

from pathlib import Path
from types import ModuleType
from typing import Annotated

import typer

from haechi.app import init_home
from haechi.cli.console import out
from haechi.i18n import _

ORDER = 90
# Who the demo's own data directory names as its operator: the demo's custody events
# carry a person's name, as every real directory's should, not the login name.
DEMO_OPERATOR = "Demo Operator"


def demo(
    home: Annotated[
        Path, typer.Option("--home", help=_("Data directory for the demo (created if needed)."))
    ] = Path("demo-data"),
    serve: Annotated[
        bool, typer.Option(help=_("End by serving the web UI on the demo data until Ctrl-C."))
    ] = False,
    until: Annotated[
        str | None, typer.Option(help=_("Stop after the step with this title (e.g. ingest)."))
    ] = None,
    only: Annotated[
        str | None,
        typer.Option(
            "--steps",
            help=_(
                "Run only these steps, by title, comma-separated (e.g. ingest,verify); the "
                "sample export is always built first."
            ),
        ),
    ] = None,
) -> None:
    """Build a realistic, entirely benign Telegram export and run the whole pipeline on it."""
    from haechi.demo.steps import DemoContext, steps

    chosen = _choose(steps(), until, only)
    home = home.resolve()
    out.rule("[bold]haechi demo[/]")
    app = init_home(home, operator=DEMO_OPERATOR)
    ctx = DemoContext(app=app, home=home, out=out, serve=serve)
    try:
        for number, step in chosen:
            out.print(f"\n[bold]{number}. {step.TITLE}[/]")
            step.run(ctx)
    finally:
        app.close()
    if not ctx.ok:
        raise typer.Exit(1)


def _choose(
    all_steps: list[ModuleType], until: str | None, only: str | None
) -> list[tuple[int, ModuleType]]:
    """The steps to run with their numbers in the full demo; unknown titles are refused
    (a typo must not silently run, or skip, the whole demo)."""
    titles = [step.TITLE for step in all_steps]
    wanted = [t.strip() for t in only.split(",") if t.strip()] if only is not None else titles
    for title in [*wanted, *([until] if until else [])]:
        if title not in titles:
            raise typer.BadParameter(
                _("there is no demo step {title}; the steps are: {steps}").format(
                    title=repr(title), steps=", ".join(titles)
                )
            )
    numbered = list(enumerate(all_steps, 1))
    if until:
        numbered = numbered[: titles.index(until) + 1]
    # the first step builds the sample export every other step works on
    return [(n, step) for n, step in numbered if n == 1 or step.TITLE in wanted]


def register(app: typer.Typer) -> None:
    app.command(
        "demo",
        help=_(
            "Build a realistic, entirely benign Telegram export and run the whole pipeline on it."
        ),
    )(demo)
