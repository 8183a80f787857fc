"""Telegram's errors, raised as its real error classes: each a sentence in the status and
the log, never a crash, nothing stored lost, the other targets unaffected."""

from __future__ import annotations

import asyncio
import random

import pytest
from sqlalchemy import select, text
from telethon import errors
from tests.live.conftest import follow_until, settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.collect.telegram_live.errors import ACCOUNT, GONE, NEEDS_PERSON, RETRY, WAIT, diagnose
from haechi.collect.telegram_live.pacing import backoff_delay, flood_delay
from haechi.collect.telegram_live.targets import add_target
from haechi.store.tables.live import LiveTarget


def _target(app: App, ref: str) -> LiveTarget:
    with app.db.connect() as conn:
        return conn.execute(select(LiveTarget).where(LiveTarget.ref == ref)).one()  # type: ignore[return-value]


def _messages(app: App) -> int:
    with app.db.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM messages")).scalar_one())


class Sleeps:
    def __init__(self) -> None:
        self.seen: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.seen.append(seconds)
        await asyncio.sleep(0)


def test_flood_wait_is_waited_out_and_capture_resumes(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    client = FakeClient(world)
    client.fail("get_messages", errors.FloodWaitError(request=None, capture=420))
    sleeps = Sleeps()
    asyncio.run(watcher(app, client, sleep=sleeps).run(once=True))
    assert any(420 <= s <= 425 for s in sleeps.seen), sleeps.seen  # what Telegram asked, + jitter
    assert _messages(app) == len(room.messages)
    row = _target(app, "@evidence_room")
    assert row.state == "following" and row.errors == 0


def test_network_drops_back_off_bounded_and_jittered(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    client = FakeClient(world)
    client.fail("get_messages", *[ConnectionError("reset by peer")] * 4)
    sleeps = Sleeps()
    asyncio.run(
        watcher(app, client, sleep=sleeps, settings=settings(backoff_max_seconds=3)).run(once=True)
    )
    backoffs = [s for s in sleeps.seen if s >= 0.4]
    assert len(backoffs) == 4 and max(backoffs) <= 3
    assert backoffs[0] < 1.01 and backoffs[2] >= 1.0  # 1, 2, 4 (capped at 3) s, x 0.5-1
    assert _messages(app) == len(room.messages)
    row = _target(app, "@evidence_room")
    assert row.errors == 4 and "connection to Telegram dropped" in (row.last_error or "")


def test_backoff_and_flood_delays_stay_in_their_bounds() -> None:
    rng = random.Random(1)
    for attempt in range(1, 40):
        d = backoff_delay(attempt, 300, rng)
        assert 0.5 * min(300, 2 ** (attempt - 1)) <= d <= min(300, 2 ** (attempt - 1))
    for seconds in (1, 30, 3600):
        assert seconds <= flood_delay(seconds, rng) <= seconds + 5


def test_an_expired_file_reference_is_refreshed(app: App, world: FakeWorld, room: Room) -> None:
    photo_ids = [m.media.photo.id for m in room.messages.values() if getattr(m, "media", None)]
    world.expired_refs.update(photo_ids)
    for m in room.messages.values():  # the server sends a fresh reference on a new read
        if getattr(m, "media", None):
            m.media.photo.file_reference = b"fresh"
    client = FakeClient(world)
    original = client.get_messages

    async def first_read_has_old_references(*args, **kwargs):  # type: ignore[no-untyped-def]
        page = await original(*args, **kwargs)
        if kwargs.get("ids") is None:
            for m in page:
                if getattr(m, "media", None):
                    m.media.photo.file_reference = b"ref-old"
        else:
            for m in page:
                if m is not None and getattr(m, "media", None):
                    m.media.photo.file_reference = b"fresh"
        return page

    client.get_messages = first_read_has_old_references  # type: ignore[method-assign]
    add_target(app, "@evidence_room")
    asyncio.run(watcher(app, client).run(once=True))
    with app.db.connect() as conn:
        statuses = conn.execute(text("SELECT status FROM media")).scalars().all()
    assert statuses == ["present"] * 3
    assert not world.expired_refs  # each raised FILE_REFERENCE_EXPIRED once


def test_files_over_the_limit_or_of_an_excluded_kind_are_recorded_not_fetched(
    app: App, world: FakeWorld
) -> None:
    room = world.channel("Files", "files_room")
    world.post(room, "big", document=world.document(b"x" * 3_000_000, "big.bin", "application/zip"))
    world.post(room, "picture", photo=world.photo(seed=4))
    add_target(app, "@files_room")
    client = FakeClient(world)
    s = settings(max_media_mb=1, media=("document",))
    asyncio.run(watcher(app, client, settings=s).run(once=True))
    with app.db.connect() as conn:
        rows = dict(conn.execute(text("SELECT role, status FROM media")).all())
    assert rows == {"file": "too_large", "photo": "not_included"}
    assert client.calls["download_media"] == 0


def test_a_renamed_room_is_followed_by_id_and_the_rename_recorded(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    del world.by_name["evidence_room"]
    room.entity.username = "evidence_room_2"
    world.by_name["evidence_room_2"] = room
    world.post(room, "after the rename")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    row = _target(app, "@evidence_room")
    assert row.state == "following" and row.username == "evidence_room_2"
    with app.db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM messages WHERE text = 'after the rename'")
            ).scalar_one()
            == 1
        )
        event = conn.execute(
            text("SELECT body FROM custody_events WHERE event_type = 'live_renamed'")
        ).scalar_one()
        assert '"username_before":"evidence_room"' in event
        names = conn.execute(text("SELECT username FROM live_names ORDER BY id")).scalars().all()
        assert names == ["evidence_room", "evidence_room_2"]


def test_an_invite_needs_join_and_joining_is_recorded(app: App, world: FakeWorld) -> None:
    private = world.channel("Private Room", None, megagroup=True)
    world.post(private, "inside the private room")
    world.invites["AbCdEfGh12"] = (private, False)
    add_target(app, "https://t.me/+AbCdEfGh12")
    client = FakeClient(world)
    asyncio.run(watcher(app, client).run(once=True))
    row = _target(app, "+AbCdEfGh12")
    assert row.state == "needs_person" and "--join" in (row.state_reason or "")
    assert _messages(app) == 0 and not any("Import" in type(r).__name__ for r in client.requests)
    assert add_target(app, "t.me/joinchat/AbCdEfGh12") == (row.id, False)  # the same invite
    assert not _target(app, "+AbCdEfGh12").join_allowed
    add_target(app, "https://t.me/+AbCdEfGh12", join=True)  # now joining is allowed
    assert _target(app, "+AbCdEfGh12").join_allowed
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    assert _messages(app) == 1
    with app.db.connect() as conn:
        assert (
            conn.execute(
                text("SELECT count(*) FROM custody_events WHERE event_type = 'live_joined'")
            ).scalar_one()
            == 1
        )
    world.invites.pop("AbCdEfGh12")  # the invite expires: the room is still reached by id
    world.post(private, "later")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    assert _messages(app) == 2


@pytest.mark.parametrize(
    ("exc", "state", "words"),
    [
        (errors.UsernameNotOccupiedError(request=None), "needs_person", "No Telegram account"),
        (errors.ChannelPrivateError(request=None), "gone", "private"),
        (errors.ChannelInvalidError(request=None), "gone", "no longer exists"),
        (errors.ChannelBannedError(request=None), "gone", "banned"),
    ],
)
def test_each_telegram_error_is_a_state_and_a_sentence(
    app: App, world: FakeWorld, room: Room, exc: Exception, state: str, words: str
) -> None:
    healthy = world.channel("Healthy", "healthy_room")
    world.post(healthy, "still captured")
    add_target(app, "@broken_room")
    add_target(app, "@healthy_room")
    world.by_name["broken_room"] = room
    client = FakeClient(world)
    original = client.get_entity

    async def get_entity(entity):  # type: ignore[no-untyped-def]
        if entity == "broken_room":
            raise exc
        return await original(entity)

    client.get_entity = get_entity  # type: ignore[method-assign]
    asyncio.run(watcher(app, client).run(once=True))
    row = _target(app, "@broken_room")
    assert row.state == state and words in (row.state_reason or ""), row.state_reason
    assert _target(app, "@healthy_room").state == "following"  # the others go on
    assert _messages(app) == 1


def test_a_person_is_not_a_target(app: App, world: FakeWorld) -> None:
    world.user("Someone", "some_person")
    add_target(app, "@some_person")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    row = _target(app, "@some_person")
    assert row.state == "needs_person" and "person" in (row.state_reason or "")


def test_a_logged_out_session_stops_the_service_with_a_sentence(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    client = FakeClient(world)
    client.fail("get_entity", errors.AuthKeyUnregisteredError(request=None))
    w = watcher(app, client)
    asyncio.run(w.run())  # not --once: it stops by itself
    assert w.failure and "haechi watch login" in w.failure
    with app.db.connect() as conn:
        note = conn.execute(text("SELECT note FROM live_service")).scalar_one()
    assert "logged out" in note


def test_diagnosis_covers_the_kinds_of_error() -> None:
    assert diagnose(errors.FloodWaitError(request=None, capture=30)).outcome == WAIT
    assert diagnose(errors.FloodWaitError(request=None, capture=30)).seconds == 30
    assert diagnose(errors.ChannelPrivateError(request=None)).outcome == GONE
    assert diagnose(errors.InviteHashExpiredError(request=None)).outcome == NEEDS_PERSON
    assert diagnose(errors.SessionRevokedError(request=None)).outcome == ACCOUNT
    assert diagnose(ConnectionResetError()).outcome == RETRY
    odd = diagnose(errors.RPCError(request=None, message="SOMETHING_NEW", code=400))
    assert odd.outcome == RETRY and "SOMETHING_NEW" in odd.sentence
    assert diagnose(ValueError("bug")).outcome == RETRY


def test_a_running_service_joins_once_an_investigator_allows_it(app: App, world: FakeWorld) -> None:
    private = world.channel("Private Room", None, megagroup=True)
    world.post(private, "inside the private room")
    world.invites["ZyXwVuTs98"] = (private, False)
    add_target(app, "t.me/+ZyXwVuTs98")
    w = watcher(app, FakeClient(world))

    async def allow() -> None:
        while _target(app, "+ZyXwVuTs98").state != "needs_person":
            await asyncio.sleep(0.05)
        add_target(app, "t.me/+ZyXwVuTs98", join=True)

    done = lambda: _target(app, "+ZyXwVuTs98").state == "following"  # noqa: E731
    asyncio.run(follow_until(w, done, during=allow))
    assert _messages(app) == 1
