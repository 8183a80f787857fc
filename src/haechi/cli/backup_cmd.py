"""``haechi backup`` and ``haechi restore``: a whole data directory, while it is in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption

ORDER = 87


def backup(
    destination: Annotated[Path, typer.Argument(help="New (or empty) folder for the backup.")],
    home: HomeOption = None,
    pg_method: Annotated[
        str,
        typer.Option(help="PostgreSQL: auto (pg_dump where it can), pg_dump or copy."),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
) -> None:
    """Copy the database (one consistent snapshot), vault, keys, settings and indexes,
    with a signed manifest of hashes. Safe while the web server or an ingest writes."""
    from haechi.run.backup import backup as run_backup

    if pg_method not in ("auto", "pg_dump", "copy"):
        raise typer.BadParameter("--pg-method must be auto, pg_dump or copy")
    app = open_app(home)
    try:
        result = run_backup(app, destination, pg_method=pg_method)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    out.print(
        f"backed up to {result.path}: database ({result.database}) as of custody event "
        f"{result.custody_head}, {result.objects:,} vault objects, {result.files:,} files, "
        f"{result.bytes / 1e6:,.1f} MB in {result.seconds} s; recorded as custody event "
        f"{result.event_seq}. It holds the keys: keep it as safe as the data directory.",
        highlight=False,
    )


def restore(
    source: Annotated[Path, typer.Argument(help="A folder written by `haechi backup`.")],
    directory: Annotated[Path, typer.Argument(help="The new data directory (must be empty).")],
    database_url: Annotated[
        str | None,
        typer.Option(help="PostgreSQL backups: the empty database to restore into."),
    ] = None,
) -> None:
    """Check a backup against its manifest and rebuild a data directory from it."""
    from haechi.run.backup import restore as run_restore

    manifest = run_restore(source, directory, database_url=database_url)
    out.print(
        f"restored {len(manifest['files']):,} files into {directory} (custody head "
        f"{manifest['custody_head']['seq']}); run `haechi verify --home {directory}`.",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.command("backup")(backup)
    app.command("restore")(restore)
