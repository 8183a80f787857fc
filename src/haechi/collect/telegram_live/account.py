"""The watching account: interactive login (phone, code, two-step password), the sealed
session, the Telegram client built from it, logout.

Login prompts come from the caller (the CLI asks on the terminal); nothing here prints or
reads a terminal, so the flow is the same under test. The phone number is never stored or
logged in full: the custody event keeps its last two digits only.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import random
import re
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import insert, update
from telethon import errors as tg

from haechi import __version__
from haechi.app import App
from haechi.collect.telegram_live import events as ev
from haechi.collect.telegram_live.pacing import backoff_delay
from haechi.collect.telegram_live.segment import CaptureContext
from haechi.collect.telegram_live.sessionbox import (
    SealedSession,
    forget,
    seal,
    session_path,
    unseal,
)
from haechi.collect.telegram_live.settings import LiveSettings, parse_live_settings, require_api
from haechi.collect.telegram_live.tl import entity_name
from haechi.domain import DataDirError, UsageError
from haechi.i18n import t_
from haechi.store.custody import Draft
from haechi.store.tables.live import LiveAccount

log = logging.getLogger("haechi.watch")
_PHONE = re.compile(r"\+?[0-9]{7,15}")
TRIES = 3


@dataclass
class Prompts:
    phone: Callable[[], str]
    code: Callable[[], str]
    password: Callable[[], str]  # the two-step verification password (never echoed)


def settings_for(app: App) -> LiveSettings:
    """The data directory's ``[live]`` settings, refusing to go on without a Telegram
    application (api_id and api_hash)."""
    settings = parse_live_settings(app.settings.live)
    require_api(settings)
    return settings


def make_client(settings: LiveSettings, session: str = "") -> Any:
    """A Telethon client over an in-memory session (never a session file on disk)."""
    from telethon import TelegramClient
    from telethon.sessions import StringSession

    api_id, api_hash = require_api(settings)
    return TelegramClient(
        StringSession(session or None),
        api_id,
        api_hash,
        device_model="haechi evidence capture",
        app_version=__version__,
        flood_sleep_threshold=60,
        request_retries=5,
        connection_retries=5,
        retry_delay=2,
        auto_reconnect=True,
        receive_updates=True,
        catch_up=False,
    )


def mask(phone: str) -> str:
    digits = re.sub(r"\D", "", phone)
    return "+" + "*" * max(len(digits) - 2, 0) + digits[-2:]


async def login(
    app: App, client: Any, prompts: Prompts, *, phone: str | None = None
) -> dict[str, Any]:
    """Sign in (unless the client's session already is), seal the session, record who
    logged in. Returns the account (tg_id, username, display_name, session_id)."""
    await client.connect()
    asked = None
    try:
        if not await client.is_user_authorized():
            asked = (phone or prompts.phone()).strip().replace(" ", "")
            if not _PHONE.fullmatch(asked):
                raise UsageError(
                    t_("Give the phone number in international form, e.g. +82 10 1234 5678.")
                )
            sent = await client.send_code_request(asked)
            await _sign_in(client, prompts, asked, sent.phone_code_hash)
        me = await client.get_me()
    except tg.PhoneNumberInvalidError:
        raise UsageError(t_("Telegram does not know this phone number.")) from None
    except tg.PhoneNumberBannedError:
        raise UsageError(t_("Telegram has banned this phone number.")) from None
    except tg.PhoneCodeExpiredError:
        raise UsageError(t_("The login code expired: run `haechi watch login` again.")) from None
    except tg.FloodError as exc:
        raise UsageError(
            t_(
                "Telegram asks to wait {seconds} s before another login attempt.",
                seconds=getattr(exc, "seconds", "?"),
            )
        ) from None
    if me is None:
        raise DataDirError(
            t_("Telegram did not confirm the login; run `haechi watch login` again.")
        )
    account = {
        "tg_id": int(me.id),
        "username": getattr(me, "username", None),
        "display_name": entity_name(me),
    }
    session_id = secrets.token_hex(8)
    seal(
        session_path(app.settings.keys_dir),
        app.signer,
        SealedSession(client.session.save(), session_id, account),
    )
    stamp = int(time.time())
    with app.db.begin() as conn:
        conn.execute(
            insert(LiveAccount).values(
                tg_id=account["tg_id"],
                username=account["username"],
                display_name=account["display_name"],
                session_id=session_id,
                logged_in_at=stamp,
                logged_in_by=app.settings.operator,
            )
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.LOGIN,
                    f"live_account:{account['tg_id']}",
                    {
                        "account_id": account["tg_id"],
                        "account_username": account["username"],
                        "session_id": session_id,
                        "phone": mask(asked) if asked else None,
                        "by": app.settings.operator,
                    },
                )
            ],
        )
    return {**account, "session_id": session_id}


async def _sign_in(client: Any, prompts: Prompts, phone: str, code_hash: str) -> None:
    for attempt in range(TRIES):
        try:
            await client.sign_in(
                phone=phone, code=prompts.code().strip(), phone_code_hash=code_hash
            )
            return
        except tg.PhoneCodeInvalidError:
            if attempt == TRIES - 1:
                raise UsageError(
                    t_("The login code was wrong three times; run login again.")
                ) from None
        except tg.SessionPasswordNeededError:
            break
    for attempt in range(TRIES):  # two-step verification is on
        try:
            await client.sign_in(password=prompts.password())
            return
        except tg.PasswordHashInvalidError:
            if attempt == TRIES - 1:
                raise UsageError(t_("The two-step password was wrong three times.")) from None


def open_session(app: App) -> SealedSession:
    return unseal(session_path(app.settings.keys_dir), app.signer)


def context_of(app: App, sealed: SealedSession) -> CaptureContext:
    return CaptureContext(
        account_id=int(sealed.account["tg_id"]),
        account_username=sealed.account.get("username"),
        session_id=sealed.session_id,
        host=app.settings.host,
    )


async def start(client: Any, sealed: SealedSession) -> None:
    """Connect and check that the session still belongs to the account it was sealed for."""
    await client.connect()
    if not await client.is_user_authorized():
        raise DataDirError(t_("The Telegram session was logged out: run `haechi watch login`."))
    me = await client.get_me()
    if me is None or int(me.id) != int(sealed.account["tg_id"]):
        raise DataDirError(t_("The Telegram session answers for another account: log in again."))


async def start_when_reachable(
    client: Any, sealed: SealedSession, stop: asyncio.Event, *, ceiling: float = 300.0
) -> bool:
    """:func:`start`, retried with back-off while Telegram cannot be reached (a service
    must not give up because the network was down when it started). False if stopped."""
    rng, attempt = random.Random(), 0
    while not stop.is_set():
        try:
            await start(client, sealed)
            return True
        except (ConnectionError, OSError, TimeoutError) as exc:
            attempt += 1
            delay = backoff_delay(attempt, ceiling, rng)
            log.warning("cannot reach Telegram (%s); trying again in %.0f s", exc, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
    return False


async def disconnect(client: Any) -> None:
    """Telethon's ``disconnect`` is a coroutine on a running loop, a plain call otherwise."""
    done = client.disconnect()
    if inspect.isawaitable(done):
        await done


def reseal(app: App, client: Any, sealed: SealedSession) -> None:
    """Keep the session current (Telegram may move it to another data centre)."""
    now = client.session.save()
    if now and now != sealed.session:
        seal(
            session_path(app.settings.keys_dir),
            app.signer,
            SealedSession(now, sealed.session_id, sealed.account),
        )


async def logout(app: App, client: Any | None) -> bool:
    """End the session at Telegram when it can be reached, and forget it here."""
    path = session_path(app.settings.keys_dir)
    try:
        sealed = unseal(path, app.signer)
    except DataDirError:
        return forget(path)
    if client is not None:
        try:
            await client.connect()
            await client.log_out()
        except Exception:  # noqa: S110 - forgotten here anyway; Telegram's devices list shows it
            pass
    forget(path)
    stamp = int(time.time())
    with app.db.begin() as conn:
        conn.execute(
            update(LiveAccount)
            .where(LiveAccount.session_id == sealed.session_id)
            .values(logged_out_at=stamp)
        )
        app.custody.append_many(
            conn,
            [
                Draft(
                    ev.LOGOUT,
                    f"live_account:{sealed.account['tg_id']}",
                    {
                        "account_id": sealed.account["tg_id"],
                        "session_id": sealed.session_id,
                        "by": app.settings.operator,
                    },
                )
            ],
        )
    return True
