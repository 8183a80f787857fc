"""Rate and scope limits are settings (``[live]`` in haechi.toml): how many targets a data
directory watches, how much history a first back-fill reads, and how fast the account asks
Telegram; a value out of range is one sentence, never a traceback."""

from __future__ import annotations

import asyncio
import itertools
import time
from pathlib import Path
from typing import Any

from sqlalchemy import text
from tests.helpers import haechi, haechi_here
from tests.live.conftest import settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld

from haechi.app import App, init_home
from haechi.collect.telegram_live.pacing import Pacer
from haechi.collect.telegram_live.settings import parse_live_settings
from haechi.collect.telegram_live.targets import add_target


def _with_live(home: Path, lines: str) -> None:
    config = home / "haechi.toml"
    config.write_text(config.read_text(encoding="utf-8") + f"\n[live]\n{lines}\n", "utf-8")


def test_max_targets_from_the_settings_file_bounds_the_scope(tmp_path: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    _with_live(home, "max_targets = 2")
    haechi("watch", "add", "@first_room", home=home, check=True)
    haechi("watch", "add", "@second_room", home=home, check=True)
    again = haechi("watch", "add", "@first_room", home=home)  # one already watched: no new one
    assert again.returncode == 0 and "already watched" in again.stdout
    third = haechi("watch", "add", "@third_room", home=home)
    assert third.returncode != 0 and "Traceback" not in third.stderr
    assert "already watches 2 targets, the limit set by live.max_targets" in third.stderr


def test_a_setting_out_of_range_is_one_sentence(tmp_path: Path) -> None:
    home = tmp_path / "home"
    haechi_here("init", str(home), check=True)  # set-up: in this process
    _with_live(home, "requests_per_second = 500")
    proc = haechi("watch", "add", "@first_room", home=home)
    assert proc.returncode != 0 and "Traceback" not in proc.stderr
    assert "live.requests_per_second must be between 0.05 and 30" in proc.stderr
    _with_live_replaced(home, 'media = ["photo", "malware"]')
    proc = haechi("watch", "add", "@first_room", home=home)
    assert proc.returncode != 0 and "unknown kinds ['malware']" in proc.stderr


def _with_live_replaced(home: Path, lines: str) -> None:
    config = home / "haechi.toml"
    before = config.read_text(encoding="utf-8").split("\n[live]\n")[0]
    config.write_text(before + f"\n[live]\n{lines}\n", "utf-8")


def test_backfill_limit_reads_only_the_newest_history_then_everything_new(tmp_path: Path) -> None:
    home = tmp_path / "home"
    init_home(home).close()
    _with_live(home, "backfill_limit = 5\nrequests_per_second = 30\nflush_seconds = 0.05")
    app = init_home(home)  # reads the settings file again
    try:
        from_file = parse_live_settings(app.settings.live)
        assert from_file.backfill_limit == 5
        world = FakeWorld()
        room = world.channel("Long Room", "long_room")
        for i in range(30):
            world.post(room, f"old post {i}")
        add_target(app, "@long_room")
        asyncio.run(watcher(app, FakeClient(world), from_file).run(once=True))
        assert _ids(app) == list(range(26, 31))  # the newest five of 1..30
        world.post(room, "new after the back-fill")
        asyncio.run(watcher(app, FakeClient(world), from_file).run(once=True))
        assert _ids(app) == list(range(26, 32))  # later messages are all read
    finally:
        app.close()


def _ids(app: App) -> list[int]:
    with app.db.connect() as conn:
        return [
            int(i)
            for i in conn.execute(text("SELECT message_id FROM messages ORDER BY message_id"))
            .scalars()
            .all()
        ]


def test_the_pace_holds_for_the_whole_account() -> None:
    """A virtual clock: ten requests at 2 per second take 4.5 s, whichever target asks; a
    flood wait pauses everyone for what Telegram asked."""
    now = [100.0]

    async def sleep(seconds: float) -> None:
        now[0] += seconds

    async def scenario() -> list[float]:
        pacer = Pacer(2.0, sleep=sleep, clock=lambda: now[0])
        seen = []
        for _ in range(10):
            await pacer.wait()
            seen.append(now[0])
        pacer.pause(30)
        await pacer.wait()
        seen.append(now[0])
        return seen

    seen = asyncio.run(scenario())
    assert seen[0] == 100.0 and seen[9] == 104.5
    assert all(abs(b - a - 0.5) < 1e-9 for a, b in itertools.pairwise(seen[:10]))
    assert seen[10] >= 104.5 + 30


def test_the_service_asks_telegram_no_faster_than_requests_per_second(
    sqlite_app: App,
) -> None:
    """The real clock and real sleeps: three rooms read at 10 requests a second."""
    world = FakeWorld()
    for k in range(3):
        room = world.channel(f"Paced {k}", f"paced_room_{k}")
        for i in range(4):
            world.post(
                room, f"paced post {i}", photo=world.photo(seed=k * 10 + i) if i == 0 else None
            )
        add_target(sqlite_app, f"@paced_room_{k}")
    client = FakeClient(world)
    stamps: list[float] = []

    def timed(name: str) -> None:
        original = getattr(client, name)

        async def call(*args: Any, **kw: Any) -> Any:
            stamps.append(time.monotonic())
            return await original(*args, **kw)

        setattr(client, name, call)

    for name in ("get_entity", "get_messages", "download_media"):
        timed(name)
    w = watcher(sqlite_app, client, settings(requests_per_second=10), sleep=asyncio.sleep)
    asyncio.run(w.run(once=True))
    stamps.sort()
    assert len(stamps) >= 9  # each room: found, read, its photo fetched, ...
    # The pace sets when each request may start, 1/10 s after the one before; a busy machine
    # only ever makes a request later. So the k-th comes at least k/10 s after the first
    # (less one interval: the first may itself have started late).
    first = stamps[0]
    for k, stamp in enumerate(stamps):
        assert stamp - first >= (k - 1) * 0.1, (k, [round(s - first, 3) for s in stamps])
