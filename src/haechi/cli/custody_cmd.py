"""``haechi custody``: export the log and the public key for offline checking."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import err as out
from haechi.cli.main import HomeOption
from haechi.i18n import _
from haechi.store.custody import EXPORT, export_line, iter_db_events
from haechi.store.keys import public_pem

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
    destination: Annotated[Path, typer.Argument(help=_("JSONL file to write (must not exist)."))],
    home: HomeOption = None,
) -> None:
    """Write the whole custody log as JSON Lines (checkable with `haechi verify --log`).

    The export is itself recorded: an ``export`` event with the file's SHA-256, its size,
    where it was written and the last event it holds (so the next export shows this one).
    """
    app = open_app(home)
    try:
        count, last, digest, size = 0, None, hashlib.sha256(), 0
        # binary: the digest is of exactly the bytes on disk, whatever the platform
        with destination.open("xb") as fh, app.db.connect() as conn:
            for ev in iter_db_events(conn):
                line = (export_line(ev) + "\n").encode("utf-8")
                fh.write(line)
                digest.update(line)
                size += len(line)
                count, last = count + 1, ev
        data = {
            "what": "custody_log",
            "file": destination.name,
            "path": str(destination.resolve()),
            "sha256": digest.hexdigest(),
            "bytes": size,
            "events": count,
            "head_seq": _seq(last.body) if last else None,
            "head_hash": last.hash if last else None,
        }
        with app.db.begin() as conn:
            seq = app.custody.append(conn, EXPORT, f"file:{data['sha256']}", data)
    except FileExistsError:
        raise typer.BadParameter(
            _("{path} exists; choose a new file name").format(path=destination)
        ) from None
    finally:
        app.close()
    out.print(
        _(
            "wrote {events} events to {path} (SHA-256 {sha256}); recorded as custody event {seq}"
        ).format(events=f"{count:,}", path=destination, sha256=data["sha256"], seq=seq)
    )


def _seq(body: str) -> object:
    """The sequence number in an event body; None if the body is damaged (the log is still
    exported whole: `haechi verify --log` names the damage)."""
    try:
        return json.loads(body).get("seq")
    except (ValueError, AttributeError):
        return None


@custody_app.command("public-key", help=_("Print the custody signing public key (PEM)."))
def public_key(home: HomeOption = None) -> None:
    """Print the custody signing public key (PEM)."""
    app = open_app(home, check_schema=False)
    typer.echo(public_pem(app.signer.public).decode(), nl=False)
    app.close()


def register(app: typer.Typer) -> None:
    app.add_typer(custody_app, name="custody")
