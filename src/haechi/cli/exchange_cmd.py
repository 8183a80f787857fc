"""``haechi exchange``: share banks with partner agencies and platforms, fetch theirs, and
hand leads to Aleph as FollowTheMoney entities. A thin shell over ``haechi.exchange``."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import App, open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import N_, _

ORDER = 45

exchange_app = typer.Typer(
    help=_("Exchange hashes with partners (publish, subscribe, sync) and export leads (FtM)."),
    no_args_is_help=True,
)
partner_app = typer.Typer(help=_("Partners we publish to (their tokens and scopes)."),
                          no_args_is_help=True)  # fmt: skip

JsonOption = Annotated[bool, typer.Option("--json", help=_("Print the result as JSON."))]
BankOption = Annotated[
    list[str], typer.Option("--bank", "-b", help=_("A bank to share (repeatable)."))
]
LabelOption = Annotated[
    list[str] | None, typer.Option("--label", "-l", help=_("Share only items with this label."))
]
KindOption = Annotated[
    list[str] | None, typer.Option("--kind", help=_("Share only this hash kind (pdq, md5, ...)."))
]
DURATION = re.compile(r"^(\d{1,6})([smhd]?)$")


def _echo_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _run(home: Path | None, fn: Any) -> Any:
    app = open_app(home)
    try:
        return fn(app)
    finally:
        app.close()


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().strip()
    if not line:
        raise UsageError(
            _("Give the {what} on the first line of standard input.").format(what=_(what))
        )
    return line


def _show_token(secret: str, partner: str) -> None:
    out.print(
        _("token for {partner} (shown once, give it to them over a safe channel):").format(
            partner=repr(partner)
        )
    )
    typer.echo(secret)


# -- publishing ---------------------------------------------------------------------------


@exchange_app.command(
    "key",
    help=_("Print this data directory's public key (PEM): partners check our pages with it."),
)
def key(home: HomeOption = None) -> None:
    """Print this data directory's public key (PEM): partners check our pages with it."""
    from haechi.store.keys import public_pem

    def show(app: App) -> None:
        err.print(_("key id {key}").format(key=app.signer.key_id), highlight=False)
        typer.echo(public_pem(app.signer.public).decode().strip())

    _run(home, show)


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

    secret, info = _run(home, lambda app: add_partner(
        app, name, banks=bank, labels=label or [], kinds=kind or [], description=description
    ))  # fmt: skip
    if as_json:
        _echo_json({**info.as_dict(), "token": secret})
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

    partners = _run(home, list_partners)
    if as_json:
        _echo_json([p.as_dict() for p in partners])
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

    info = _run(home, lambda app: set_scope(app, name, banks=bank, labels=label or [],
                                            kinds=kind or []))  # fmt: skip
    said = _("partner {name}: {scope}").format(name=repr(info.name), scope=info.scope.describe())
    out.print(said, highlight=False)


@partner_app.command(
    "token", help=_("Give a partner a new token (the old one stops working at once).")
)
def partner_token(name: str, home: HomeOption = None) -> None:
    """Give a partner a new token (the old one stops working at once)."""
    from haechi.exchange.partners import new_token

    secret, info = _run(home, lambda app: new_token(app, name))
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

    info = _run(home, lambda app: revoke_token(app, name, reason=reason))
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
    _run(home, lambda app: remove_partner(app, name, reason=reason))
    out.print(_("removed partner {name}").format(name=repr(name)), highlight=False)


