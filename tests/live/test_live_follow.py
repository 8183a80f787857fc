"""Following in real time: new messages, edits kept beside the original, deletions and
vanished rooms recorded as "gone at T" with the evidence kept, successor rooms linked."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select, text
from telethon import errors
from telethon.tl import types
from tests.live.conftest import follow_until, settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.collect.telegram_live.targets import add_target
from haechi.run.verify import verify
from haechi.store.models import Chat, CustodyEvent, Message, MessageVersion
from haechi.store.tables.live import LiveGone, LiveTarget


def _count(app: App, sql: str, **params: object) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(text(sql), params).scalar_one())


def _state(app: App) -> str:
    with app.db.connect() as conn:
        return str(conn.execute(select(LiveTarget.state)).scalar_one())


def test_new_messages_edits_and_deletions_as_they_happen(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    client = FakeClient(world)
    w = watcher(app, client)
    total = len(room.messages)
    first_text = room.messages[3].message

    async def scenario() -> None:
        async def caught_up() -> bool:
            # Settled too: the first recheck re-reads the newest messages after the state turns
            # "following", and a deletion made before it reads them is found by it, not by
            # the update this test sends.
            return (
                _state(app) == "following"
                and _count(app, "SELECT count(*) FROM messages") == total
                and bool(w.runtimes)
                and all(rt.settled.is_set() for rt in w.runtimes.values())
            )

        task = asyncio.create_task(w.run())
        try:
            while not await caught_up():
                await asyncio.sleep(0.05)
            new = world.post(room, "fresh post from the room", photo=world.photo(seed=77))
            await client.push(world.new_update(new))
            await client.push(world.edit(room, 3, "the edited wording"))
            await client.push(world.delete(room, [4, 5]))
            for _ in range(400):
                done = (
                    _count(app, "SELECT count(*) FROM messages") == total + 1
                    and _count(app, "SELECT count(*) FROM message_versions") == 1
                    and _count(app, "SELECT count(*) FROM live_gone") == 2
                )
                if done:
                    break
                await asyncio.sleep(0.05)
        finally:
            w.stopping.set()
            await task

    asyncio.run(scenario())
    with app.db.connect() as conn:
        chat_id = conn.execute(
            select(Chat.id).where(Chat.key == f"channel:{room.entity.id}")
        ).scalar_one()
        fresh = conn.execute(
            select(Message).where(
                Message.chat_id == chat_id, Message.text == "fresh post from the room"
            )
        ).one()
        assert fresh.media_type is None and fresh.kind == "message"
        assert _count(app, "SELECT count(*) FROM media WHERE message_pk = :pk", pk=fresh.id) == 1
        # The edit: the original stays, the new version beside it, both in custody.
        original = conn.execute(
            select(Message).where(Message.chat_id == chat_id, Message.message_id == 3)
        ).one()
        assert original.text == first_text
        version = conn.execute(select(MessageVersion)).one()
        assert version.message_pk == original.id
        assert json.loads(version.raw)["message"] == "the edited wording"
        assert json.loads(version.raw)["edit_date"]
        assert version.source_id != original.source_id
        # Deleted at the source: recorded, and the evidence is still there.
        gone = conn.execute(select(LiveGone).order_by(LiveGone.message_id)).all()
        assert [g.message_id for g in gone] == [4, 5]
        assert all(g.reason == "deleted" and g.message_pk and g.custody_seq for g in gone)
        assert (
            conn.execute(
                select(func.count())
                .select_from(Message)
                .where(Message.chat_id == chat_id, Message.message_id.in_([4, 5]))
            ).scalar_one()
            == 2
        )
        event = json.loads(
            conn.execute(
                select(CustodyEvent.body).where(CustodyEvent.event_type == "live_gone")
            ).scalar_one()
        )
        assert event["subject"] == f"chat:{chat_id}"
        assert event["data"]["message_ids"] == [4, 5] and event["data"]["detected_by"] == "update"
        assert event["data"]["account_id"] == world.me.id
        target = conn.execute(select(LiveTarget)).one()
        assert target.gone_messages == 2 and target.versions_captured == 1
    checked = verify(app, record=False)
    assert checked.ok, checked.as_dict()


def test_view_counts_alone_are_not_an_edit_but_a_missed_edit_is_found_later(
    app: App, world: FakeWorld
) -> None:
    room = world.channel("News Room", "news_room")
    for i in range(5):
        world.post(room, f"post {i}")
    add_target(app, "@news_room")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    for msg in room.messages.values():  # the counters move; nobody edited anything
        msg.views = (msg.views or 0) + 1000
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    assert _count(app, "SELECT count(*) FROM message_versions") == 0
    world.edit(room, 2, "edited while haechi was stopped")  # no update reaches anyone
    world.delete(room, [4])
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    assert _count(app, "SELECT count(*) FROM message_versions") == 1
    with app.db.connect() as conn:
        gone = conn.execute(select(LiveGone)).one()
        assert gone.message_id == 4 and json.loads(gone.detail_json)["detected_by"] == "recheck"


def test_a_vanished_room_is_recorded_gone_and_its_announced_successor_linked(
    app: App, world: FakeWorld
) -> None:
    old = world.channel("Latte Club", "latte_club", megagroup=True)
    for i in range(6):
        world.post(old, f"latte art practice {i}")
    world.post(old, "대피방 여기로 이동 t.me/latte_club_two 백업방입니다")
    new = world.channel("Latte Club 2", "latte_club_two", megagroup=True)
    world.post(new, "welcome to the new room")
    add_target(app, "@latte_club")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    old.gone = errors.ChannelPrivateError(request=None)
    w = watcher(app, FakeClient(world), settings=settings(follow_successors=True))
    asyncio.run(w.run(once=True))
    with app.db.connect() as conn:
        target = conn.execute(select(LiveTarget).where(LiveTarget.ref == "@latte_club")).one()
        assert target.state == "gone"
        assert "private" in target.state_reason and "kept" in target.state_reason
        gone = conn.execute(select(LiveGone).where(LiveGone.message_id.is_(None))).one()
        assert gone.reason == "channel_private" and gone.chat_id == target.chat_id
        assert (
            conn.execute(
                select(func.count()).select_from(Message).where(Message.chat_id == target.chat_id)
            ).scalar_one()
            == 7
        )  # nothing removed
        # The successor, found by the graph's logic, is watched now (a public name).
        assert (
            conn.execute(
                select(LiveTarget.added_by).where(LiveTarget.ref == "@latte_club_two")
            ).scalar_one()
            == "haechi (successor of @latte_club)"
        )
    found = w.successors[target.id]
    assert found and found[0]["link"] == "t.me/latte_club_two"
    # A second pass records nothing twice.
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    assert _count(app, "SELECT count(*) FROM live_gone WHERE message_id IS NULL") == 1


def test_an_update_for_an_unwatched_room_is_ignored(app: App, world: FakeWorld, room: Room) -> None:
    other = world.channel("Other", "other_room")
    add_target(app, "@evidence_room")
    client = FakeClient(world)
    w = watcher(app, client)

    async def push() -> None:
        while _state(app) != "following":
            await asyncio.sleep(0.05)
        await client.push(world.new_update(world.post(other, "not watched")))
        await client.push(types.UpdateDeleteChannelMessages(other.entity.id, [1], 5, 1))

    asyncio.run(follow_until(w, lambda: True, during=push))
    assert _count(app, "SELECT count(*) FROM messages WHERE text = 'not watched'") == 0
    assert _count(app, "SELECT count(*) FROM live_gone") == 0


def test_a_deletion_in_a_bot_chat_is_matched_by_message_id(app: App, world: FakeWorld) -> None:
    bot = world.user("Helper", "helper_demo_bot", bot=True)
    chat = world.rooms[bot.id]
    for i in range(4):
        world.post(chat, f"bot says {i}", sender=bot)
    add_target(app, "@helper_demo_bot")
    client = FakeClient(world)
    w = watcher(app, client)

    async def delete() -> None:
        while _state(app) != "following":
            await asyncio.sleep(0.05)
        # UpdateDeleteMessages names no chat: only the ids, per account.
        await client.push(world.delete(chat, [2, 3]))

    gone = "SELECT count(*) FROM live_gone WHERE message_pk IS NOT NULL"
    asyncio.run(follow_until(w, lambda: _count(app, gone) == 2, during=delete))
    with app.db.connect() as conn:
        key = (
            conn.execute(select(Chat.key).join(LiveGone, LiveGone.chat_id == Chat.id))
            .scalars()
            .unique()
            .all()
        )
    assert key == [f"user:{bot.id}"]


def test_a_public_channel_not_joined_is_polled_for_new_messages(
    app: App, world: FakeWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    import haechi.collect.telegram_live.target_task as target_task

    monkeypatch.setattr(target_task, "UNJOINED_POLL_SECONDS", 0.1)
    channel = world.channel("Public News", "public_news_ch", left=True)
    world.post(channel, "first post")
    add_target(app, "@public_news_ch")
    w = watcher(app, FakeClient(world))

    async def post_without_update() -> None:
        while _state(app) != "following":
            await asyncio.sleep(0.05)
        world.post(channel, "posted later; Telegram pushes nothing to non-members")

    later = "SELECT count(*) FROM messages WHERE text LIKE 'posted later%'"
    asyncio.run(follow_until(w, lambda: _count(app, later) == 1, during=post_without_update))
    assert _count(app, "SELECT count(*) FROM custody_events WHERE event_type = 'live_joined'") == 0
