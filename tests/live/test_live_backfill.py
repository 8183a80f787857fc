"""Back-fill through the ingest path: every message kind, files in the vault, each message
proven byte for byte by its segment, the source of every capture recorded."""

from __future__ import annotations

import asyncio
import json

from sqlalchemy import func, select, text
from tests.live.conftest import watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.collect.telegram_live.targets import add_target
from haechi.store import textsafe
from haechi.store.models import Blob, Chat, CustodyEvent, Media, Message, Source, SourceFile
from haechi.store.tables.live import LiveTarget


def test_backfill_stores_every_message_through_the_ingest_path(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "https://t.me/evidence_room")
    client = FakeClient(world)
    asyncio.run(watcher(app, client).run(once=True))
    expected = len(room.messages)
    with app.db.connect() as conn:
        chat = conn.execute(select(Chat).where(Chat.key == f"channel:{room.entity.id}")).one()
        assert chat.title == "Evidence Room" and chat.username == "evidence_room"
        assert chat.dialog_type == "public_supergroup"
        msgs = conn.execute(
            select(Message).where(Message.chat_id == chat.id).order_by(Message.message_id)
        ).all()
        assert [m.message_id for m in msgs] == sorted(room.messages)
        assert len(msgs) == expected
        by_id = {m.message_id: m for m in msgs}
        assert by_id[1].kind == "service" and by_id[1].action == "create_channel"
        reply = next(m for m in msgs if m.text == "a reply")
        assert reply.reply_to_message_id == 2
        fwd = next(m for m in msgs if m.text == "forwarded text")
        assert fwd.forwarded_from == "Origin News"  # the name, as Desktop exports write it
        via = next(m for m in msgs if m.text == "via a bot")
        assert via.via_bot == "@gif"
        assert msgs[3].sender_name == "Alice"
        buttons = next(m for m in msgs if m.text == "see the menu")
        raw = json.loads(buttons.raw)
        button = raw["reply_markup"]["rows"][0]["buttons"][0]
        assert button["type"]["url"] == "https://example.org/prices"
        assert raw["reactions"]["results"][0]["count"] == 3
        album = [m for m in msgs if json.loads(m.raw).get("grouped_id") == 99_000_111]
        assert len(album) == 3
        media = conn.execute(
            select(Media)
            .join(Message, Message.id == Media.message_pk)
            .where(Message.chat_id == chat.id)
        ).all()
        assert len(media) == 3 and all(m.status == "present" and m.blob_sha256 for m in media)
        assert all(m.role == "photo" and m.width == 96 for m in media)
        blobs = {m.blob_sha256 for m in media}
        assert (
            conn.execute(
                select(func.count()).select_from(Blob).where(Blob.sha256.in_(blobs))
            ).scalar_one()
            == 3
        )
        target = conn.execute(select(LiveTarget)).one()
        assert target.state == "following" and target.backfill_done
        assert target.last_message_id == max(room.messages)
        assert target.messages_captured == expected and target.files_captured == 3
        assert target.chat_id == chat.id and target.tg_id == room.entity.id
    for sha in blobs:  # the photos are the very bytes Telegram served
        assert app.vault.read_bytes(sha) in world.files.values()


def test_each_message_is_proven_by_its_segment_in_the_vault(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    with app.db.connect() as conn:
        rows = conn.execute(
            select(Message.raw, Message.raw_offset, SourceFile.blob_sha256, Source.kind)
            .join(Source, Source.id == Message.source_id)
            .join(
                SourceFile, (SourceFile.source_id == Source.id) & (SourceFile.role == "export_json")
            )
        ).all()
        assert len(rows) == len(room.messages)
        segments: dict[str, bytes] = {}
        for raw, offset, sha, kind in rows:
            assert kind == "telegram_live"
            data = segments.setdefault(sha, app.vault.read_bytes(sha))
            want = textsafe.raw_bytes(raw)
            assert data[offset : offset + len(want)] == want
        header = json.loads(next(iter(segments.values())).split(b"\n", 1)[0])
        assert header["format"] == "haechi-live-segment"
        assert header["account_id"] == world.me.id and header["session_id"]
        started = [
            json.loads(b)["data"]
            for b in conn.execute(
                select(CustodyEvent.body).where(CustodyEvent.event_type == "ingest_started")
            ).scalars()
        ]
        assert started and all(s["collector"] == "telegram_live" for s in started)
        details = started[-1]["details"]
        assert details["account_id"] == world.me.id
        assert details["account_username"] == "unit_watch"
        assert details["targets"] == ["@evidence_room"]
        captures = conn.execute(
            text("SELECT count(*) FROM custody_events WHERE event_type = 'capture'")
        ).scalar_one()
        assert captures >= len(segments) + 3  # every segment and every photo


def test_a_second_run_adds_nothing_and_a_new_message_is_read_after_the_last(
    app: App, world: FakeWorld, room: Room
) -> None:
    add_target(app, "@evidence_room")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    with app.db.connect() as conn:
        before = conn.execute(select(func.count()).select_from(Message)).scalar_one()
        sources = conn.execute(select(func.count()).select_from(Source)).scalar_one()
    client = FakeClient(world)
    asyncio.run(watcher(app, client).run(once=True))
    with app.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Message)).scalar_one() == before
        assert conn.execute(select(func.count()).select_from(Source)).scalar_one() == sources
        assert conn.execute(text("SELECT count(*) FROM message_versions")).scalar_one() == 0
    world.post(room, "posted while haechi was away")
    asyncio.run(watcher(app, FakeClient(world)).run(once=True))
    with app.db.connect() as conn:
        assert conn.execute(select(func.count()).select_from(Message)).scalar_one() == before + 1
        assert conn.execute(text("SELECT count(*) FROM message_versions")).scalar_one() == 0
