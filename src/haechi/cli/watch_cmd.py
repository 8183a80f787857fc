"""``haechi watch``: live capture with a Telegram user account (Telethon).

haechi watch login                 # phone, code, two-step password; session sealed
haechi watch add @room [--join]    # a target: @name, t.me link, invite link
haechi watch run [--once]          # the service (systemd: see docs/live.md)
haechi watch status [--json]       # per target: state, last message, lag, errors
haechi watch pause/resume TARGET
haechi watch bot @name --send /start --case HC-...   # a bot conversation, into a case
haechi watch logout
"""

from __future__ import annotations

import asyncio
import json
import logging
import signal
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import typer
from rich.table import Table

from haechi.app import App, open_app
from haechi.cli.console import err, out
from haechi.cli.main import HomeOption
from haechi.i18n import N_, _

ORDER = 25
KST = timedelta(hours=9)

watch_app = typer.Typer(
    help=_("Live capture: watch rooms, channels and bots with a Telegram account."),
    no_args_is_help=True,
)
JsonOption = Annotated[bool, typer.Option("--json", help=_("Print JSON."))]
# A target's state (haechi.collect.telegram_live), translated where it is shown.
STATES = (
    N_("pending"), N_("backfill"), N_("following"), N_("waiting"), N_("gone"),
    N_("needs_person"), N_("paused"),
)  # fmt: skip


def _when(ts: int | None) -> str:
    if ts is None:
        return "-"
    utc = datetime.fromtimestamp(ts, UTC)
    return f"{utc:%Y-%m-%d %H:%M} UTC ({utc + KST:%H:%M} KST)"


