"""Telethon TL objects -> the records every collector produces (``ChatRecord``,
``MessageRecord``, ``FileRef``), spelled the way Telegram Desktop exports spell them, so that
a channel captured live and the same channel exported by hand are one chat, and search, the
text capability and the graph read both alike.

Only the normalised columns are derived here; the message itself is kept whole as the JSON
of its TL object (:mod:`haechi.collect.telegram_live.tl`).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telethon.tl import types

from haechi.collect.telegram_live.tl import entity_name, peer_of, peer_raw, utc_seconds
from haechi.domain import ChatRecord, FileRef, MediaStatus, MessageRecord, PeerKind, PeerRef

NameLookup = Callable[[str], str | None]  # "user:123" -> display name, if known

_ACTIONS = {
    "MessageActionChatCreate": "create_group",
    "MessageActionChatEditTitle": "edit_group_title",
    "MessageActionChatEditPhoto": "edit_group_photo",
    "MessageActionChatDeletePhoto": "delete_group_photo",
    "MessageActionChatAddUser": "invite_members",
    "MessageActionChatDeleteUser": "remove_members",
    "MessageActionChatJoinedByLink": "join_group_by_link",
    "MessageActionChatJoinedByRequest": "join_group_by_request",
    "MessageActionChannelCreate": "create_channel",
    "MessageActionChatMigrateTo": "migrate_to_supergroup",
    "MessageActionChannelMigrateFrom": "migrate_from_group",
    "MessageActionPinMessage": "pin_message",
    "MessageActionHistoryClear": "clear_history",
    "MessageActionGameScore": "score_in_game",
    "MessageActionPaymentSent": "send_payment",
    "MessageActionPhoneCall": "phone_call",
    "MessageActionScreenshotTaken": "take_screenshot",
    "MessageActionCustomAction": "custom_action",
    "MessageActionBotAllowed": "allow_sending_messages",
    "MessageActionContactSignUp": "joined_telegram",
    "MessageActionGroupCall": "group_call",
    "MessageActionInviteToGroupCall": "invite_to_group_call",
    "MessageActionSetMessagesTTL": "set_messages_ttl",
    "MessageActionGroupCallScheduled": "group_call_scheduling",
    "MessageActionSetChatTheme": "edit_chat_theme",
    "MessageActionTopicCreate": "topic_created",
    "MessageActionTopicEdit": "topic_edit",
}
_ENTITIES = {
    "MessageEntityMention": "mention",
    "MessageEntityHashtag": "hashtag",
    "MessageEntityBotCommand": "bot_command",
    "MessageEntityUrl": "link",
    "MessageEntityEmail": "email",
    "MessageEntityBold": "bold",
    "MessageEntityItalic": "italic",
    "MessageEntityCode": "code",
    "MessageEntityPre": "pre",
    "MessageEntityTextUrl": "text_link",
    "MessageEntityMentionName": "mention_name",
    "MessageEntityPhone": "phone",
    "MessageEntityCashtag": "cashtag",
    "MessageEntityUnderline": "underline",
    "MessageEntityStrike": "strikethrough",
    "MessageEntityBankCard": "bank_card",
    "MessageEntitySpoiler": "spoiler",
    "MessageEntityCustomEmoji": "custom_emoji",
    "MessageEntityBlockquote": "blockquote",
}
_MEDIA_TYPES = {  # media without a file: tdesktop's words where it has them
    "MessageMediaGeo": "location",
    "MessageMediaGeoLive": "live_location",
    "MessageMediaVenue": "venue",
    "MessageMediaContact": "contact",
    "MessageMediaPoll": "poll",
    "MessageMediaDice": "dice",
    "MessageMediaGame": "game",
    "MessageMediaInvoice": "invoice",
    "MessageMediaWebPage": "web_page",
    "MessageMediaStory": "story",
    "MessageMediaGiveaway": "giveaway",
    "MessageMediaPaidMedia": "paid_media",
    "MessageMediaUnsupported": "unsupported",
}


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class MediaPlan:
    """A file a message carries, to download: what it is and how big Telegram says it is."""

    role: str  # photo / file / action_photo
    kind: str  # one of settings.MEDIA_KINDS
    declared_size: int | None
    ref: FileRef  # filled in with the local path (or a status) by the downloader


# -- chats -------------------------------------------------------------------------------
def dialog_type(entity: Any) -> str:
    if isinstance(entity, types.Channel):
        public = "public" if getattr(entity, "username", None) else "private"
        return f"{public}_supergroup" if entity.megagroup else f"{public}_channel"
    if isinstance(entity, types.Chat | types.ChatForbidden):
        return "private_group"
    if isinstance(entity, types.User):
        return "bot_chat" if entity.bot else "personal_chat"
    return "unknown"


def chat_record(entity: Any) -> ChatRecord:
    found = peer_of(entity)
    if found is None:
        raise ValueError(f"not a chat: {type(entity).__name__}")
    kind, tg_id = found
    return ChatRecord(
        key=f"{kind}:{tg_id}",
        peer=PeerRef(PeerKind(kind), tg_id, peer_raw(entity)),
        dialog_type=dialog_type(entity),
        title=entity_name(entity),
        username=getattr(entity, "username", None),
    )


def chat_key_of(peer: Any) -> str | None:
    found = peer_of(peer)
    return f"{found[0]}:{found[1]}" if found else None


# -- text --------------------------------------------------------------------------------
def text_entities(text: str, entities: list[Any] | None) -> list[dict[str, Any]]:
    """TL entities (UTF-16 offsets) as Telegram Desktop's ``text_entities``: the whole text
    cut into plain and typed parts, in order. Nested entities keep the outermost."""
    if not text:
        return []
    if not entities:
        return [{"type": "plain", "text": text}]
    data = text.encode("utf-16-le")
    units = len(data) // 2

    def piece(lo: int, hi: int) -> str:
        return data[2 * lo : 2 * hi].decode("utf-16-le", errors="replace")

    out: list[dict[str, Any]] = []
    at = 0
    for ent in sorted(entities, key=lambda e: (e.offset, -e.length)):
        lo, hi = max(ent.offset, 0), min(ent.offset + ent.length, units)
        if lo < at or hi <= lo:
            continue  # nested in (or overlapping) the previous one, or empty
        if lo > at:
            out.append({"type": "plain", "text": piece(at, lo)})
        part: dict[str, Any] = {
            "type": _ENTITIES.get(type(ent).__name__, "unknown"),
            "text": piece(lo, hi),
        }
        if isinstance(ent, types.MessageEntityTextUrl):
            part["href"] = ent.url
        elif isinstance(ent, types.MessageEntityMentionName):
            part["user_id"] = ent.user_id
        elif isinstance(ent, types.MessageEntityPre) and ent.language:
            part["language"] = ent.language
        elif isinstance(ent, types.MessageEntityCustomEmoji):
            part["document_id"] = str(ent.document_id)
        out.append(part)
        at = hi
    if at < units:
        out.append({"type": "plain", "text": piece(at, units)})
    return out


# -- media -------------------------------------------------------------------------------
def _photo_size(photo: Any) -> tuple[int | None, int | None, int | None]:
    """(bytes, width, height) of the largest size of a Photo, as ``download_media`` takes."""
    best: tuple[int, int | None, int | None] | None = None
    for size in getattr(photo, "sizes", None) or []:
        if isinstance(size, types.PhotoSize):
            n = size.size
        elif isinstance(size, types.PhotoSizeProgressive):
            n = max(size.sizes) if size.sizes else 0
        elif isinstance(size, types.PhotoCachedSize):
            n = len(size.bytes)
        else:
            continue  # stripped thumbnails, paths: not the picture
        w, h = getattr(size, "w", None), getattr(size, "h", None)
        if best is None or (w or 0) * (h or 0) >= (best[1] or 0) * (best[2] or 0):
            best = (n, w, h)
    return best if best is not None else (None, None, None)


def _document_kind(
    doc: Any,
) -> tuple[str, str | None, str | None, int | None, int | None, int | None]:
    """(kind, tdesktop media_type, file name, width, height, duration) of a Document."""
    kind, mtype = "document", None
    name = w = h = duration = None
    for attr in doc.attributes or []:
        if isinstance(attr, types.DocumentAttributeFilename):
            name = attr.file_name
        elif isinstance(attr, types.DocumentAttributeVideo):
            kind, mtype = (
                ("video_message", "video_message")
                if attr.round_message
                else ("video", "video_file")
            )
            w, h, duration = attr.w, attr.h, int(attr.duration)
        elif isinstance(attr, types.DocumentAttributeAudio):
            kind, mtype = ("voice", "voice_message") if attr.voice else ("audio", "audio_file")
            duration = int(attr.duration)
        elif isinstance(attr, types.DocumentAttributeSticker):
            kind, mtype = "sticker", "sticker"
        elif isinstance(attr, types.DocumentAttributeImageSize):
            w, h = attr.w, attr.h
    if any(isinstance(a, types.DocumentAttributeAnimated) for a in doc.attributes or []):
        kind, mtype = "animation", "animation"
    return kind, mtype, name, w, h, duration


def media_plans(msg: Any, chat_key: str) -> tuple[str | None, list[MediaPlan]]:
    """(tdesktop media_type, files to fetch) of a message."""

    def path(role: str) -> str:
        # The capture path: names the chat, the message and the file's role in it.
        return f"telegram/{chat_key}/{msg.id}/{role}"

    if isinstance(msg, types.MessageService):
        action = msg.action
        if isinstance(action, types.MessageActionChatEditPhoto) and isinstance(
            action.photo, types.Photo
        ):
            size, w, h = _photo_size(action.photo)
            ref = FileRef(
                "action_photo",
                path("action_photo"),
                MediaStatus.UNAVAILABLE,
                declared_size=size,
                width=w,
                height=h,
                mime_type="image/jpeg",
            )
            return None, [MediaPlan("action_photo", "photo", size, ref)]
        return None, []
    media = getattr(msg, "media", None)
    if media is None:
        return None, []
    if isinstance(media, types.MessageMediaPhoto):
        if not isinstance(media.photo, types.Photo):
            return None, []  # expired self-destructing photo: nothing to fetch
        size, w, h = _photo_size(media.photo)
        ref = FileRef(
            "photo",
            path("photo"),
            MediaStatus.UNAVAILABLE,
            declared_size=size,
            width=w,
            height=h,
            mime_type="image/jpeg",
        )
        return None, [MediaPlan("photo", "photo", size, ref)]
    if isinstance(media, types.MessageMediaDocument):
        doc = media.document
        if not isinstance(doc, types.Document):
            return None, []
        kind, mtype, name, w, h, duration = _document_kind(doc)
        ref = FileRef(
            "file",
            path("file"),
            MediaStatus.UNAVAILABLE,
            media_type=mtype,
            mime_type=doc.mime_type,
            file_name=name,
            declared_size=doc.size,
            width=w,
            height=h,
            duration_seconds=duration,
        )
        return mtype, [MediaPlan("file", kind, doc.size, ref)]
    return _MEDIA_TYPES.get(type(media).__name__, _snake(type(media).__name__)), []


# -- messages ----------------------------------------------------------------------------
def _peer_ref(peer: Any) -> PeerRef | None:
    found = peer_of(peer)
    if found is None:
        return None
    return PeerRef(PeerKind(found[0]), found[1], f"{found[0]}{found[1]}")


def _forward(fwd: Any, names: NameLookup) -> tuple[str | None, str | None]:
    """(forwarded_from, saved_from) as names, like Desktop exports (the ids stay in raw)."""
    if fwd is None:
        return None, None
    origin = None
    if fwd.from_id is not None:
        found_from = peer_of(fwd.from_id)
        key = f"{found_from[0]}:{found_from[1]}" if found_from else None
        origin = (names(key) if key else None) or peer_raw(fwd.from_id)
    origin = fwd.from_name or origin
    saved = None
    if fwd.saved_from_peer is not None:
        found = peer_of(fwd.saved_from_peer)
        saved = (names(f"{found[0]}:{found[1]}") if found else None) or peer_raw(
            fwd.saved_from_peer
        )
    return origin, saved


def action_name(action: Any) -> str | None:
    if action is None:
        return None
    name = type(action).__name__
    return _ACTIONS.get(name) or _snake(name.removeprefix("MessageAction"))


def message_record(
    msg: Any, chat: ChatRecord, raw: str, raw_offset: int | None, names: NameLookup
) -> tuple[MessageRecord, list[MediaPlan]]:
    """The normalised record of a TL message (``raw`` is its JSON, as stored)."""
    service = isinstance(msg, types.MessageService)
    sender = _peer_ref(msg.from_id) if msg.from_id is not None else None
    if sender is None and getattr(msg, "post", False):
        sender = chat.peer  # a channel post is the channel's (as Desktop exports say)
    sender_name = names(sender.key) if sender is not None and sender.key else None
    if sender is chat.peer:
        sender_name = chat.title
    reply = msg.reply_to if isinstance(msg.reply_to, types.MessageReplyHeader) else None
    via = None
    if getattr(msg, "via_bot_id", None):
        name = names(f"username-of:{msg.via_bot_id}")
        via = f"@{name}" if name else None
    fwd, saved = _forward(getattr(msg, "fwd_from", None), names)
    media_type, plans = media_plans(msg, chat.key)
    text = "" if service else (msg.message or "")
    edited = getattr(msg, "edit_date", None)
    record = MessageRecord(
        message_id=int(msg.id),
        kind="service" if service else "message",
        date_unix=utc_seconds(msg.date),
        date_raw=msg.date.isoformat().replace("+00:00", "Z") if msg.date else None,
        edited_unix=utc_seconds(edited),
        edited_raw=edited.isoformat().replace("+00:00", "Z") if edited else None,
        sender=sender,
        sender_name=sender_name,
        author=getattr(msg, "post_author", None),
        forwarded_from=fwd,
        saved_from=saved,
        reply_to_message_id=reply.reply_to_msg_id if reply else None,
        reply_to_peer=peer_raw(reply.reply_to_peer_id)
        if reply and reply.reply_to_peer_id
        else None,
        via_bot=via,
        text=text,
        entities=text_entities(text, getattr(msg, "entities", None)),
        action=action_name(msg.action) if service else None,
        media_type=media_type,
        files=[p.ref for p in plans],
        raw=raw,
        raw_offset=raw_offset,
    )
    return record, plans


def buttons_of(msg: Any) -> list[dict[str, Any]]:
    """The inline (and reply) keyboard of a message: each button's kind, label and what it
    points at (URL, callback data as hex). Never pressed: read from the message only.

    Both TL shapes are read: ``KeyboardButtonUrl(text, url)`` (layers before 2xx) and
    ``KeyboardInlineButton(text, type=InlineButtonTypeUrl(url))`` (Telethon 1.45)."""
    markup = getattr(msg, "reply_markup", None)
    out: list[dict[str, Any]] = []
    for row in getattr(markup, "rows", None) or []:
        for button in getattr(row, "buttons", None) or []:
            inner = getattr(button, "type", None)
            inner = button if inner is None or isinstance(inner, str) else inner
            name = type(inner).__name__
            for prefix in ("InlineButtonType", "ButtonType", "KeyboardButton"):
                name = name.removeprefix(prefix)
            item: dict[str, Any] = {"kind": _snake(name) or "text", "text": button.text}
            url = getattr(inner, "url", None)
            if isinstance(url, str):
                item["url"] = url
            data = getattr(inner, "data", None)
            if isinstance(data, bytes):
                item["data_hex"] = data.hex()
            query = getattr(inner, "query", None)
            if isinstance(query, str):
                item["query"] = query
            out.append(item)
    return out
