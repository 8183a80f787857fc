"""``haechi backup`` and ``haechi restore``: a whole data directory, while it is in use."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

ORDER = 87


def backup(
    destination: Annotated[Path, typer.Argument(help=_("New (or empty) folder for the backup."))],
    home: HomeOption = None,
    pg_method: Annotated[
        str,
        typer.Option(help=_("PostgreSQL: auto (pg_dump where it can), pg_dump or copy.")),
    ] = "auto",
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))] = False,
) -> None:
    """Copy the database (one consistent snapshot), vault, keys, settings and indexes,
    with a signed manifest of hashes. Safe while the web server or an ingest writes."""
    from haechi.run.backup import backup as run_backup

    if pg_method not in ("auto", "pg_dump", "copy"):
        raise typer.BadParameter(_("--pg-method must be auto, pg_dump or copy"))
    app = open_app(home)
    try:
        result = run_backup(app, destination, pg_method=pg_method)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(result.as_dict(), indent=2))
        return
    said = _(
        "backed up to {path}: database ({database}) as of custody event {head}, {objects} vault "
        "objects, {files} files, {mb} MB in {seconds} s; recorded as custody event {seq}. It "
        "holds the keys: keep it as safe as the data directory."
    ).format(
        path=result.path, database=result.database, head=result.custody_head,
        objects=f"{result.objects:,}", files=f"{result.files:,}",
        mb=f"{result.bytes / 1e6:,.1f}", seconds=result.seconds, seq=result.event_seq,
    )  # fmt: skip
    out.print(said, highlight=False)


def restore(
    source: Annotated[Path, typer.Argument(help=_("A folder written by `haechi backup`."))],
    directory: Annotated[Path, typer.Argument(help=_("The new data directory (must be empty)."))],
    database_url: Annotated[
        str | None,
        typer.Option(help=_("PostgreSQL backups: the empty database to restore into.")),
    ] = None,
) -> None:
    """Check a backup against its manifest and rebuild a data directory from it."""
    from haechi.run.backup import restore as run_restore

    manifest = run_restore(source, directory, database_url=database_url)
    said = _(
        "restored {files} files into {directory} (custody head {head}); run "
        "`haechi verify --home {directory}`."
    ).format(
        files=f"{len(manifest['files']):,}", directory=directory,
        head=manifest["custody_head"]["seq"],
    )  # fmt: skip
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    app.command(
        "backup",
        help=_(
            "Copy the database (one consistent snapshot), vault, keys, "
            "settings and indexes, with a signed manifest of hashes. Safe"
            " while the web server or an ingest writes."
        ),
    )(backup)
    app.command(
        "restore",
        help=_("Check a backup against its manifest and rebuild a data directory from it."),
    )(restore)
