"""Turn decoded tdesktop JSON into the shared records (``MessageRecord``, ``ChatRecord``, ...).

The field-level authority is ``/work/shared/specs/telegram-formats.md`` (sections 1a, 3) and
tdesktop's ``export_output_json.cpp``. Principles:

* Never guess. An id whose kind or shift cannot be derived keeps its ``raw`` value, gets
  ``id=None`` (or kind ``UNKNOWN``) and a warning. Evidence must not merge two accounts.
* Never lose anything. Every message keeps its verbatim JSON; keys we do not model are
  listed in ``unknown_keys`` and counted, never fatal.
* This runs once per message in a hot loop (>100k messages/s), so the common path avoids
  allocations: sender PeerRefs are cached, media keys are checked with one set test.
"""

from __future__ import annotations

import dataclasses
import re
from collections import Counter
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from haechi.collect.telegram_export.paths import media_status
from haechi.collect.telegram_export.warnlog import WarningLog
from haechi.domain import ChatRecord, FileRef, MediaStatus, MessageRecord, PeerKind, PeerRef
from haechi.store.textsafe import INT64_MAX, INT64_MIN, clean_json, fit, int32, int64, searchable

USER_SHIFT = 1 << 32  # tdesktop's export PeerId before v2.7.2: user = 2^32 + id
CHAT_SHIFT = 1 << 33  # basic group *and* channel = 2^33 + id
SHIFT_END = 1 << 34

# Every key tdesktop writes into a message object (export_output_json.cpp, up to v6.1).
# Service-action keys are included: they are modelled as "stay in raw", not unknown.
_KNOWN_KEY_TEXT = """
    id type date date_unixtime edited edited_unixtime from from_id author forwarded_from
    saved_from reply_to_message_id reply_to_peer_id via_bot text text_entities
    inline_bot_buttons reactions photo photo_file_size width height media_spoiler
    self_destruct_period_seconds file file_name file_size thumbnail thumbnail_file_size
    media_type sticker_emoji performer title mime_type duration_seconds contact_information
    contact_vcard contact_vcard_file_size location_information live_location_period_seconds
    place_name address game_title game_description game_link invoice_information poll todo_list
    giveaway_information giveaway_results paid_stars_amount actor actor_id action
    information_text members inviter message_id game_message_id score amount currency
    invoice_message_id recurring discard_reason is_active is_missed reason_app_id
    reason_app_name reason_domain values to to_id distance duration period schedule_date
    emoticon cost months days new_title new_icon_emoji_id button_id peer_id peers gift_code
    boost_peer_id unclaimed via_giveaway winners stars boosts peer_name charge_id amount_whole
    amount_nano boost_peer_name is_unclaimed giveaway_msg_id transaction_id gift_id is_limited
    is_anonymous gift_text messages_count stars_count price_stars is_broadcast_messages_allowed
    completed incompleted items rejected comment price_amount_whole price_amount_nano
    price_currency scheduled_date user_initiated day month year
"""
KNOWN_MESSAGE_KEYS = frozenset(_KNOWN_KEY_TEXT.split())
CHAT_KEYS = frozenset({"name", "type", "id", "messages"})

# Media keys with the key of their declared size (v5.11+); the role is the key itself.
_MEDIA = (
    ("photo", "photo_file_size"),
    ("file", "file_size"),
    ("thumbnail", "thumbnail_file_size"),
    ("contact_vcard", "contact_vcard_file_size"),
)
_MEDIA_KEYS = frozenset(key for key, _ in _MEDIA)
# A message with only these keys (most of them) skips most of the normalisation work.
_BASIC_KEYS = frozenset({
    "id", "type", "date", "date_unixtime", "from", "from_id", "text", "text_entities",
    "reply_to_message_id", "reactions", "inline_bot_buttons", "actor", "actor_id",
})  # fmt: skip
_RARE_KEYS = KNOWN_MESSAGE_KEYS - _BASIC_KEYS
_PREFIXED = re.compile(r"(user|chat|channel)([0-9]+)")
_PREFIX_KIND = {"user": PeerKind.USER, "chat": PeerKind.CHAT, "channel": PeerKind.CHANNEL}

