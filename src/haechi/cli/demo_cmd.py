"""``haechi demo``: build a benign sample export, ingest it, verify it, say what happened."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haechi.app import init_home
from haechi.cli.console import out
from haechi.cli.ingest_cmd import print_report, run_ingest


def demo(
    home: Annotated[
        Path, typer.Option("--home", help="Data directory for the demo (created if needed).")
    ] = Path("demo-data"),
) -> None:
    """Build a realistic, entirely benign Telegram export and run the whole pipeline on it."""
    from haechi.demo.export_builder import build_demo_export
    from haechi.run.verify import verify

    home = home.resolve()
    out.rule("[bold]haechi demo[/]")
    app = init_home(home)
    export_dir = build_demo_export(home / "sample-export")
    out.print(f"1. built a benign sample export at {export_dir}")
    report = run_ingest(app, export_dir)
    out.print("2. ingested it (a second run adds nothing: ingest is idempotent)")
    print_report(report)
    result = verify(app)
    state = "[green]intact[/]" if result.ok else "[red]FAILED[/]"
    out.print(
        f"3. verified: {result.objects_ok}/{result.objects} vault files {state}, "
        f"{result.chain.events} signed custody events chained (head {result.chain.head_seq})"
    )
    out.print(
        f"\nTry: haechi verify --home {home}   ·   haechi custody export log.jsonl --home {home}"
    )
    app.close()
    if not result.ok:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
