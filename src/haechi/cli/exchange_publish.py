"""``haechi exchange key``, ``feed`` and ``partner ...``: publishing our banks to partners
(who they are, what each may fetch, their tokens) and the change feed they fetch from."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import App
from haechi.cli.common import JsonOption, emit, with_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.i18n import _

publish_app = typer.Typer()
partner_app = typer.Typer(help=_("Partners we publish to (their tokens and scopes)."),
                          no_args_is_help=True)  # fmt: skip

BankOption = Annotated[
    list[str], typer.Option("--bank", "-b", help=_("A bank to share (repeatable)."))
]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", "-l", help=_("Share only items with this label."))
]
KindOption = Annotated[
    list[str] | None, typer.Option("--kind", help=_("Share only this hash kind (pdq, md5, ...)."))
]


def _show_token(secret: str, partner: str) -> None:
    out.print(
        _("token for {partner} (shown once, give it to them over a safe channel):").format(
            partner=repr(partner)
        )
    )
    typer.echo(secret)


@publish_app.command(
    "key",
    help=_("Print this data directory's public key (PEM): partners check our pages with it."),
)
def key(home: HomeOption = None) -> None:
    """Print this data directory's public key (PEM): partners check our pages with it."""
    from haechi.store.keys import public_pem

    def show(app: App) -> None:
        err.print(_("key id {key}").format(key=app.signer.key_id), highlight=False)
        typer.echo(public_pem(app.signer.public).decode().strip())

    with_app(home, show)


@partner_app.command("add", help=_("Share banks with a new partner; prints its token once."))
def partner_add(
    name: Annotated[str, typer.Argument(help=_("Partner name, e.g. 'knpa-cyber' or 'ncmec'."))],
    bank: BankOption,
    label: LabelOption = None,
    kind: KindOption = None,
    description: Annotated[str | None, typer.Option(help=_("Who they are, on what terms."))] = None,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Share banks with a new partner; prints its token once."""
    from haechi.exchange.partners import add_partner

    secret, info = with_app(home, lambda app: add_partner(
        app, name, banks=bank, labels=label or [], kinds=kind or [], description=description
    ))  # fmt: skip
    if as_json:
        emit({**info.as_dict(), "token": secret})
        return
    said = _("partner {name}: {scope}").format(name=repr(info.name), scope=info.scope.describe())
    out.print(said, highlight=False)
    _show_token(secret, info.name)


@partner_app.command(
    "list", help=_("List partners with their scope, token state and how far they have fetched.")
)
def partner_list(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List partners with their scope, token state and how far they have fetched."""
    from haechi.exchange.partners import list_partners

    partners = with_app(home, list_partners)
    if as_json:
        emit([p.as_dict() for p in partners])
        return
    table = Table(_("partner"), _("scope"), _("token"), _("last fetch"), _("change"))
    for p in partners:
        state = (
            _("active") if p.active else _("revoked {day}").format(day=str(p.token_revoked_at)[:10])
        )
        table.add_row(p.name, p.scope.describe(), f"{p.token_prefix}… {state}",
                      (p.last_fetch_at or "-")[:19], str(p.last_change or "-"))  # fmt: skip
    out.print(table)


@partner_app.command(
    "scope", help=_("Change what a partner may fetch (its next fetch starts over).")
)
def partner_scope(
    name: str,
    bank: BankOption,
    label: LabelOption = None,
    kind: KindOption = None,
    home: HomeOption = None,
) -> None:
    """Change what a partner may fetch (its next fetch starts over)."""
    from haechi.exchange.partners import set_scope

    info = with_app(home, lambda app: set_scope(app, name, banks=bank, labels=label or [],
                                            kinds=kind or []))  # fmt: skip
    said = _("partner {name}: {scope}").format(name=repr(info.name), scope=info.scope.describe())
    out.print(said, highlight=False)


@partner_app.command(
    "token", help=_("Give a partner a new token (the old one stops working at once).")
)
def partner_token(name: str, home: HomeOption = None) -> None:
    """Give a partner a new token (the old one stops working at once)."""
    from haechi.exchange.partners import new_token

    secret, info = with_app(home, lambda app: new_token(app, name))
    _show_token(secret, info.name)


@partner_app.command(
    "revoke", help=_("Revoke a partner's token: its fetches are refused from now on.")
)
def partner_revoke(
    name: str,
    reason: Annotated[str, typer.Option(help=_("Why (recorded)."))] = "",
    home: HomeOption = None,
) -> None:
    """Revoke a partner's token: its fetches are refused from now on."""
    from haechi.exchange.partners import revoke_token

    info = with_app(home, lambda app: revoke_token(app, name, reason=reason))
    said = _("revoked the token of {name} ({prefix}…)").format(
        name=repr(info.name), prefix=info.token_prefix
    )
    out.print(said, highlight=False)


@partner_app.command(
    "remove",
    help=_("Remove a partner (its token stops working; the audit trail keeps its fetches)."),
)
def partner_remove(
    name: str,
    reason: Annotated[str, typer.Option(help=_("Why (recorded)."))] = "",
    yes: Annotated[bool, typer.Option("--yes", help=_("Do not ask for confirmation."))] = False,
    home: HomeOption = None,
) -> None:
    """Remove a partner (its token stops working; the audit trail keeps its fetches)."""
    from haechi.exchange.partners import remove_partner

    if not yes and not typer.confirm(_("Remove partner {name}?").format(name=repr(name))):
        raise typer.Exit(1)
    with_app(home, lambda app: remove_partner(app, name, reason=reason))
    out.print(_("removed partner {name}").format(name=repr(name)), highlight=False)


@publish_app.command(
    "feed",
    help=_("Bring the change feed up to the banks now (fetches do it too, a page at a time)."),
)
def feed(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Bring the change feed up to the banks now (fetches do it too, a page at a time)."""
    from haechi.exchange.feed import catch_up_all, feed_stats

    def run(app: App) -> dict[str, Any]:
        step = catch_up_all(app)
        return {"added": step.added, "removed": step.removed, **feed_stats(app)}

    result = with_app(home, run)
    if as_json:
        emit(result)
        return
    said = _(
        "feed: {added} additions and {removed} withdrawals appended; last change {last}, "
        "{items} items shared"
    ).format(
        added=f"{result['added']:,}", removed=f"{result['removed']:,}",
        last=f"{result['last_change']:,}", items=f"{result['live_items']:,}",
    )  # fmt: skip
    out.print(said, highlight=False)