_USER_DIALOGS = ("personal_chat", "bot_chat", "saved_messages", "replies", "verification_codes")
_CHANNEL_DIALOGS = ("private_supergroup", "public_supergroup", "private_channel", "public_channel")
DIALOG_KINDS: dict[str, PeerKind] = {
    **dict.fromkeys(_USER_DIALOGS, PeerKind.USER),
    "private_group": PeerKind.CHAT,
    **dict.fromkeys(_CHANNEL_DIALOGS, PeerKind.CHANNEL),
}

MODERN, OLD = "modern", "old"  # chat-id eras: bare ids (v2.7.2+) / shifted ids (before)
# Times a datetime can show (years 1-9999): a value outside would break every reader.
UNIX_MIN, UNIX_MAX = -62135596800, 253402300799
# VARCHAR sizes of the columns these values go to (PostgreSQL refuses longer values).
KIND_MAX, DATE_MAX, PEER_MAX, SHORT_MAX = 16, 40, 64, 32
NO_UTC = (
    "Messages give only a local time (no date_unixtime, before tdesktop v3.7.6): their UTC time "
    "is left empty. Ingest again with --assume-timezone ZONE (the IANA zone of the PC that "
    "made the export, e.g. Asia/Seoul) to fill it in; the local time is kept as written"
)


class UnindexableMessage(Exception):
    """A message whose id no database column can hold (beyond 64 bits): it stays, verbatim,
    only in the captured result.json."""


def era_clue(msg: dict[str, Any]) -> str | None:
    """What a message says about its export's id era (for chat ids >= 2^32)."""
    sender = msg.get("from_id", msg.get("actor_id"))
    if type(sender) is str or "date_unixtime" in msg or "text_entities" in msg:
        return MODERN
    if type(sender) is int:
        return OLD
    return None


def _unshift(value: int) -> tuple[str, int] | None:
    """Undo tdesktop's pre-v2.7.2 shift: ("user"|"chat_or_channel", bare id)."""
    if USER_SHIFT <= value < CHAT_SHIFT:
        return "user", value - USER_SHIFT
    if CHAT_SHIFT <= value < SHIFT_END:
        return "chat_or_channel", value - CHAT_SHIFT
    return None


