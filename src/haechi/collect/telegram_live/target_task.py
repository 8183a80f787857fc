"""One watched target's life: reach it, read its whole history oldest -> newest, then follow
it (new messages and edits as they come, a re-read of the newest messages now and then to
catch what happened while disconnected), surviving every Telegram error.

The resume point is the store itself: the newest message id of the chat that is *stored*.
A killed service loses at most what was waiting in memory, which it reads again; the flush
skips what is stored, so nothing is duplicated.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select
from telethon import utils
from telethon.tl import types

from haechi.collect.telegram_live import records
from haechi.collect.telegram_live.convert import chat_record, message_record
from haechi.collect.telegram_live.errors import (
    ACCOUNT,
    GONE,
    NEEDS_PERSON,
    WAIT,
    Diagnosis,
    diagnose,
)
from haechi.collect.telegram_live.flush import stored_fingerprint, stored_messages
from haechi.collect.telegram_live.pacing import backoff_delay, flood_delay
from haechi.collect.telegram_live.resolve import resolve_entity
from haechi.collect.telegram_live.segment import Pending
from haechi.collect.telegram_live.targets import TargetRef, TargetState
from haechi.collect.telegram_live.tl import fingerprint, peer_of, tl_json, tl_plain
from haechi.domain import ChatRecord
from haechi.store.models import Chat, Message
from haechi.store.tables.live import LiveGone, LiveTarget
from haechi.store.textsafe import dumps

if TYPE_CHECKING:
    from haechi.collect.telegram_live.watcher import Watcher

log = logging.getLogger("haechi.watch")
PAGE = 100  # messages per history request (Telegram's own page size)
QUEUE_MAX = 1000  # updates waiting per target; beyond, a catch-up reads them instead
REST_SECONDS = 3600  # a gone or blocked target is tried again after this (or when changed)
SETTLE_AFTER = 5  # failures in a row after which a target no longer holds up `--once`
UNJOINED_POLL_SECONDS = 60.0  # new messages of a room this account is not in (no updates)


@dataclass
class Runtime:
    id: int
    ref: TargetRef
    join: bool
    entity: Any = None  # the InputPeer requests use
    chat: ChatRecord | None = None
    peer: tuple[str, int] | None = None
    last_id: int | None = None  # newest message id handed to the sink
    backfill_done: bool = False
    rechecked: bool = False
    member: bool = True  # this account is in the room (Telegram pushes its updates)
    state: str = TargetState.PENDING
    queue: asyncio.Queue[tuple[str, Any]] = field(default_factory=lambda: asyncio.Queue(QUEUE_MAX))
    overflow: bool = False
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    settled: asyncio.Event = field(default_factory=asyncio.Event)  # caught up, or resting

    def offer(self, op: str, payload: Any) -> None:
        """An update for this target; when the queue is full, a catch-up replaces it."""
        try:
            self.queue.put_nowait((op, payload))
        except asyncio.QueueFull:
            self.overflow = True


class TargetRunner:
    def __init__(self, svc: Watcher, rt: Runtime) -> None:
        self.svc, self.rt = svc, rt
        self.app, self.client = svc.app, svc.client

    # -- the loop ---------------------------------------------------------------------------
    async def run(self) -> None:
        attempt = 0
        while not self.svc.stopping.is_set():
            try:
                if self.rt.entity is None:
                    await self.resolve()
                if not self.rt.backfill_done:
                    await self.backfill()
                attempt = 0
                await self.follow()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # every error is a state and a sentence, never a crash
                d = diagnose(exc)
                attempt = attempt + 1 if d.outcome not in (WAIT,) else attempt
                if attempt >= SETTLE_AFTER:  # `--once` does not wait for a target that keeps
                    self.rt.settled.set()  # failing; the service keeps trying it
                if not await self.handle(d, attempt):
                    return

    async def handle(self, d: Diagnosis, attempt: int) -> bool:
        rt, svc = self.rt, self.svc
        log.warning("%s: %s", rt.ref.ref, d.sentence)
        if d.outcome == WAIT:
            delay = flood_delay(d.seconds, svc.rng)
            svc.pacer.pause(d.seconds)
            await self.state(TargetState.WAITING, d.sentence, wait_until=int(time.time() + delay))
            await svc.sleep(delay)
        elif d.outcome == GONE:
            await self.gone(d)
            await self.rest(REST_SECONDS)
            rt.entity = None
        elif d.outcome == NEEDS_PERSON:
            await self.state(TargetState.NEEDS_PERSON, d.sentence, error=True)
            rt.settled.set()
            await self.rest(REST_SECONDS)
            rt.entity = None
        elif d.outcome == ACCOUNT:
            await self.state(TargetState.WAITING, d.sentence, error=True)
            svc.fail(d.sentence)
            return False
        else:
            delay = backoff_delay(attempt, svc.settings.backoff_max_seconds, svc.rng)
            sentence = f"{d.sentence} (next try in {delay:.0f} s)"
            await self.state(
                TargetState.WAITING, sentence, error=True, wait_until=int(time.time() + delay)
            )
            await svc.sleep(delay)
        return True

    async def rest(self, seconds: float) -> None:
        self.rt.wake.clear()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.rt.wake.wait(), seconds)

    async def state(self, state: str, reason: str | None = None, **values: Any) -> None:
        self.rt.state = state
        await asyncio.to_thread(records.set_state, self.app, self.rt.id, state, reason, **values)

    # -- reaching the target ---------------------------------------------------------------
    async def resolve(self) -> None:
        rt, svc = self.rt, self.svc
        row = await asyncio.to_thread(self._row)
        known = (row.peer_kind, int(row.tg_id), row.access_hash) if row.tg_id is not None else None
        await svc.pacer.wait()
        entity, joined = await resolve_entity(self.client, rt.ref, join=rt.join, known=known)
        rt.entity = utils.get_input_peer(entity)
        rt.member = not getattr(entity, "left", False)
        rt.chat = chat_record(entity)
        rt.peer = peer = peer_of(entity)
        assert peer is not None  # chat_record above refused anything without a peer
        svc.names.learn_entity(entity)
        svc.chats[rt.chat.key] = tl_json(entity)
        svc.register(rt)
        resolved = records.Resolved(
            peer[0],
            peer[1],
            getattr(entity, "access_hash", None),
            getattr(entity, "username", None),
            rt.chat.title,
        )
        old = await asyncio.to_thread(records.save_resolved, self.app, svc.ctx, rt.id, resolved)
        if old:
            log.warning(
                "%s: the room changed its name from @%s to @%s", rt.ref.ref, old, resolved.username
            )
        if joined:
            await asyncio.to_thread(
                records.record_joined, self.app, svc.ctx, rt.id, rt.ref.ref, rt.chat.key
            )
        if row.state == TargetState.GONE:
            await asyncio.to_thread(records.record_back, self.app, svc.ctx, rt.id, rt.ref.ref)
            log.warning("%s answers again after it was recorded as gone", rt.ref.ref)
        if rt.last_id is None:
            rt.last_id = await asyncio.to_thread(self._stored_max)
        rt.backfill_done = bool(row.backfill_done)

    def _row(self) -> Any:
        with self.app.db.connect() as conn:
            return conn.execute(select(LiveTarget).where(LiveTarget.id == self.rt.id)).one()

    def _stored_max(self) -> int:
        assert self.rt.chat is not None
        with self.app.db.connect() as conn:
            found = conn.execute(
                select(func.max(Message.message_id))
                .join(Chat, Chat.id == Message.chat_id)
                .where(Chat.key == self.rt.chat.key)
            ).scalar()
        return int(found or 0)

    # -- history ---------------------------------------------------------------------------
    async def backfill(self) -> None:
        rt, svc = self.rt, self.svc
        await self.state(TargetState.BACKFILL, None)
        limit = svc.settings.backfill_limit
        if limit and not rt.last_id:
            await svc.pacer.wait()
            older = await self.client.get_messages(rt.entity, limit=1, add_offset=limit)
            if older:  # start just after the (limit+1)-th newest message
                rt.last_id = int(older[0].id)
        await self.read_forward()
        if not await svc.sink.flush_now():
            raise OSError("the captured history could not be stored yet")
        rt.backfill_done = True
        await self.state(TargetState.FOLLOWING, None, backfill_done=True)
        log.info("%s: history read up to message %s", rt.ref.ref, rt.last_id)

    async def read_forward(self) -> None:
        """Every message after ``last_id``, oldest first, page by page."""
        rt, svc = self.rt, self.svc
        while True:
            await svc.pacer.wait()
            page = await self.client.get_messages(
                rt.entity, limit=PAGE, min_id=rt.last_id or 0, reverse=True
            )
            messages = [m for m in page if m is not None and not isinstance(m, types.MessageEmpty)]
            if not messages:
                return
            assert rt.chat is not None
            ids = [int(m.id) for m in messages]
            stored = await asyncio.to_thread(stored_messages, self.app, rt.chat.key, ids)
            for msg in messages:
                svc.names.learn(msg)
                if int(msg.id) not in stored:
                    await self.capture(msg, "new")
                rt.last_id = max(rt.last_id or 0, int(msg.id))
            if len(page) < PAGE:
                return

    # -- capture ---------------------------------------------------------------------------
    async def capture(self, msg: Any, op: str, *, download: bool = True) -> None:
        rt, svc = self.rt, self.svc
        assert rt.chat is not None
        plain = tl_plain(msg)
        raw = dumps(plain)
        record, plans = message_record(msg, rt.chat, raw, None, svc.names.get)
        spool = []
        if plans and download:
            spool = await svc.downloader.fetch(msg, plans, self.refetch)
        elif plans:
            record.files = []  # the same file as the version before: already in the vault
        await svc.sink.put(
            Pending(
                rt.id, rt.ref.ref, rt.chat, op, raw, record, fingerprint(plain), time.time(), spool
            )
        )

    async def refetch(self, message_id: int) -> Any:
        await self.svc.pacer.wait()
        found = await self.client.get_messages(self.rt.entity, ids=[message_id])
        return found[0] if found else None

    async def changed(self, msg: Any, op: str) -> None:
        """An edit (or a re-read): stored as a new version if what the sender controls
        changed; its file is fetched again only if the file itself changed."""
        assert self.rt.chat is not None
        stored = await asyncio.to_thread(stored_messages, self.app, self.rt.chat.key, [int(msg.id)])
        if int(msg.id) not in stored:
            await self.capture(msg, "new" if op == "recheck" else op)
            return
        plain = tl_plain(msg)
        old_raw = stored[int(msg.id)][1]
        if stored_fingerprint(old_raw) == fingerprint(plain):
            return
        await self.capture(msg, op, download=_media_id(plain) != _media_id_raw(old_raw))

    # -- following -------------------------------------------------------------------------
    async def follow(self) -> None:
        rt, svc = self.rt, self.svc
        if rt.state != TargetState.FOLLOWING:
            await self.state(TargetState.FOLLOWING, None)
        await self.read_forward()  # what came while reading history, or while away
        if not rt.rechecked:
            await self.recheck()
            rt.rechecked = True
        rt.settled.set()
        every = svc.settings.recheck_minutes * 60
        next_check = time.monotonic() + every
        # Telegram pushes updates only for rooms this account is in: a public channel read
        # without joining is polled instead (the account-wide pace bounds the requests).
        poll = None if rt.member else UNJOINED_POLL_SECONDS
        next_poll = time.monotonic() + (poll or every)
        while not svc.stopping.is_set():
            if rt.overflow:
                rt.overflow = False
                await self.read_forward()
                await self.recheck()
            try:
                op, payload = await asyncio.wait_for(
                    rt.queue.get(), max(0.0, min(next_check, next_poll) - time.monotonic())
                )
            except TimeoutError:
                if time.monotonic() >= next_check:
                    await self.read_forward()  # a safety net for lost updates, too
                    await self.recheck()
                    next_check = time.monotonic() + every
                else:
                    await self.read_forward()
                next_poll = time.monotonic() + (poll or every)
                continue
            if op == "new":
                if int(payload.id) <= (rt.last_id or 0):
                    continue  # read already (history or catch-up): handed to the sink
                svc.names.learn(payload)
                await self.capture(payload, "new")
                rt.last_id = int(payload.id)
            elif op == "edit":
                await self.changed(payload, "edit")
            elif op == "catch_up":
                await self.read_forward()
            elif op == "entity":
                await self.resolve()

    async def recheck(self) -> None:
        """Re-read the newest stored messages: deleted ones are recorded gone, edited ones
        stored as versions (what happened while the service was away)."""
        rt, svc = self.rt, self.svc
        n = svc.settings.recheck_recent
        if n == 0 or rt.chat is None:
            return
        ids = await asyncio.to_thread(self._recent_ids, n)
        if not ids:
            return
        await svc.pacer.wait()
        found = await self.client.get_messages(rt.entity, ids=ids)
        gone = [
            i
            for i, m in zip(ids, found, strict=False)
            if m is None or isinstance(m, types.MessageEmpty)
        ]
        if gone:
            await asyncio.to_thread(
                records.record_gone,
                self.app,
                svc.ctx,
                target_id=rt.id,
                chat_key=rt.chat.key,
                message_ids=gone,
                reason="deleted",
                detected_by="recheck",
            )
        for msg in found:
            if msg is not None and not isinstance(msg, types.MessageEmpty):
                await self.changed(msg, "recheck")

    def _recent_ids(self, n: int) -> list[int]:
        assert self.rt.chat is not None
        with self.app.db.connect() as conn:
            chat_id = conn.execute(select(Chat.id).where(Chat.key == self.rt.chat.key)).scalar()
            if chat_id is None:
                return []
            gone = select(LiveGone.message_id).where(
                LiveGone.chat_id == chat_id, LiveGone.message_id.is_not(None)
            )
            return sorted(
                int(m)
                for m in conn.execute(
                    select(Message.message_id)
                    .where(Message.chat_id == chat_id, Message.message_id.not_in(gone))
                    .order_by(Message.message_id.desc())
                    .limit(n)
                ).scalars()
            )

    # -- gone ------------------------------------------------------------------------------
    async def gone(self, d: Diagnosis) -> None:
        rt, svc = self.rt, self.svc
        key = rt.chat.key if rt.chat else await asyncio.to_thread(self._known_key)
        seq = await asyncio.to_thread(
            records.record_gone,
            self.app,
            svc.ctx,
            target_id=rt.id,
            chat_key=key,
            message_ids=None,
            reason=d.reason,
            detected_by="resolve",
            detail={"sentence": d.sentence},
        )
        await self.state(TargetState.GONE, d.sentence, error=True)
        if seq is not None and key is not None:
            await svc.successors_of(rt, key)
        rt.settled.set()

    def _known_key(self) -> str | None:
        row = self._row()
        return f"{row.peer_kind}:{row.tg_id}" if row.tg_id is not None else None


def _media_id(plain: dict[str, Any]) -> Any:
    media = plain.get("media") or (plain.get("action") or {})
    inner = media.get("photo") or media.get("document") or {}
    return inner.get("id") if isinstance(inner, dict) else None


def _media_id_raw(raw: str) -> Any:
    import orjson

    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return _media_id(value) if isinstance(value, dict) else None
