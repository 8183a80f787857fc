"""A stand-in for Telegram at the Telethon client boundary (Telegram cannot be reached here).

``FakeClient`` has the methods of :class:`telethon.TelegramClient` haechi calls, with the
same signatures and semantics (``get_messages`` with ``min_id``/``reverse``/``ids``/
``add_offset``, ``download_media`` into a file object with a progress callback, raw requests
through ``__call__``, event handlers), and answers with Telethon's **real TL types** built as
the server sends them (``types.Message`` with ``PeerChannel``, ``MessageMediaPhoto`` +
``Photo`` + ``PhotoSize``/``PhotoSizeProgressive``, ``MessageFwdHeader``,
``MessageReplyHeader``, ``MessageService``, ``ReplyInlineMarkup``/``KeyboardButtonUrl``,
``MessageReactions``; updates ``UpdateNewChannelMessage``, ``UpdateEditChannelMessage``,
``UpdateDeleteChannelMessages``, ...). Errors are Telethon's real error classes, raised
where the server would raise them; ``fail`` queues them per method for a test.

Photo bytes are benign pictures drawn with Pillow (coloured shapes), different per photo.
"""

from __future__ import annotations

import asyncio
import copy
import io
import os
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image, ImageDraw
from telethon import errors, utils
from telethon._updates import EntityCache
from telethon.crypto import AuthKey
from telethon.helpers import TotalList
from telethon.sessions import StringSession
from telethon.tl import functions, types

