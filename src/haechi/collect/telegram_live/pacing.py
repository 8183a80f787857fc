"""Pace, back-off and the small memory of names a following service keeps.

All three are bounded: the pace never asks Telegram faster than ``requests_per_second``,
back-off never waits longer than ``backoff_max_seconds`` (plus jitter, so a hundred targets
that lost the network together do not return together), and the name cache forgets the
least recently used names beyond its size, so memory stays flat however long it runs.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Any

from haechi.collect.telegram_live.tl import entity_name, peer_of

Sleep = Callable[[float], Awaitable[None]]


class Pacer:
    """One request at a time per ``1 / rate`` seconds for the whole account; a flood wait
    pauses everyone (Telegram's limits are per account, not per room)."""

    def __init__(
        self,
        rate: float,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.interval = 1.0 / rate
        self.sleep, self.clock = sleep, clock
        self._next = 0.0
        self._paused_until = 0.0
        self._lock = asyncio.Lock()

    async def wait(self) -> None:
        async with self._lock:
            now = self.clock()
            start = max(now, self._next, self._paused_until)
            self._next = start + self.interval
        if start > now:
            await self.sleep(start - now)

    def pause(self, seconds: float) -> None:
        self._paused_until = max(self._paused_until, self.clock() + seconds)


def backoff_delay(attempt: int, ceiling: float, rng: random.Random) -> float:
    """Exponential (1, 2, 4, ... s) up to ``ceiling``, jittered to 50-100 % of it."""
    return min(ceiling, 2.0 ** max(attempt - 1, 0)) * rng.uniform(0.5, 1.0)


def flood_delay(seconds: int, rng: random.Random) -> float:
    """What Telegram asked for, plus up to 10 % (at most 5 s) so targets do not stampede."""
    return seconds + rng.uniform(0, min(5.0, 0.1 * seconds + 1.0))


class NameCache:
    """Display names and usernames of peers seen with messages (Telegram sends them beside
    a history page, not inside each message): ``"user:123" -> name``, and
    ``"username-of:123" -> username`` for inline bots. Bounded, least recently used."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._names: OrderedDict[str, str] = OrderedDict()

    def get(self, key: str) -> str | None:
        value = self._names.get(key)
        if value is not None:
            self._names.move_to_end(key)
        return value

    def _put(self, key: str, value: str | None) -> None:
        if not value:
            return
        self._names[key] = value
        self._names.move_to_end(key)
        while len(self._names) > self.size:
            self._names.popitem(last=False)

    def learn_entity(self, entity: Any) -> None:
        if entity is None:
            return
        found = peer_of(entity)
        if found is None:
            return
        self._put(f"{found[0]}:{found[1]}", entity_name(entity))
        self._put(f"username-of:{found[1]}", getattr(entity, "username", None))

    def learn(self, msg: Any) -> None:
        """What a message fetched with its page of entities tells about names."""
        for attr in ("sender", "chat", "via_bot"):
            with contextlib.suppress(AttributeError, TypeError, ValueError):  # not finished
                self.learn_entity(getattr(msg, attr, None))
        fwd = getattr(msg, "forward", None)
        if fwd is not None:
            for attr in ("sender", "chat"):
                with contextlib.suppress(AttributeError, TypeError, ValueError):
                    self.learn_entity(getattr(fwd, attr, None))

    def __len__(self) -> int:
        return len(self._names)
