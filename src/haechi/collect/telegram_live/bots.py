"""Bot conversations as evidence: an investigator's session with a suspect bot.

What is captured: the commands the investigator sent and the bot's replies (through the
ingest path, like every message), their inline keyboards and button URLs, payment and
channel links, the bot's profile (about, description, commands, usernames) with the names
haechi saw it use over time; all of it added to a case.

What haechi never does with a bot, enforced here and tested: send anything but text (no
image, no file, no sticker, no location; :func:`check_command` refuses any other value,
and the only send call passes text alone), press a button (callback data can start a
payment or a generation), or ask for generation: a command that reads like a request to
generate, "undress" or face-swap an image is refused before anything is sent. The word
list is a guard against a slip, not a promise about what a bot does with "/start".
"""

from __future__ import annotations

import asyncio
import re
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import insert
from telethon.tl import functions, types

from haechi.app import App
from haechi.collect.telegram_live import events as ev
from haechi.collect.telegram_live import records
from haechi.collect.telegram_live.convert import buttons_of, chat_record, message_record
from haechi.collect.telegram_live.flush import flush, stored_messages
from haechi.collect.telegram_live.media import Downloader
from haechi.collect.telegram_live.pacing import NameCache, Pacer
from haechi.collect.telegram_live.segment import CaptureContext, Pending
from haechi.collect.telegram_live.settings import LiveSettings
from haechi.collect.telegram_live.targets import parse_target
from haechi.collect.telegram_live.tl import fingerprint, tl_json, tl_plain, usernames_of
from haechi.domain import SourceFile, UsageError
from haechi.i18n import t_
from haechi.store.custody import Draft
from haechi.store.tables.live import LiveBotProfile
from haechi.store.textsafe import dumps

MAX_COMMAND = 4096
MAX_COMMANDS = 20
MAX_LINKS = 50
MAX_CASE_MESSAGES = 500  # messages of one conversation added to a case as items
_GENERATION = re.compile(
    r"generat|undress|un-dress|nudif|\bnude|naked|deep\s*fake|face\s*swap|swap\s*face|"
    r"remove\s+(?:the\s+)?cloth|take\s+off|\bstrip\b|clothes?\s*off|\bdraw\b|\brender\b|"
    r"(?:create|make|produce)\s+(?:me\s+)?(?:an?\s+)?(?:new\s+)?(?:image|photo|picture|pic|video)|"
    r"^/(?:gen|img|image|create|make|swap|nude|undress|dress|remove|render|edit|face)\b|"
    r"생성|합성|벗기|벗겨|누드|알몸|옷\s*벗|딥\s*페이크|얼굴\s*바꾸|페이스\s*스왑|만들어|그려",
    re.IGNORECASE,
)


def check_command(text: object) -> str:
    """The text an investigator may send to a bot, or a refusal saying why not."""
    if not isinstance(text, str):
        raise UsageError(
            t_("haechi sends only text to a bot: never an image, a file or any other media.")
        )
    value = text.strip()
    if not value:
        raise UsageError(t_("An empty command was not sent."))
    if len(value) > MAX_COMMAND:
        raise UsageError(
            t_(
                "A command longer than {max_command} characters was not sent.",
                max_command=MAX_COMMAND,
            )
        )
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise UsageError(t_("A command with control characters was not sent."))
    folded = unicodedata.normalize("NFKC", value).lower()
    if _GENERATION.search(folded):
        raise UsageError(
            t_(
                "Not sent: {value!r} reads like a request to generate or "
                "alter an image; haechi never asks a bot for generation "
                "(send /start, /help, prices, ...).",
                value=value[:60],
            )
        )
    return value


async def send_text(client: Any, entity: Any, text: str) -> Any:
    """The only way haechi writes to a bot: text, no file, no preview."""
    return await client.send_message(entity, check_command(text), link_preview=False)


@dataclass
class BotReport:
    bot: str
    bot_id: int
    chat_key: str
    sent: list[int] = field(default_factory=list)  # message ids of the commands
    message_ids: list[int] = field(default_factory=list)  # this conversation, read now
    messages_new: int = 0
    profile_sha256: str | None = None
    links: list[str] = field(default_factory=list)
    buttons: list[dict[str, Any]] = field(default_factory=list)
    case_items: int = 0


