"""One bot conversation from start to end, as ``haechi watch bot`` and the web's background
job (``bot_conversation``) both run it: the request checked before anything is sent or
queued, the ``[live]`` settings (a Telegram application required), the sealed session
opened with this data directory's key, the client connected and checked to answer for the
sealed account, the conversation (:class:`~haechi.collect.telegram_live.bots.
BotConversation`: text only, generation refused), the client disconnected.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from haechi.app import App
from haechi.collect.telegram_live import account
from haechi.collect.telegram_live.bots import (
    MAX_COMMANDS,
    BotConversation,
    BotReport,
    check_command,
)
from haechi.collect.telegram_live.settings import LiveSettings
from haechi.collect.telegram_live.targets import parse_target
from haechi.domain import UsageError
from haechi.i18n import t_

MAX_WAIT = 120.0  # seconds to wait for a bot's replies to one command
# (settings, session string) -> a client; the fake Telegram in tests, Telethon otherwise.
ClientFactory = Callable[[LiveSettings, str], Any]


@dataclass(frozen=True)
class BotRequest:
    bot: str  # "@name"
    commands: list[str]
    wait_seconds: float


def check_request(bot: str, commands: list[Any], wait_seconds: float = 15.0) -> BotRequest:
    """The request, or a sentence saying why nothing will be sent: a bot named by its
    @username, at most :data:`~haechi.collect.telegram_live.bots.MAX_COMMANDS` commands
    (none: the bot's profile and the conversation so far are captured), each text that
    does not ask for generation (:func:`~haechi.collect.telegram_live.bots.
    check_command`), a wait between 0 and :data:`MAX_WAIT` seconds."""
    ref = parse_target(str(bot or "").strip())
    if ref.kind != "username":
        raise UsageError(t_("Name the bot by its @username."))
    if len(commands) > MAX_COMMANDS:
        raise UsageError(
            t_("At most {max_commands} commands per conversation.", max_commands=MAX_COMMANDS)
        )
    checked = [check_command(c) for c in commands]
    try:
        wait = float(wait_seconds)
    except (TypeError, ValueError):
        raise UsageError(t_("The wait is a number of seconds.")) from None
    if not 0 <= wait <= MAX_WAIT:
        raise UsageError(
            t_("Wait between 0 and {max_wait:g} seconds for replies.", max_wait=MAX_WAIT)
        )
    return BotRequest(f"@{ref.value}", checked, wait)


def talk_to_bot(
    app: App,
    request: BotRequest,
    *,
    case: str | None = None,
    make_client: ClientFactory | None = None,
) -> BotReport:
    """Hold the conversation with this data directory's Telegram account."""
    settings = account.settings_for(app)
    _same_host_as_the_service(app)
    sealed = account.open_session(app)
    client = (make_client or account.make_client)(settings, sealed.session)

    async def go() -> BotReport:
        await account.start(client, sealed)
        try:
            conv = BotConversation(app, client, account.context_of(app, sealed), settings)
            return await conv.run(
                request.bot, request.commands, wait_seconds=request.wait_seconds, case=case
            )
        finally:
            await account.disconnect(client)

    return asyncio.run(go())


def _same_host_as_the_service(app: App) -> None:
    """Telegram ends a session used from two addresses at once (``AUTH_KEY_DUPLICATED``:
    the sealed session would be lost for good), so a conversation is held on the host
    where ``haechi watch run`` runs, if it runs (a job's worker may run on any host)."""
    from haechi.collect.telegram_live.status import watch_status

    service = watch_status(app).service
    if service.running and service.host and service.host != app.settings.host:
        raise UsageError(
            t_(
                "`haechi watch run` uses the Telegram session on {host}: "
                "hold the bot conversation on that host, or stop the service "
                "first (Telegram ends a session used from two addresses at "
                "once).",
                host=service.host,
            )
        )