class Normalizer:
    """Per-export normalisation state: settings, warnings, counters, referenced files."""

    def __init__(
        self, export_root: Path, *, zone: ZoneInfo | None, fallback_key_prefix: str
    ) -> None:
        self.root = export_root
        self.zone = zone
        self.fallback_key_prefix = fallback_key_prefix
        self.warnings = WarningLog()
        self.unknown_fields: Counter[str] = Counter()
        self.referenced: set[Path] = set()  # resolved paths of files messages point to
        self._peers: dict[Any, PeerRef | None] = {}
        self._chat_raw_id: Any = None
        self._chat_kind = PeerKind.UNKNOWN

    # -- chats ----------------------------------------------------------------------------
    def start_chat(self, header: dict[str, Any]) -> None:
        """Context for the chat's messages (sender ids equal to the chat id)."""
        self._peers = {}
        self._chat_raw_id = header.get("id")
        dialog = header.get("type")
        self._chat_kind = PeerKind.UNKNOWN
        if isinstance(dialog, str):  # a list here would not even be hashable
            self._chat_kind = DIALOG_KINDS.get(dialog, PeerKind.UNKNOWN)

    def chat(self, header: dict[str, Any], location: str, era: str | None) -> ChatRecord:
        dialog = header.get("type")
        where = location or "the export's root"
        if dialog is not None and not isinstance(dialog, str):
            self.warnings.add(f"chat-type:{location}", f"The chat at {where} has a non-text type.")
            dialog = None
        dialog = fit(searchable(dialog), SHORT_MAX)
        kind = DIALOG_KINDS.get(dialog, PeerKind.UNKNOWN) if dialog else PeerKind.UNKNOWN
        if dialog and kind is PeerKind.UNKNOWN:
            self.warnings.add(
                f"chat-type:{dialog}",
                f"Unknown chat type {_short(dialog)}: its peer kind is unknown.",
            )
        peer = self._chat_peer(header.get("id"), "id" in header, kind, where, era)
        name = header.get("name")
        extra = clean_json({k: v for k, v in header.items() if k not in CHAT_KEYS})
        for key in extra:
            self.unknown_fields[f"chat.{key}"] += 1
        peer_key = peer.key
        return ChatRecord(
            key=peer_key if peer_key is not None else f"{self.fallback_key_prefix}:{location}",
            peer=peer,
            dialog_type=dialog,
            title=searchable(name) if isinstance(name, str) else None,
            location=location,
            extra=extra,
        )

    def _chat_peer(
        self, value: Any, present: bool, kind: PeerKind, where: str, era: str | None
    ) -> PeerRef:
        def unknown(reason: str) -> PeerRef:
            self.warnings.add(f"chat-id:{where}", f"The chat at {where}: {reason}.")
            return PeerRef(kind, None, None if value is None else fit(searchable(str(value)), 64))

        if not present:
            return unknown("no id (an export older than tdesktop v1.4.8)")
        if type(value) is not int or value <= 0:
            return unknown(f"the id {_short(value)} is not a positive integer")
        if value > INT64_MAX:
            return unknown(f"the id {_short(value)} is beyond 64 bits")
        if kind is PeerKind.UNKNOWN:
            return unknown(f"id {value} kept unresolved because the chat type is unknown")
        if value < USER_SHIFT or era == MODERN:
            return PeerRef(kind, value, str(value))  # bare in every era below 2^32
        if era is None:
            return unknown(
                f"id {value} may be bare (v2.7.2+) or shifted (older); the messages do not say"
            )
        shifted = _unshift(value)
        expected = "user" if kind is PeerKind.USER else "chat_or_channel"
        if shifted is None or shifted[0] != expected:
            return unknown(f"id {value} does not fit tdesktop's id shift for a {kind.value}")
        return PeerRef(kind, shifted[1], str(value))

    # -- peers ----------------------------------------------------------------------------
    def peer(self, value: Any) -> PeerRef | None:
        """from_id / actor_id in all generations (cached: senders repeat)."""
        kind = type(value)
        if kind is not str and kind is not int:  # bool/float/list: never cached (True == 1)
            return self._peer(value)
        try:
            return self._peers[value]
        except KeyError:
            ref = self._peers[value] = self._peer(value)
            return ref

    def _peer(self, value: Any) -> PeerRef | None:
        if value is None:
            return None
        if type(value) is str:
            m = _PREFIXED.fullmatch(value)
            if m is None:
                return self._peer_unknown(value, "has an unknown form")
            bare = int(m.group(2))
            if bare > INT64_MAX:
                return self._peer_unknown(value, "is beyond 64 bits")
            return PeerRef(_PREFIX_KIND[m.group(1)], bare, value)
        if type(value) is not int or value < 0:
            return self._peer_unknown(value, "is not an id")
        if value < USER_SHIFT:  # v1.4.8-v2.3: the plain user id (shifted ids are >= 2^32)
            return PeerRef(PeerKind.USER, value, str(value))
        shifted = _unshift(value)
        if shifted is None:
            return self._peer_unknown(value, "is outside tdesktop's shifted id ranges")
        if shifted[0] == "user":
            return PeerRef(PeerKind.USER, shifted[1], str(value))
        if value == self._chat_raw_id and self._chat_kind in (PeerKind.CHAT, PeerKind.CHANNEL):
            return PeerRef(self._chat_kind, shifted[1], str(value))  # a post by the chat itself
        return self._peer_unknown(value, "may be a basic group or a channel (tdesktop v2.4-2.7.1)")

    def _peer_unknown(self, value: Any, why: str) -> PeerRef:
        self.warnings.add(f"peer:{why}", f"A sender id {why}; kept raw, e.g. {_short(value)}.")
        return PeerRef(PeerKind.UNKNOWN, None, fit(searchable(str(value)), PEER_MAX))

    # -- time -----------------------------------------------------------------------------
    def _unix(self, exact: Any, local: Any) -> int | None:
        if exact is not None:
            try:
                return self._in_range(int(exact), exact)
            except (TypeError, ValueError, OverflowError):
                self.warnings.add("unixtime", f"A unixtime value is not a number: {_short(exact)}.")
        if type(local) is not str:
            return None
        if self.zone is None:
            if exact is None:
                self.warnings.add("no-utc", NO_UTC)
            return None
        try:
            dt = datetime.fromisoformat(local)
        except ValueError:
            self.warnings.add("date-form", f"A date is not ISO 8601: {_short(local)}.")
            return None
        if dt.tzinfo is None:
            dt = dt.replace(tzinfo=self.zone)
            if dt.utcoffset() != dt.replace(fold=1).utcoffset():  # a DST change
                text = "A local time is ambiguous or skipped in the assumed time zone"
                self.warnings.add("date-dst", text + "; the earlier offset was used.")
        return self._in_range(int(dt.timestamp()), local)

    def _in_range(self, unix: int, value: Any) -> int | None:
        if UNIX_MIN <= unix <= UNIX_MAX:
            return unix
        self.warnings.add(
            "unix-range",
            f"A time {_short(value)} lies outside the years 1-9999; it is kept only in the "
            "raw JSON.",
        )
        return None

    def _dropped(self, name: str, value: Any) -> None:
        """An integer field no column can hold (beyond 64 bits, which orjson reads as a
        float, or not an integer at all): left empty, never rounded."""
        self.warnings.add(
            f"int:{name}",
            f"A message's {name} (read as {_short(value)}) is beyond what a database "
            "column holds, or not an integer: the column is left empty and the exact value "
            "is kept in the raw JSON.",
        )

    # -- messages -------------------------------------------------------------------------
    def message(self, m: dict[str, Any], raw: str, offset: int, repaired: int) -> MessageRecord:
        """Normalise one decoded message. Raises ValueError when it has no integer id and
        UnindexableMessage when its id is beyond 64 bits."""
        get = m.get
        mid = get("id")
        if mid.__class__ is not int or not INT64_MIN <= mid <= INT64_MAX:
            # orjson reads an integer beyond 64 bits as a float: never round it to an id
            if mid.__class__ is int or (mid.__class__ is float and abs(mid) >= 2.0**63):
                raise UnindexableMessage(_short(mid))
            raise ValueError(f"has no integer id ({_short(mid)})")
        kind = get("type")
        if kind.__class__ is not str:
            self.warnings.add("msg-type", f"A message has no text type: {_short(kind)}.")
            kind = "unknown"
        elif len(kind) > KIND_MAX:
            self.warnings.add("msg-type-long", f"A message type is too long: {_short(kind)}.")
            kind = fit(kind, KIND_MAX)
        unknown: tuple[str, ...] = ()
        basic = _BASIC_KEYS.issuperset(m)  # one set test decides most of the work below
        if not basic and not KNOWN_MESSAGE_KEYS.issuperset(m):
            unknown = tuple(sorted(k for k in m if k not in KNOWN_MESSAGE_KEYS))
            for key in unknown:
                self.unknown_fields[key] += 1
        date_raw = get("date")
        exact: Any = get("date_unixtime")
        date_unix: int | None
        try:
            unix = int(exact)
        except (TypeError, ValueError, OverflowError):  # absent before v3.7.6, or odd
            date_unix = self._unix(exact, date_raw)
        else:
            date_unix = unix if UNIX_MIN <= unix <= UNIX_MAX else self._in_range(unix, exact)
        if date_raw.__class__ is not str:
            date_raw = None
        elif len(date_raw) > DATE_MAX:
            date_raw = fit(date_raw, DATE_MAX)
        if kind == "service":
            sender_value = get("actor_id", get("from_id"))
            sender_name = get("actor", get("from"))
        else:
            sender_value = get("from_id")
            sender_name = get("from")
        sender = None
        if sender_value is not None:
            sender = self._peers.get(sender_value) if sender_value.__class__ is str else None
            if sender is None:
                sender = self.peer(sender_value)
        if sender_name.__class__ is not str:
            sender_name = None
        value = get("text", "")
        entities = get("text_entities")
        if value.__class__ is str:
            text = value
        else:
            try:  # an explicit loop: a comprehension costs a frame per message in 3.11
                parts = []
                for part in value:
                    parts.append(part if part.__class__ is str else part["text"])
                text = "".join(parts)
            except (TypeError, KeyError):
                text, derived = self._text_slow(value)
                entities = entities if entities.__class__ is list else derived
        if entities.__class__ is not list:
            entities = _derive_entities(value)
        reply = get("reply_to_message_id")
        if reply.__class__ is not int or not INT64_MIN <= reply <= INT64_MAX:
            if reply is not None:
                self._dropped("reply_to_message_id", reply)
            reply = None
        edited_unix = edited_raw = author = fwd = saved = peer_raw = via = action = mtype = None
        files: list[FileRef] = []
        if not basic and not _RARE_KEYS.isdisjoint(m):  # most messages are plain text
            edited_raw = get("edited")
            if edited_raw is not None or "edited_unixtime" in m:
                edited_unix, edited_raw = self._edited(get("edited_unixtime"), edited_raw)
            author = _str(get("author"))
            fwd = _str(get("forwarded_from"))
            saved = _str(get("saved_from"))
            peer_value = get("reply_to_peer_id")
            peer_raw = None if peer_value is None else fit(str(peer_value), PEER_MAX)
            via = fit(_str(get("via_bot")), PEER_MAX)
            action = fit(_str(get("action")), PEER_MAX)
            mtype = fit(_str(get("media_type")), SHORT_MAX)
            if not _MEDIA_KEYS.isdisjoint(m):
                files = self._files(m, kind == "service")
        # Positional arguments: several times cheaper than keywords for a 23-field class.
        return _new_record(
            mid, kind, date_unix, date_raw, edited_unix, edited_raw, sender, sender_name,
            author, fwd, saved, reply, peer_raw, via, text, entities, action, mtype, files,
            raw, offset, repaired, unknown,
        )  # fmt: skip

    def _edited(self, exact: Any, local: Any) -> tuple[int | None, str | None]:
        if exact is None and local.__class__ is str and local[:10] in ("1970-01-01", "1969-12-31"):
            return None, None  # before v2.1.9 unedited messages carried the epoch (local time)
        return self._unix(exact, local), fit(local, DATE_MAX) if local.__class__ is str else None

    def _text_slow(self, value: Any) -> tuple[str, list[dict[str, Any]]]:
        """Text of odd shapes (not str, parts without text), with warnings."""
        if value.__class__ is not list:
            if value is not None:
                self.warnings.add("text-type", f"A message text is not text: {_short(value)}.")
            return "", []
        parts: list[str] = []
        derived: list[dict[str, Any]] = []
        for part in value:
            if part.__class__ is str:
                parts.append(part)
                derived.append({"type": "plain", "text": part})
            elif part.__class__ is dict:
                piece = part.get("text")
                if piece.__class__ is not str:
                    self.warnings.add("entity-text", f"A text entity has no text: {_short(part)}.")
                    piece = ""
                parts.append(piece)
                derived.append(part)
            else:
                self.warnings.add("text-part", f"A text part is not text: {_short(part)}.")
        return "".join(parts), derived

    def _files(self, m: dict[str, Any], service: bool) -> list[FileRef]:
        files: list[FileRef] = []
        for key, size_key in _MEDIA:
            if key not in m:
                continue
            role = "action_photo" if service and key == "photo" else key
            ref = self._file(role, m[key], m.get(size_key))
            if key in ("photo", "file"):  # the message-level dimensions belong to the main media
                ref.width = self._number("width", m.get("width"), int32)
                ref.height = self._number("height", m.get("height"), int32)
            if key == "file":
                ref.media_type = fit(_str(m.get("media_type")), SHORT_MAX)
                ref.mime_type = fit(_str(m.get("mime_type")), 128)
                ref.file_name = _str(m.get("file_name"))
                ref.duration_seconds = self._number("duration", m.get("duration_seconds"), int32)
            files.append(ref)
        return files

    def _file(self, role: str, value: Any, size: Any) -> FileRef:
        if value.__class__ is not str:
            self.warnings.add(f"nopath:{role}", f"A {role} has no path: {_short(value)}.")
            note = f"the export gives no path ({_short(value)})"
            size = self._number("file size", size, int64)
            return FileRef(role, None, MediaStatus.MISSING, declared_size=size, note=note)
        status, local, reason = media_status(self.root, value)
        if local is not None:
            self.referenced.add(local)
        elif status is MediaStatus.PLACEHOLDER:
            self.warnings.add(f"placeholder:{value}", f"Unknown media placeholder {value!r}.")
        elif status is MediaStatus.REFUSED:
            self.warnings.add(f"refused:{value}", f"Refused media path {value!r}: {reason}.")
        elif status is MediaStatus.NOT_A_FILE:
            self.warnings.add(f"notfile:{value}", f"Media path {value!r} is not a regular file.")
        size = self._number("file size", size, int64)
        return FileRef(role, value, status, local, declared_size=size, note=reason)

    def _number(self, name: str, value: Any, column: Callable[[Any], int | None]) -> int | None:
        """An integer for a column of the given size; anything else is left empty (with a
        warning when it was a number: an integer too large, or one orjson made a float)."""
        number = column(value)
        if number is None and value is not None and type(value) in (int, float):
            self._dropped(name, value)
        return number