BASE = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def benign_jpeg(seed: int, size: int = 96) -> bytes:
    """A small, unique, benign picture: coloured rectangles and ellipses."""
    rng = random.Random(seed)
    img = Image.new("RGB", (size, size), tuple(rng.randrange(256) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(6):
        x0, y0 = rng.randrange(size - 10), rng.randrange(size - 10)
        box = (x0, y0, x0 + rng.randrange(5, size - x0), y0 + rng.randrange(5, size - y0))
        colour = tuple(rng.randrange(256) for _ in range(3))
        (draw.ellipse if rng.random() < 0.5 else draw.rectangle)(box, fill=colour)
    out = io.BytesIO()
    img.save(out, "JPEG", quality=85)
    return out.getvalue()


@dataclass
class Room:
    """A channel or supergroup (``megagroup``) or a bot, and its history."""

    entity: Any
    messages: dict[int, Any] = field(default_factory=dict)
    next_id: int = 1
    pts: int = 1
    gone: BaseException | None = None  # raised when it is read (private, banned, deleted)

    @property
    def peer(self) -> Any:
        return utils.get_peer(self.entity)


class FakeWorld:
    """Telegram's side: rooms, users, files."""

    def __init__(self, me_id: int = 700_000_001) -> None:
        self.me = types.User(
            id=me_id,
            is_self=True,
            access_hash=11,
            first_name="Investigator",
            username="unit_watch",
            phone="821012345678",
        )
        self.rooms: dict[int, Room] = {}
        self.by_name: dict[str, Room] = {}
        self.invites: dict[str, tuple[Room, bool]] = {}  # hash -> (room, already a member)
        self.users: dict[int, Any] = {}
        self.files: dict[int, bytes] = {}  # photo/document id -> bytes
        self.expired_refs: set[int] = set()  # photo ids whose reference expired once
        self.bot_replies: dict[int, Callable[[str], list[dict[str, Any]]]] = {}
        self.full_users: dict[int, Any] = {}
        self._ids = 5000

    # -- building ---------------------------------------------------------------------------
    def _next(self) -> int:
        self._ids += 1
        return self._ids

    def channel(
        self,
        title: str,
        username: str | None = None,
        *,
        megagroup: bool = False,
        left: bool = False,
    ) -> Room:
        cid = 1_800_000_000 + len(self.rooms) + 1
        entity = types.Channel(
            id=cid,
            title=title,
            photo=types.ChatPhotoEmpty(),
            date=BASE,
            access_hash=cid * 7,
            username=username,
            broadcast=not megagroup,
            megagroup=megagroup,
            left=left,
        )
        room = Room(entity)
        self.rooms[cid] = room
        if username:
            self.by_name[username.lower()] = room
        return room

    def user(self, first_name: str, username: str | None = None, *, bot: bool = False) -> Any:
        uid = 600_000_000 + len(self.users) + 1
        user = types.User(
            id=uid,
            access_hash=uid * 3,
            first_name=first_name,
            username=username,
            bot=bot,
            bot_info_version=1 if bot else None,
        )
        self.users[uid] = user
        if bot:
            room = Room(user)
            self.rooms[uid] = room
            if username:
                self.by_name[username.lower()] = room
        elif username:
            self.by_name[username.lower()] = Room(user)
        return user

    def photo(self, seed: int) -> Any:
        pid = self._next()
        data = benign_jpeg(seed)
        self.files[pid] = data
        return types.Photo(
            id=pid,
            access_hash=pid * 5,
            file_reference=b"ref-" + str(pid).encode(),
            date=BASE,
            dc_id=2,
            sizes=[
                types.PhotoStrippedSize(type="i", bytes=b"\x01\x28\x28"),
                types.PhotoSize(type="m", w=48, h=48, size=len(data) // 2),
                types.PhotoSizeProgressive(type="y", w=96, h=96, sizes=[len(data) // 3, len(data)]),
            ],
        )

    def document(self, data: bytes, name: str, mime: str, attrs: list[Any] | None = None) -> Any:
        did = self._next()
        self.files[did] = data
        return types.Document(
            id=did,
            access_hash=did * 5,
            file_reference=b"ref-" + str(did).encode(),
            date=BASE,
            mime_type=mime,
            size=len(data),
            dc_id=2,
            attributes=[types.DocumentAttributeFilename(name), *(attrs or [])],
        )

    def post(
        self,
        room: Room,
        text: str = "",
        *,
        sender: Any = None,
        photo: Any = None,
        document: Any = None,
        reply_to: int | None = None,
        fwd: Any = None,
        grouped_id: int | None = None,
        buttons: Any = None,
        via_bot: Any = None,
        reactions: Any = None,
        entities: list[Any] | None = None,
        out: bool = False,
        at: datetime | None = None,
    ) -> Any:
        mid = room.next_id
        room.next_id += 1
        media = None
        if photo is not None:
            media = types.MessageMediaPhoto(photo=photo)
        elif document is not None:
            media = types.MessageMediaDocument(document=document)
        channel = isinstance(room.entity, types.Channel)
        broadcast = channel and room.entity.broadcast
        from_id = None
        if sender is not None:
            from_id = utils.get_peer(sender)
        elif out:
            from_id = types.PeerUser(self.me.id)
        peer = room.peer if channel else types.PeerUser(room.entity.id)
        msg = types.Message(
            id=mid,
            peer_id=peer,
            date=at or BASE + timedelta(minutes=mid),
            message=text,
            out=out,
            post=broadcast or None,
            from_id=from_id,
            fwd_from=fwd,
            via_bot_id=via_bot.id if via_bot is not None else None,
            reply_to=types.MessageReplyHeader(reply_to_msg_id=reply_to) if reply_to else None,
            media=media,
            reply_markup=buttons,
            entities=entities or None,
            views=10 * mid if broadcast else None,
            forwards=mid % 3 if broadcast else None,
            grouped_id=grouped_id,
            reactions=reactions,
        )
        room.messages[mid] = msg
        room.pts += 1
        return msg

    def service(self, room: Room, action: Any, *, sender: Any = None) -> Any:
        mid = room.next_id
        room.next_id += 1
        msg = types.MessageService(
            id=mid,
            peer_id=room.peer,
            date=BASE + timedelta(minutes=mid),
            from_id=utils.get_peer(sender) if sender else None,
            action=action,
            post=room.entity.broadcast or None,
        )
        room.messages[mid] = msg
        return msg

    def edit(self, room: Room, mid: int, text: str) -> Any:
        old = room.messages[mid]
        new = copy.copy(old)
        new.message = text
        new.edit_date = old.date + timedelta(minutes=5)
        room.messages[mid] = new
        room.pts += 1
        if isinstance(room.entity, types.Channel):
            return types.UpdateEditChannelMessage(message=new, pts=room.pts, pts_count=1)
        return types.UpdateEditMessage(message=new, pts=room.pts, pts_count=1)

    def delete(self, room: Room, ids: list[int]) -> Any:
        for mid in ids:
            room.messages.pop(mid, None)
        room.pts += len(ids)
        if isinstance(room.entity, types.Channel):
            return types.UpdateDeleteChannelMessages(
                channel_id=room.entity.id, messages=ids, pts=room.pts, pts_count=len(ids)
            )
        return types.UpdateDeleteMessages(messages=ids, pts=room.pts, pts_count=len(ids))

    def new_update(self, msg: Any) -> Any:
        if isinstance(msg.peer_id, types.PeerChannel):
            return types.UpdateNewChannelMessage(message=msg, pts=1, pts_count=1)
        return types.UpdateNewMessage(message=msg, pts=1, pts_count=1)

    def entities(self) -> dict[int, Any]:
        found = {utils.get_peer_id(r.entity): r.entity for r in self.rooms.values()}
        found.update({utils.get_peer_id(u): u for u in self.users.values()})
        found[utils.get_peer_id(self.me)] = self.me
        return found


class FakeClient:
    """The TelegramClient methods haechi uses, over a :class:`FakeWorld`."""

    def __init__(
        self,
        world: FakeWorld,
        *,
        authorized: bool = True,
        password: str | None = None,
        code: str = "12345",
    ) -> None:
        self.world = world
        self._self_id = world.me.id
        self._mb_entity_cache = EntityCache()  # what Telethon's message helpers read
        self.session = StringSession()
        if authorized:
            self._authorize()
        self.password, self.code = password, code
        self.handlers: list[tuple[Callable[[Any], Any], Any]] = []
        self.failures: dict[str, list[BaseException]] = defaultdict(list)
        self.calls: dict[str, int] = defaultdict(int)
        self.sent: list[tuple[Any, Any, dict[str, Any]]] = []  # (entity, text, kwargs)
        self.requests: list[Any] = []
        self.connected = False
        self.logged_out = False

    def _authorize(self) -> None:
        self.session.set_dc(2, "149.154.167.51", 443)
        self.session.auth_key = AuthKey(os.urandom(256))

    def fail(self, method: str, *exc: BaseException) -> None:
        """Raise these, in order, at the next calls of ``method``."""
        self.failures[method].extend(exc)

    def _maybe_fail(self, method: str) -> None:
        self.calls[method] += 1
        if self.failures[method]:
            raise self.failures[method].pop(0)

    # -- connection and login ---------------------------------------------------------------
    async def connect(self) -> None:
        self._maybe_fail("connect")
        self.connected = True

    def disconnect(self) -> None:
        self.connected = False

    async def is_user_authorized(self) -> bool:
        return self.session.auth_key is not None

    async def send_code_request(self, phone: str) -> Any:
        self._maybe_fail("send_code_request")
        return types.auth.SentCode(
            type=types.auth.SentCodeTypeApp(length=5), phone_code_hash="f00dfeed"
        )

    async def sign_in(
        self,
        phone: str | None = None,
        code: Any = None,
        *,
        password: str | None = None,
        phone_code_hash: str | None = None,
    ) -> Any:
        self._maybe_fail("sign_in")
        if password is not None:
            if password != self.password:
                raise errors.PasswordHashInvalidError(request=None)
            self._authorize()
            return self.world.me
        if str(code) != self.code:
            raise errors.PhoneCodeInvalidError(request=None)
        if self.password is not None:
            raise errors.SessionPasswordNeededError(request=None)
        self._authorize()
        return self.world.me

    async def get_me(self, input_peer: bool = False) -> Any:
        self._maybe_fail("get_me")
        return self.world.me if self.session.auth_key is not None else None

    async def log_out(self) -> bool:
        self.logged_out = True
        self.session.auth_key = None
        return True

    # -- entities ---------------------------------------------------------------------------
    def _room(self, entity: Any) -> Room:
        if isinstance(entity, str):
            room = self.world.by_name.get(entity.lower().lstrip("@"))
            if room is None:
                raise errors.UsernameNotOccupiedError(request=None)
            return room
        kind_id = utils.get_peer_id(entity)
        for room in self.world.rooms.values():
            if utils.get_peer_id(room.entity) == kind_id:
                return room
        raise errors.ChannelInvalidError(request=None)

    def _check(self, room: Room) -> None:
        if room.gone is not None:
            raise room.gone

    async def get_entity(self, entity: Any) -> Any:
        self._maybe_fail("get_entity")
        room = self._room(entity)
        self._check(room)
        return room.entity

    # -- messages ---------------------------------------------------------------------------
    async def get_messages(
        self,
        entity: Any,
        limit: int | None = None,
        *,
        min_id: int = 0,
        max_id: int = 0,
        offset_id: int = 0,
        add_offset: int = 0,
        reverse: bool = False,
        ids: Any = None,
        **_: Any,
    ) -> Any:
        self._maybe_fail("get_messages")
        room = self._room(entity)
        self._check(room)
        if ids is not None:
            wanted = ids if isinstance(ids, list) else [ids]
            found = [room.messages.get(i) for i in wanted]
            self._finish([m for m in found if m is not None], room)
            return TotalList(found) if isinstance(ids, list) else found[0]
        history = sorted(room.messages)
        if min_id:
            history = [i for i in history if i > min_id]
        if max_id:
            history = [i for i in history if i < max_id]
        if not reverse:
            history.reverse()
            history = history[add_offset:]
        page = [room.messages[i] for i in history[: (limit if limit is not None else 1)]]
        self._finish(page, room)
        out = TotalList(page)
        out.total = len(room.messages)
        return out

    def _finish(self, messages: list[Any], room: Room) -> None:
        # What Telethon's iterator does with the page's users and chats.
        entities = self.world.entities()
        for m in messages:
            m._finish_init(self, entities, utils.get_input_peer(room.entity))

    async def download_media(
        self, message: Any, file: Any = None, *, thumb: Any = None, progress_callback: Any = None
    ) -> Any:
        self._maybe_fail("download_media")
        media = message.media if isinstance(message, types.Message) else None
        if isinstance(message, types.MessageService):
            media = message.action
        obj = getattr(media, "photo", None) or getattr(media, "document", None)
        if obj is None:
            return None
        if obj.id in self.world.expired_refs and obj.file_reference.startswith(b"ref-"):
            self.world.expired_refs.discard(obj.id)
            raise errors.FileReferenceExpiredError(request=None)
        data = self.world.files[obj.id]
        for start in range(0, len(data), 64 * 1024):
            chunk = data[start : start + 64 * 1024]
            file.write(chunk)
            if progress_callback is not None:
                progress_callback(start + len(chunk), len(data))
            await asyncio.sleep(0)
        return file

    async def send_message(self, entity: Any, message: Any = "", **kwargs: Any) -> Any:
        self._maybe_fail("send_message")
        self.sent.append((entity, message, kwargs))
        room = self._room(entity)
        msg = self.world.post(room, message, out=True)
        answer = self.world.bot_replies.get(room.entity.id)
        if answer is not None:
            for reply in answer(message):
                self.world.post(room, **reply)
        return msg

    async def __call__(self, request: Any, ordered: bool = False) -> Any:
        self._maybe_fail(type(request).__name__)
        self.requests.append(request)
        if isinstance(request, functions.messages.CheckChatInviteRequest):
            found = self.world.invites.get(request.hash)
            if found is None:
                raise errors.InviteHashExpiredError(request=request)
            room, member = found
            if member:
                return types.ChatInviteAlready(chat=room.entity)
            return types.ChatInvite(
                title=room.entity.title,
                photo=types.PhotoEmpty(id=0),
                participants_count=40,
                color=5,
                megagroup=True,
                channel=True,
            )
        if isinstance(request, functions.messages.ImportChatInviteRequest):
            room, _member = self.world.invites[request.hash]
            self.world.invites[request.hash] = (room, True)
            return types.Updates(updates=[], users=[], chats=[room.entity], date=BASE, seq=0)
        if isinstance(request, functions.channels.JoinChannelRequest):
            room = self._room(request.channel)
            room.entity.left = False
            return types.Updates(updates=[], users=[], chats=[room.entity], date=BASE, seq=0)
        if isinstance(request, functions.users.GetFullUserRequest):
            user = self._room(request.id).entity
            return self.world.full_users[user.id]
        raise NotImplementedError(type(request).__name__)

    # -- updates ----------------------------------------------------------------------------
    def add_event_handler(self, callback: Callable[[Any], Any], event: Any = None) -> None:
        self.handlers.append((callback, event))

    def remove_event_handler(self, callback: Callable[[Any], Any], event: Any = None) -> int:
        before = len(self.handlers)
        self.handlers = [h for h in self.handlers if h[0] is not callback]
        return before - len(self.handlers)

    async def push(self, update: Any) -> None:
        """Deliver an update as Telethon does to an ``events.Raw`` handler."""
        for callback, _event in list(self.handlers):
            await callback(update)


def bot_full(bot: Any, *, about: str, description: str, commands: list[tuple[str, str]]) -> Any:
    """``users.UserFull`` of a bot, as GetFullUserRequest answers."""
    full = types.UserFull(
        id=bot.id,
        settings=types.PeerSettings(),
        notify_settings=types.PeerNotifySettings(),
        common_chats_count=0,
        about=about,
        bot_info=types.BotInfo(
            user_id=bot.id,
            description=description,
            commands=[types.BotCommand(c, d) for c, d in commands],
        ),
    )
    return types.users.UserFull(full_user=full, chats=[], users=[bot])
