"""Reaching a target: a public name, an invite (joining only when allowed), or a channel
this account has seen before, by its id (so a room that changes its name, or whose invite
expires, is still reached)."""

from __future__ import annotations

from typing import Any

from telethon import errors as tg
from telethon import utils
from telethon.tl import functions, types

from haechi.collect.telegram_live.errors import GONE, NEEDS_PERSON, TargetProblem
from haechi.collect.telegram_live.targets import TargetRef
from haechi.collect.telegram_live.tl import input_peer

_BY_NAME_GONE = (
    tg.UsernameNotOccupiedError,
    tg.UsernameInvalidError,
    tg.InviteHashExpiredError,
    tg.InviteHashInvalidError,
)


async def resolve_entity(
    client: Any,
    ref: TargetRef,
    *,
    join: bool,
    known: tuple[str, int, int | None] | None,
) -> tuple[Any, bool]:
    """(entity, joined now). ``known``: (peer kind, id, access hash) stored before."""
    joined = False
    try:
        if ref.kind == "username":
            entity = await client.get_entity(ref.value)
        elif ref.kind == "invite":
            entity, joined = await _invite(client, ref, join)
        else:
            if known is None:
                raise TargetProblem(
                    NEEDS_PERSON,
                    "unknown_channel",
                    f"haechi can open t.me/c/{ref.value} only once this account has seen the "
                    "channel: add it by its @name or an invite link instead.",
                )
            entity = await client.get_entity(input_peer(*known))
    except _BY_NAME_GONE:
        if known is None:
            raise
        # The name or invite no longer leads there; the room itself may still answer by id
        # (renamed, or a new invite was made). If it does not, that error says why.
        entity = await client.get_entity(input_peer(*known))
    if isinstance(entity, types.ChannelForbidden | types.ChatForbidden):
        raise TargetProblem(
            GONE,
            "forbidden",
            "The room is closed to this account now (banned, or made private); everything "
            "already stored is kept.",
        )
    if isinstance(entity, types.User) and not entity.bot:
        raise TargetProblem(
            NEEDS_PERSON,
            "person",
            "This name belongs to a person, not a room, channel or bot: haechi watch does not "
            "follow a person's private chat.",
        )
    if isinstance(entity, types.Channel) and entity.left and join:
        await client(functions.channels.JoinChannelRequest(utils.get_input_channel(entity)))
        joined = True
    return entity, joined


async def _invite(client: Any, ref: TargetRef, join: bool) -> tuple[Any, bool]:
    found = await client(functions.messages.CheckChatInviteRequest(ref.value))
    if isinstance(found, types.ChatInviteAlready | types.ChatInvitePeek):
        return found.chat, False
    if not join:
        title = getattr(found, "title", "") or ""
        raise TargetProblem(
            NEEDS_PERSON,
            "join_needed",
            f"The invite link opens a room this account is not in ({title[:80]!r}); add the "
            "target again with --join to let haechi join it (the join is recorded).",
        )
    try:
        updates = await client(functions.messages.ImportChatInviteRequest(ref.value))
    except tg.UserAlreadyParticipantError:
        again = await client(functions.messages.CheckChatInviteRequest(ref.value))
        return getattr(again, "chat", None), False
    chats = getattr(updates, "chats", None) or []
    if not chats:
        raise TargetProblem(
            NEEDS_PERSON,
            "join_failed",
            "Telegram accepted the invite but named no room; add it again.",
        )
    return chats[0], True
