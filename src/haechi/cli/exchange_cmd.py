"""``haechi exchange``: share banks with partner agencies and platforms, fetch theirs, and
hand leads to Aleph as FollowTheMoney entities. A thin shell over ``haechi.exchange``.

The group's verbs live by job: ``exchange_publish`` (our key, the feed, partners),
``exchange_subscribe`` (subscriptions, sync, serve) and, here, ``ftm`` (leads)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from haechi.cli.common import JsonOption, emit, with_app
from haechi.cli.console import out
from haechi.cli.exchange_publish import partner_app, publish_app
from haechi.cli.exchange_subscribe import subscribe_app
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import _

ORDER = 45

exchange_app = typer.Typer(
    help=_("Exchange hashes with partners (publish, subscribe, sync) and export leads (FtM)."),
    no_args_is_help=True,
)
# Merged in register() after the others, so `--help` lists publishing, subscribing, leads.
leads_app = typer.Typer()


@leads_app.command(
    "ftm",
    help=_(
        "Export chats, accounts, bots, messages, media hashes, "
        "identifiers and the network's edges as FollowTheMoney "
        "entities (JSON lines for Aleph / OpenAleph)."
    ),
)
def ftm(
    out_path: Annotated[Path, typer.Argument(metavar="OUT.jsonl", help=_("Where to write."))],
    since: Annotated[
        str | None, typer.Option(help=_("The cursor of an earlier export: only what is new."))
    ] = None,
    with_text: Annotated[
        bool, typer.Option(help=_("Include message texts (redacted by default)."))
    ] = False,
    include_personal: Annotated[
        bool, typer.Option(help=_("Include phone numbers, e-mails and social handles."))
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Export chats, accounts, bots, messages, media hashes, identifiers and the network's
    edges as FollowTheMoney entities (JSON lines for Aleph / OpenAleph)."""
    try:
        from haechi.exchange.ftm import FtmOptions, export_ftm
    except ImportError:
        raise UsageError(
            _("FollowTheMoney is not installed: pip install 'haechi[exchange]' to export leads.")
        ) from None

    opts = FtmOptions(since=since, with_text=with_text, include_personal=include_personal)
    result = with_app(home, lambda app: export_ftm(app, out_path, opts))
    if as_json:
        emit(result)
        return
    said = _("{n} entities written to {path} (SHA-256 {sha256}…); next --since {cursor}").format(
        n=f"{result['entities']:,}", path=out_path, sha256=result["sha256"][:16],
        cursor=result["cursor"],
    )  # fmt: skip
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    for part in (publish_app, subscribe_app, leads_app):
        exchange_app.add_typer(part)  # no name: their verbs are `haechi exchange <verb>`
    exchange_app.add_typer(partner_app, name="partner")
    app.add_typer(exchange_app, name="exchange")
