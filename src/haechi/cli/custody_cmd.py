"""``haechi custody``: export the log and the public key for offline checking."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import err as out
from haechi.cli.main import HomeOption
from haechi.store.custody import export_line, iter_db_events
from haechi.store.keys import public_pem

custody_app = typer.Typer(help="Custody log: export it and its public key.", no_args_is_help=True)

ORDER = 85


@custody_app.command("export")
def export(
    destination: Annotated[Path, typer.Argument(help="JSONL file to write (must not exist).")],
    home: HomeOption = None,
) -> None:
    """Write the whole custody log as JSON Lines (checkable with `haechi verify --log`)."""
    app = open_app(home)
    try:
        count = 0
        with destination.open("x", encoding="utf-8") as fh, app.db.connect() as conn:
            for ev in iter_db_events(conn):
                fh.write(export_line(ev) + "\n")
                count += 1
    except FileExistsError:
        raise typer.BadParameter(f"{destination} exists; choose a new file name") from None
    finally:
        app.close()
    out.print(f"wrote {count:,} events to {destination}")


@custody_app.command("public-key")
def public_key(home: HomeOption = None) -> None:
    """Print the custody signing public key (PEM)."""
    app = open_app(home, check_schema=False)
    typer.echo(public_pem(app.signer.public).decode(), nl=False)
    app.close()


def register(app: typer.Typer) -> None:
    app.add_typer(custody_app, name="custody")
