"""``haechi keys``: the custody signing keys (list, rotate)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _
from haechi.store.keys import key_id, load_public, retired_public_keys

keys_app = typer.Typer(help=_("Custody signing keys: list and rotate them."), no_args_is_help=True)

ORDER = 86


@keys_app.command(
    "list",
    help=_("The key that signs new events, and the retired keys still trusted for older ones."),
)
def list_keys(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the keys as JSON."))] = False,
) -> None:
    """The key that signs new events, and the retired keys still trusted for older ones."""
    app = open_app(home, check_schema=False)
    try:
        current = app.signer.key_id
        retired = [key_id(load_public(p)) for p in retired_public_keys(app.settings.keys_dir)]
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps({"current": current, "retired": retired}))
        return
    out.print(_("current  {key}  (signs new events)").format(key=current))
    for kid in retired:
        out.print(
            _("retired  {key}  (trusted for the events it signed before its rotation)").format(
                key=kid
            )
        )


@keys_app.command(
    "rotate",
    help=_(
        "Replace the signing key: a `key_rotation` event signed by "
        "the old key and counter-signed by the new one; the old "
        "public key stays trusted for older events."
    ),
)
def rotate(
    reason: Annotated[
        str, typer.Option(help=_("Why the key is replaced (kept in the custody log)."))
    ],
    home: HomeOption = None,
) -> None:
    """Replace the signing key: a `key_rotation` event signed by the old key and
    counter-signed by the new one; the old public key stays trusted for older events."""
    from haechi.run.rotation import rotate as run_rotate

    app = open_app(home)
    try:
        done = run_rotate(app, reason=reason)
    finally:
        app.close()
    said = _(
        "rotated: key {new} signs from now on; {old} is retired (custody event {seq}). Give the "
        "new public key (`haechi custody public-key`) to those who check your packages."
    ).format(new=done.new_key_id, old=done.old_key_id, seq=done.event_seq)
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
