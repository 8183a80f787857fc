"""Fixtures of the live-capture tests: a fake Telegram world with a room whose history has
every kind of message haechi must keep, and helpers to run the watch service on it."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from dataclasses import replace
from typing import Any

import pytest
from telethon.tl import types
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.collect.telegram_live.segment import CaptureContext
from haechi.collect.telegram_live.settings import LiveSettings
from haechi.collect.telegram_live.watcher import Watcher

FAST = LiveSettings(
    requests_per_second=30,
    flush_seconds=0.05,
    flush_messages=500,
    backoff_max_seconds=2,
    recheck_minutes=60,
    recheck_recent=50,
)


def ctx_for(world: FakeWorld) -> CaptureContext:
    return CaptureContext(world.me.id, world.me.username, "0123456789abcdef", "test-host")


def populate(world: FakeWorld, room: Room, *, messages: int = 12, photos: int = 3) -> None:
    """A room's history: text, replies, a forward, an album, photos, a service message,
    buttons, reactions, an inline bot."""
    alice = world.user("Alice", "alice_sends")
    gifbot = world.user("GIF", "gif", bot=True)
    source = world.channel("Origin News", "origin_news")
    world.service(room, types.MessageActionChannelCreate(title=room.entity.title))
    for i in range(messages):
        world.post(room, f"benign announcement number {i} latte art", sender=alice)
    world.post(room, "a reply", sender=alice, reply_to=2)
    world.post(
        room,
        "forwarded text",
        sender=alice,
        fwd=types.MessageFwdHeader(
            date=world.rooms[source.entity.id].entity.date,
            from_id=types.PeerChannel(source.entity.id),
            channel_post=7,
        ),
    )
    group = 99_000_111
    for j in range(photos):
        world.post(
            room,
            "album caption" if j == 0 else "",
            sender=alice,
            photo=world.photo(seed=j + 1),
            grouped_id=group,
        )
    world.post(
        room,
        "see the menu",
        sender=alice,
        buttons=types.ReplyInlineMarkup(
            rows=[
                types.KeyboardInlineButtonRow(
                    buttons=[
                        types.KeyboardInlineButton(
                            "Price list", types.InlineButtonTypeUrl("https://example.org/prices")
                        ),
                        types.KeyboardInlineButton(
                            "Buy", types.InlineButtonTypeCallback(data=b"buy:1")
                        ),
                    ]
                )
            ]
        ),
        reactions=types.MessageReactions(
            results=[types.ReactionCount(reaction=types.ReactionEmoji(emoticon="👍"), count=3)]
        ),
    )
    world.post(room, "via a bot", sender=alice, via_bot=gifbot)


@pytest.fixture
def world() -> FakeWorld:
    return FakeWorld()


@pytest.fixture
def room(world: FakeWorld) -> Room:
    r = world.channel("Evidence Room", "evidence_room", megagroup=True)
    populate(world, r)
    return r


def watcher(app: App, client: FakeClient, settings: LiveSettings = FAST, **kw: Any) -> Watcher:
    async def no_sleep(_seconds: float) -> None:
        await asyncio.sleep(0)

    kw.setdefault("sleep", no_sleep)
    kw.setdefault("analyze", False)
    kw.setdefault("poll_seconds", 0.05)
    return Watcher(app, client, ctx_for(client.world), settings, rng=random.Random(7), **kw)


async def follow_until(
    w: Watcher,
    condition: Callable[[], Awaitable[bool] | bool],
    timeout: float = 30.0,
    during: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Run the service until ``condition`` holds (checked every 50 ms), then stop it."""
    task = asyncio.create_task(w.run())
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        if during is not None:
            await during()
        while True:
            value = condition()
            if not isinstance(value, bool):
                value = await value
            if value:
                break
            if task.done():
                task.result()
                raise AssertionError("the service stopped before the condition held")
            assert loop.time() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        w.stopping.set()
        await asyncio.wait_for(task, 30)


def settings(**changes: Any) -> LiveSettings:
    return replace(FAST, **changes)