def _short(value: Any) -> str:
    """repr() for a warning, cut short: values come from an untrusted file."""
    text = repr(value)
    return text if len(text) <= 100 else text[:97] + "..."


def _str(value: Any) -> str | None:
    return value if type(value) is str else None


def _derive_entities(value: Any) -> list[dict[str, Any]]:
    """Entities before v4.1.2, like tdesktop's text_entities: one per part, "" included."""
    if value.__class__ is str:
        return [{"type": "plain", "text": value}] if value else []
    if value.__class__ is not list:
        return []
    out: list[dict[str, Any]] = []
    for part in value:
        if part.__class__ is str:
            out.append({"type": "plain", "text": part})
        elif part.__class__ is dict:
            out.append(part)
    return out


_RECORD_ORDER = (
    "message_id", "kind", "date_unix", "date_raw", "edited_unix", "edited_raw", "sender",
    "sender_name", "author", "forwarded_from", "saved_from", "reply_to_message_id",
    "reply_to_peer", "via_bot", "text", "entities", "action", "media_type", "files", "raw",
    "raw_offset", "repaired_escapes", "unknown_keys",
)  # fmt: skip
RECORD_POSITIONAL = (
    tuple(f.name for f in dataclasses.fields(MessageRecord))[: len(_RECORD_ORDER)] == _RECORD_ORDER
)


def _record_by_name(*args: Any) -> MessageRecord:
    """Fallback if someone reorders MessageRecord's fields: slower, still correct."""
    return MessageRecord(**dict(zip(_RECORD_ORDER, args, strict=True)))


_new_record: Any = MessageRecord if RECORD_POSITIONAL else _record_by_name
