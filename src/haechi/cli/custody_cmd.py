"""``haechi custody``: export the log and the public key for offline checking."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import err as out
from haechi.cli.main import HomeOption
from haechi.i18n import _

custody_app = typer.Typer(
    help=_("Custody log: export it and its public key."), no_args_is_help=True
)

ORDER = 85


@custody_app.command(
    "export",
    help=_(
        "Write the whole custody log as JSON Lines (checkable with "
        "`haechi verify --log`).\n\nThe export is itself recorded: an "
        "``export`` event with the file's SHA-256, its size, where it"
        " was written and the last event it holds (so the next export"
        " shows this one)."
    ),
)
def export(
    destination: Annotated[
        Path,
        typer.Argument(
            help=_("JSONL file to write (must not exist); - writes to standard output.")
        ),
    ],
    home: HomeOption = None,
) -> None:
    """Write the whole custody log as JSON Lines (checkable with `haechi verify --log`).

    The export is itself recorded: an ``export`` event with the file's SHA-256, its size,
    where it was written and the last event it holds (so the next export shows this one).
    """
    from haechi.auth.types import cli_actor
    from haechi.services.custody import export_log

    app = open_app(home)
    if str(destination) == "-":
        # "-" is standard output, as for other tools that write files: a shell user who pipes
        # the log (to gzip, ssh, a checker) must not find a file named "-" in the directory.
        try:
            done = export_log(app, sys.stdout.buffer, cli_actor(app.settings.operator),
                              file="-", path="stdout")  # fmt: skip
        finally:
            app.close()
        said = _(
            "wrote {events} events to standard output (SHA-256 {sha256}); "
            "recorded as custody event {seq}"
        )
        out.print(
            said.format(
                events=f"{done.data['events']:,}", sha256=done.data["sha256"], seq=done.custody_seq
            )
        )
        return
    try:
        with destination.open("xb") as fh:
            done = export_log(
                app, fh, cli_actor(app.settings.operator), file=destination.name,
                path=str(destination.resolve()),
            )  # fmt: skip
    except FileExistsError:
        raise typer.BadParameter(
            _("{path} exists; choose a new file name").format(path=destination)
        ) from None
    finally:
        app.close()
    said = _("wrote {events} events to {path} (SHA-256 {sha256}); recorded as custody event {seq}")
    events, sha256 = f"{done.data['events']:,}", done.data["sha256"]
    out.print(said.format(events=events, path=destination, sha256=sha256, seq=done.custody_seq))


@custody_app.command("public-key", help=_("Print the custody signing public key (PEM)."))
def public_key(home: HomeOption = None) -> None:
    """Print the custody signing public key (PEM)."""
    from haechi.services.custody import public_key_pem

    app = open_app(home, check_schema=False)
    typer.echo(public_key_pem(app).decode(), nl=False)
    app.close()


def register(app: typer.Typer) -> None:
    app.add_typer(custody_app, name="custody")