@exchange_app.command(
    "feed",
    help=_("Bring the change feed up to the banks now (fetches do it too, a page at a time)."),
)
def feed(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Bring the change feed up to the banks now (fetches do it too, a page at a time)."""
    from haechi.exchange.feed import catch_up_all, feed_stats

    def run(app: App) -> dict[str, Any]:
        step = catch_up_all(app)
        return {"added": step.added, "removed": step.removed, **feed_stats(app)}

    result = _run(home, run)
    if as_json:
        _echo_json(result)
        return
    said = _(
        "feed: {added} additions and {removed} withdrawals appended; last change {last}, "
        "{items} items shared"
    ).format(
        added=f"{result['added']:,}", removed=f"{result['removed']:,}",
        last=f"{result['last_change']:,}", items=f"{result['live_items']:,}",
    )  # fmt: skip
    out.print(said, highlight=False)


# -- subscribing --------------------------------------------------------------------------


@exchange_app.command(
    "add",
    help=_(
        "Subscribe to a partner: another haechi (--url, "
        "--token-stdin, --public-key) or a python-threatexchange "
        "collaboration (--tx-config)."
    ),
)
def add(
    name: Annotated[str, typer.Argument(help=_("Name of the subscription, e.g. 'knpa'."))],
    url: Annotated[str | None, typer.Option(help=_("The partner's haechi address."))] = None,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help=_("Read our token at the partner from stdin."))
    ] = False,
    public_key: Annotated[
        Path | None, typer.Option(help=_("The partner's public key (PEM, `haechi exchange key`)."))
    ] = None,
    tx_config: Annotated[
        Path | None,
        typer.Option(help=_("A python-threatexchange collaboration config (JSON) instead.")),
    ] = None,
    tx_credentials_stdin: Annotated[
        bool, typer.Option(help=_("Read the threatexchange API's credentials from stdin."))
    ] = False,
    bank: Annotated[str | None, typer.Option(help=_("The bank to fill (new)."))] = None,
    allow_http: Annotated[
        bool, typer.Option(help=_("Allow plain HTTP to a non-loopback address."))
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Subscribe to a partner: another haechi (--url, --token-stdin, --public-key) or a
    python-threatexchange collaboration (--tx-config)."""
    from haechi.exchange.subscriptions import add_haechi, add_threatexchange

    if tx_config is not None:
        try:
            config = json.loads(tx_config.read_text(encoding="utf-8"))
        except ValueError as exc:
            raise UsageError(
                _("{path} is not JSON ({error}).").format(path=tx_config, error=exc)
            ) from None
        creds = _stdin_line(N_("credentials")) if tx_credentials_stdin else None
        info = _run(home, lambda app: add_threatexchange(app, name, config=config,
                                                         credentials=creds, bank=bank))  # fmt: skip
    else:
        if url is None or public_key is None or not token_stdin:
            raise UsageError(
                _(
                    "Subscribing to a haechi needs --url, --public-key and --token-stdin "
                    "(or --tx-config for a threatexchange collaboration)."
                )
            )
        token = _stdin_line(N_("token"))
        pem = public_key.read_bytes()
        info = _run(home, lambda app: add_haechi(app, name, url=url, token=token,
                                                 public_key_pem=pem, bank=bank,
                                                 allow_http=allow_http))  # fmt: skip
    if as_json:
        _echo_json(info.as_dict())
        return
    source = info.url or f"threatexchange {info.tx_api}"
    said = _("subscribed {name} to {source}, into bank {bank}").format(
        name=repr(info.name), source=source, bank=repr(info.bank_name)
    )
    out.print(said, highlight=False)


@exchange_app.command(
    "list", help=_("List subscriptions with how far they are and their last problem.")
)
def list_(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List subscriptions with how far they are and their last problem."""
    from haechi.exchange.subscriptions import list_subscriptions

    subs = _run(home, list_subscriptions)
    if as_json:
        _echo_json([s.as_dict() for s in subs])
        return
    table = Table(
        _("subscription"), _("source"), _("bank"), _("change"), _("last sync"), _("problem")
    )
    for s in subs:
        source = s.url or f"threatexchange {s.tx_api}"
        name = s.name + ("" if s.enabled else _(" (disabled)"))
        when = (s.last_sync_at or "-")[:19]
        table.add_row(name, source, s.bank_name, str(s.position), when, s.last_error or "")
    out.print(table)


@exchange_app.command(
    "sync", help=_("Fetch what changed at partners since the last sync, and match it at once.")
)
def sync(
    name: Annotated[str | None, typer.Argument(help=_("One subscription (default: all)."))] = None,
    max_pages: Annotated[int, typer.Option(min=1, help=_("Stop after this many pages."))] = 100_000,
    defer_matching: Annotated[
        bool,
        typer.Option(
            help=_(
                "Import only; match the new hashes later with `haechi match --all` "
                "(a first sync of millions of hashes)."
            )
        ),
    ] = False,
    home: HomeOption = None,
    as_json: JsonOption = False,
) -> None:
    """Fetch what changed at partners since the last sync, and match it at once."""
    from haechi.exchange.sync import sync as run_sync

    reports = _run(home, lambda app: run_sync(app, name, max_pages=max_pages,
                                              match=not defer_matching))  # fmt: skip
    if as_json:
        _echo_json([r.as_dict() for r in reports])
    else:
        for r in reports:
            out.print(r.line(), highlight=False)
        if defer_matching and any(r.added for r in reports):
            out.print(_("new hashes are not matched yet: run `haechi match --all`"))
    if any(r.error for r in reports):
        raise typer.Exit(1)


def parse_every(text: str) -> float:
    m = DURATION.match(text.strip().lower())
    if m is None or int(m.group(1)) == 0:
        raise UsageError(
            _("{text} is not a duration like 90s, 15m, 2h or 1d.").format(text=repr(text))
        )
    return int(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]


@exchange_app.command(
    "serve", help=_("Sync every enabled subscription now and then every --every, until Ctrl-C.")
)
def serve(
    every: Annotated[str, typer.Option(help=_("How often to sync every subscription."))] = "15m",
    home: HomeOption = None,
) -> None:
    """Sync every enabled subscription now and then every --every, until Ctrl-C."""
    from haechi.exchange.sync import sync as run_sync

    period = parse_every(every)
    app = open_app(home)
    try:
        while True:
            started = time.monotonic()
            for r in run_sync(app):
                (err if r.error else out).print(r.line(), highlight=False)
            time.sleep(max(1.0, period - (time.monotonic() - started)))
    finally:
        app.close()


@exchange_app.command(
    "token", help=_("Replace our token at a haechi partner (they gave us a new one).")
)
def token(
    name: str,
    token_stdin: Annotated[
        bool, typer.Option("--token-stdin", help=_("Read it from stdin."))
    ] = False,
    home: HomeOption = None,
) -> None:
    """Replace our token at a haechi partner (they gave us a new one)."""
    from haechi.exchange.subscriptions import set_token

    if not token_stdin:
        raise UsageError(_("Give the new token with --token-stdin."))
    secret = _stdin_line(N_("token"))
    _run(home, lambda app: set_token(app, name, secret))
    out.print(_("token of {name} replaced").format(name=repr(name)), highlight=False)


@exchange_app.command("enable", help=_("Sync this subscription again with the others."))
def enable(name: str, home: HomeOption = None) -> None:
    """Sync this subscription again with the others."""
    from haechi.exchange.subscriptions import set_enabled

    _run(home, lambda app: set_enabled(app, name, True))


@exchange_app.command(
    "disable", help=_("Leave this subscription out of `sync` and `serve` (it keeps its place).")
)
def disable(name: str, home: HomeOption = None) -> None:
    """Leave this subscription out of `sync` and `serve` (it keeps its place)."""
    from haechi.exchange.subscriptions import set_enabled

    _run(home, lambda app: set_enabled(app, name, False))


@exchange_app.command(
    "remove",
    help=_("Stop fetching from a partner (its bank stays; delete the bank to drop its hashes)."),
)
def remove(
    name: str,
    reason: Annotated[str, typer.Option(help=_("Why (recorded)."))] = "",
    home: HomeOption = None,
) -> None:
    """Stop fetching from a partner (its bank stays; delete the bank to drop its hashes)."""
    from haechi.exchange.subscriptions import remove_subscription

    sub = _run(home, lambda app: remove_subscription(app, name, reason=reason))
    said = _("removed subscription {name}; bank {bank} stays").format(
        name=repr(sub.name), bank=repr(sub.bank_name)
    )
    out.print(said, highlight=False)


@exchange_app.command("check-page", help=_("Check a received page's signature again, offline."))
def check_page(
    path: Annotated[Path, typer.Argument(help=_("A page as received (HOME/exchange/received/)."))],
    public_key: Annotated[Path, typer.Option(help=_("The publisher's public key (PEM)."))],
) -> None:
    """Check a received page's signature again, offline."""
    from haechi.exchange.envelope import load_public_key, open_envelope

    payload = open_envelope(path.read_bytes(), load_public_key(public_key.read_bytes()))
    said = _(
        "{name}: signed by {publisher}, changes {first}-{last}, {items} items, issued {at}"
    ).format(
        name=path.name, publisher=payload["publisher"], first=payload["from"],
        last=payload["to"], items=len(payload["items"]), at=payload["issued_at"],
    )  # fmt: skip
    out.print(said, highlight=False)


# -- leads ----------------------------------------------------------------------------------


@exchange_app.command(
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
    result = _run(home, lambda app: export_ftm(app, out_path, opts))
    if as_json:
        _echo_json(result)
        return
    said = _("{n} entities written to {path} (SHA-256 {sha256}…); next --since {cursor}").format(
        n=f"{result['entities']:,}", path=out_path, sha256=result["sha256"][:16],
        cursor=result["cursor"],
    )  # fmt: skip
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    exchange_app.add_typer(partner_app, name="partner")
    app.add_typer(exchange_app, name="exchange")