class BotConversation:
    def __init__(
        self,
        app: App,
        client: Any,
        ctx: CaptureContext,
        settings: LiveSettings,
        *,
        sleep: Any = asyncio.sleep,
        poll_seconds: float = 1.0,
    ) -> None:
        self.app, self.client, self.ctx, self.settings = app, client, ctx, settings
        self.sleep, self.poll_seconds = sleep, poll_seconds
        self.pacer = Pacer(settings.requests_per_second, sleep=sleep)
        self.names = NameCache(2000)
        self.spool = app.settings.home / "live" / f"spool-bot-{id(self):x}"

    async def run(
        self, bot: str, commands: list[str], *, wait_seconds: float = 15.0, case: str | None = None
    ) -> BotReport:
        checked = [check_command(c) for c in commands]  # all refused before any is sent
        if len(checked) > MAX_COMMANDS:
            raise UsageError(
                t_("At most {max_commands} commands per conversation.", max_commands=MAX_COMMANDS)
            )
        ref = parse_target(bot)
        if ref.kind != "username":
            raise UsageError(t_("Name the bot by its @username."))
        await self.pacer.wait()
        entity = await self.client.get_entity(ref.value)
        if not isinstance(entity, types.User) or not entity.bot:
            raise UsageError(
                t_("@{value} is not a bot: haechi talks only to bots here.", value=ref.value)
            )
        self.names.learn_entity(entity)
        chat = chat_record(entity)
        report = BotReport(f"@{entity.username or ref.value}", int(entity.id), chat.key)
        await self.pacer.wait()
        full = await self.client(functions.users.GetFullUserRequest(entity))
        for text in checked:
            await self.pacer.wait()
            sent = await send_text(self.client, entity, text)
            report.sent.append(int(sent.id))
            self._record_command(entity, text, int(sent.id), case)
            await self._await_replies(entity, int(sent.id), wait_seconds)
        self.spool.mkdir(mode=0o700, parents=True, exist_ok=True)
        try:
            items = await self._conversation(entity, chat, report)
            profile = self._profile_file(entity, full)
            result = await asyncio.to_thread(
                flush,
                self.app,
                self.ctx,
                items,
                {chat.key: tl_json(entity)},
                self.spool,
                extra_roots=[SourceFile("bot-profile.json", profile, "bot_profile")],
                header_extra={"bot": report.bot, "case": case},
                layout="bot_conversation",
            )
        finally:
            for leftover in self.spool.glob("*"):
                leftover.unlink(missing_ok=True)
            self.spool.rmdir()
        report.messages_new = result.messages_new
        report.profile_sha256 = self._record_profile(entity, full, result, case)
        if case is not None:
            report.case_items = self._add_to_case(case, report)
        return report

    async def _await_replies(self, entity: Any, after: int, wait_seconds: float) -> None:
        """Until the bot has been quiet for a few seconds, or ``wait_seconds`` passed."""
        deadline = time.monotonic() + wait_seconds
        seen, quiet_since = after, time.monotonic()
        while time.monotonic() < deadline:
            await self.sleep(self.poll_seconds)
            await self.pacer.wait()
            page = await self.client.get_messages(entity, limit=100, min_id=seen, reverse=True)
            if page:
                seen = max(int(m.id) for m in page)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= 3 * self.poll_seconds:
                return

    async def _conversation(self, entity: Any, chat: Any, report: BotReport) -> list[Pending]:
        """The whole conversation not stored yet, oldest first, with its files."""
        downloader = Downloader(self.client, self.settings, self.spool, self.pacer)
        items: list[Pending] = []
        last = 0
        while True:
            await self.pacer.wait()
            page = await self.client.get_messages(entity, limit=100, min_id=last, reverse=True)
            page = [m for m in page if m is not None and not isinstance(m, types.MessageEmpty)]
            if not page:
                return items
            stored = await asyncio.to_thread(
                stored_messages, self.app, chat.key, [int(m.id) for m in page]
            )
            for msg in page:
                last = max(last, int(msg.id))
                if int(msg.id) >= min(report.sent, default=last):
                    report.message_ids.append(int(msg.id))
                self.names.learn(msg)
                for button in buttons_of(msg):
                    report.buttons.append({"message_id": int(msg.id), **button})
                    if "url" in button:
                        report.links.append(button["url"])
                report.links.extend(_links(msg))
                if int(msg.id) in stored:
                    continue
                plain = tl_plain(msg)
                raw = dumps(plain)
                record, plans = message_record(msg, chat, raw, None, self.names.get)
                spool = await downloader.fetch(msg, plans, self._refetch(entity)) if plans else []
                items.append(
                    Pending(
                        None,
                        report.bot,
                        chat,
                        "new",
                        raw,
                        record,
                        fingerprint(plain),
                        time.time(),
                        spool,
                    )
                )

    def _refetch(self, entity: Any) -> Any:
        async def again(message_id: int) -> Any:
            found = await self.client.get_messages(entity, ids=[message_id])
            return found[0] if found else None

        return again

    def _profile_file(self, entity: Any, full: Any) -> Path:
        history = records.name_history(self.app, "user", int(entity.id))
        data = {
            "format": "haechi-bot-profile",
            "version": 1,
            "captured_at": int(time.time()),
            "user": tl_plain(entity),
            "full": tl_plain(full),
            "usernames_now": usernames_of(entity),
            "names_seen_by_haechi": history,
            **self.ctx.describe(),
        }
        path = self.spool / "bot-profile.json"
        path.write_text(dumps(data), encoding="utf-8")
        return path

    def _record_command(self, entity: Any, text: str, sent_id: int, case: str | None) -> None:
        with self.app.db.begin() as conn:
            self.app.custody.append_many(
                conn,
                [
                    Draft(
                        ev.BOT_COMMAND,
                        f"user:{entity.id}",
                        {
                            "bot_id": int(entity.id),
                            "bot_username": entity.username,
                            "text": text,
                            "sent_message_id": sent_id,
                            "case": case,
                            "by": self.app.settings.operator,
                            **self.ctx.describe(),
                        },
                    )
                ],
            )

    def _record_profile(self, entity: Any, full: Any, result: Any, case: str | None) -> str | None:
        sha = _root_sha(self.app, result, "bot-profile.json")
        user_full = getattr(full, "full_user", None)
        info = getattr(user_full, "bot_info", None)
        commands = [
            {"command": c.command, "description": c.description}
            for c in (getattr(info, "commands", None) or [])
        ]
        stamp = int(time.time())
        source_id = result.reports[0].source_id if result.reports else None
        with self.app.db.begin() as conn:
            records.note_name(
                conn, "user", int(entity.id), entity.username, records_title(entity), stamp
            )
            conn.execute(
                insert(LiveBotProfile).values(
                    tg_id=int(entity.id),
                    username=entity.username,
                    name=records_title(entity),
                    about=getattr(user_full, "about", None),
                    description=getattr(info, "description", None),
                    commands_json=dumps(commands) if commands else None,
                    blob_sha256=sha,
                    source_id=source_id,
                    captured_at=stamp,
                    case_ref=case,
                )
            )
            self.app.custody.append_many(
                conn,
                [
                    Draft(
                        ev.BOT_PROFILE,
                        f"user:{entity.id}",
                        {
                            "bot_id": int(entity.id),
                            "bot_username": entity.username,
                            "usernames": usernames_of(entity),
                            "profile_sha256": sha,
                            "source_id": source_id,
                            "case": case,
                            **self.ctx.describe(),
                        },
                    )
                ],
            )
        return sha

    def _add_to_case(self, case: str, report: BotReport) -> int:
        try:
            from haechi.cases.items import add_chat, add_file, add_link, add_message
            from haechi.cases.model import CaseError
        except ImportError:
            raise UsageError(
                t_("The cases capability is not installed; nothing was added to a case.")
            ) from None
        added = [add_chat(self.app, case, report.chat_key).id]
        for mid in report.message_ids[-MAX_CASE_MESSAGES:]:  # the conversation, with its files
            added += [
                a.id for a in add_message(self.app, case, chat=report.chat_key, message_id=mid)
            ]
        if report.profile_sha256:
            added += [a.id for a in add_file(self.app, case, report.profile_sha256)]
        for url in sorted(set(report.links))[:MAX_LINKS]:
            try:
                added.append(add_link(self.app, case, url, note=f"link from {report.bot}").id)
            except CaseError:
                continue  # tg:// and other non-web links stay in the captured messages
        return len(set(added))


def records_title(entity: Any) -> str | None:
    from haechi.collect.telegram_live.tl import entity_name

    return entity_name(entity)


def _links(msg: Any) -> list[str]:
    """URLs in a message's text and hidden links (payment pages, channels, invites)."""
    text = getattr(msg, "message", "") or ""
    out = []
    data = text.encode("utf-16-le")
    for ent in getattr(msg, "entities", None) or []:
        if isinstance(ent, types.MessageEntityTextUrl):
            out.append(ent.url)
        elif isinstance(ent, types.MessageEntityUrl):
            piece = data[2 * ent.offset : 2 * (ent.offset + ent.length)].decode(
                "utf-16-le", "replace"
            )
            out.append(piece if "://" in piece else "https://" + piece)
    return out


def _root_sha(app: App, result: Any, name: str) -> str | None:
    from sqlalchemy import select

    from haechi.store.models import SourceFile as SourceFileRow

    if not result.reports:
        return None
    with app.db.connect() as conn:
        return conn.execute(
            select(SourceFileRow.blob_sha256).where(
                SourceFileRow.source_id == result.reports[0].source_id, SourceFileRow.path == name
            )
        ).scalar()
