"""Operations: while one target keeps failing, the others go on being followed, and the
status (``haechi watch status`` and its JSON) shows for each target its last message, the
lag between a message and its capture, the error count and the last error as a sentence."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select, text
from tests.helpers import haechi
from tests.live.conftest import settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import App
from haechi.collect.telegram_live.targets import add_target
from haechi.store.tables.live import LiveTarget


def _row(app: App, ref: str) -> Any:
    with app.db.connect() as conn:
        return conn.execute(select(LiveTarget).where(LiveTarget.ref == ref)).one()


def _texts(app: App) -> list[str]:
    with app.db.connect() as conn:
        return [str(t) for t in conn.execute(text("SELECT text FROM messages")).scalars()]


def follow_with_a_failing_target(app: App) -> tuple[Room, int]:
    """Follow @healthy_room and @flaky_room; every attempt to reach the flaky room drops
    the connection. A message posted live in the healthy room is stored all the same.
    Returns the healthy room and the id of that message."""
    world = FakeWorld()
    healthy = world.channel("Healthy Room", "healthy_room", megagroup=True)
    flaky = world.channel("Flaky Room", "flaky_room", megagroup=True)
    for i in range(3):
        world.post(healthy, f"healthy history {i}")
        world.post(flaky, f"flaky history {i}")
    add_target(app, "@healthy_room")
    add_target(app, "@flaky_room")
    client = FakeClient(world)
    original = client.get_entity

    async def get_entity(entity: Any) -> Any:
        if client._room(entity) is flaky:
            raise ConnectionResetError("reset by peer")
        return await original(entity)

    client.get_entity = get_entity  # type: ignore[method-assign]

    async def short(seconds: float) -> None:  # back-off happens, briefly
        await asyncio.sleep(min(seconds, 0.02))

    w = watcher(app, client, settings(backoff_max_seconds=2), sleep=short)
    posted: list[int] = []

    async def until(condition: Callable[[], bool], task: asyncio.Task[None]) -> None:
        deadline = time.monotonic() + 120  # generous: a busy machine is slow, not wrong
        while not condition():
            assert not task.done(), task.result()
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)

    async def scenario() -> None:
        task = asyncio.create_task(w.run())
        try:
            await until(
                lambda: _row(app, "@healthy_room").state == "following" and len(_texts(app)) == 3,
                task,
            )
            msg = world.post(healthy, "posted while the other room fails", at=datetime.now(UTC))
            posted.append(int(msg.id))
            await client.push(world.new_update(msg))
            await until(
                lambda: (
                    "posted while the other room fails" in _texts(app)
                    and _row(app, "@flaky_room").errors >= 3
                ),
                task,
            )
        finally:
            w.stopping.set()
            await asyncio.wait_for(task, 30)

    asyncio.run(scenario())
    return healthy, posted[0]


def test_one_failing_target_does_not_stop_the_others_and_status_says_why(
    sqlite_app: App,
) -> None:
    app = sqlite_app
    healthy, posted = follow_with_a_failing_target(app)
    assert "posted while the other room fails" in _texts(app)
    assert not any("flaky history" in t for t in _texts(app))  # never reached
    good, bad = _row(app, "@healthy_room"), _row(app, "@flaky_room")
    assert good.errors == 0 and good.last_message_id == posted == max(healthy.messages)
    assert bad.errors >= 3 and "connection to Telegram dropped" in (bad.last_error or "")

    home = app.settings.home
    data = json.loads(haechi("watch", "status", "--json", home=home, check=True).stdout)
    by_ref = {t["ref"]: t for t in data["targets"]}
    ok, failing = by_ref["@healthy_room"], by_ref["@flaky_room"]
    assert ok["state"] == "following" and ok["last_message_id"] == posted
    assert ok["messages"] == 4 and ok["errors"] == 0 and ok["last_error"] is None
    # the lag: the live message was stored within seconds of being posted
    assert ok["lag_seconds"] == ok["last_capture_at"] - ok["last_message_at"]
    assert 0 <= ok["lag_seconds"] < 120
    assert failing["state"] == "waiting" and failing["errors"] == bad.errors
    assert "connection to Telegram dropped" in failing["last_error"]
    assert "next try in" in failing["reason"] and failing["messages"] == 0
    table = haechi("watch", "status", home=home, env={"COLUMNS": "220"}, check=True).stdout
    assert f"#{posted}" in table and "following" in table and "waiting" in table
    line = next(x for x in table.splitlines() if x.startswith("@flaky_room: "))
    assert "connection to Telegram dropped" in line and "next try in" in line
