"""The sink: captures from every target wait here and are flushed together, as one segment,
when ``live.flush_messages`` are waiting or the oldest has waited ``live.flush_seconds``.

Flushes run one at a time in a worker thread; producers wait when twice a segment's worth
is waiting (back-pressure instead of memory growth). A flush that fails (a full disk, the
database away) puts its captures back in front and is tried again after a pause: nothing
received is dropped while the service runs, and what a crash loses from memory was never
stored, so the restart reads it again from Telegram.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from haechi.app import App
from haechi.collect.telegram_live.flush import FlushResult, flush
from haechi.collect.telegram_live.segment import CaptureContext, Pending
from haechi.collect.telegram_live.settings import LiveSettings

log = logging.getLogger("haechi.watch")
RETRY_SECONDS = 10.0


class Sink:
    def __init__(
        self,
        app: App,
        ctx: CaptureContext,
        settings: LiveSettings,
        spool: Path,
        chats: dict[str, str],
    ) -> None:
        self.app, self.ctx, self.settings, self.spool = app, ctx, settings, spool
        self.chats = chats  # chat key -> TL JSON of its entity (kept by the watcher)
        self.items: list[Pending] = []
        self._lock = asyncio.Lock()  # one flush at a time
        self._changed = asyncio.Event()
        self._room = asyncio.Event()
        self._room.set()
        self.flushes = 0
        self.stored_since_analysis = False
        self.last_error: str | None = None
        self.messages_new = self.versions_new = self.files_new = self.skipped = 0

    @property
    def limit(self) -> int:
        return 2 * self.settings.flush_messages

    async def put(self, item: Pending) -> None:
        while len(self.items) >= self.limit:
            self._room.clear()
            self._changed.set()
            await self._room.wait()
        self.items.append(item)
        if len(self.items) >= self.settings.flush_messages:
            self._changed.set()

    async def run(self, stop: asyncio.Event) -> None:
        """Flush on size or age until ``stop``; then flush what is left."""
        while not stop.is_set():
            timeout = self.settings.flush_seconds
            if self.items:
                age = time.time() - self.items[0].received_at
                timeout = max(0.0, self.settings.flush_seconds - age)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
            self._changed.clear()
            if (
                self.items
                and (
                    len(self.items) >= self.settings.flush_messages
                    or time.time() - self.items[0].received_at >= self.settings.flush_seconds
                )
                and not await self.flush_now()
            ):
                await _pause(stop, RETRY_SECONDS)
        while self.items:
            if not await self.flush_now():
                log.error("could not store %d waiting captures at shutdown", len(self.items))
                break

    def wake(self) -> None:
        """Make :meth:`run` look now (at shutdown: it flushes and returns at once)."""
        self._changed.set()

    async def flush_now(self) -> bool:
        """Store everything waiting now. False when the flush failed (items kept)."""
        async with self._lock:
            if not self.items:
                return True
            items, self.items = self.items, []
            self._room.set()
            wanted = {i.chat.key for i in items}
            chats = {k: v for k, v in self.chats.items() if k in wanted}
            try:
                result = await asyncio.to_thread(
                    flush, self.app, self.ctx, items, chats, self.spool
                )
            except Exception as exc:  # kept, tried again: evidence is never dropped
                self.items = items + self.items
                self.last_error = f"storing captures failed ({type(exc).__name__}: {exc})"
                log.error("%s; trying again in %.0f s", self.last_error, RETRY_SECONDS)
                return False
            self.last_error = None
            self.flushes += 1
            self._count(result)
            if result.messages_new or result.versions_new or result.files_new:
                self.stored_since_analysis = True
            log.info(
                "stored %d new messages, %d new versions, %d files (%d already stored)",
                result.messages_new,
                result.versions_new,
                result.files_new,
                result.skipped,
            )
            return True

    def _count(self, result: FlushResult) -> None:
        self.messages_new += result.messages_new
        self.versions_new += result.versions_new
        self.files_new += result.files_new
        self.skipped += result.skipped


async def _pause(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
