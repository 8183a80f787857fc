"""``haechi case add-*`` and ``withdraw``: the evidence in a case (messages, files, chats,
a selection, reported links, matches, findings). Items point at stored rows; they are
withdrawn, never deleted."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated, Any

import typer

from haechi.cli.common import CaseArg, JsonOption, emit, opened
from haechi.cli.console import out
from haechi.cli.main import HomeOption
from haechi.i18n import _

items_app = typer.Typer()


def _print_added(added: Any) -> None:
    for a in added if isinstance(added, list) else [added]:
        said = _("item {id} added") if a.created else _("item {id} (already in the case)")
        out.print(said.format(id=a.id))


@items_app.command("add-message", help=_("Add a stored message (and its files)."))
def add_message(
    case: CaseArg,
    url: Annotated[str | None, typer.Option(help=_("The message's t.me link."))] = None,
    chat: Annotated[
        str | None, typer.Option(help=_("Chat key (channel:123), @username or id."))
    ] = None,
    message_id: Annotated[
        int | None, typer.Option("--id", help=_("Message id within the chat."))
    ] = None,
    files: Annotated[bool, typer.Option(help=_("Also add each file the message carries."))] = True,
    home: HomeOption = None,
) -> None:
    """Add a stored message (and its files)."""
    from haechi.cases.items import add_message as service

    with opened(home) as app:
        added = service(app, case, chat=chat, message_id=message_id, url=url, with_files=files)
    _print_added(added)


@items_app.command(
    "add-file",
    help=_("Add a stored file by SHA-256: one item for every message that carried it."),
)
def add_file(
    case: CaseArg, sha256: Annotated[str, typer.Argument()], home: HomeOption = None
) -> None:
    """Add a stored file by SHA-256: one item for every message that carried it."""
    from haechi.cases.items import add_file as service

    with opened(home) as app:
        _print_added(service(app, case, sha256))


@items_app.command(
    "add-chat",
    help=_("Add a chat (its public link also gives its messages in this case their links)."),
)
def add_chat(
    case: CaseArg,
    chat: Annotated[str, typer.Argument(help=_("Chat key (channel:123), @username or id."))],
    url: Annotated[
        str | None, typer.Option(help=_("Its public link, e.g. https://t.me/name."))
    ] = None,
    home: HomeOption = None,
) -> None:
    """Add a chat (its public link also gives its messages in this case their links)."""
    from haechi.cases.items import add_chat as service

    with opened(home) as app:
        _print_added(service(app, case, chat, url=url))


@items_app.command(
    "add-items",
    help=_('Add a selection in one transaction (what the web pages\' "add selected" sends).'),
)
def add_items(
    case: CaseArg,
    targets: Annotated[
        list[str] | None,
        typer.Argument(
            help=_(
                "message:<number>, media:<number>, file:<sha256>, chat:<number> or "
                "match:<number>; - reads them from stdin, one a line."
            )
        ),
    ] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Add a selection in one transaction (what the web pages' "add selected" sends)."""
    import sys

    from haechi.cases.bulk import add_targets

    wanted = list(targets or [])
    if wanted == ["-"]:
        wanted = [line.strip() for line in sys.stdin if line.strip()]
    with opened(home) as app:
        result = add_targets(app, case, wanted)
    if as_json:
        emit({"case": result.case_ref, "items": [asdict(i) for i in result.items]})
    else:
        out.print(
            _("case {case}: {added} items added, {existing} already in it").format(
                case=result.case_ref, added=result.added, existing=result.existing
            ),
            highlight=False,
        )


@items_app.command("add-link", help=_("Add a link that was reported but not captured."))
def add_link(
    case: CaseArg,
    url: Annotated[str, typer.Argument(help=_("A reported link not captured (yet)."))],
    note: Annotated[str | None, typer.Option(help=_("Where it came from."))] = None,
    home: HomeOption = None,
) -> None:
    """Add a link that was reported but not captured."""
    from haechi.cases.items import add_link as service

    with opened(home) as app:
        _print_added(service(app, case, url, note=note))


@items_app.command(
    "add-match",
    help=_("Add a hash match (a row of `haechi match`); an unknown number is refused."),
)
def add_match(
    case: CaseArg,
    match_id: Annotated[
        str, typer.Argument(help=_("The match's number, as `haechi match` lists it."))
    ],
    sha256: Annotated[
        str | None,
        typer.Option(help=_("One of the match's two files (default: the file that matched).")),
    ] = None,
    home: HomeOption = None,
) -> None:
    """Add a hash match (a row of `haechi match`); an unknown number is refused."""
    from haechi.cases.items import add_external
    from haechi.cases.model import ItemKind

    with opened(home) as app:
        _print_added(add_external(app, case, ItemKind.MATCH, match_id, blob_sha256=sha256))


@items_app.command(
    "add-finding",
    help=_(
        "Add a graph finding (a successor room, a shared wallet, "
        "...); a node the store does not have is refused."
    ),
)
def add_finding(
    case: CaseArg,
    finding_id: Annotated[
        str,
        typer.Argument(
            help=_(
                "A network-map node (chat:12, account:7, bot:name, tg:name, invite:+hash, "
                "tgc:123, media:<sha256 prefix>, btc:<address>, url:<link>, ...) or free text "
                "typed note:<what it says>."
            )
        ),
    ],
    chat: Annotated[str | None, typer.Option(help=_("The chat it concerns."))] = None,
    url: Annotated[str | None, typer.Option(help=_("A link it concerns."))] = None,
    note: Annotated[str | None, typer.Option(help=_("What the finding says."))] = None,
    home: HomeOption = None,
) -> None:
    """Add a graph finding (a successor room, a shared wallet, ...); a node the store does
    not have is refused."""
    from haechi.cases.items import add_external
    from haechi.cases.model import ItemKind

    with opened(home) as app:
        detail = {"note": note} if note else None
        _print_added(
            add_external(app, case, ItemKind.FINDING, finding_id, chat=chat, url=url, detail=detail)
        )


@items_app.command(
    "withdraw", help=_("Withdraw an item from the case (it is kept, marked withdrawn).")
)
def withdraw(
    case: CaseArg,
    item: Annotated[int, typer.Argument(help=_("Item number."))],
    reason: Annotated[str, typer.Option(help=_("Why (the item stays on record)."))],
    home: HomeOption = None,
) -> None:
    """Withdraw an item from the case (it is kept, marked withdrawn)."""
    from haechi.cases.items import withdraw_item

    with opened(home) as app:
        withdraw_item(app, case, item, reason)
    out.print(_("item {item} withdrawn").format(item=item))