def _span(seconds: int | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{seconds // 60} min"
    return f"{seconds // 3600} h"


def _live(app: App) -> Any:
    """The [live] settings, refusing to go on without a Telegram application."""
    from haechi.collect.telegram_live.account import settings_for

    return settings_for(app)


@watch_app.command(
    "login",
    help=_("Sign in with a Telegram user account; the session is sealed in the data directory."),
)
def login(
    home: HomeOption = None,
    phone: Annotated[
        str | None, typer.Option(help=_("International phone number (asked if not given)."))
    ] = None,
) -> None:
    """Sign in with a Telegram user account; the session is sealed in the data directory."""
    from haechi.collect.telegram_live import account

    app = open_app(home)
    try:
        client = account.make_client(_live(app))
        prompts = account.Prompts(
            phone=lambda: typer.prompt(_("Phone number (international, e.g. +82 10 ...)")),
            code=lambda: typer.prompt(_("Login code Telegram sent")),
            password=lambda: typer.prompt(_("Two-step verification password"), hide_input=True),
        )

        async def go() -> dict[str, Any]:
            try:
                return await account.login(app, client, prompts, phone=phone)
            finally:
                await account.disconnect(client)

        found = asyncio.run(go())
    finally:
        app.close()
    who = f"@{found['username']}" if found["username"] else str(found["tg_id"])
    said = _("logged in as {who}; session {session} sealed").format(
        who=who, session=found["session_id"]
    )
    out.print(said, highlight=False)


@watch_app.command(
    "logout", help=_("End the Telegram session (at Telegram when reachable) and forget it here.")
)
def logout(home: HomeOption = None) -> None:
    """End the Telegram session (at Telegram when reachable) and forget it here."""
    from haechi.collect.telegram_live import account

    app = open_app(home)
    try:
        client = None
        try:
            sealed = account.open_session(app)
            client = account.make_client(_live(app), sealed.session)
        except Exception:  # noqa: S110 - no session or no API settings: forget locally
            pass
        had = asyncio.run(account.logout(app, client))
    finally:
        app.close()
    out.print(_("logged out") if had else _("there was no session"), highlight=False)


@watch_app.command("add", help=_("Watch a room, channel or bot."))
def add(
    target: Annotated[
        str, typer.Argument(help=_("@name, t.me/name, t.me/+invite or t.me/c/<id>."))
    ],
    home: HomeOption = None,
    join: Annotated[
        bool,
        typer.Option("--join", help=_("Allow haechi to join the room (recorded). Never implied.")),
    ] = False,
) -> None:
    """Watch a room, channel or bot."""
    from haechi.collect.telegram_live.targets import add_target

    app = open_app(home)
    try:
        target_id, created = add_target(app, target, join=join)
    finally:
        app.close()
    said = _("target {id} added") if created else _("target {id} was already watched")
    joining = _(" (joining allowed)") if join and created else ""
    out.print(said.format(id=target_id) + joining, highlight=False)


def _pause(target: str, home: Any, paused: bool) -> None:
    from haechi.collect.telegram_live.targets import set_paused

    app = open_app(home)
    try:
        set_paused(app, target, paused)
    finally:
        app.close()
    said = _("{target} paused") if paused else _("{target} resumed")
    out.print(said.format(target=target), highlight=False)


@watch_app.command("pause", help=_("Stop reading a target (nothing stored is touched)."))
def pause(target: Annotated[str, typer.Argument()], home: HomeOption = None) -> None:
    """Stop reading a target (nothing stored is touched)."""
    _pause(target, home, True)


@watch_app.command("resume", help=_("Read a paused target again."))
def resume(target: Annotated[str, typer.Argument()], home: HomeOption = None) -> None:
    """Read a paused target again."""
    _pause(target, home, False)


@watch_app.command(
    "status",
    help=_("Per target: state, last message, lag, errors; and whether the service runs."),
)
def status(home: HomeOption = None, as_json: JsonOption = False) -> None:
    """Per target: state, last message, lag, errors; and whether the service runs."""
    from haechi.collect.telegram_live.status import watch_status

    app = open_app(home)
    try:
        found = watch_status(app)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(found.as_dict(), ensure_ascii=False, indent=2))
        return
    s = found.service
    running = (
        _("running (pid {pid} on {host})").format(pid=s.pid, host=s.host)
        if s.running
        else _("not running")
    )
    said = _("service: {running}; last pulse {pulse}; account {account}").format(
        running=running, pulse=_when(s.heartbeat_at), account=s.account or "-"
    )
    out.print(said, highlight=False)
    if s.note:
        out.print(f"[yellow]{_('service note:')}[/] {s.note}", highlight=False)
    table = Table(show_lines=False)
    for col in (
        _("id"), _("target"), _("state"), _("last message"), _("lag"), _("msgs"), _("versions"),
        _("files"), _("gone"), _("errors"),
    ):  # fmt: skip
        table.add_column(col)
    for t in found.targets:
        last = f"#{t.last_message_id} {_when(t.last_message_at)}" if t.last_message_id else "-"
        table.add_row(
            str(t.id),
            t.ref + (f" ({t.title})" if t.title else ""),
            _(t.state),
            last,
            _span(t.lag_seconds),
            f"{t.messages:,}",
            f"{t.versions:,}",
            f"{t.files:,}",
            f"{t.gone_messages:,}",
            str(t.errors),
        )
    out.print(table)
    for t in found.targets:
        if t.reason:
            out.print(f"{t.ref}: {t.reason}", highlight=False)


@watch_app.command(
    "run", help=_("Follow every target: history first, then new messages, edits and deletions.")
)
def run(
    home: HomeOption = None,
    once: Annotated[
        bool, typer.Option("--once", help=_("Read every target up to now, then stop (cron)."))
    ] = False,
    analyze: Annotated[
        bool, typer.Option(help=_("Run the analyzers and after-ingest hooks as data arrives."))
    ] = True,
    log_level: Annotated[str, typer.Option(help=_("debug, info, warning or error."))] = "info",
) -> None:
    """Follow every target: history first, then new messages, edits and deletions."""
    from haechi.collect.telegram_live import account
    from haechi.collect.telegram_live.watcher import Watcher
    from haechi.domain import DataDirError

    handler = logging.StreamHandler()  # stderr: journald keeps it under systemd
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    log = logging.getLogger("haechi.watch")
    log.addHandler(handler)
    log.setLevel(getattr(logging, log_level.upper(), logging.INFO))
    app = open_app(home)
    try:
        settings = _live(app)
        sealed = account.open_session(app)
        client = account.make_client(settings, sealed.session)

        async def go() -> str | None:
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for sig in (signal.SIGTERM, signal.SIGINT):
                loop.add_signal_handler(sig, stop.set)
            if not await account.start_when_reachable(client, sealed, stop):
                return None
            w = Watcher(app, client, account.context_of(app, sealed), settings, analyze=analyze)
            w.stopping = stop  # SIGTERM (systemd stop) ends the run cleanly
            try:
                await w.run(once=once)
            finally:
                account.reseal(app, client, sealed)
                await account.disconnect(client)
            return w.failure

        failure = asyncio.run(go())
    finally:
        app.close()
    if failure:
        raise DataDirError(failure)
    err.print(_("watch stopped; everything received is stored"), highlight=False)


@watch_app.command(
    "bot",
    help=_("Talk to a suspect bot and keep the conversation, its buttons, links and profile."),
)
def bot(
    name: Annotated[str, typer.Argument(help=_("The bot's @username."))],
    home: HomeOption = None,
    send: Annotated[
        list[str] | None,
        typer.Option("--send", help=_("A text command to send (repeat); text only, never media.")),
    ] = None,
    case: Annotated[str | None, typer.Option(help=_("Add the conversation to this case."))] = None,
    wait: Annotated[float, typer.Option(help=_("Seconds to wait for replies per command."))] = 15.0,
    as_json: JsonOption = False,
) -> None:
    """Talk to a suspect bot and keep the conversation, its buttons, links and profile."""
    from dataclasses import asdict

    from haechi.collect.telegram_live.bot_run import check_request, talk_to_bot

    request = check_request(name, list(send or []), max(wait, 0.0))  # before anything else
    app = open_app(home)
    try:
        report = talk_to_bot(app, request, case=case)
    finally:
        app.close()
    if as_json:
        typer.echo(json.dumps(asdict(report), ensure_ascii=False, indent=2))
        return
    said = _(
        "{bot}: {sent} commands sent, {new} new messages, {buttons} buttons, {links} links, "
        "profile {profile}"
    ).format(
        bot=report.bot, sent=len(report.sent), new=report.messages_new,
        buttons=len(report.buttons), links=len(set(report.links)),
        profile=report.profile_sha256 or "-",
    )  # fmt: skip
    if case:
        said += _("; {n} items in case {case}").format(n=report.case_items, case=case)
    out.print(said, highlight=False)


def register(app: typer.Typer) -> None:
    app.add_typer(watch_app, name="watch")
