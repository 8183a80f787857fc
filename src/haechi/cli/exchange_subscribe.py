"""``haechi exchange add``, ``list``, ``sync``, ``serve`` and the rest: subscriptions to
partners' feeds (another haechi or a python-threatexchange collaboration), fetched into a
bank of their own, and a received page checked again offline."""

from __future__ import annotations

import json
import re
import sys
import time
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from haechi.app import open_app
from haechi.cli.common import JsonOption, emit, with_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.domain import UsageError
from haechi.i18n import N_, _

subscribe_app = typer.Typer()
DURATION = re.compile(r"^(\d{1,6})([smhd]?)$")


def _stdin_line(what: str) -> str:
    line = sys.stdin.readline().strip()
    if not line:
        raise UsageError(
            _("Give the {what} on the first line of standard input.").format(what=_(what))
        )
    return line


@subscribe_app.command(
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
        info = with_app(home, lambda app: add_threatexchange(app, name, config=config,
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
        info = with_app(home, lambda app: add_haechi(app, name, url=url, token=token,
                                                 public_key_pem=pem, bank=bank,
                                                 allow_http=allow_http))  # fmt: skip
    if as_json:
        emit(info.as_dict())
        return
    source = info.url or f"threatexchange {info.tx_api}"
    said = _("subscribed {name} to {source}, into bank {bank}").format(
        name=repr(info.name), source=source, bank=repr(info.bank_name)
    )
    out.print(said, highlight=False)


@subscribe_app.command(
    "list", help=_("List subscriptions with how far they are and their last problem.")
)
def list_(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """List subscriptions with how far they are and their last problem."""
    from haechi.exchange.subscriptions import list_subscriptions

    subs = with_app(home, list_subscriptions)
    if as_json:
        emit([s.as_dict() for s in subs])
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


@subscribe_app.command(
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

    reports = with_app(home, lambda app: run_sync(app, name, max_pages=max_pages,
                                              match=not defer_matching))  # fmt: skip
    if as_json:
        emit([r.as_dict() for r in reports])
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


@subscribe_app.command(
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


@subscribe_app.command(
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
    with_app(home, lambda app: set_token(app, name, secret))
    out.print(_("token of {name} replaced").format(name=repr(name)), highlight=False)


@subscribe_app.command("enable", help=_("Sync this subscription again with the others."))
def enable(name: str, home: HomeOption = None) -> None:
    """Sync this subscription again with the others."""
    from haechi.exchange.subscriptions import set_enabled

    with_app(home, lambda app: set_enabled(app, name, True))


@subscribe_app.command(
    "disable", help=_("Leave this subscription out of `sync` and `serve` (it keeps its place).")
)
def disable(name: str, home: HomeOption = None) -> None:
    """Leave this subscription out of `sync` and `serve` (it keeps its place)."""
    from haechi.exchange.subscriptions import set_enabled

    with_app(home, lambda app: set_enabled(app, name, False))


@subscribe_app.command(
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

    sub = with_app(home, lambda app: remove_subscription(app, name, reason=reason))
    said = _("removed subscription {name}; bank {bank} stays").format(
        name=repr(sub.name), bank=repr(sub.bank_name)
    )
    out.print(said, highlight=False)


@subscribe_app.command("check-page", help=_("Check a received page's signature again, offline."))
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
