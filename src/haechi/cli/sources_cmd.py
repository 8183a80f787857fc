"""``haechi sources``: every source collected from, and whether its capture is complete."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from haechi.app import open_app
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _
from haechi.run.sources import list_sources

ORDER = 25


def sources(
    home: HomeOption = None,
    as_json: Annotated[bool, typer.Option("--json", help=_("Print the list as JSON."))] = False,
) -> None:
    """List the sources: status, counts and, for a capture refused part-way, why and where."""
    app = open_app(home)
    try:
        rows = list_sources(app)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps([r.as_dict() for r in rows], ensure_ascii=False, indent=2))
        return
    if not rows:
        out.print(_("no sources yet: haechi ingest EXPORT"))
    for r in rows:
        state = f"[green]{_('complete')}[/]" if r.complete else f"[yellow]{_('incomplete')}[/]"
        counts = _("{messages} messages, {files} files  started {at}").format(
            messages=f"{r.messages:,}", files=f"{r.files:,}", at=r.started_at
        )
        out.print(f"{r.id:>4}  {state}  {counts}  {r.uri}", highlight=False)
        if r.status == "failed":
            where = (
                _("stopped at byte {offset}: ").format(offset=f"{r.failure_offset:,}")
                if r.failure_offset is not None
                else ""
            )
            out.print(f"      {where}{r.failure_reason or _('the reason was not recorded')}")
        elif r.status == "started":
            out.print(
                "      " + _("running, or stopped without a record: run the same ingest again")
            )


def register(app: typer.Typer) -> None:
    app.command(
        "sources",
        help=_(
            "List the sources: status, counts and, for a capture refused part-way, why and where."
        ),
    )(sources)
