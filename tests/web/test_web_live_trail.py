"""A live-captured message's custody trail includes its chat's events: the message deleted
at the source, the room gone; never another message's deletion, and never the message's
text for an auditor."""

from __future__ import annotations

import asyncio
import re

from sqlalchemy import select
from telethon import errors
from tests.live.conftest import ctx_for, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room
from tests.web.conftest import ROLE_USERS, client_of, log_in

from haechi.app import App
from haechi.auth.roles import Role
from haechi.collect.telegram_live import records
from haechi.collect.telegram_live.targets import add_target
from haechi.services import custody
from haechi.services.messages import detail
from haechi.store.models import Chat, Message


def _pk(app: App, chat_key: str, message_id: int) -> int:
    with app.db.connect() as conn:
        return int(
            conn.execute(
                select(Message.id)
                .join(Chat, Chat.id == Message.chat_id)
                .where(Chat.key == chat_key, Message.message_id == message_id)
            ).scalar_one()
        )


def _captured(app: App, username: str, posts: int, words: str) -> tuple[FakeWorld, Room, str]:
    """A room of ``posts`` messages, captured once by the watch service; its chat key."""
    world = FakeWorld()
    room = world.channel(username.replace("_", " ").title(), username, megagroup=True)
    for i in range(posts):
        world.post(room, f"{words} {i}")
    add_target(app, f"@{username}")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    return world, room, f"channel:{room.entity.id}"


def test_a_message_trail_shows_its_deletion_and_its_room_gone(staffed: App) -> None:
    app = staffed
    world, room, chat_key = _captured(app, "tea_room_trail", 6, "green tea tasting note")
    deleted, kept = _pk(app, chat_key, 4), _pk(app, chat_key, 2)
    world.delete(room, [4])  # while haechi was away: found by the re-read at start
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    room.gone = errors.ChannelPrivateError(request=None)  # then the whole room vanishes
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))

    def gone_events(pk: int) -> list[custody.CustodyView]:
        trail = detail(app, pk, with_custody=True).custody
        return [e for e in trail if e.event_type == "live_gone"]

    with app.db.connect() as conn:
        chat_id = conn.execute(select(Chat.id).where(Chat.key == chat_key)).scalar_one()
    on_deleted = gone_events(deleted)
    assert [e.summary["room"] for e in on_deleted] == [False, True]
    assert on_deleted[0].summary["detected_by"] == "recheck"
    assert all(e.subject == f"chat:{chat_id}" for e in on_deleted)
    # Another message of the room shows the room gone, not its neighbour's deletion.
    assert [e.summary["room"] for e in gone_events(kept)] == [True]
    # The auditor's trail of the message (the log, newest first) says the same.
    page = custody.log(app, message_pk=deleted)
    assert [e.summary["room"] for e in page.events if e.event_type == "live_gone"] == [True, False]
    assert [e.event_type for e in custody.log(app, message_pk=kept).events].count("live_gone") == 1

    with client_of(app) as web:
        log_in(web, ROLE_USERS[Role.AUDITOR])
        shown = web.get(f"/custody?message={deleted}", headers={"accept-language": "en"})
        assert shown.status_code == 200 and 'id="message-trail"' in shown.text
        assert shown.text.count('class="custody-live_gone"') == 2
        assert "green tea tasting note" not in shown.text  # events only, never the message
        api = web.get(f"/api/custody?message={deleted}").json()["events"]
        assert [e["event_type"] for e in api].count("live_gone") == 2
        assert "green tea" not in str(api)


def test_a_busy_rooms_deletions_do_not_crowd_a_message_trail(staffed: App) -> None:
    """Hundreds of the chat's events about other messages are skipped, and the paging of
    the auditor's message trail still reaches the message's own events."""
    app = staffed
    world, _room, chat_key = _captured(app, "busy_room_trail", 30, "busy post")
    first = _pk(app, chat_key, 1)
    ctx = ctx_for(world)
    for mid in range(2, 31):  # one event per deleted neighbour
        records.record_gone(app, ctx, target_id=1, chat_key=chat_key, message_ids=[mid],
                            reason="deleted", detected_by="update")  # fmt: skip
    trail = detail(app, first, with_custody=True).custody
    assert not [e for e in trail if e.event_type == "live_gone"]
    seen, before = [], None
    while True:
        page = custody.log(app, message_pk=first, before=before, limit=3)
        seen += page.events
        if page.older is None:
            break
        before = page.older
    assert [e.seq for e in seen] == sorted((e.seq for e in trail), reverse=True)
    assert re.fullmatch(r"source:\d+", seen[-1].subject or "")
