"""``haechi watch run --once`` over a fake Telegram, as a real process (for the SIGKILL
test and the benchmark): the same world on every run, so a rerun must find what it stored.

    python tests/live/run_fake_watch.py HOME MESSAGES PHOTOS
"""

from __future__ import annotations

import asyncio
import logging
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.live.conftest import settings, watcher
from tests.live.fake_telegram import FakeClient, FakeWorld, Room

from haechi.app import open_app
from haechi.collect.telegram_live.targets import add_target


def big_world(messages: int, photos: int) -> tuple[FakeWorld, Room]:
    """A room of ``messages`` posts, every (messages // photos)-th with a photo."""
    world = FakeWorld()
    room = world.channel("Bulk Room", "bulk_room")
    every = max(messages // photos, 1) if photos else 0
    for i in range(messages):
        photo = world.photo(seed=i) if every and i % every == 0 and i // every < photos else None
        world.post(room, f"message {i}: benign text about coffee and trains", photo=photo)
    return world, room


def main() -> None:
    home, messages, photos = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
    logging.basicConfig(level=logging.WARNING)
    world, _room = big_world(messages, photos)
    app = open_app(home)
    try:
        add_target(app, "@bulk_room")
        w = watcher(app, FakeClient(world), settings(flush_messages=200, flush_seconds=0.5))
        asyncio.run(w.run(once=True))
    finally:
        app.close()


if __name__ == "__main__":
    main()
