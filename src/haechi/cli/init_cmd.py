"""``haechi init``: create a data directory."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haechi.app import init_home
from haechi.cli.console import out
from haechi.config import default_home
from haechi.i18n import _

ORDER = 10


def init(
    directory: Annotated[
        Path | None, typer.Argument(help=_("Data directory (default: $HAECHI_HOME or ~/.haechi)."))
    ] = None,
    database_url: Annotated[
        str | None,
        typer.Option(help=_("Use this database instead of SQLite (postgresql+psycopg://...).")),
    ] = None,
    encrypt: Annotated[
        bool | None,
        typer.Option(
            "--encrypt/--no-encrypt",
            help=_(
                "Encrypt vault files at rest (AES-256-GCM); on by default for a new data "
                "directory (keys/vault.key: back it up, see docs/security.md)."
            ),
            show_default=False,
        ),
    ] = None,
) -> None:
    """Create a data directory: database, vault, signing key pair and settings file."""
    home = directory or default_home()
    app = init_home(home, database_url=database_url, encrypt=encrypt)
    s = app.settings
    out.print(f"[green]{_('ready')}[/] {s.home}")
    out.print(_("  database     {url}").format(url=s.database_url.split("?")[0]))
    encrypted = _(" (encrypted)") if s.vault_encrypt else ""
    out.print(_("  vault        {path}").format(path=s.vault_dir) + encrypted)
    out.print(
        _("  signing key  {path} (id {key})").format(path=s.signing_key_path, key=app.signer.key_id)
    )
    out.print(_("  public key   {path}").format(path=s.public_key_path))
    if s.operator_source == "login":
        out.print(
            _(
                "  operator     nobody named: custody events will say so; name the person "
                "operating with `haechi --operator NAME` or \\[custody] operator in haechi.toml"
            )
        )
    else:
        out.print(_("  operator     {name} (this command)").format(name=s.operator))
    app.close()


def register(app: typer.Typer) -> None:
    app.command(
        "init",
        help=_("Create a data directory: database, vault, signing key pair and settings file."),
    )(init)
