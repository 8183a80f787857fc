"""``haechi watch run``: the long-running service that follows every target.

One asyncio task per target (:mod:`~haechi.collect.telegram_live.target_task`), one sink
that stores captures through the ingest service, one handler for Telegram's updates (new
messages, edits, deletions, a room that changed), a poller that picks up targets added or
paused from the CLI or the web page and writes the service's pulse, and a periodic run of
the analyzers and after-ingest hooks. A target that fails rests or retries on its own; the
others go on. Only an unusable session (logged out, banned) stops the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import random
import shutil
import time
from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy import select
from telethon import events
from telethon.tl import types

from haechi.app import App
from haechi.collect.telegram_live import flush as live_flush
from haechi.collect.telegram_live import records
from haechi.collect.telegram_live.media import Downloader
from haechi.collect.telegram_live.pacing import NameCache, Pacer
from haechi.collect.telegram_live.segment import CaptureContext
from haechi.collect.telegram_live.settings import LiveSettings, parse_live_settings
from haechi.collect.telegram_live.sink import Sink
from haechi.collect.telegram_live.target_task import Runtime, TargetRunner
from haechi.collect.telegram_live.targets import TargetState, add_target, parse_target
from haechi.collect.telegram_live.tl import peer_of
from haechi.domain import DataDirError, HaechiError
from haechi.i18n import t_
from haechi.store.models import Chat, Message
from haechi.store.tables.live import LiveTarget

log = logging.getLogger("haechi.watch")
Sleep = Callable[[float], Awaitable[None]]
HEARTBEAT_SECONDS = 30.0
_NEW = (types.UpdateNewChannelMessage, types.UpdateNewMessage)
_EDIT = (types.UpdateEditChannelMessage, types.UpdateEditMessage)


class Watcher:
    def __init__(
        self,
        app: App,
        client: Any,
        ctx: CaptureContext,
        settings: LiveSettings | None = None,
        *,
        sleep: Sleep = asyncio.sleep,
        rng: random.Random | None = None,
        analyze: bool = True,
        poll_seconds: float = 5.0,
    ) -> None:
        self.app, self.client, self.ctx = app, client, ctx
        self.settings = settings or parse_live_settings(app.settings.live)
        self.sleep, self.rng = sleep, rng or random.Random()
        self.analyze, self.poll_seconds = analyze, poll_seconds
        self.stopping = asyncio.Event()
        self.failure: str | None = None
        self.pacer = Pacer(self.settings.requests_per_second, sleep=sleep)
        self.names = NameCache()
        self.chats: dict[str, str] = {}  # chat key -> TL JSON of its entity, for segments
        self.spool = app.settings.home / "live" / "spool"
        self.sink = Sink(app, ctx, self.settings, self.spool, self.chats)
        self.downloader = Downloader(client, self.settings, self.spool, self.pacer)
        self.runtimes: dict[int, Runtime] = {}
        self.tasks: dict[int, asyncio.Task[None]] = {}
        self.by_peer: dict[tuple[str, int], Runtime] = {}
        self._background: set[asyncio.Task[Any]] = set()
        self.successors: dict[int, list[dict[str, Any]]] = {}  # target id -> found at gone

    # -- life cycle --------------------------------------------------------------------------
    async def run(self, *, once: bool = False) -> None:
        """Follow every target until :attr:`stopping` (``once``: until every target is read
        up to now or rests, then stop)."""
        lock = self._lock()
        started = int(time.time())
        live_flush.tune_heap()  # before the service allocates much: RSS stays flat for months
        try:
            self._prepare_spool()
            closed = await asyncio.to_thread(records.close_interrupted, self.app)
            if closed:
                log.warning("%d segments of an interrupted run recorded as failed", closed)
            await asyncio.to_thread(records.heartbeat, self.app, self.ctx, started=started)
            self.client.add_event_handler(self.on_update, events.Raw)
            sink_task = asyncio.create_task(self.sink.run(self.stopping))
            await self.reload()
            helpers = [asyncio.create_task(self.poll(started))]
            if self.analyze and not once:
                helpers.append(asyncio.create_task(self.analysis_loop()))
            try:
                if once:
                    await self.until_settled()
                else:
                    await self.stopping.wait()
            finally:
                self.stopping.set()
                self.sink.wake()
                for task in [*self.tasks.values(), *helpers]:
                    task.cancel()
                await asyncio.gather(*self.tasks.values(), *helpers, return_exceptions=True)
                if self._background:
                    await asyncio.gather(*self._background, return_exceptions=True)
                await sink_task
                with contextlib.suppress(Exception):
                    self.client.remove_event_handler(self.on_update)
                await asyncio.to_thread(
                    records.heartbeat,
                    self.app,
                    self.ctx,
                    started=started,
                    stopped=True,
                    note=self.failure,
                )
            if once and self.analyze:
                await asyncio.to_thread(self.run_analysis)
        finally:
            lock.close()

    def _lock(self) -> Any:
        folder = self.app.settings.home / "live"
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        fh = open(folder / "watch.lock", "a+")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            raise DataDirError(
                t_(
                    "Another `haechi watch run` (or bot capture) is already "
                    "using this data directory."
                )
            ) from None
        return fh

    def _prepare_spool(self) -> None:
        # Left by a killed run: never stored (the restart reads those messages again).
        if self.spool.exists():
            shutil.rmtree(self.spool)
        self.spool.mkdir(mode=0o700, parents=True)

    def fail(self, sentence: str) -> None:
        self.failure = sentence
        log.error("watch stops: %s", sentence)
        self.stopping.set()

    async def until_settled(self) -> None:
        """Until every running target has read up to now (or rests), then store it all."""
        while not self.stopping.is_set():
            if all(rt.settled.is_set() for rt in self.runtimes.values()):
                break
            await asyncio.sleep(0.05)
        await self.sink.flush_now()

    # -- targets -----------------------------------------------------------------------------
    def register(self, rt: Runtime) -> None:
        if rt.peer is not None:
            self.by_peer[rt.peer] = rt

    async def reload(self) -> None:
        """Start targets added since, stop paused ones, wake resumed ones."""
        rows = await asyncio.to_thread(self._target_rows)
        for row in rows[: self.settings.max_targets]:
            rt = self.runtimes.get(row.id)
            if row.paused:
                if row.id in self.tasks:
                    self.tasks.pop(row.id).cancel()
                    if rt is not None and rt.peer is not None:
                        self.by_peer.pop(rt.peer, None)
                    log.info("%s paused", row.ref)
                if rt is not None:
                    rt.settled.set()
                continue
            if rt is None or row.id not in self.tasks:
                rt = Runtime(row.id, parse_target(row.ref), bool(row.join_allowed))
                self.runtimes[row.id] = rt
                self.tasks[row.id] = asyncio.create_task(TargetRunner(self, rt).run())
            elif bool(row.join_allowed) != rt.join or row.state == TargetState.PENDING:
                rt.join = bool(row.join_allowed)
                rt.wake.set()

    def _target_rows(self) -> list[Any]:
        with self.app.db.connect() as conn:
            return list(conn.execute(select(LiveTarget).order_by(LiveTarget.id)).all())

    async def poll(self, started: int) -> None:
        last_beat = time.monotonic()
        while not self.stopping.is_set():
            await asyncio.sleep(self.poll_seconds)
            try:
                await self.reload()
                if time.monotonic() - last_beat >= HEARTBEAT_SECONDS:
                    note = self.sink.last_error
                    await asyncio.to_thread(
                        records.heartbeat, self.app, self.ctx, started=started, note=note
                    )
                    last_beat = time.monotonic()
            except Exception as exc:  # the database away for a moment: try next round
                log.warning("could not read the targets (%s: %s)", type(exc).__name__, exc)

    # -- updates -----------------------------------------------------------------------------
    async def on_update(self, update: Any) -> None:
        """Telegram's updates, sorted to the target they concern (never raises)."""
        try:
            if isinstance(update, _NEW + _EDIT):
                msg = update.message
                if isinstance(msg, types.MessageEmpty):
                    return
                rt = self.by_peer.get(peer_of(msg.peer_id) or ("", 0))
                if rt is not None:
                    rt.offer("new" if isinstance(update, _NEW) else "edit", msg)
            elif isinstance(update, types.UpdateDeleteChannelMessages):
                rt = self.by_peer.get(("channel", int(update.channel_id)))
                if rt is not None and rt.chat is not None:
                    self._spawn(self._deleted(rt, rt.chat.key, list(update.messages), update))
            elif isinstance(update, types.UpdateDeleteMessages):
                self._spawn(self._deleted_private(list(update.messages), update))
            elif isinstance(update, types.UpdateChannel):
                rt = self.by_peer.get(("channel", int(update.channel_id)))
                if rt is not None:
                    rt.offer("entity", None)
            elif isinstance(update, types.UpdateChannelTooLong):
                rt = self.by_peer.get(("channel", int(update.channel_id)))
                if rt is not None:
                    rt.offer("catch_up", None)
        except Exception:  # an odd update must not stop the others
            log.exception("could not handle an update of type %s", type(update).__name__)

    def _spawn(self, coro: Awaitable[Any]) -> None:
        task = asyncio.ensure_future(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _deleted(self, rt: Runtime, chat_key: str, ids: list[int], update: Any) -> None:
        detail = {"update": type(update).__name__, "pts": getattr(update, "pts", None)}
        try:
            await asyncio.to_thread(
                records.record_gone,
                self.app,
                self.ctx,
                target_id=rt.id,
                chat_key=chat_key,
                message_ids=ids,
                reason="deleted",
                detected_by="update",
                detail=detail,
            )
            log.info("%s: %d messages deleted at the source (recorded)", rt.ref.ref, len(ids))
        except Exception:
            log.exception("could not record deleted messages of %s", rt.ref.ref)

    async def _deleted_private(self, ids: list[int], update: Any) -> None:
        """``UpdateDeleteMessages`` names no chat (ids are per account outside channels):
        the deleted ids are looked up among the non-channel targets' stored messages."""
        chats = {
            rt.chat.key: rt
            for rt in self.by_peer.values()
            if rt.chat is not None and rt.chat.peer.kind.value != "channel"
        }
        if not chats:
            return
        found = await asyncio.to_thread(self._owners, list(chats), ids)
        for key, mids in found.items():
            await self._deleted(chats[key], key, mids, update)

    def _owners(self, keys: list[str], ids: list[int]) -> dict[str, list[int]]:
        out: dict[str, list[int]] = {}
        with self.app.db.connect() as conn:
            for key, mid in conn.execute(
                select(Chat.key, Message.message_id)
                .join(Chat, Chat.id == Message.chat_id)
                .where(Chat.key.in_(keys), Message.message_id.in_(ids[:900]))
            ):
                out.setdefault(key, []).append(int(mid))
        return out

    # -- successors --------------------------------------------------------------------------
    async def successors_of(self, rt: Runtime, chat_key: str) -> None:
        try:
            found = await asyncio.to_thread(self._successors, chat_key)
        except Exception as exc:
            log.warning("could not look for successor rooms of %s (%s)", rt.ref.ref, exc)
            return
        self.successors[rt.id] = found
        for s in found:
            log.warning("%s vanished; it announced %s (%s)", rt.ref.ref, s["link"], s["reasons"])
            if self.settings.follow_successors:
                try:
                    add_target(self.app, s["link"], actor=f"haechi (successor of {rt.ref.ref})")
                except HaechiError as exc:
                    log.warning("could not add successor %s: %s", s["link"], exc)

    def _successors(self, chat_key: str) -> list[dict[str, Any]]:
        """Rooms the vanished one announced, by the graph's successor logic (after the text
        hook has read its newest messages)."""
        try:
            from haechi.analyze.text.runner import after_ingest
            from haechi.graph.service import successor_rooms
        except ImportError:
            return []
        after_ingest(self.app, None)
        with self.app.db.connect() as conn:
            chat_id = conn.execute(select(Chat.id).where(Chat.key == chat_key)).scalar()
        out = []
        for s in successor_rooms(self.app):
            if s.source_chat != chat_id:
                continue
            link = (
                f"t.me/+{s.via.lstrip('+')}"
                if s.target.startswith("invite:") or (s.via.startswith("+"))
                else f"t.me/{s.via}"
            )
            out.append(
                {
                    "link": link,
                    "target": s.target,
                    "confidence": s.confidence,
                    "message_pk": s.message_pk,
                    "reasons": "; ".join(s.reasons),
                }
            )
        return out

    # -- analysis ----------------------------------------------------------------------------
    async def analysis_loop(self) -> None:
        while not self.stopping.is_set():
            await asyncio.sleep(self.settings.analyze_every_seconds)
            if self.sink.stored_since_analysis:
                self.sink.stored_since_analysis = False
                await asyncio.to_thread(self.run_analysis)

    def run_analysis(self) -> None:
        """The analyzers over new files, then the after-ingest hooks (text, search index,
        matching, re-upload watch): live data is found and matched like exported data."""
        from haechi.analyze.registry import build
        from haechi.run.analyze import AnalysisRunner
        from haechi.run.hooks import run_ingest_hooks

        try:
            if self.app.settings.analyze_on_ingest:
                analyzers, _ = build(self.app.settings.analyzers)
                AnalysisRunner(self.app, analyzers).run()
            results = run_ingest_hooks(self.app, None)
            log.info("analysis and hooks: %s", {k: str(v)[:80] for k, v in results.items()})
        except DataDirError as exc:  # another `haechi analyze` holds the lock: next time
            log.info("analysis skipped this round: %s", exc)
        except Exception:
            log.exception("analysis after live capture failed (the captures are stored)")
